"""Instance paths: steps of (node name, key), their text form, and canonical keys.

A step's key is None for a container, a leaf or a whole list/leaf-list, the
tuple of key values (in `key` statement order) for a list entry, and a 1-tuple
holding the value for a leaf-list entry.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from flyos_agent.errors import InvalidValue as InvalidValueError
from flyos_agent.errors import MissingElement, UnknownElement
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import InvalidValue, parse_value, value_to_text

Key: TypeAlias = tuple[Any, ...]
Step: TypeAlias = tuple[str, Key | None]
InstancePath: TypeAlias = tuple[Step, ...]

ROOT: InstancePath = ()


def format_path(schema: Schema, path: InstancePath) -> str:
    """The XPath text of `path`: /flyos-routing:routing/static[prefix='10.0.0.0/24']."""
    if not path:
        return "/"
    parts: list[str] = []
    node: SchemaNode | None = None
    for name, key in path:
        node = schema.roots.get(name) if node is None else node.child(name)
        label = f"{node.module}:{name}" if node is not None and not parts else name
        if key is not None and node is not None:
            if node.kind is Kind.LIST:
                label += "".join(
                    f"[{k}={_quote(value_to_text(v))}]"
                    for k, v in zip(node.keys, key, strict=False)
                )
            else:
                label += f"[.={_quote(value_to_text(key[0]))}]"
        parts.append(label)
    return "/" + "/".join(parts)


def _quote(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def schema_of(schema: Schema, path: InstancePath) -> SchemaNode | None:
    """The schema node that `path` addresses (None for the root)."""
    node: SchemaNode | None = None
    for name, _key in path:
        node = schema.roots.get(name) if node is None else node.child(name)
        if node is None:
            raise UnknownElement(f"unknown element '{name}'", path=format_path(schema, path))
    return node


def unit_of(schema: Schema, path: InstancePath) -> InstancePath:
    """The unit a diff reports for a change at `path`.

    That is the deepest list entry on the path, or the whole list when the path
    names a list, or the top-level container when the path crosses no list.
    """
    node: SchemaNode | None = None
    unit_len = min(1, len(path))
    for index, (name, key) in enumerate(path):
        node = schema.roots.get(name) if node is None else node.child(name)
        if node is None or node.kind is not Kind.LIST:
            continue
        if key is None:
            return path[: index + 1]
        unit_len = index + 1
    return path[:unit_len]


def canonical_path(schema: Schema, path: InstancePath) -> InstancePath:
    """`path` with names resolved (`_` for `-`) and key values parsed to canonical form."""
    steps: list[tuple[str, Key | None]] = []
    node: SchemaNode | None = None
    for name, key in path:
        local = name.rpartition(":")[2]
        node = schema.roots.get(local) if node is None else node.child(local)
        if node is None:
            raise UnknownElement(
                f"unknown element '{local}'", path=format_path(schema, tuple(steps)) + f"/{local}"
            )
        steps.append((node.name, _canonical_key(schema, node, key, tuple(steps))))
    return tuple(steps)


def _canonical_key(
    schema: Schema, node: SchemaNode, key: Key | None, parent: InstancePath
) -> Key | None:
    if key is None:
        return None
    if node.kind is Kind.LEAF_LIST:
        names: tuple[str, ...] = (node.name,)
        types = [node.type]
    elif node.kind is Kind.LIST:
        names = node.keys
        types = [node.children[k].type for k in node.keys]
    else:
        raise InvalidValueError(
            f"'{node.name}' is not a list and takes no key",
            path=format_path(schema, (*parent, (node.name, None))),
        )
    if len(key) != len(names):
        raise MissingElement(
            f"list '{node.name}' needs keys {', '.join(names)}",
            path=format_path(schema, (*parent, (node.name, None))),
        )
    values = []
    for key_name, key_type, raw in zip(names, types, key, strict=True):
        assert key_type is not None
        try:
            values.append(parse_value(key_type, raw))
        except InvalidValue as exc:
            raise InvalidValueError(
                f"invalid key '{key_name}': {exc}",
                path=format_path(schema, (*parent, (node.name, None), (key_name, None))),
            ) from None
    return tuple(values)


_STEP = re.compile(r"([^/\[\]]+)((?:\[[^\]]*\])*)")
_PREDICATE = re.compile(r"""\[\s*([^=\s\]]+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^\]\s]*))\s*\]""")


def parse_path(schema: Schema, text: str) -> InstancePath:
    """Parse an XPath-style instance path such as /routing/static[prefix='10.0.0.0/24']/dev.

    Module prefixes are optional; predicates name every key of a list entry
    (or `.` for a leaf-list entry). Raises UnknownElement / InvalidValue.
    """
    text = text.strip()
    if text in ("", "/"):
        return ROOT
    steps: list[tuple[str, Key | None]] = []
    node: SchemaNode | None = None
    position = 0
    body = text.lstrip("/")
    while position < len(body):
        match = _STEP.match(body, position)
        if match is None:
            raise InvalidValueError(f"malformed path at '{body[position:]}'", path=text)
        name = match.group(1).strip().rpartition(":")[2]
        node = schema.roots.get(name) if node is None else node.child(name)
        if node is None:
            raise UnknownElement(f"unknown element '{name}'", path=text)
        predicates = {
            p.group(1).rpartition(":")[2]: next(g for g in p.groups()[1:] if g is not None)
            for p in _PREDICATE.finditer(match.group(2))
        }
        key: Key | None = None
        if predicates:
            if node.kind is Kind.LEAF_LIST:
                key = (predicates.get(".", ""),)
            else:
                missing = [k for k in node.keys if k not in predicates]
                if missing:
                    raise MissingElement(
                        f"list '{node.name}' entry needs key {', '.join(missing)}", path=text
                    )
                key = tuple(predicates[k] for k in node.keys)
        steps.append((node.name, key))
        position = match.end()
        if position < len(body):
            if body[position] != "/":
                raise InvalidValueError(f"malformed path at '{body[position:]}'", path=text)
            position += 1
    return canonical_path(schema, tuple(steps))
