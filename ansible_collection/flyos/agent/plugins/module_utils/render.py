# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Configuration -> DSL text, as the agent's REPL prints it (``show running``).

``render_dsl`` writes one ``<module> sync { ... }`` statement per module
(replaying it replaces each module with what was rendered); entries that fit
are written on one line. ``render_set`` writes one ``<module> set <kind>
{ ... }`` line per list entry and container, like Junos ``display set``.
Input is ``{root name: value}`` with YANG names (xmldata.decode with
``yang_names``).
"""

from __future__ import annotations

from ansible_collections.flyos.agent.plugins.module_utils.schema import (
    DEFAULT_KIND,
    MODULE_WORDS,
    ROOTS,
)
from ansible_collections.flyos.agent.plugins.module_utils.tree import (
    CONTAINER,
    LIST,
    config_children,
    is_leafy,
)

INDENT = "    "
WIDTH = 100
SPECIAL = frozenset("{}[];,\"' \t\r\n\\")
ESCAPED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def module_word(root_name: str) -> str:
    """The shortest word that names a module (``route`` for routing)."""
    words = [word for word, name in MODULE_WORDS.items() if name == root_name]
    return min(words, key=lambda w: (len(w), w)) if words else root_name


def render_value(value: object) -> str:
    """One scalar as a DSL word, quoted when it would not read back as one word."""
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


def _roots(config: dict) -> list[tuple[str, dict]]:
    return [(name, config[name]) for name in ROOTS if name in config]


def render_dsl(config: dict) -> str:
    """``config`` as ``<module> sync { ... }`` statements, modules in schema order."""
    lines: list[str] = []
    for name, value in _roots(config):
        lines.extend(_block(f"{module_word(name)} sync", ROOTS[name], value, ""))
    return "\n".join(lines)


def render_set(config: dict) -> str:
    """``config`` as one ``set`` statement per list entry or container."""
    lines: list[str] = []
    for root_name, value in _roots(config):
        word = module_word(root_name)
        leaves: list[str] = []
        for name, child in config_children(ROOTS[root_name]):
            member = value.get(name)
            if member is None:
                continue
            if child["kind"] == LIST:
                lines.extend(f"{word} set {name} {_inline(child, entry)}" for entry in member)
            elif child["kind"] == CONTAINER:
                lines.append(f"{word} set {name} {_inline(child, member)}")
            else:
                leaves.append(_leafy(child, name, member))
        if leaves and root_name not in DEFAULT_KIND:
            lines.append(f"{word} set {{ {'; '.join(leaves)} }}")
    return "\n".join(lines)


def _statements(node: dict, value: dict) -> list[tuple[str, dict, object]]:
    out: list[tuple[str, dict, object]] = []
    for name, child in config_children(node):
        member = value.get(name)
        if member is None:
            continue
        if child["kind"] == LIST:
            out.extend((name, child, entry) for entry in member)
        else:
            out.append((name, child, member))
    return out


def _leafy(child: dict, name: str, value: object) -> str:
    if child["kind"] == "leaf-list":
        return f"{name} [ {' '.join(render_value(v) for v in value)} ]"
    if child.get("type") == "empty":
        return name
    return f"{name} {render_value(value)}"


def _inline(node: dict, value: dict) -> str:
    parts = [
        _leafy(child, name, member) if is_leafy(child) else f"{name} {_inline(child, member)}"
        for name, child, member in _statements(node, value)
    ]
    return f"{{ {'; '.join(parts)} }}" if parts else "{ }"


def _block(head: str, node: dict, value: dict, indent: str) -> list[str]:
    statements = _statements(node, value)
    if all(is_leafy(child) for _name, child, _member in statements):
        line = f"{indent}{head} {_inline(node, value)}"
        if len(line) <= WIDTH and head.count(" ") == 0:
            return [line]
    lines = [f"{indent}{head} {{"]
    for name, child, member in statements:
        if is_leafy(child):
            lines.append(f"{indent}{INDENT}{_leafy(child, name, member)}")
        else:
            lines.extend(_block(name, child, member, indent + INDENT))
    lines.append(f"{indent}}}")
    return lines
