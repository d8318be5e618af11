"""Configuration trees: persistent maps keyed by YANG list keys, and instance paths.

A tree shares every unchanged subtree with the tree it was derived from, so a
candidate costs nothing until it is edited and an edit copies only the nodes on
its path (O(depth * log n)).

Representation, by schema kind:
- container / list entry: `immutables.Map[str, value]` from child name to value
  (a list entry holds its key leaves too);
- list: `immutables.Map[tuple, Map]` from the key values (in key order) to the entry;
- leaf: its canonical value (see flyos_agent.schema.values);
- leaf-list: a tuple of canonical values, in the order they were added.
The root is a Map from top-level node name to its container. Empty non-presence
containers and empty lists are never stored; defaults are not stored either.

An instance path is a tuple of steps `(name, key)`: `key` is None for a
container, a leaf or a whole list/leaf-list, the key tuple for a list entry and
a 1-tuple with the value for a leaf-list entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from immutables import Map

from flyos_agent.datastore.paths import InstancePath, Key, format_path
from flyos_agent.errors import InvalidValue as InvalidValueError
from flyos_agent.errors import UnknownElement
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import InvalidValue, leaf_parser, parse_value, value_to_json

EMPTY: Map[Any, Any] = Map()


# --------------------------------------------------------------------------- access


def get(tree: Map[str, Any], path: InstancePath) -> Any:
    """The value at `path` in `tree`, or None when absent."""
    value: Any = tree
    for name, key in path:
        if not isinstance(value, Map):
            return None
        value = value.get(name)
        if value is None:
            return None
        if key is not None:
            if isinstance(value, tuple):
                return key[0] if key[0] in value else None
            value = value.get(key)
            if value is None:
                return None
    return value


def set_at(tree: Map[str, Any], path: InstancePath, value: Any, schema: Schema) -> Map[str, Any]:
    """A tree like `tree` with `value` at `path` (intermediate nodes created)."""
    if not path:
        return value if isinstance(value, Map) else EMPTY
    return _set(tree, path, value, schema.roots)


def _set(
    node: Map[str, Any], path: InstancePath, value: Any, children: Mapping[str, SchemaNode]
) -> Map[str, Any]:
    name, key = path[0]
    schema_node = children[name]
    rest = path[1:]
    if key is None:
        if not rest:
            return _store(node, name, value)
        child = node.get(name, EMPTY)
        return _store(node, name, _set(child, rest, value, schema_node.children))
    if schema_node.kind is Kind.LEAF_LIST:
        current = node.get(name, ())
        if key[0] in current:
            return node
        return node.set(name, (*current, key[0]))
    entries: Map[Key, Any] = node.get(name, EMPTY)
    if not rest:
        return node.set(name, entries.set(key, value))
    entry = entries.get(key)
    if entry is None:
        entry = Map(zip(schema_node.keys, key, strict=True))
    entry = _set(entry, rest, value, schema_node.children)
    return node.set(name, entries.set(key, entry))


def _store(node: Map[str, Any], name: str, value: Any) -> Map[str, Any]:
    """Set child `name`, dropping it when the new value is empty or None."""
    if value is None or (isinstance(value, (Map, tuple)) and len(value) == 0):
        return node.delete(name) if name in node else node
    return node.set(name, value)


def delete_at(tree: Map[str, Any], path: InstancePath, schema: Schema) -> Map[str, Any]:
    """A tree like `tree` without the node at `path`; empty containers are pruned."""
    if not path:
        return EMPTY
    return _delete(tree, path, schema.roots) or EMPTY


def _delete(
    node: Map[str, Any], path: InstancePath, children: Mapping[str, SchemaNode]
) -> Map[str, Any] | None:
    name, key = path[0]
    if name not in node:
        return node
    schema_node = children[name]
    rest = path[1:]
    if key is None:
        if not rest:
            updated = node.delete(name)
        else:
            child = _delete(node[name], rest, schema_node.children)
            updated = _store(node, name, None if _is_empty(child, schema_node) else child)
    elif schema_node.kind is Kind.LEAF_LIST:
        updated = _store(node, name, tuple(v for v in node[name] if v != key[0]))
    else:
        entries = node[name]
        if key not in entries:
            return node
        if not rest:
            updated = _store(node, name, entries.delete(key))
        else:
            entry = _delete(entries[key], rest, schema_node.children)
            updated = node.set(name, entries.set(key, entry))
    return updated


def _is_empty(value: Map[str, Any] | None, schema_node: SchemaNode) -> bool:
    return value is None or (len(value) == 0 and not schema_node.presence)


def iter_entries(value: Map[Key, Any] | None) -> Iterator[tuple[Key, Map[str, Any]]]:
    """List entries of a list value, in key order."""
    if not value:
        return iter(())
    return iter(sorted(value.items(), key=lambda item: _sort_key(item[0])))


def _sort_key(key: Key) -> tuple[Any, ...]:
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in key)


# --------------------------------------------------------------------------- plain <-> tree


def _local(member: str) -> str:
    return member.rpartition(":")[2]


def from_plain(
    schema: Schema, node: SchemaNode, value: Any, path: InstancePath, *, config_only: bool = True
) -> Any:
    """Convert a JSON-like value (RFC 7951, module prefixes optional) for `node`.

    `path` is the instance path of `node` itself. Raises InvalidValue /
    UnknownElement naming the instance path and the reason.
    """
    parent = path[:-1]
    if node.kind is Kind.LEAF:
        return _leaf(schema, node, value, parent)
    if node.kind is Kind.LEAF_LIST:
        return _leaf_list(schema, node, value, parent)
    if node.kind is Kind.LIST:
        items = value if isinstance(value, list) else [value]
        entries: dict[Key, Map[str, Any]] = {}
        for item in items:
            key, entry = list_entry_from_plain(schema, node, item, path, config_only=config_only)
            if key in entries:
                raise InvalidValueError(
                    f"duplicate entry in list '{node.name}'",
                    path=format_path(schema, (*parent, (node.name, key))),
                    app_tag="data-not-unique",
                )
            entries[key] = entry
        return Map(entries)
    if not isinstance(value, Mapping):
        raise InvalidValueError(
            f"expected an object for container '{node.name}'", path=format_path(schema, path)
        )
    return _children(schema, node, value, path, {}, config_only=config_only)


def list_entry_from_plain(
    schema: Schema, node: SchemaNode, item: Any, path: InstancePath, *, config_only: bool = True
) -> tuple[Key, Map[str, Any]]:
    """Convert one list entry: its key tuple and its Map.

    `path` is the path of the list (or of the entry: only its parent is used).
    """
    parent = path[:-1]
    if not isinstance(item, Mapping):
        raise InvalidValueError(
            f"expected an object for an entry of list '{node.name}'",
            path=format_path(schema, path),
        )
    keys: dict[str, Any] = {}
    for key_name in node.keys:
        raw = item.get(key_name)
        if raw is None:
            raw = next((v for k, v in item.items() if _local(k) == key_name), None)
        if raw is None:
            raise InvalidValueError(
                f"list '{node.name}' entry is missing its key '{key_name}'",
                path=format_path(schema, (*parent, (node.name, None))),
                app_tag="missing-key",
            )
        try:
            keys[key_name] = _leaf_parsers(node)[key_name](raw)
        except InvalidValue:
            _leaf(schema, node.children[key_name], raw, (*parent, (node.name, None)))
    key = tuple(keys.values())
    entry_path = (*parent, (node.name, key))
    return key, _children(schema, node, item, entry_path, keys, config_only=config_only)


@cache
def _leaf_parsers(node: SchemaNode) -> dict[str, Callable[[Any], Any]]:
    """The value parser of each leaf child of `node` (looked up once per node)."""
    return {
        name: leaf_parser(child.type)
        for name, child in node.children.items()
        if child.kind is Kind.LEAF and child.type is not None
    }


def _children(
    schema: Schema,
    node: SchemaNode,
    data: Mapping[str, Any],
    path: InstancePath,
    out: dict[str, Any],
    *,
    config_only: bool,
) -> Map[str, Any]:
    """Convert the members of an object; `out` may already hold parsed keys."""
    children = node.children
    parsers = _leaf_parsers(node)
    for member, raw in data.items():
        if member in out:
            continue
        parse = parsers.get(member)
        if parse is not None and (not config_only or children[member].config):
            try:
                out[member] = parse(raw)
            except InvalidValue:
                _leaf(schema, children[member], raw, path)  # raises with the path
            continue
        local = _local(member) if ":" in member else member
        if local in out:
            continue
        child = children.get(local) or node.child(local)
        if child is None or (config_only and not child.config):
            if member.startswith("@"):
                continue
            where = format_path(schema, path)
            reason = "is state data" if child is not None else f"is not a child of '{node.name}'"
            raise UnknownElement(f"'{local}' {reason}", path=where, info={"bad-element": local})
        kind = child.kind
        if kind is Kind.LEAF:
            out[child.name] = _leaf(schema, child, raw, path)
            continue
        if kind is Kind.LEAF_LIST:
            converted: Any = _leaf_list(schema, child, raw, path)
        else:
            child_path = (*path, (child.name, None))
            converted = from_plain(schema, child, raw, child_path, config_only=config_only)
        if len(converted) or child.presence:
            out[child.name] = converted
    return Map(out)


def _leaf_list(
    schema: Schema, node: SchemaNode, value: Any, parent: InstancePath
) -> tuple[Any, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in items:
        parsed = _leaf(schema, node, item, parent)
        if parsed in out:
            raise InvalidValueError(
                f"duplicate value '{item}' in leaf-list '{node.name}'",
                path=format_path(schema, (*parent, (node.name, (parsed,)))),
                app_tag="data-not-unique",
            )
        out.append(parsed)
    return tuple(out)


def _leaf(schema: Schema, node: SchemaNode, raw: Any, parent: InstancePath) -> Any:
    """Parse one leaf value; errors name the leaf's path (built only on error)."""
    leaf_type = node.type
    assert leaf_type is not None
    if isinstance(raw, list) and leaf_type.base == "empty":
        raw = raw[0] if raw else None
    try:
        return parse_value(leaf_type, raw)
    except InvalidValue as exc:
        raise InvalidValueError(
            f"invalid value for '{node.name}': {exc}",
            path=format_path(schema, (*parent, (node.name, None))),
        ) from None


