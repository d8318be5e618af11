"""The NACM matrix of tests/integration/test_nacm_channels.py: users, the rule set the
test configures, the data it works on, the generated cases, and an oracle.

The oracle computes each case's expected outcome straight from RFC 8341
(sections 3.4.4 and 3.4.5) over the JSON rule set below, with none of the
agent's code: rule-lists of the user's groups in name order (the agent's
documented order for ordered-by-user lists), then the factory rule-lists;
per rule, module-name, rule type and access-operations; first match wins;
else the default-deny-all marks (the /nacm container and WireGuard private
keys), else read-default permit / write-default deny / exec-default permit,
with kill-session and delete-config default-deny. A node is readable only if
every list entry above it is, and a write must be permitted for every node it
creates, changes or deletes. Admins are the recovery session: always permitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flyos_agent.runtime.nacm_rules import FACTORY_RULE_LISTS  # data: the factory rule-lists

PASSWORD = "matrix-pass"
USERS = {  # user -> configured [[user]] group
    "alice": "admin",
    "olga": "operator",
    "vera": "viewer",
    "nina": "viewer",
    "otto": "operator",
}
KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="


def _rule(name: str, action: str, **match: str) -> dict[str, Any]:
    return {"name": name, "action": action, **{k.replace("_", "-"): v for k, v in match.items()}}


NACM: dict[str, Any] = {
    "groups": {
        "group": [
            {"name": "netops", "user-name": ["nina"]},
            {"name": "limited", "user-name": ["otto"]},
        ]
    },
    "rule-list": [
        {
            "name": "10-limited",
            "group": ["limited"],
            "rule": [
                _rule("10-no-nat", "deny", module_name="flyos-nat"),
                _rule(
                    "20-pin-route",
                    "deny",
                    path="/flyos-routing:routing/static[prefix='10.1.0.0/24']",
                    access_operations="create update delete",
                ),
                _rule("30-no-history", "deny", rpc_name="history", access_operations="exec"),
                _rule("40-no-lock", "deny", module_name="ietf-netconf", rpc_name="lock"),
            ],
        },
        {
            "name": "20-netops",
            "group": ["netops"],
            "rule": [
                _rule("10-routes", "permit", path="/frt:routing/frt:static"),
                _rule("20-lock", "permit", rpc_name="lock"),
                _rule("21-unlock", "permit", rpc_name="unlock"),
                _rule("30-commit", "permit", rpc_name="commit"),
                _rule("40-kill", "permit", rpc_name="kill-session"),
            ],
        },
        {
            "name": "30-everyone",
            "group": ["*"],
            "rule": [
                _rule(
                    "10-hide-ifdesc",
                    "deny",
                    path="/interfaces/interface/description",
                    access_operations="read",
                ),
                _rule(
                    "20-vrf-read-only",
                    "deny",
                    module_name="flyos-vrf",
                    access_operations="create update delete",
                ),
                _rule(
                    "30-sysdesc-no-create-delete",
                    "deny",
                    path="/system/description",
                    access_operations="create delete",
                ),
            ],
        },
        {"name": "99-spare", "group": ["nobody"], "rule": [_rule("r", "permit", comment="spare")]},
    ],
}
BASE: dict[str, Any] = {
    "system": {"hostname": "matrix", "description": "box"},
    "interfaces": {
        "interface": [
            {"name": "eth0", "type": "ethernet", "description": "uplink"},
            {"name": "wg0", "type": "wireguard"},
        ]
    },
    "tunnels": {"wireguard": [{"name": "wg0", "private-key": KEY}]},
    "vrfs": {"vrf": [{"name": "red", "table": 100, "description": "red"}]},
    "nat": {
        "rule": [
            {"sequence": 10, "action": "masquerade", "out-interface": "eth0", "description": "lan"}
        ]
    },
    "routing": {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "192.0.2.1"},
            {"prefix": "10.2.0.0/24", "via": "192.0.2.1"},
        ]
    },
    "nacm": NACM,
}

Step = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Target:
    """A data node of the matrix: a list entry (last step has keys) or a leaf.

    `content` is an entry's baseline non-key leaves, or {"": value} for a leaf;
    `update` the (leaf, value) an update sets ("" for the leaf itself).
    """

    label: str
    module: str
    namespace: str
    steps: tuple[Step, ...]
    content: dict[str, Any]
    update: tuple[str, Any]
    read_only: bool = False

    @property
    def is_entry(self) -> bool:
        return bool(self.steps[-1][1])

    def xpath(self, leaf: str = "") -> str:
        parts = [name + "".join(f"[{k}='{v}']" for k, v in keys) for name, keys in self.steps]
        return f"/{self.module}:" + "/".join(parts) + (f"/{leaf}" if leaf else "")

    def entry_value(self) -> dict[str, Any]:
        """The entry as RFC 7951 JSON (keys and baseline leaves)."""
        return {**dict(self.steps[-1][1]), **self.content}


def _ns(module: str) -> str:
    return (
        "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
        if module.startswith("ietf")
        else f"urn:flyos:yang:{module}"
    )


def _target(
    label: str,
    module: str,
    steps: list[Step],
    content: dict[str, Any],
    update: tuple[str, Any],
    **kw: Any,
) -> Target:
    return Target(label, module, _ns(module), tuple(steps), content, update, **kw)


TARGETS = (
    _target(
        "route-10.1",
        "flyos-routing",
        [("routing", ()), ("static", (("prefix", "10.1.0.0/24"),))],
        {"via": "192.0.2.1"},
        ("via", "192.0.2.2"),
    ),
    _target(
        "route-10.2",
        "flyos-routing",
        [("routing", ()), ("static", (("prefix", "10.2.0.0/24"),))],
        {"via": "192.0.2.1"},
        ("via", "192.0.2.2"),
    ),
    _target(
        "nat-10",
        "flyos-nat",
        [("nat", ()), ("rule", (("sequence", "10"),))],
        {"action": "masquerade", "out-interface": "eth0", "description": "lan"},
        ("description", "wan"),
    ),
    _target(
        "vrf-red",
        "flyos-vrf",
        [("vrfs", ()), ("vrf", (("name", "red"),))],
        {"table": 100, "description": "red"},
        ("description", "crimson"),
    ),
    _target(
        "sys-description",
        "flyos-system",
        [("system", ()), ("description", ())],
        {"": "box"},
        ("", "box two"),
    ),
    _target(
        "eth0-description",
        "flyos-interfaces",
        [("interfaces", ()), ("interface", (("name", "eth0"),)), ("description", ())],
        {"": "uplink"},
        ("", "downlink"),
    ),
    _target(
        "nacm-spare-rule",
        "ietf-netconf-acm",
        [("nacm", ()), ("rule-list", (("name", "99-spare"),)), ("rule", (("name", "r"),))],
        {"action": "permit", "comment": "spare"},
        ("comment", "changed"),
    ),
    _target(
        "wg0-private-key",
        "flyos-tunnel",
        [("tunnels", ()), ("wireguard", (("name", "wg0"),)), ("private-key", ())],
        {"": KEY},
        ("", KEY),
        read_only=True,
    ),
)
ACCESSES = ("read", "create", "update", "delete")
NETCONF_OPS = (
    "lock",
    "unlock",
    "commit",
    "discard-changes",
    "kill-session",
    "delete-config",
    "validate",
    "get-config",
)
AGENT_OPS = ("compare", "history")
OPERATIONS = NETCONF_OPS + AGENT_OPS


@dataclass(frozen=True)
class Case:
    """One (user, operation, path) of the matrix; `access` is read/create/update/delete for
    a data case, "exec" for a protocol operation (`operation`)."""

    user: str
    access: str
    target: Target | None = None
    operation: str = ""

    @property
    def id(self) -> str:
        what = self.target.label if self.target else self.operation
        return f"{self.user}-{self.access}-{what}"


def cases() -> Iterator[Case]:
    """Every case: each user x each access x each target, and each user x each operation."""
    for user in USERS:
        for target in TARGETS:
            for access in ACCESSES if not target.read_only else ("read",):
                yield Case(user, access, target)
        for operation in OPERATIONS:
            yield Case(user, "exec", operation=operation)


# ---------------------------------------------------------------------- the oracle

_PATH_STEP = re.compile(r"/([^/\[]+)((?:\[[^\]]*\])*)")
_PREDICATE = re.compile(r"\[([^=\]]+)='([^']*)'\]")
DENY_ALL = ({"nacm"}, {("tunnels", "wireguard", "private-key")})


def _groups(user: str) -> set[str]:
    listed = {g["name"] for g in NACM["groups"]["group"] if user in g["user-name"]}
    return listed | {USERS[user]}


def _rules(user: str) -> Iterator[dict[str, Any]]:
    """The rules that apply to `user`, in evaluation order."""
    configured = sorted(NACM["rule-list"], key=lambda rl: rl["name"])
    names = {rl["name"] for rl in configured}
    factory = [rl for rl in FACTORY_RULE_LISTS if rl["name"] not in names]
    groups = _groups(user)
    for rule_list in [*configured, *factory]:
        if "*" in rule_list.get("group", []) or groups & set(rule_list.get("group", [])):
            yield from sorted(rule_list.get("rule", []), key=lambda r: r["name"])


def _access_matches(rule: dict[str, Any], access: str) -> bool:
    ops = rule.get("access-operations", "*")
    return ops == "*" or access in ops.split()


def _covers(rule_path: str, node: list[Step]) -> bool:
    steps = [
        (
            m.group(1).split(":")[-1],
            dict((k.split(":")[-1], v) for k, v in _PREDICATE.findall(m.group(2))),
        )
        for m in _PATH_STEP.finditer(rule_path)
    ]
    if len(steps) > len(node):
        return False
    return all(
        name == n and all(dict(keys).get(k) == v for k, v in want.items())
        for (name, want), (n, keys) in zip(steps, node, strict=False)
    )


def permits_data(user: str, module: str, node: list[Step], access: str) -> bool:
    """RFC 8341 3.4.5 for one data node (`node`: its steps from the top)."""
    if USERS[user] == "admin":
        return True
    for rule in _rules(user):
        if rule.get("module-name", "*") not in ("*", module) or not _access_matches(rule, access):
            continue
        if "rpc-name" in rule or "notification-name" in rule:
            continue
        if "path" in rule and not _covers(rule["path"], node):
            continue
        return rule["action"] == "permit"
    names = tuple(name for name, _ in node)
    if names[0] in DENY_ALL[0] or any(names[: len(mark)] == mark for mark in DENY_ALL[1]):
        return False
    return access == "read"


def permits_exec(user: str, operation: str) -> bool:
    """RFC 8341 3.4.4 for one protocol operation."""
    if USERS[user] == "admin":
        return True
    module = "flyos-agent-ops" if operation in AGENT_OPS else "ietf-netconf"
    for rule in _rules(user):
        if rule.get("module-name", "*") not in ("*", module) or not _access_matches(rule, "exec"):
            continue
        if "path" in rule or "notification-name" in rule:
            continue
        if rule.get("rpc-name", "*") not in ("*", operation):
            continue
        return rule["action"] == "permit"
    return operation not in ("kill-session", "delete-config")


def expected(case: Case) -> bool:
    """True if the case must be permitted."""
    if case.target is None:
        return permits_exec(case.user, case.operation)
    target, steps = case.target, list(case.target.steps)
    if case.access == "read":
        checks = [(steps[: i + 1], "read") for i, (_, keys) in enumerate(steps) if keys]
        checks.append((steps, "read"))
    elif case.access == "update":
        leaf = target.update[0]
        checks = [([*steps, (leaf, ())] if leaf else steps, "update")]
    else:
        checks = [(steps, case.access)]
        checks += [([*steps, (leaf, ())], case.access) for leaf in target.content if leaf]
    return all(permits_data(case.user, target.module, node, access) for node, access in checks)
