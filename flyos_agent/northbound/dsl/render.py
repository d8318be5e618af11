"""Configuration (RFC 7951 JSON) -> DSL text that parses back to the same configuration.

`render_dsl` writes one `<module> sync { ... }` statement per module: replaying
it replaces each module with what was rendered. Entries that fit on a line
are written on one line (`static { prefix 10.0.0.0/24; via 192.168.1.1 }`),
which also keeps `show compare` diffs to one line per changed entry.
`render_set` writes one `<module> set <kind> { ... }` line per list entry and
container, like Junos `display set`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flyos_agent.northbound.dsl.lexer import PUNCTUATION, QUOTES
from flyos_agent.northbound.verbs import DEFAULT_KIND, MODULE_ALIASES
from flyos_agent.schema import Kind, Schema, SchemaNode

INDENT = "    "
WIDTH = 100
SPECIAL = frozenset(PUNCTUATION) | frozenset(QUOTES) | frozenset(" \t\r\n\\")
ESCAPED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def module_word(root: SchemaNode) -> str:
    """The shortest word that names a module (`route` for routing, `nic` for interfaces)."""
    words = [word for word, name in MODULE_ALIASES.items() if name == root.name]
    return min(words, key=lambda w: (len(w), w)) if words else root.name


def render_dsl(
    schema: Schema, config: Mapping[str, Any], modules: Iterable[str] | None = None
) -> str:
    """`config` as `<module> sync { ... }` statements, modules in schema order.

    `modules` limits the output to these top-level container names.
    """
    wanted = set(modules) if modules is not None else None
    lines: list[str] = []
    for root, value in _roots(schema, config):
        if wanted is None or root.name in wanted:
            lines.extend(_block(f"{module_word(root)} sync", root, value, ""))
    return "\n".join(lines)


def render_set(
    schema: Schema, config: Mapping[str, Any], modules: Iterable[str] | None = None
) -> str:
    """`config` as one `set` statement per list entry or container, each on one line.

    Leaves directly in a module come as one `<module> set { ... }` line: that
    form is for modules without a default kind (`system`).
    """
    wanted = set(modules) if modules is not None else None
    lines: list[str] = []
    for root, value in _roots(schema, config):
        if wanted is not None and root.name not in wanted:
            continue
        word = module_word(root)
        leaves: list[str] = []
        for name, child in _config_children(root):
            member = value.get(name)
            if member is None:
                continue
            if child.kind is Kind.LIST:
                lines.extend(f"{word} set {name} {_inline(child, entry)}" for entry in member)
            elif child.kind is Kind.CONTAINER:
                lines.append(f"{word} set {name} {_inline(child, member)}")
            else:
                leaves.append(_leafy(child, member))
        if leaves:
            assert root.name not in DEFAULT_KIND, f"{root.name} has leaves and a default kind"
            lines.append(f"{word} set {{ {'; '.join(leaves)} }}")
    return "\n".join(lines)


def render_value(value: Any) -> str:
    """One RFC 7951 scalar as a DSL word, quoted when it would not read back as one word."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = str(value)
    plain = text and text.isprintable() and not text.startswith(("#", "//"))
    if plain and not SPECIAL & set(text):
        return text
    return '"' + "".join(_escaped(char) for char in text) + '"'


def _escaped(char: str) -> str:
    if char in ESCAPED:
        return ESCAPED[char]
    return char if char.isprintable() or char == " " else f"\\u{ord(char):04x}"


# ---------------------------------------------------------------------- helpers


def _roots(schema: Schema, config: Mapping[str, Any]) -> list[tuple[SchemaNode, Mapping[str, Any]]]:
    local = {member.rpartition(":")[2]: value for member, value in config.items()}
    return [(root, local[name]) for name, root in schema.roots.items() if name in local]


def _config_children(node: SchemaNode) -> list[tuple[str, SchemaNode]]:
    """Config children, list keys first, then schema order."""
    children = [(n, c) for n, c in node.children.items() if c.config]
    return sorted(children, key=lambda item: item[0] not in node.keys)


def _statements(node: SchemaNode, value: Mapping[str, Any]) -> list[tuple[str, SchemaNode, Any]]:
    """(name, child, value) for each statement of a block, a list giving one per entry."""
    out: list[tuple[str, SchemaNode, Any]] = []
    for name, child in _config_children(node):
        member = value.get(name)
        if member is None:
            continue
        if child.kind is Kind.LIST:
            out.extend((name, child, entry) for entry in member)
        else:
            out.append((name, child, member))
    return out


def _leafy(child: SchemaNode, value: Any) -> str:
    if child.kind is Kind.LEAF_LIST:
        return f"{child.name} [ {' '.join(render_value(v) for v in value)} ]"
    if child.type is not None and child.type.base == "empty":
        return child.name
    return f"{child.name} {render_value(value)}"


def _inline(node: SchemaNode, value: Mapping[str, Any]) -> str:
    """A block on one line: `{ a 1; b { c 2 } }`."""
    parts = [
        _leafy(child, member) if child.is_leafy else f"{name} {_inline(child, member)}"
        for name, child, member in _statements(node, value)
    ]
    return f"{{ {'; '.join(parts)} }}" if parts else "{ }"


def _block(head: str, node: SchemaNode, value: Mapping[str, Any], indent: str) -> list[str]:
    """`head { ... }`: on one line when it fits and holds only leaves, else one statement a line."""
    statements = _statements(node, value)
    if all(child.is_leafy for _, child, _ in statements):
        line = f"{indent}{head} {_inline(node, value)}"
        if len(line) <= WIDTH and head.count(" ") == 0:
            return [line]
    lines = [f"{indent}{head} {{"]
    for name, child, member in statements:
        if child.is_leafy:
            lines.append(f"{indent}{INDENT}{_leafy(child, member)}")
        else:
            lines.extend(_block(name, child, member, indent + INDENT))
    lines.append(f"{indent}}}")
    return lines
