"""RFC 6241 edit semantics over persistent trees.

An edit is (operation, instance path, value): the value is the JSON-like
content of the node at the path (an object for a container or list entry, an
array for a whole list or leaf-list, a scalar for a leaf). Channels flatten
their own formats (edit-config XML with nested operation attributes, RESTCONF
methods, DSL verbs) into this one form. A channel that has already parsed and
type-checked its data into tree form (NETCONF's XML reader, for 100k-entry
edits) hands it over as `Parsed`, and it is taken as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.paths import (
    InstancePath,
    canonical_path,
    format_path,
    schema_of,
    unit_of,
)
from flyos_agent.errors import (
    DataExists,
    DataMissing,
    FlyosError,
    InvalidValue,
    OperationFailed,
)
from flyos_agent.schema import Kind, Schema, SchemaNode


class Operation(enum.StrEnum):
    """The edit-config `operation` attribute values (plus `none`)."""

    MERGE = "merge"
    REPLACE = "replace"
    CREATE = "create"
    DELETE = "delete"
    REMOVE = "remove"
    NONE = "none"


class ErrorOption(enum.StrEnum):
    """What an edit does on its first error (RFC 6241 7.2 error-option)."""

    STOP = "stop-on-error"
    CONTINUE = "continue-on-error"
    ROLLBACK = "rollback-on-error"


@dataclass(frozen=True, slots=True)
class Edit:
    """One operation on one node; `operation` None means the default-operation."""

    operation: Operation | str | None
    path: InstancePath
    value: Any = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """Edit data already in tree form (see flyos_agent.datastore.tree) for the node
    at the edit's path, keys matching the path, every value canonical.

    `error` says why the channel could not convert the data; it is raised when
    the edit is applied, so the error-option decides what happens to the others.
    """

    value: Any
    error: FlyosError | None = None


@dataclass(slots=True)
class EditResult:
    """The tree after the edits, the units they touched, and any errors."""

    tree: Map[str, Any]
    touched: set[InstancePath] = field(default_factory=set)
    errors: list[FlyosError] = field(default_factory=list)


def apply_edits(
    schema: Schema,
    tree: Map[str, Any],
    edits: Iterable[Edit],
    *,
    default_operation: Operation | str = Operation.MERGE,
    error_option: ErrorOption | str = ErrorOption.STOP,
) -> EditResult:
    """Apply `edits` in order to `tree` with RFC 6241 semantics.

    stop-on-error keeps what was applied before the failing edit,
    continue-on-error skips failing edits, rollback-on-error returns the
    original tree; every failure is listed in `errors`.
    """
    default_op = _operation(default_operation)
    option = ErrorOption(error_option)
    result = EditResult(tree=tree)
    for edit in edits:
        try:
            operation = _operation(edit.operation) if edit.operation else default_op
            if operation is Operation.NONE:
                continue
            path = canonical_path(schema, edit.path)
            before = result.tree
            result.tree, converted = _apply_one(schema, before, operation, path, edit.value)
        except FlyosError as error:
            result.errors.append(error)
            if option is ErrorOption.CONTINUE:
                continue
            if option is ErrorOption.ROLLBACK:
                return EditResult(tree=tree, errors=result.errors)
            return result
        if result.tree is not before:
            result.touched.update(_units(schema, before, path, converted, operation))
    return result


def _operation(name: str) -> Operation:
    try:
        return Operation(name)
    except ValueError:
        choices = ", ".join(op.value for op in Operation)
        raise InvalidValue(f"unknown operation '{name}' (one of {choices})") from None


def _units(
    schema: Schema, before: Map[str, Any], path: InstancePath, value: Any, operation: Operation
) -> list[InstancePath]:
    """The units an edit at `path` touched (`value`: the converted data merged in).

    Normally the unit holding `path`; but an edit below an entry (or top
    container) that did not exist yet creates it, and then the outermost
    created one is the unit, so it is diffed, validated and pushed whole. A
    merge into a container (or the root) touches only the entries its data
    names, so merging one route at the root costs one route.
    """
    for length in range(1, len(path)):
        if path[length - 1][1] is None and length > 1:
            continue
        if trees.get(before, path[:length]) is None:
            return [path[:length]]
    node = schema_of(schema, path)
    mergeable = node is None or (node.kind is Kind.CONTAINER and path[-1][1] is None)
    if operation is Operation.MERGE and mergeable and isinstance(value, Map):
        if node is not None and trees.get(before, path) is None:
            return [unit_of(schema, path)]
        children = schema.roots if node is None else node.children
        return _merged_units(schema, before, path, children, value)
    if not path:
        return [((name, None),) for name in schema.roots]
    return [unit_of(schema, path)]


def _merged_units(
    schema: Schema,
    before: Map[str, Any],
    path: InstancePath,
    children: Mapping[str, SchemaNode],
    value: Map[str, Any],
) -> list[InstancePath]:
    """Units a merge of `value` into the existing container at `path` touches."""
    units: list[InstancePath] = []
    for name, child_value in value.items():
        child = children[name]
        child_path = (*path, (name, None))
        if trees.get(before, child_path) is None or child.is_leafy:
            units.append(unit_of(schema, child_path))
        elif child.kind is Kind.LIST:
            units.extend((*path, (name, key)) for key in child_value)
        else:
            units.extend(_merged_units(schema, before, child_path, child.children, child_value))
    return units


def _apply_one(
    schema: Schema, tree: Map[str, Any], operation: Operation, path: InstancePath, value: Any
) -> tuple[Map[str, Any], Any]:
    """The tree after one edit, and the edit's data converted (None for deletes)."""
    where = format_path(schema, path)
    node = schema_of(schema, path)
    if node is not None and not node.config:
        raise InvalidValue(f"'{node.name}' is state data and cannot be edited", path=where)
    existing = trees.get(tree, path)
    if operation in (Operation.DELETE, Operation.REMOVE):
        if existing is None:
            if operation is Operation.DELETE:
                raise DataMissing("cannot delete: no such data", path=where)
            return tree, None
        return trees.delete_at(tree, path, schema), None
    new = _convert(schema, node, path, value)
    if operation is Operation.CREATE:
        if existing is not None:
            raise DataExists("cannot create: the data already exists", path=where)
        return trees.set_at(tree, path, new, schema), new
    if operation is Operation.REPLACE or existing is None:
        return trees.set_at(tree, path, new, schema), new
    if operation is Operation.MERGE:
        if node is None:
            return merge_children(schema.roots, existing, new), new
        merged = merge_values(node, existing, new, entry=path[-1][1] is not None)
        return trees.set_at(tree, path, merged, schema), new
    raise OperationFailed(f"unsupported operation '{operation}'", path=where)


