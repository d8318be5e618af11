"""The NACM configuration (RFC 8341, module ietf-netconf-acm) as evaluable rules.

`parse_config` turns the /nacm subtree of running into a `NacmConfig`:
the global switches and defaults, the groups, and the rule-lists in the
order they are evaluated. Rule-lists and rules are `ordered-by user` in the
module; the datastore keeps list entries in key order, so that order is the
order of their names (`10-deny-nat` before `20-permit-all`), the same order
every channel shows when the lists are read back.

The agent's factory rule-lists (FACTORY_RULE_LISTS) follow the configured
ones, so a configured rule always wins over them; a configured rule-list
with the name of a factory one replaces it.

Operation names: every Manager verb is checked as the NETCONF protocol
operation it corresponds to (OPERATIONS); kill-session, delete-config and
reconcile are denied unless a rule permits them (nacm:default-deny-all).
Notification names and their modules are in nacm_notify.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.paths import InstancePath, Key
from flyos_agent.errors import InvalidValue
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import InvalidValue as BadValue
from flyos_agent.schema.values import parse_value

ACCESS_BITS = ("create", "read", "update", "delete", "exec")
NETCONF = "ietf-netconf"
AGENT_OPS = "flyos-agent-ops"
# Manager verb -> protocol operation name -> the module that defines it.
OPERATIONS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "get",
            "get-config",
            "edit-config",
            "copy-config",
            "delete-config",
            "lock",
            "unlock",
            "close-session",
            "kill-session",
            "commit",
            "discard-changes",
            "cancel-commit",
            "validate",
        ),
        NETCONF,
    ),
    **dict.fromkeys(("rollback", "compare", "history", "reconcile", "reconcile-check"), AGENT_OPS),
}
DEFAULT_DENY_OPERATIONS = frozenset({"kill-session", "delete-config", "reconcile"})

FACTORY_RULE_LISTS: tuple[dict[str, Any], ...] = (
    {
        "name": "flyos-operator",
        "group": ["operator"],
        "rule": [
            {
                "name": "10-protect-nacm",
                "module-name": "ietf-netconf-acm",
                "access-operations": "*",
                "action": "deny",
                "comment": "Operators neither read nor change access control.",
            },
            {
                "name": "20-configure",
                "module-name": "*",
                "access-operations": "create update delete",
                "action": "permit",
                "comment": "Operators change every other part of the configuration.",
            },
        ],
    },
    {
        "name": "flyos-viewer",
        "group": ["viewer"],
        "rule": [
            {
                "name": f"no-{operation}",
                "module-name": NETCONF,
                "rpc-name": operation,
                "access-operations": "exec",
                "action": "deny",
                "comment": "Viewers hold no locks and change no datastore.",
            }
            for operation in ("lock", "unlock", "discard-changes", "commit", "cancel-commit")
        ],
    },
)


class RuleType(enum.Enum):
    """Which case of the rule-type choice a rule uses (ANY: none, matches all)."""

    ANY = "any"
    OPERATION = "protocol-operation"
    NOTIFICATION = "notification"
    DATA = "data-node"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of a data-node rule path: a node name and the keys it pins."""

    name: str
    keys: tuple[tuple[int, Any], ...] = ()

    def matches(self, name: str, key: Key | None) -> bool:
        """True if the instance step (`name`, `key`) is this step."""
        if name != self.name:
            return False
        return all(key is not None and key[index] == value for index, value in self.keys)


@dataclass(frozen=True, slots=True)
class Rule:
    """One NACM rule, normalised: '*' kept as '*', access as a set of bits."""

    name: str
    module: str
    type: RuleType
    access: frozenset[str]
    permit: bool
    operation: str = "*"
    notification: str = "*"
    path: tuple[PathStep, ...] = ()
    schema_path: str = ""
    keyed_paths: tuple[str, ...] = ()

    def covers(self, path: InstancePath) -> bool:
        """True if the data node at `path` is the rule's node or a descendant of it."""
        steps = self.path
        if len(steps) > len(path):
            return False
        return all(step.matches(name, key) for step, (name, key) in zip(steps, path, strict=False))