def to_plain(node: SchemaNode, value: Any, *, defaults: str = "explicit") -> Any:
    """The RFC 7951 JSON form of `value` at `node`.

    `defaults` is a with-defaults mode: "explicit" and "trim" report what is
    set (trim also hides values equal to their default), "report-all" adds
    the defaults of existing containers and entries.
    """
    if node.kind is Kind.LEAF:
        assert node.type is not None
        return value_to_json(node.type, value)
    if node.kind is Kind.LEAF_LIST:
        assert node.type is not None
        return [value_to_json(node.type, v) for v in value]
    if node.kind is Kind.LIST:
        return [
            entry_to_plain(node, entry, defaults=defaults) for _key, entry in iter_entries(value)
        ]
    return entry_to_plain(node, value, defaults=defaults)


def entry_to_plain(
    node: SchemaNode, value: Map[str, Any], *, defaults: str = "explicit"
) -> dict[str, Any]:
    """A container's or one list entry's content as an RFC 7951 JSON object."""
    out: dict[str, Any] = {}
    for name, child in node.children.items():
        child_value = value.get(name)
        if child_value is None:
            if defaults == "report-all" and child.default is not None:
                child_value = child.default
            elif defaults == "report-all" and child.kind is Kind.CONTAINER and not child.presence:
                nested = entry_to_plain(child, EMPTY, defaults=defaults)
                if nested:
                    out[name] = nested
                continue
            else:
                continue
        elif defaults == "trim" and child.default is not None and child_value == child.default:
            continue
        out[name] = to_plain(child, child_value, defaults=defaults)
    return out


def tree_to_plain(
    schema: Schema, tree: Map[str, Any], *, defaults: str = "explicit"
) -> dict[str, Any]:
    """The whole tree as RFC 7951 JSON with module-qualified top-level names."""
    out: dict[str, Any] = {}
    for name, root in schema.roots.items():
        value = tree.get(name)
        if value is None and defaults != "report-all":
            continue
        plain = to_plain(root, value if value is not None else EMPTY, defaults=defaults)
        if plain or value is not None:
            out[f"{root.module}:{name}"] = plain
    return out


def tree_from_plain(
    schema: Schema, data: Mapping[str, Any], *, config_only: bool = True
) -> Map[str, Any]:
    """Build a whole tree from RFC 7951 JSON (top-level names with or without module)."""
    out: dict[str, Any] = {}
    for member, raw in data.items():
        local = _local(member)
        root = schema.roots.get(local)
        if root is None:
            raise UnknownElement(f"unknown top-level element '{member}'", path=f"/{member}")
        converted = from_plain(schema, root, raw, ((local, None),), config_only=config_only)
        if len(converted):
            out[local] = converted
    return Map(out)