def _convert(schema: Schema, node: SchemaNode | None, path: InstancePath, value: Any) -> Any:
    """The tree value for `value` at `path`, keys taken from the path and checked."""
    if isinstance(value, Parsed):
        if value.error is not None:
            raise value.error
        return value.value
    if node is None:
        if not isinstance(value, Mapping):
            raise InvalidValue("the configuration root needs an object", path="/")
        return trees.tree_from_plain(schema, value)
    key = path[-1][1]
    if key is None:
        return trees.from_plain(schema, node, value, path)
    if node.kind is Kind.LEAF_LIST:
        return key[0]
    entry = dict(value) if isinstance(value, Mapping) else {}
    if value is not None and not isinstance(value, Mapping):
        raise InvalidValue(
            f"expected an object for an entry of list '{node.name}'", path=format_path(schema, path)
        )
    for key_name, key_value in zip(node.keys, key, strict=True):
        given = next((v for k, v in entry.items() if k.rpartition(":")[2] == key_name), None)
        if given is None:
            entry[key_name] = key_value
    entry_key, converted = trees.list_entry_from_plain(schema, node, entry, path)
    if entry_key != key:
        raise InvalidValue(
            f"key in the data {entry_key} differs from the key in the path {key}",
            path=format_path(schema, path),
        )
    return converted


def merge_values(node: SchemaNode, old: Any, new: Any, *, entry: bool = False) -> Any:
    """`new` merged into `old` at `node` (RFC 6241 merge: lists and leaf-lists unite).

    `entry` says that for a list node the values are one entry, not the list.
    """
    if old is None:
        return new
    if node.kind is Kind.LEAF:
        return new
    if node.kind is Kind.LEAF_LIST:
        if isinstance(new, tuple):
            return old + tuple(v for v in new if v not in old)
        return old if new in old else (*old, new)
    if node.kind is Kind.LIST and not entry:
        with old.mutate() as merged:
            for key, value in new.items():
                merged[key] = merge_values(node, old.get(key), value, entry=True)
            result: Map[Any, Any] = merged.finish()
        return result
    return merge_children(node.children, old, new)


def merge_children(
    children: Mapping[str, SchemaNode], old: Map[str, Any], new: Map[str, Any]
) -> Map[str, Any]:
    """Merge the children of a container, list entry or the root."""
    if not new:
        return old
    with old.mutate() as merged:
        for name, value in new.items():
            merged[name] = merge_values(children[name], old.get(name), value)
        result: Map[str, Any] = merged.finish()
    return result
