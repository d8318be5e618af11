"""NACM read filtering (RFC 8341 3.4.5): what a session may read of a tree, a
subtree or a diff; the rest is left out, silently.

A hidden list entry or presence container hides everything in it; key leaves
go with their entry; a non-presence container is only structure: it is kept
while something inside it may be read. Filtering keeps every subtree that
loses nothing (the same object), so a diff of filtered trees still skips
unchanged structure, and with no data-node rules a whole tree costs one
decision per top-level container.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from immutables import Map

from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import InstancePath, schema_of
from flyos_agent.runtime.nacm_policy import Policy
from flyos_agent.schema import Kind, SchemaNode

READ = "read"


class ReadFilter:
    """Filters data for reading by one Policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.schema = policy.schema
        self._spots = policy.read_spots

    def tree(self, tree: Map[str, Any]) -> tuple[Map[str, Any], frozenset[str]]:
        """`tree` without what may not be read, and the top-level names it hides."""
        kept = self._children(None, (), tree)
        return kept, self.hidden_roots(kept)

    def hidden_roots(self, kept: Map[str, Any]) -> frozenset[str]:
        """Top-level containers absent from `kept` that may not be read at all (so
        that with-defaults report-all shows none of their defaults either)."""
        return frozenset(
            name
            for name, root in self.schema.roots.items()
            if name not in kept and not self.policy.allowed(READ, ((name, None),), root)
        )

    def subtree(self, path: InstancePath, value: Any) -> Any:
        """What may be read of `value`, the data at `path` (None: nothing)."""
        node = schema_of(self.schema, path)
        assert node is not None
        for depth in range(1, len(path)):
            above = path[:depth]
            holder = schema_of(self.schema, above)
            assert holder is not None
            own = (holder.kind is Kind.LIST and above[-1][1] is not None) or holder.presence
            if own and not self.policy.allowed(READ, above, holder):
                return None
        key = path[-1][1]
        if node.kind is Kind.LIST and key is None:
            return self._list(node, path[:-1], value)
        if node.kind is Kind.LEAF_LIST:
            if key is None:
                return self._values(node, path[:-1], value)
            return value if self.policy.allowed(READ, path, node) else None
        return self._node(node, path, value)

    def change(self, change: Change) -> Change | None:
        """`change` with what may not be read left out (None if a side is hidden)."""
        old = None if change.old is None else self.subtree(change.path, change.old)
        new = None if change.new is None else self.subtree(change.path, change.new)
        if (old is None) != (change.old is None) or (new is None) != (change.new is None):
            return None
        return Change(change.op, change.path, change.node, old, new)

    def _node(self, node: SchemaNode, path: InstancePath, value: Any) -> Any:
        if node.path not in self._spots.descend:
            return value if self.policy.allowed(READ, path, node) else None
        if (node.kind is Kind.LIST or node.presence) and not self.policy.allowed(READ, path, node):
            return None
        return self._children(node, path, value)

    def _children(self, node: SchemaNode | None, path: InstancePath, value: Map[str, Any]) -> Any:
        changed: dict[str, Any] = {}
        plan = self.policy.plan(READ, node) if node is not None else None
        if plan is not None:
            changed = {name: None for name in plan.denied if name in value}
            names = [name for name in plan.walk if name in value]
        else:
            keys = node.keys if node is not None and node.kind is Kind.LIST else ()
            names = [name for name in value if name not in keys]
        children = self.schema.roots if node is None else node.children
        for name in names:
            child, child_value = children[name], value[name]
            if child.kind is Kind.LIST:
                kept = self._list(child, path, child_value)
            elif child.kind is Kind.LEAF_LIST:
                kept = self._values(child, path, child_value)
            else:
                kept = self._node(child, (*path, (name, None)), child_value)
            if kept is not child_value:
                changed[name] = kept
        if not changed:
            return value
        result = _replaced(value, changed)
        if node is not None and node.kind is Kind.CONTAINER and not node.presence and not result:
            return None
        return result

    def _list(self, node: SchemaNode, parent: InstancePath, entries: Map[Any, Any]) -> Any:
        if node.path in self._spots.split:
            return self._entries(node, parent, entries)
        first = (*parent, (node.name, next(iter(entries))))
        if not self.policy.allowed(READ, first, node):
            return None
        if node.path not in self._spots.descend:
            return entries
        plan = self.policy.plan(READ, node)
        if plan is None or plan.walk:
            return self._entries(node, parent, entries)
        # every entry is readable and loses the same children: no per-entry decisions
        gone = dict.fromkeys(plan.denied)
        changed = {
            key: _replaced(entry, gone)
            for key, entry in entries.items()
            if any(name in entry for name in plan.denied)
        }
        return _replaced(entries, changed) if changed else entries

    def _entries(self, node: SchemaNode, parent: InstancePath, entries: Map[Any, Any]) -> Any:
        changed = {}
        for key, entry in entries.items():
            kept = self._node(node, (*parent, (node.name, key)), entry)
            if kept is not entry:
                changed[key] = kept
        return _replaced(entries, changed) or None if changed else entries

    def _values(self, node: SchemaNode, parent: InstancePath, values: Any) -> Any:
        if node.path not in self._spots.split:
            path = (*parent, (node.name, None))
            return values if self.policy.allowed(READ, path, node) else None
        allowed = self.policy.allowed
        kept = tuple(v for v in values if allowed(READ, (*parent, (node.name, (v,))), node))
        return values if len(kept) == len(values) else kept or None


def _replaced(value: Map[Any, Any], changed: Mapping[Any, Any]) -> Map[Any, Any]:
    """`value` with each changed member set, or removed where it became None."""
    with value.mutate() as mutable:
        for name, kept in changed.items():
            if kept is None:
                del mutable[name]
            else:
                mutable[name] = kept
        result: Map[Any, Any] = mutable.finish()
    return result
