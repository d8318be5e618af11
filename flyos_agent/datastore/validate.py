"""Validation of a candidate tree against the schema: what changed, plus what refers to it.

Types, ranges and patterns are checked when data enters a tree (tree.from_plain).
This module checks what needs the whole tree: mandatory nodes, min/max-elements,
unique, leafref integrity in both directions, must and when. Given the unit
changes of a commit it checks only the changed units, the units that refer to
deleted data, and the must/when expressions that read a changed part of the tree
from elsewhere; without changes it checks everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from immutables import Map
from pyang import xpath_parser

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.datastore.xpath import XPathError, evaluate_boolean
from flyos_agent.datastore.xpath_compiled import (
    Item,
    LocalCheck,
    Unsupported,
    compile_expression,
    compile_local,
    holds,
)
from flyos_agent.errors import DataMissing, FlyosError, OperationFailed
from flyos_agent.schema import Kind, Must, Schema, SchemaNode
from flyos_agent.schema.values import value_to_text


@dataclass
class _Context:
    schema: Schema
    tree: Map[str, Any]
    errors: list[FlyosError] = field(default_factory=list)
    checked: set[InstancePath] = field(default_factory=set)
    items: dict[InstancePath, Item] = field(default_factory=dict)
    targets: dict[tuple[str, Any], bool] = field(default_factory=dict)

    def where(self, path: InstancePath) -> str:
        return format_path(self.schema, path)


def validate_tree(schema: Schema, tree: Map[str, Any]) -> list[FlyosError]:
    """Every constraint over the whole tree."""
    ctx = _Context(schema, tree)
    for name, root in schema.roots.items():
        if not root.config:
            continue
        _check_unit(ctx, root, ((name, None),), tree.get(name) or trees.EMPTY, deep=True)
    return ctx.errors


def validate_changes(
    schema: Schema, old: Map[str, Any], new: Map[str, Any], changes: Iterable[Change]
) -> list[FlyosError]:
    """The constraints that `changes` (from `old` to `new`) can have broken."""
    ctx = _Context(schema, new)
    changes = list(changes)
    unique_lists: dict[InstancePath, SchemaNode] = {}
    removed: dict[str, dict[Any, InstancePath]] = {}
    for change in changes:
        if change.new is not None:
            _check_unit(ctx, change.node, change.path, change.new, deep=False)
        if (
            change.node.kind is Kind.LIST
            and change.node.unique
            and change.op is not ChangeOp.DELETE
        ):
            unique_lists[(*change.path[:-1], (change.path[-1][0], None))] = change.node
        if change.old is not None:
            _collect_removed_targets(schema, change, removed)
    for list_path, node in unique_lists.items():
        _check_unique(ctx, node, list_path, trees.get(new, list_path))
    _check_references_to_removed(ctx, removed)
    _check_remote_expressions(ctx, changes)
    return ctx.errors


# --------------------------------------------------------------------------- units


def _check_unit(
    ctx: _Context, node: SchemaNode, path: InstancePath, value: Map[str, Any], *, deep: bool
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
    ctx: _Context,
    node: SchemaNode,
    path: InstancePath,
    value: Map[str, Any],
    *,
    deep: bool,
) -> None:
    if node.kind is Kind.LIST:
        if node.when and not _holds(ctx, node.when, path):
            ctx.errors.append(_when_error(ctx, node, path))
            return
        for must, check in _plan(node).own_musts:
            if check is None or not check(value):
                _check_must(ctx, must, path)
    _check_children(ctx, node, path, value, deep=deep)


@dataclass(frozen=True)
class _Plan:
    """Which children of a node need which checks (computed once per node), and
    the generated local checks for the node's own musts and its children's
    musts and whens (None where the expression is not local)."""

    lists: tuple[SchemaNode, ...]
    present: tuple[SchemaNode, ...]
    absent: tuple[SchemaNode, ...]
    own_musts: tuple[tuple[Must, LocalCheck | None], ...]
    child_musts: dict[str, tuple[tuple[Must, LocalCheck | None], ...]]
    child_whens: dict[str, LocalCheck | None]


@cache
def _plan(node: SchemaNode) -> _Plan:
    lists, present, absent = [], [], []
    for child in node.children.values():
        if not child.config:
            continue
        if child.kind is Kind.LIST:
            lists.append(child)
            continue
        leaf_type = child.type
        is_leafref = leaf_type is not None and leaf_type.base == "leafref"
        counted = child.kind is Kind.LEAF_LIST and (child.min_elements or child.max_elements)
        nested = child.kind is Kind.CONTAINER and (
            _plan(child).lists or _plan(child).present or _plan(child).absent
        )
        if child.when or child.must or is_leafref or counted or nested:
            present.append(child)
        if (
            (child.kind is Kind.LEAF and child.mandatory)
            or (child.kind is Kind.LEAF_LIST and child.min_elements)
            or (child.kind is Kind.CONTAINER and not child.presence and _plan(child).absent)
            or (child.kind is Kind.CONTAINER and not child.presence and _plan(child).lists)
        ):
            absent.append(child)
    return _Plan(
        tuple(lists),
        tuple(present),
        tuple(absent),
        own_musts=tuple(
            (m, compile_local(node, m.expression, from_child=False)) for m in node.must
        ),
        child_musts={
            c.name: tuple((m, compile_local(node, m.expression, from_child=True)) for m in c.must)
            for c in node.children.values()
            if c.must and c.kind is Kind.LEAF
        },
        child_whens={
            c.name: compile_local(node, c.when, from_child=True)
            for c in node.children.values()
            if c.when
        },
    )


def _check_children(
    ctx: _Context,
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
            if (quick is None or not quick(value)) and not _holds(ctx, child.when, child_path):
                ctx.errors.append(_when_error(ctx, child, child_path))
                continue
        if child.kind is Kind.CONTAINER:
            for must in child.must:
                _check_must(ctx, must, child_path)
            _check_children(ctx, child, child_path, child_value, deep=deep)
        elif child.kind is Kind.LEAF:
            for must, check in plan.child_musts.get(child.name, ()):
                if check is None or not check(value):
                    _check_must(ctx, must, child_path)
            _check_leafref(ctx, child, child_path, child_value)
        else:
            _check_count(ctx, child, child_path, len(child_value))
            for entry in child_value:
                entry_path = (*path, (child.name, (entry,)))
                _check_leaf(ctx, child, entry_path, entry)
    for child in plan.absent:
        if child.name not in value:
            child_path = (*path, (child.name, None))
            _check_absent(ctx, child, child_path)


def _check_absent(ctx: _Context, node: SchemaNode, path: InstancePath) -> None:
    """A missing node: mandatory leaves and min-elements, unless `when` hides it."""
    if node.when is not None and not _holds(ctx, node.when, path):
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


def _check_leaf(ctx: _Context, node: SchemaNode, path: InstancePath, value: Any) -> None:
    for must in node.must:
        _check_must(ctx, must, path)
    _check_leafref(ctx, node, path, value)


def _check_leafref(ctx: _Context, node: SchemaNode, path: InstancePath, value: Any) -> None:
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


def _item_at(ctx: _Context, path: InstancePath) -> Item:
    """The Item chain for the node at `path` (value None where absent).

    Ancestors are cached per validation run: sibling units share them.
    """
    cached = ctx.items.get(path)
    if cached is not None:
        return cached
    name, key = path[-1]
    if len(path) == 1:
        node, parent_value, parent = ctx.schema.roots[name], ctx.tree, None
    else:
        parent = _item_at(ctx, path[:-1])
        node, parent_value = parent.node.children[name], parent.value
    value = parent_value.get(name) if isinstance(parent_value, Map) else None
    if key is not None and value is not None:
        value = value.get(key) if node.kind is Kind.LIST else key[0]
    item = Item(node, value, parent)
    if key is None:
        ctx.items[path] = item
    return item


def _check_count(ctx: _Context, node: SchemaNode, path: InstancePath, count: int) -> None:
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
    ctx: _Context, node: SchemaNode, list_path: InstancePath, entries: Map[Any, Any] | None
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


# --------------------------------------------------------------------------- must/when


def _holds(ctx: _Context, expression: str, path: InstancePath) -> bool:
    """The boolean value of `expression` at `path`: compiled if possible, else interpreted."""
    compiled = compile_expression(expression)
    if compiled is not None:
        try:
            return holds(compiled, _item_at(ctx, path))
        except Unsupported:
            pass
    try:
        return evaluate_boolean(ctx.schema, ctx.tree, expression, path)
    except XPathError as exc:
        ctx.errors.append(
            OperationFailed(f"cannot evaluate '{expression}': {exc}", path=ctx.where(path))
        )
        return True


def _check_must(ctx: _Context, must: Must, path: InstancePath) -> None:
    if not _holds(ctx, must.expression, path):
        ctx.errors.append(
            OperationFailed(
                must.error_message or f"must condition not satisfied: {must.expression}",
                path=ctx.where(path),
                app_tag=must.error_app_tag or "must-violation",
            )
        )


def _when_error(ctx: _Context, node: SchemaNode, path: InstancePath) -> FlyosError:
    return OperationFailed(
        f"'{node.name}' is not allowed here: when condition '{node.when}' is false",
        path=ctx.where(path),
        app_tag="when-violation",
    )


# --------------------------------------------------------------------------- leafrefs


def _target_exists(ctx: _Context, node: SchemaNode, path: InstancePath, value: Any) -> bool:
    assert node.type is not None and node.type.leafref_target is not None
    target = node.type.leafref_target
    keyed = _keyed_target(ctx.schema, target)
    if keyed is not None:
        known = ctx.targets.get((target, value))
        if known is None:
            parent, list_name = keyed
            known = trees.get(ctx.tree, (*parent, (list_name, (value,)))) is not None
            ctx.targets[(target, value)] = known
        return known
    expression = f"count({node.type.leafref_path}[. = current()]) > 0"
    return _holds(ctx, expression, path)


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


def _collect_removed_targets(
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


def _check_references_to_removed(
    ctx: _Context, removed: dict[str, dict[Any, InstancePath]]
) -> None:
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


# --------------------------------------------------------------------------- remote expressions


def _check_remote_expressions(ctx: _Context, changes: list[Change]) -> None:
    """Re-check must/when expressions elsewhere that read a changed part of the tree."""
    changed = {_local_schema_path(change.node.path) for change in changes}
    for node, must, when in _remote_expressions(ctx.schema):
        expression = must.expression if must is not None else when
        assert expression is not None
        reads = _absolute_targets(expression)
        if not any(_overlaps(target, path) for target in reads for path in changed):
            continue
        for path, value in instances(ctx.schema, ctx.tree, node):
            if must is None:
                if not _holds(ctx, expression, path):
                    ctx.errors.append(_when_error(ctx, node, path))
            elif node.kind is Kind.LEAF_LIST:
                for item in value:
                    _check_must(ctx, must, (*path[:-1], (node.name, (item,))))
            else:
                _check_must(ctx, must, path)


def _local_schema_path(path: str) -> str:
    """/flyos-routing:routing/static -> /routing/static."""
    return "/" + path.lstrip("/").partition(":")[2]


def _overlaps(target: str, changed: str) -> bool:
    return target.startswith(changed) or changed.startswith(target)


@cache
def _remote_expressions(schema: Schema) -> tuple[tuple[SchemaNode, Must | None, str | None], ...]:
    """(node, must, when) for every must/when that reads the tree by absolute path."""
    found: list[tuple[SchemaNode, Must | None, str | None]] = []
    for node in schema.walk():
        if not node.config:
            continue
        found.extend((node, must, None) for must in node.must if _absolute_targets(must.expression))
        if node.when and _absolute_targets(node.when):
            found.append((node, None, node.when))
    return tuple(found)


@cache
def _absolute_targets(expression: str) -> tuple[str, ...]:
    """Schema paths (module-qualified top) that absolute location paths in `expression` read."""
    found: list[str] = []
    _collect_absolute(xpath_parser.parse(expression), found)
    return tuple(found)


def _collect_absolute(ast: Any, found: list[str]) -> None:
    if isinstance(ast, tuple):
        if ast and ast[0] == "absolute":
            names = []
            for step in ast[1]:
                test = step[2]
                if test[0] != "name":
                    break
                names.append(test[2])
            if names:
                found.append("/" + "/".join(names))
        for item in ast:
            _collect_absolute(item, found)
    elif isinstance(ast, list):
        for item in ast:
            _collect_absolute(item, found)
