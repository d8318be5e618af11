"""NACM (RFC 8341) decisions for one set of groups: protocol operations, and data
nodes per access (create, read, update, delete).

Per data node (RFC 8341 3.4.5) the first rule (of the rule-lists of the
session's groups, in order) whose module matches, whose access-operations
hold the access, and whose path (if any) is the node or an ancestor of it
decides; with no such rule a node marked nacm:default-deny-all (or -write,
for writes), or below such a node, is denied, else read-default /
write-default applies.

Cost: a Policy knows where an answer can change within a subtree: the
schema nodes with a rule path, a key predicate or a default-deny mark below
them (`descend`), and the lists whose entries a key predicate tells apart
(`split`). Everywhere else a whole subtree has one answer. Without key
predicates an answer depends on the schema node only, so it is cached per
schema node, and `plan` tells for a node which children are denied outright
and which need a closer look; the read filter (nacm_read) and the write check
(nacm_write) walk only those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from flyos_agent.datastore.paths import InstancePath
from flyos_agent.runtime.nacm_rules import (
    DEFAULT_DENY_OPERATIONS,
    OPERATIONS,
    NacmConfig,
    Rule,
    RuleType,
)
from flyos_agent.schema import Kind, Schema, SchemaNode

DATA_ACCESS = ("create", "read", "update", "delete")
WRITE_ACCESS = ("create", "update", "delete")


@dataclass(frozen=True, slots=True)
class Plan:
    """For one schema node and access: the children whose subtrees are denied
    outright, and those whose answer can vary inside (keys excepted; for writes,
    nested lists too, which the diff reports as changes of their own)."""

    denied: tuple[str, ...]
    walk: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hotspots:
    """Where a walk must look closer (see the module docstring)."""

    descend: frozenset[str]
    split: frozenset[str]


class Policy:
    """The rules of one set of NACM groups, answering per operation and data node."""

    def __init__(self, schema: Schema, config: NacmConfig, rules: Sequence[Rule]) -> None:
        self.schema = schema
        self._exec_rules = tuple(
            r for r in rules if r.type in (RuleType.ANY, RuleType.OPERATION) and "exec" in r.access
        )
        self._rules = {
            access: tuple(
                r for r in rules if r.type in (RuleType.ANY, RuleType.DATA) and access in r.access
            )
            for access in DATA_ACCESS
        }
        self._defaults = {
            "read": config.read_default,
            **dict.fromkeys(WRITE_ACCESS, config.write_default),
        }
        self._exec_default = config.exec_default
        self._keyed = {a: any(r.keyed_paths for r in self._rules[a]) for a in DATA_ACCESS}
        self._cache: dict[tuple[str, str], bool] = {}
        self._plans: dict[tuple[str, str], Plan] = {}
        marks, self._inherited = default_deny_marks(schema)
        self.read_spots = _hotspots(
            schema, self._rules["read"], [p for p, kind in marks.items() if kind == "all"]
        )
        self.write_spots = _hotspots(
            schema, [r for a in WRITE_ACCESS for r in self._rules[a]], list(marks)
        )

    def may_exec(self, operation: str) -> bool:
        """True if the protocol operation `operation` (an OPERATIONS name) is permitted."""
        module = OPERATIONS[operation]
        for rule in self._exec_rules:
            if rule.module not in ("*", module):
                continue
            if rule.type is RuleType.OPERATION and rule.operation not in ("*", operation):
                continue
            return rule.permit
        return operation not in DEFAULT_DENY_OPERATIONS and self._exec_default

    def allowed(self, access: str, path: InstancePath, node: SchemaNode) -> bool:
        """True if `access` (create, read, update, delete) to the node at `path` is permitted."""
        if self._keyed[access]:
            return self._decide(access, path, node)
        key = (access, node.path)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(access, path, node)
        return found

    def plan(self, access: str, node: SchemaNode) -> Plan | None:
        """The Plan of `node`'s children for `access`; None when key predicates make
        answers differ between instances (then every child is looked at)."""
        if self._keyed[access]:
            return None
        found = self._plans.get((access, node.path))
        if found is None:
            spots = self.read_spots if access == "read" else self.write_spots
            keys = node.keys if node.kind is Kind.LIST else ()
            denied, walk = [], []
            for name, child in node.children.items():
                if name in keys or (access != "read" and child.kind is Kind.LIST):
                    continue
                if child.path in spots.descend or child.path in spots.split:
                    walk.append(name)
                elif not self.allowed(access, schema_steps(child), child):
                    denied.append(name)
            found = self._plans[(access, node.path)] = Plan(tuple(denied), tuple(walk))
        return found

    def _decide(self, access: str, path: InstancePath, node: SchemaNode) -> bool:
        for rule in self._rules[access]:
            if rule.module not in ("*", node.module):
                continue
            if rule.type is RuleType.DATA and not rule.covers(path):
                continue
            return rule.permit
        mark = self._inherited.get(node.path)
        if mark == "all" or (mark == "write" and access != "read"):
            return False
        return self._defaults[access]


def schema_steps(node: SchemaNode) -> InstancePath:
    """An instance path of `node` without keys: enough to decide when no rule pins a key."""
    names = node.path.strip("/").split("/")
    return tuple((name.rpartition(":")[2], None) for name in names)


@cache
def default_deny_marks(schema: Schema) -> tuple[dict[str, str], dict[str, str]]:
    """Schema paths carrying nacm:default-deny-all/-write ("all"/"write"), and every
    schema path at or below such a node with the mark it inherits ("all" wins)."""
    marks = {node.path: node.nacm_default_deny for node in schema.walk() if node.nacm_default_deny}
    inherited: dict[str, str] = {}

    def spread(node: SchemaNode, mark: str | None) -> None:
        mark = "all" if "all" in (mark, node.nacm_default_deny) else mark or node.nacm_default_deny
        if mark is not None:
            inherited[node.path] = mark
        for child in node.children.values():
            spread(child, mark)

    for root in schema.roots.values():
        spread(root, None)
    return marks, inherited


def _hotspots(schema: Schema, rules: Iterable[Rule], marked: Iterable[str]) -> Hotspots:
    points = list(marked)
    split: set[str] = set()
    for rule in rules:
        if rule.type is RuleType.DATA and rule.schema_path:
            points.append(rule.schema_path)
            points.extend(rule.keyed_paths)
            split.update(rule.keyed_paths)
    descend: set[str] = set()
    for point in points:
        parent = schema.nodes[point].parent_path
        while parent and parent not in descend:
            descend.add(parent)
            parent = schema.nodes[parent].parent_path
    return Hotspots(frozenset(descend), frozenset(split))
