"""Validation of a candidate tree against the schema: what changed, plus what refers to it.

Types, ranges and patterns are checked when data enters a tree (tree.from_plain).
This module checks what needs the whole tree: mandatory nodes, min/max-elements,
unique, leafref integrity in both directions, must and when. Given the unit
changes of a commit it checks only the changed units, the units that refer to
deleted data, and the must/when expressions that read a changed part of the tree
from elsewhere; without changes it checks everything.

Here: the entry points and the checks of one unit and its children, each
node's needs worked out once by validate_plan. Long runs of entries of one
list are cleared in bulk first (validate_batch). Leafrefs are checked by
validate_refs, must/when that read other units by validate_remote, and they
share validate_context's run state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.datastore.validate_batch import runs
from flyos_agent.datastore.validate_context import (
    ValidationContext,
    check_must,
    expression_holds,
    when_error,
)
from flyos_agent.datastore.validate_plan import check_plan as _plan
from flyos_agent.datastore.validate_refs import (
    check_leafref,
    check_references_to_removed,
    collect_removed_targets,
    instances,
)
from flyos_agent.datastore.validate_remote import check_remote_expressions
from flyos_agent.errors import DataMissing, FlyosError, OperationFailed
from flyos_agent.schema import Kind, Schema, SchemaNode

__all__ = ["instances", "validate_changes", "validate_tree"]


def validate_tree(schema: Schema, tree: Map[str, Any]) -> list[FlyosError]:
    """Every constraint over the whole tree."""
    ctx = ValidationContext(schema, tree)
    for name, root in schema.roots.items():
        if not root.config:
            continue
        _check_unit(ctx, root, ((name, None),), tree.get(name) or trees.EMPTY, deep=True)
    return ctx.errors


def validate_changes(
    schema: Schema, old: Map[str, Any], new: Map[str, Any], changes: Iterable[Change]
) -> list[FlyosError]:
    """The constraints that `changes` (from `old` to `new`) can have broken."""
    ctx = ValidationContext(schema, new)
    changes = list(changes)
    unique_lists: dict[InstancePath, SchemaNode] = {}
    removed: dict[str, dict[Any, InstancePath]] = {}
    for run, cleared in runs(ctx, changes):
        if False in cleared:
            for change, clear in zip(run, cleared, strict=True):
                if change.new is not None and not clear:
                    _check_unit(ctx, change.node, change.path, change.new, deep=False)
        node = run[0].node
        if node.unique and node.kind is Kind.LIST:
            for change in run:
                if change.op is not ChangeOp.DELETE:
                    unique_lists[(*change.path[:-1], (change.path[-1][0], None))] = node
        for change in [change for change in run if change.old is not None]:
            collect_removed_targets(schema, change, removed)
    for list_path, node in unique_lists.items():
        _check_unique(ctx, node, list_path, trees.get(new, list_path))
    check_references_to_removed(ctx, removed)
    check_remote_expressions(ctx, changes)
    return ctx.errors


# --------------------------------------------------------------------------- units


def _check_unit(
    ctx: ValidationContext,
    node: SchemaNode,
    path: InstancePath,
    value: Map[str, Any],
    *,
    deep: bool,
) -> None:
    """Check a list entry or top container; with `deep`, nested list entries too.

    Only a deep walk can reach a unit twice (a diff reports each unit once).
    """
    if deep:
        if path in ctx.checked:
            return
        ctx.checked.add(path)
    _check_entry(ctx, node, path, value, deep=deep)


def _check_entry(
    ctx: ValidationContext,
    node: SchemaNode,
    path: InstancePath,
    value: Map[str, Any],
    *,
    deep: bool,
) -> None:
    if node.kind is Kind.LIST:
        if node.when and not expression_holds(ctx, node.when, path):
            ctx.errors.append(when_error(ctx, node, path))
            return
        for must, check in _plan(node).own_musts:
            if check is None or not check(value):
                check_must(ctx, must, path)
    _check_children(ctx, node, path, value, deep=deep)


def _check_children(
    ctx: ValidationContext,
    node: SchemaNode,
    path: InstancePath,
    value: Map[str, Any],
    *,
    deep: bool,
) -> None:
    plan = _plan(node)
    for child in plan.lists:
        child_value = value.get(child.name)
        count = len(child_value) if child_value else 0
        if child.min_elements or child.max_elements is not None:
            _check_count(ctx, child, (*path, (child.name, None)), count)
        if deep and child_value:
            if child.unique:
                _check_unique(ctx, child, (*path, (child.name, None)), child_value)
            for key, entry in child_value.items():
                entry_path = (*path, (child.name, key))
                if entry_path not in ctx.checked:
                    ctx.checked.add(entry_path)
                    _check_entry(ctx, child, entry_path, entry, deep=True)
    for child in plan.present:
        child_value = value.get(child.name)
        if child_value is None:
            continue
        child_path = (*path, (child.name, None))
        if child.when:
            quick = plan.child_whens[child.name]
            if (quick is None or not quick(value)) and not expression_holds(
                ctx, child.when, child_path
            ):
                ctx.errors.append(when_error(ctx, child, child_path))
                continue
        if child.kind is Kind.CONTAINER:
            for must in child.must:
                check_must(ctx, must, child_path)
            _check_children(ctx, child, child_path, child_value, deep=deep)
        elif child.kind is Kind.LEAF:
            for must, check in plan.child_musts.get(child.name, ()):
                if check is None or not check(value):
                    check_must(ctx, must, child_path)
            check_leafref(ctx, child, child_path, child_value)
        else:
            _check_count(ctx, child, child_path, len(child_value))
            for entry in child_value:
                entry_path = (*path, (child.name, (entry,)))
                _check_leaf(ctx, child, entry_path, entry)
    for child in plan.absent:
        if child.name not in value and _case_in_use(node, child, value):
            child_path = (*path, (child.name, None))
            _check_absent(ctx, child, child_path)


def _case_in_use(node: SchemaNode, child: SchemaNode, value: Map[str, Any]) -> bool:
    """False for a node of a choice's case that no data of `value` uses (RFC 7950
    7.9.4: the mandatory nodes of a case count only while the case is in use)."""
    if child.case is None:
        return True
    return any(
        other.case == child.case and other.choice == child.choice and name in value
        for name, other in node.children.items()
    )


def _check_absent(ctx: ValidationContext, node: SchemaNode, path: InstancePath) -> None:
    """A missing node: mandatory leaves and min-elements, unless `when` hides it."""
    if node.when is not None and not expression_holds(ctx, node.when, path):
        return
    if node.kind is Kind.LEAF:
        ctx.errors.append(
            DataMissing(
                f"mandatory '{node.name}' is missing",
                path=ctx.where(path),
                app_tag="missing-element",
            )
        )
    elif node.kind is Kind.LEAF_LIST:
        _check_count(ctx, node, path, 0)
    else:
        _check_children(ctx, node, path, trees.EMPTY, deep=False)


def _check_leaf(ctx: ValidationContext, node: SchemaNode, path: InstancePath, value: Any) -> None:
    for must in node.must:
        check_must(ctx, must, path)
    check_leafref(ctx, node, path, value)


def _check_count(ctx: ValidationContext, node: SchemaNode, path: InstancePath, count: int) -> None:
    if count < node.min_elements:
        ctx.errors.append(
            OperationFailed(
                f"'{node.name}' needs at least {node.min_elements} entries, has {count}",
                path=ctx.where(path),
                app_tag="too-few-elements",
            )
        )
    if node.max_elements is not None and count > node.max_elements:
        ctx.errors.append(
            OperationFailed(
                f"'{node.name}' allows at most {node.max_elements} entries, has {count}",
                path=ctx.where(path),
                app_tag="too-many-elements",
            )
        )


def _check_unique(
    ctx: ValidationContext, node: SchemaNode, list_path: InstancePath, entries: Map[Any, Any] | None
) -> None:
    if not entries:
        return
    parent = list_path[:-1]
    for leaves in node.unique:
        seen: dict[tuple[Any, ...], Any] = {}
        for key, entry in entries.items():
            values = tuple(_descendant(entry, leaf) for leaf in leaves)
            if any(v is None for v in values):
                continue
            if values in seen:
                first = format_path(ctx.schema, (*parent, (node.name, seen[values])))
                ctx.errors.append(
                    OperationFailed(
                        f"{' '.join(leaves)} must be unique; also used by {first}",
                        path=format_path(ctx.schema, (*parent, (node.name, key))),
                        app_tag="data-not-unique",
                        info={"non-unique": first},
                    )
                )
            else:
                seen[values] = key


def _descendant(entry: Map[str, Any], relative: str) -> Any:
    value: Any = entry
    for step in relative.split("/"):
        if not isinstance(value, Map):
            return None
        value = value.get(step.rpartition(":")[2])
    return value