@dataclass(frozen=True, slots=True)
class RuleList:
    """A rule-list: the groups it applies to ('*': every group) and its rules."""

    name: str
    groups: frozenset[str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class NacmConfig:
    """The evaluable NACM configuration (RFC 8341 defaults when nothing is set)."""

    enabled: bool = True
    read_default: bool = True
    write_default: bool = False
    exec_default: bool = True
    external_groups: bool = True
    members: Mapping[str, frozenset[str]] | None = None
    rule_lists: tuple[RuleList, ...] = ()

    def groups_of(self, user: str, configured_group: str) -> frozenset[str]:
        """A session's NACM groups: the /nacm groups that list `user`, plus the
        group named after its configured [[user]] group (unless external groups
        are disabled)."""
        listed = (self.members or {}).get(user, frozenset())
        return listed | {configured_group} if self.external_groups else listed

    def rules_for(self, groups: frozenset[str]) -> tuple[Rule, ...]:
        """The rules of every rule-list that applies to `groups`, in evaluation order."""
        return tuple(
            rule
            for rule_list in self.rule_lists
            if "*" in rule_list.groups or rule_list.groups & groups
            for rule in rule_list.rules
        )


FAIL_CLOSED = NacmConfig(read_default=False, write_default=False, exec_default=False)


def parse_config(schema: Schema, nacm: Map[str, Any] | None) -> NacmConfig:
    """The NacmConfig of a /nacm subtree (None: nothing configured).

    InvalidValue names the rule whose path does not resolve in the schema.
    """
    nacm = nacm if nacm is not None else trees.EMPTY
    members: dict[str, set[str]] = {}
    for _key, group in trees.iter_entries(trees.get(nacm, (("groups", None), ("group", None)))):
        for user in group.get("user-name", ()):
            members.setdefault(user, set()).add(group["name"])
    configured = [
        _rule_list(schema, entry) for _key, entry in trees.iter_entries(nacm.get("rule-list"))
    ]
    names = {rule_list.name for rule_list in configured}
    factory = [rule_list for rule_list in factory_rule_lists(schema) if rule_list.name not in names]
    return NacmConfig(
        enabled=nacm.get("enable-nacm", True),
        read_default=nacm.get("read-default", "permit") == "permit",
        write_default=nacm.get("write-default", "deny") == "permit",
        exec_default=nacm.get("exec-default", "permit") == "permit",
        external_groups=nacm.get("enable-external-groups", True),
        members={user: frozenset(groups) for user, groups in members.items()},
        rule_lists=(*configured, *factory),
    )


@cache
def factory_rule_lists(schema: Schema) -> tuple[RuleList, ...]:
    """FACTORY_RULE_LISTS, parsed like configured rule-lists."""
    tree = trees.tree_from_plain(schema, {"nacm": {"rule-list": list(FACTORY_RULE_LISTS)}})
    return tuple(
        _rule_list(schema, entry) for _key, entry in trees.iter_entries(tree["nacm"]["rule-list"])
    )


def _rule_list(schema: Schema, entry: Map[str, Any]) -> RuleList:
    name = entry["name"]
    rules = tuple(_rule(schema, name, rule) for _key, rule in trees.iter_entries(entry.get("rule")))
    return RuleList(name, frozenset(entry.get("group", ())), rules)


def _rule(schema: Schema, list_name: str, entry: Map[str, Any]) -> Rule:
    access_text = entry.get("access-operations", "*")
    access = frozenset(ACCESS_BITS) if access_text == "*" else frozenset(access_text.split())
    common: dict[str, Any] = {
        "name": entry["name"],
        "module": entry.get("module-name", "*"),
        "access": access,
        "permit": entry.get("action") == "permit",  # mandatory: never absent once valid
    }
    if "rpc-name" in entry:
        return Rule(type=RuleType.OPERATION, operation=entry["rpc-name"], **common)
    if "notification-name" in entry:
        return Rule(type=RuleType.NOTIFICATION, notification=entry["notification-name"], **common)
    if "path" in entry:
        try:
            steps, node = parse_rule_path(schema, entry["path"])
        except InvalidValue as exc:
            raise InvalidValue(
                f"NACM rule '{entry['name']}' of rule-list '{list_name}': {exc.message}",
                path=f"/ietf-netconf-acm:nacm/rule-list[name='{list_name}']"
                f"/rule[name='{entry['name']}']/path",
            ) from None
        return Rule(
            type=RuleType.DATA,
            path=steps,
            schema_path=node.path if node is not None else "",
            keyed_paths=_keyed_paths(schema, steps),
            **common,
        )
    return Rule(type=RuleType.ANY, **common)


_STEP = re.compile(r"/([^/\[\]]+)((?:\[(?:[^\]'\"]|'[^']*'|\"[^\"]*\")*\])*)")
_PREDICATE = re.compile(r"""\[\s*([^=\s\]]+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^\]\s]+))\s*\]""")


def parse_rule_path(schema: Schema, text: str) -> tuple[tuple[PathStep, ...], SchemaNode | None]:
    """A data-node rule path (an instance-identifier whose key predicates are
    optional; module prefixes optional) as steps, with the node it names.

    '/' names everything (no steps, no node). InvalidValue if it does not parse
    or names an unknown node or key.
    """
    text = text.strip()
    if text == "/":
        return (), None
    steps: list[PathStep] = []
    node: SchemaNode | None = None
    position = 0
    for match in _STEP.finditer(text):
        if match.start() != position:
            break
        position = match.end()
        name = match.group(1).strip().rpartition(":")[2]
        found = schema.roots.get(name) if node is None else node.children.get(name)
        if found is None:
            raise InvalidValue(f"path '{text}': unknown node '{name}'")
        node = found
        steps.append(PathStep(name, _keys(node, match.group(2), text)))
    if position != len(text) or not steps:
        raise InvalidValue(f"path '{text}' is not an instance-identifier ('/module:node[key=...]')")
    return tuple(steps), node


def _keys(node: SchemaNode, predicates: str, text: str) -> tuple[tuple[int, Any], ...]:
    keys: list[tuple[int, Any]] = []
    for predicate in _PREDICATE.finditer(predicates):
        name = predicate.group(1).rpartition(":")[2]
        raw = next(group for group in predicate.groups()[1:] if group is not None)
        if node.kind is Kind.LEAF_LIST and name == ".":
            index, key_type = 0, node.type
        elif node.kind is Kind.LIST and name in node.keys:
            index, key_type = node.keys.index(name), node.children[name].type
        else:
            raise InvalidValue(f"path '{text}': '{name}' is not a key of '{node.name}'")
        assert key_type is not None
        try:
            keys.append((index, parse_value(key_type, raw)))
        except BadValue as exc:
            raise InvalidValue(f"path '{text}': key '{name}': {exc}") from None
    return tuple(keys)


def _keyed_paths(schema: Schema, steps: Iterable[PathStep]) -> tuple[str, ...]:
    """Schema paths of the steps that pin keys (where one entry's answer may differ
    from another's)."""
    out: list[str] = []
    node: SchemaNode | None = None
    for step in steps:
        node = schema.roots[step.name] if node is None else node.children[step.name]
        if step.keys:
            out.append(node.path)
    return tuple(out)
