"""NACM write checking (RFC 8341 3.4.5): every node a change creates, updates or
deletes must be permitted, before anything is applied.

The changes are the diff's unit changes (a created or deleted list entry or
top-level container with what it holds, nested list entries being changes of
their own; a modified unit with the leaves, leaf-list values and containers
that differ), so the cost follows the change. A non-presence container is
structure: only what it holds is checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.runtime.nacm_policy import Policy
from flyos_agent.schema import Kind, SchemaNode

Denial = tuple[str, InstancePath]


class WriteCheck:
    """Finds the first node of a set of changes that one Policy does not let be written."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._descend = policy.write_spots.descend

    def denied(self, changes: Iterable[Change]) -> Denial | None:
        """The first (access, path) of `changes` that may not be written, or None."""
        for change in changes:
            if change.op is ChangeOp.CREATE:
                found = self._tree("create", change.node, change.path, change.new)
            elif change.op is ChangeOp.DELETE:
                found = self._tree("delete", change.node, change.path, change.old)
            else:
                found = self._modify(change.node, change.path, change.old, change.new)
            if found is not None:
                return found
        return None

    def _tree(self, access: str, node: SchemaNode, path: InstancePath, value: Any) -> Denial | None:
        """Creating or deleting a container or entry and what it holds."""
        if node.kind is Kind.LIST or node.presence:
            if not self.policy.allowed(access, path, node):
                return access, path
            if node.path not in self._descend:
                return None
        plan = self.policy.plan(access, node)
        if plan is not None:
            for name in plan.denied:
                child_value = value.get(name)
                if child_value is not None:
                    return self._node(access, node.children[name], path, child_value)
            names: Iterable[str] = plan.walk
        else:
            keys = node.keys if node.kind is Kind.LIST else ()
            names = [
                n for n, c in node.children.items() if c.kind is not Kind.LIST and n not in keys
            ]
        for name in names:
            child_value = value.get(name)
            if child_value is not None:
                found = self._node(access, node.children[name], path, child_value)
                if found is not None:
                    return found
        return None

    def _node(
        self, access: str, node: SchemaNode, parent: InstancePath, value: Any
    ) -> Denial | None:
        if node.kind is Kind.LEAF_LIST:
            return self._values(access, node, parent, value)
        path = (*parent, (node.name, None))
        if node.kind is Kind.CONTAINER:
            return self._tree(access, node, path, value)
        return None if self.policy.allowed(access, path, node) else (access, path)

    def _values(
        self, access: str, node: SchemaNode, parent: InstancePath, values: Iterable[Any]
    ) -> Denial | None:
        for value in values:
            path = (*parent, (node.name, (value,)))
            if not self.policy.allowed(access, path, node):
                return access, path
        return None

    def _modify(self, node: SchemaNode, path: InstancePath, old: Any, new: Any) -> Denial | None:
        """The leaves, leaf-list values and containers of a unit that changed."""
        keys = node.keys if node.kind is Kind.LIST else ()
        for name, child in node.children.items():
            if child.kind is Kind.LIST or name in keys:
                continue
            before, after = old.get(name), new.get(name)
            if before is after or (child.kind is Kind.LEAF and before == after):
                continue
            if before is None:
                found = self._node("create", child, path, after)
            elif after is None:
                found = self._node("delete", child, path, before)
            elif child.kind is Kind.CONTAINER:
                found = self._modify(child, (*path, (name, None)), before, after)
            elif child.kind is Kind.LEAF_LIST:
                added = [v for v in after if v not in before]
                removed = [v for v in before if v not in after]
                found = self._values("create", child, path, added) or self._values(
                    "delete", child, path, removed
                )
            else:
                found = self._node("update", child, path, after)
            if found is not None:
                return found
        return None
