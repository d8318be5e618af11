"""Diff two trees into unit changes: what backends, validation and the journal consume.

A unit is a list entry or a top-level container. A change says a unit was
created, deleted, or modified (one of its own leaves, leaf-lists or nested
containers changed; nested list entries are units of their own). Creating or
deleting a unit also reports every nested list entry inside it, so a backend
registered for /interfaces/interface/ipv4/address sees each address.

Only the touched units are compared, and unchanged subtrees are skipped by
identity, so the cost follows the change, not the size of the trees.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, NamedTuple

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.paths import InstancePath, schema_of, unit_of
from flyos_agent.schema import Kind, Schema, SchemaNode


class ChangeOp(enum.StrEnum):
    """What happened to a unit."""

    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"


class Change(NamedTuple):
    """One unit change: `old`/`new` are the unit's Maps before/after (None if absent).

    A named tuple rather than a dataclass: a 100k-route commit makes 100k of them.
    """

    op: ChangeOp
    path: InstancePath
    node: SchemaNode
    old: Map[str, Any] | None
    new: Map[str, Any] | None


def diff_trees(
    schema: Schema,
    old: Map[str, Any],
    new: Map[str, Any],
    touched: Iterable[InstancePath] | None = None,
) -> list[Change]:
    """Unit changes from `old` to `new`, comparing only `touched` units (all if None)."""
    out: list[Change] = []
    units = [unit_of(schema, p) for p in touched] if touched is not None else [()]
    for path in _outermost(units):
        if not path:
            for name, root in schema.roots.items():
                _diff_unit(root, ((name, None),), old.get(name), new.get(name), out)
            continue
        node = schema_of(schema, path)
        assert node is not None
        if node.kind is Kind.LIST and path[-1][1] is None:
            _diff_list(node, path[:-1], trees.get(old, path), trees.get(new, path), out)
        else:
            _diff_unit(node, path, trees.get(old, path), trees.get(new, path), out)
    return out


def _outermost(paths: Iterable[InstancePath]) -> list[InstancePath]:
    """The paths that have no ancestor (or equal) among the others, sorted by length."""
    kept: list[InstancePath] = []
    seen: set[InstancePath] = set()
    for path in sorted(set(paths), key=len):
        if any(path[:i] in seen for i in range(len(path) + 1)):
            continue
        seen.add(path)
        kept.append(path)
    return kept


def _diff_list(
    node: SchemaNode,
    parent: InstancePath,
    old: Map[Any, Any] | None,
    new: Map[Any, Any] | None,
    out: list[Change],
) -> None:
    if old is new:
        return
    old = old or trees.EMPTY
    new = new or trees.EMPTY
    for key, entry in old.items():
        if key not in new:
            _emit_subtree(ChangeOp.DELETE, node, (*parent, (node.name, key)), entry, out)
    for key, entry in new.items():
        before = old.get(key)
        if before is not entry:
            _diff_unit(node, (*parent, (node.name, key)), before, entry, out)


def _diff_unit(
    node: SchemaNode,
    path: InstancePath,
    old: Map[str, Any] | None,
    new: Map[str, Any] | None,
    out: list[Change],
) -> None:
    if old is new:
        return
    if old is None:
        assert new is not None
        _emit_subtree(ChangeOp.CREATE, node, path, new, out)
    elif new is None:
        _emit_subtree(ChangeOp.DELETE, node, path, old, out)
    elif _diff_children(node, path, old, new, out):
        out.append(Change(ChangeOp.MODIFY, path, node, old, new))


def _diff_children(
    node: SchemaNode,
    path: InstancePath,
    old: Map[str, Any],
    new: Map[str, Any],
    out: list[Change],
) -> bool:
    """Report nested list changes; return True if the unit's own content changed."""
    local_change = False
    for name in set(old.keys()) | set(new.keys()):
        before, after = old.get(name), new.get(name)
        if before is after:
            continue
        child = node.children[name]
        if child.kind is Kind.LIST:
            _diff_list(child, path, before, after, out)
        elif child.kind is Kind.CONTAINER:
            nested_path = (*path, (name, None))
            changed = _diff_children(
                child, nested_path, before or trees.EMPTY, after or trees.EMPTY, out
            )
            appeared = child.presence and (before is None) != (after is None)
            local_change = local_change or changed or appeared
        elif before != after:
            local_change = True
    return local_change


def _emit_subtree(
    op: ChangeOp, node: SchemaNode, path: InstancePath, value: Map[str, Any], out: list[Change]
) -> None:
    """Report a created/deleted unit and every list entry nested in it."""
    old, new = (None, value) if op is ChangeOp.CREATE else (value, None)
    out.append(Change(op, path, node, old, new))
    _emit_nested(op, node, path, value, out)


def _emit_nested(
    op: ChangeOp, node: SchemaNode, path: InstancePath, value: Map[str, Any], out: list[Change]
) -> None:
    for name in node.nested_lists:
        child_value = value.get(name)
        if child_value is None:
            continue
        child = node.children[name]
        if child.kind is Kind.LIST:
            _emit_entries(op, child, path, child_value, out)
        elif child.kind is Kind.CONTAINER:
            _emit_nested(op, child, (*path, (name, None)), child_value, out)


def _emit_entries(
    op: ChangeOp, node: SchemaNode, parent: InstancePath, entries: Map[Any, Any], out: list[Change]
) -> None:
    """Report every entry of a created/deleted list (100k routes: one tight loop)."""
    name = node.name
    creating = op is ChangeOp.CREATE
    nested = node.nested_lists
    for key, entry in entries.items():
        path = (*parent, (name, key))
        if creating:
            out.append(Change(op, path, node, None, entry))
        else:
            out.append(Change(op, path, node, entry, None))
        for child in nested:
            if child in entry:
                _emit_nested(op, node, path, entry, out)
                break
