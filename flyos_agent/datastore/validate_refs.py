"""Leafref integrity in both directions.

Forward: a leafref's value must name an existing target; when the target is the
sole key of a list below containers only, that is one keyed lookup (memoised
per run), otherwise an XPath count. Reverse: target values a commit removed
must not still be referenced from anywhere in the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.datastore.validate_context import ValidationContext, expression_holds
from flyos_agent.errors import DataMissing
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import value_to_text


def check_leafref(ctx: ValidationContext, node: SchemaNode, path: InstancePath, value: Any) -> None:
    """Record an error if leafref `node` (require-instance) at `path` names no target."""
    leaf_type = node.type
    if leaf_type is None or leaf_type.base != "leafref" or not leaf_type.require_instance:
        return
    if not _target_exists(ctx, node, path, value):
        ctx.errors.append(
            DataMissing(
                f"'{value_to_text(value)}' does not exist at {leaf_type.leafref_target}",
                path=ctx.where(path),
                app_tag="instance-required",
            )
        )


def _target_exists(
    ctx: ValidationContext, node: SchemaNode, path: InstancePath, value: Any
) -> bool:
    assert node.type is not None and node.type.leafref_target is not None
    if is_keyed_leafref(ctx.schema, node):
        return keyed_target_exists(ctx, node, value)
    expression = f"count({node.type.leafref_path}[. = current()]) > 0"
    return expression_holds(ctx, expression, path)


def is_keyed_leafref(schema: Schema, node: SchemaNode) -> bool:
    """True for a leafref (require-instance) whose target is the sole key of a list
    below containers only: its check is `keyed_target_exists`, whatever the path."""
    leaf_type = node.type
    if leaf_type is None or leaf_type.base != "leafref" or not leaf_type.require_instance:
        return False
    return leaf_type.leafref_target is not None and (
        _keyed_target(schema, leaf_type.leafref_target) is not None
    )


def keyed_target_exists(ctx: ValidationContext, node: SchemaNode, value: Any) -> bool:
    """Whether keyed leafref `node`'s target list has an entry `value` (memoised per run)."""
    assert node.type is not None and node.type.leafref_target is not None
    target = node.type.leafref_target
    known = ctx.targets.get((target, value))
    if known is None:
        keyed = _keyed_target(ctx.schema, target)
        assert keyed is not None
        parent, list_name = keyed
        known = trees.get(ctx.tree, (*parent, (list_name, (value,)))) is not None
        ctx.targets[(target, value)] = known
    return known


@cache
def _keyed_target(schema: Schema, target: str) -> tuple[InstancePath, str] | None:
    """For a target that is the sole key of a list below containers only: the
    list's parent path and the list's name, so existence is one keyed lookup."""
    node = schema.node(target)
    if node.parent_path is None:
        return None
    parent = schema.node(node.parent_path)
    if parent.kind is not Kind.LIST or parent.keys != (node.name,):
        return None
    steps: list[tuple[str, None]] = []
    path = parent.parent_path
    while path is not None:
        ancestor = schema.node(path)
        if ancestor.kind is not Kind.CONTAINER:
            return None
        steps.append((ancestor.name, None))
        path = ancestor.parent_path
    return tuple(reversed(steps)), parent.name


def collect_removed_targets(
    schema: Schema, change: Change, removed: dict[str, dict[Any, InstancePath]]
) -> None:
    """Leafref target values inside a deleted/modified unit that no longer exist,
    each with the instance path it was removed from."""
    assert change.old is not None
    for leaf_name, leaf in change.node.children.items():
        if leaf.path not in schema.referrers:
            continue
        before = change.old.get(leaf_name)
        after = change.new.get(leaf_name) if change.new is not None else None
        if before is None or before == after:
            continue
        gone = set(before) - set(after or ()) if leaf.kind is Kind.LEAF_LIST else {before}
        where = change.path if leaf.name in change.node.keys else (*change.path, (leaf_name, None))
        for value in gone:
            removed.setdefault(leaf.path, {})[value] = where


def check_references_to_removed(
    ctx: ValidationContext, removed: dict[str, dict[Any, InstancePath]]
) -> None:
    """Record an error for every leafref still naming a removed target value."""
    for target, values in removed.items():
        for referrer in ctx.schema.leafrefs_to(target):
            for path, value in instances(ctx.schema, ctx.tree, referrer):
                hits = set(value) if referrer.kind is Kind.LEAF_LIST else {value}
                for hit in hits & values.keys():
                    if _target_exists(ctx, referrer, path, hit):
                        continue
                    gone = format_path(ctx.schema, values[hit])
                    ctx.errors.append(
                        DataMissing(
                            f"{gone} cannot be removed: '{value_to_text(hit)}' is still "
                            f"referenced by {format_path(ctx.schema, path)}",
                            path=format_path(ctx.schema, path),
                            app_tag="instance-required",
                            info={"referenced": gone},
                        )
                    )


def instances(
    schema: Schema, tree: Map[str, Any], node: SchemaNode
) -> Iterator[tuple[InstancePath, Any]]:
    """Every instance of schema node `node` in `tree`, with its instance path."""
    chain: list[SchemaNode] = []
    current: SchemaNode | None = node
    while current is not None:
        chain.append(current)
        current = schema.node(current.parent_path) if current.parent_path else None
    chain.reverse()
    yield from _walk_chain(chain, 0, tree, ())


def _walk_chain(
    chain: list[SchemaNode], index: int, value: Map[str, Any], path: InstancePath
) -> Iterator[tuple[InstancePath, Any]]:
    node = chain[index]
    child = value.get(node.name)
    if child is None:
        return
    last = index == len(chain) - 1
    if node.kind is Kind.LIST:
        for key, entry in child.items():
            entry_path = (*path, (node.name, key))
            if last:
                yield entry_path, entry
            else:
                yield from _walk_chain(chain, index + 1, entry, entry_path)
        return
    node_path = (*path, (node.name, None))
    if last:
        yield node_path, child
    elif isinstance(child, Map):
        yield from _walk_chain(chain, index + 1, child, node_path)
