"""DSL statements -> datastore edits, driven by the compiled schema.

A top-level statement is `<module> <verb> [<kind>] { ... }`: the module word
names a top-level container (`route`, `nic`, `acl`, ...), the verb is one of
the module verbs (add, set, delete, sync), the kind one of the module's lists
(or containers). Inside a block every keyword is a YANG node name (`_` and `-`
alike): a leaf takes one value, a leaf-list a `[ list ]` or words, a container
or list entry a block. There are no per-module tables: a new leaf in yang/ is
a new keyword. List entries become the edits of
flyos_agent.northbound.verbs, so every channel gives the verbs one meaning.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flyos_agent.datastore.edit import Edit
from flyos_agent.errors import FlyosError
from flyos_agent.northbound.dsl.errors import DslError
from flyos_agent.northbound.dsl.syntax import ListValue, Statement, Word, parse
from flyos_agent.northbound.verbs import (
    DEFAULT_KIND,
    MODULE_ALIASES,
    VERBS,
    coerce,
    verb_edits,
)
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import InvalidValue, parse_value, value_to_json

KIND_NODES = (Kind.LIST, Kind.CONTAINER)


@dataclass(frozen=True)
class EditStatement:
    """One module statement: what it names and the edits it means."""

    module: str
    verb: str
    kind: str | None
    edits: tuple[Edit, ...]


def parse_edits(schema: Schema, data: str | bytes) -> list[EditStatement]:
    """Every statement of `data` as edits; DslError for anything that is not a
    well-formed module statement of this schema."""
    return [bind(schema, statement) for statement in parse(data)]


def module_words(schema: Schema) -> dict[str, str]:
    """Every word that names a configurable module (aliases and container names) ->
    the container; state-only containers (such as the agent's drift report) are not
    modules a statement can write."""
    roots = {name for name, node in schema.roots.items() if node.config}
    words = {word: root for word, root in MODULE_ALIASES.items() if root in roots}
    words.update({name: name for name in roots})
    return words


def resolve_module(schema: Schema, word: str) -> SchemaNode | None:
    """The top-level container a module word names, or None."""
    name = module_words(schema).get(word.replace("_", "-"))
    return schema.roots.get(name) if name else None


def kind_nodes(root: SchemaNode) -> dict[str, SchemaNode]:
    """The children of a module that a kind word may name: its lists and containers."""
    return {name: child for name, child in root.children.items() if child.kind in KIND_NODES}


def config_children(node: SchemaNode) -> dict[str, SchemaNode]:
    """The configuration children of `node` (state data is not written)."""
    return {name: child for name, child in node.children.items() if child.config}


def bind(schema: Schema, statement: Statement) -> EditStatement:
    """The edits of one top-level statement."""
    keyword = statement.keyword
    root = resolve_module(schema, keyword.text)
    if root is None:
        raise _unknown(keyword, "module", "", module_words(schema))
    verb = _verb(statement)
    words = list(statement.values[1:])
    kind_node = _kind(root, words.pop(0), keyword.text) if words and verb != "sync" else None
    if words:
        raise _at(words[0], f"unexpected {_show(words[0])}: expected '{{'", expected=["'{'"])
    if statement.block is None:
        raise _at(keyword, f"'{' '.join(statement.words)}' needs a block {{ ... }}", ["'{'"])
    target = kind_node
    if target is None and verb != "sync":
        default = DEFAULT_KIND.get(root.name)
        target = root.children.get(default) if default else None
    body = target or root
    if verb == "delete" and target is None:
        value = _names(body, statement.block)
    else:
        value = _entries(body, statement.block)
    if kind_node is not None and kind_node.kind is Kind.CONTAINER:
        path = ((root.name, None), (kind_node.name, None))
        edits = [Edit(VERBS[verb], path, None if verb == "delete" else value)]
    else:
        edits = _verb_edits(schema, root, verb, target, value, where=keyword)
    kind = target.name if target is not None else None
    return EditStatement(root.name, verb, kind, tuple(edits))


def _verb(statement: Statement) -> str:
    first = statement.values[0] if statement.values else None
    if not isinstance(first, Word) or first.quoted:
        where = first or statement.keyword
        raise _at(where, f"expected a verb after '{statement.keyword.text}'", list(VERBS))
    if first.text not in VERBS:
        raise _unknown(first, "verb", "", VERBS)
    return first.text


def _kind(root: SchemaNode, word: Word | ListValue, module: str) -> SchemaNode:
    if not isinstance(word, Word) or word.quoted:
        raise _at(word, f"expected a kind of {module} or '{{'", list(kind_nodes(root)))
    node = root.child(word.text)
    if node is None or node.kind not in KIND_NODES:
        raise _unknown(word, "kind", f" of {module}", kind_nodes(root), path=root.path)
    return node


def _verb_edits(
    schema: Schema,
    root: SchemaNode,
    verb: str,
    target: SchemaNode | None,
    value: dict[str, Any],
    *,
    where: Word,
) -> list[Edit]:
    """The module verb's edits for a list entry or the whole module."""
    if target is not None:
        _check_keys(target, value, where)
    try:
        return verb_edits(schema, root.name, verb, target.name if target else None, value)
    except FlyosError as exc:
        raise _at(where, exc.message, path=exc.path or root.path) from None


def _check_keys(node: SchemaNode, entry: dict[str, Any], where: Word) -> None:
    missing = [key for key in node.keys if key not in entry]
    if missing:
        raise _at(
            where,
            f"a {node.name} entry needs {', '.join(missing)}",
            expected=missing,
            path=node.path,
        )


# ---------------------------------------------------------------------- blocks


def _entries(node: SchemaNode, block: Iterable[Statement]) -> dict[str, Any]:
    """The RFC 7951 object a block describes for `node` (a container or list entry)."""
    out: dict[str, Any] = {}
    keys: dict[str, set[tuple[Any, ...]]] = {}
    children = config_children(node)
    for statement in block:
        child = _child(node, children, statement.keyword)
        if child.kind is Kind.LIST:
            entry = _block_of(child, statement)
            _check_keys(child, entry, statement.keyword)
            key = tuple(entry[k] for k in child.keys)
            if key in keys.setdefault(child.name, set()):
                shown = " ".join(str(k) for k in key)
                message = f"duplicate {child.name} entry {shown}"
                raise _at(statement.keyword, message, path=child.path)
            keys[child.name].add(key)
            out.setdefault(child.name, []).append(entry)
            continue
        if child.name in out:
            raise _at(statement.keyword, f"'{child.name}' is given twice", path=child.path)
        if child.kind is Kind.CONTAINER:
            out[child.name] = _block_of(child, statement)
        elif child.kind is Kind.LEAF_LIST:
            out[child.name] = _leaf_list(node, child, statement)
        else:
            out[child.name] = _leaf(node, child, statement)
    return out


def _names(node: SchemaNode, block: Iterable[Statement]) -> dict[str, Any]:
    """`system delete { hostname; contact }`: the children named (values ignored)."""
    children = config_children(node)
    return {_child(node, children, s.keyword).name: None for s in block}


def _child(node: SchemaNode, children: dict[str, SchemaNode], keyword: Word) -> SchemaNode:
    child = node.child(keyword.text)
    if child is None or not child.config or keyword.quoted:
        if child is not None and not child.config:
            raise _at(keyword, f"'{child.name}' is state data and cannot be set", path=child.path)
        raise _unknown(keyword, "keyword", f" in {_where(node)}", children, path=node.path)
    return child


def _block_of(child: SchemaNode, statement: Statement) -> dict[str, Any]:
    if statement.values:
        raise _at(statement.values[0], f"'{child.name}' takes a block, not a value", ["'{'"])
    if statement.block is None:
        raise _at(statement.keyword, f"'{child.name}' needs a block {{ ... }}", ["'{'"])
    return _entries(child, statement.block)


def _leaf(parent: SchemaNode, child: SchemaNode, statement: Statement) -> Any:
    assert child.type is not None
    _no_block(child, statement)
    if child.type.base == "empty" and not statement.values:
        return [None]
    if len(statement.values) != 1 or not isinstance(statement.values[0], Word):
        where: Word | ListValue = statement.values[1] if statement.values else statement.keyword
        raise _at(where, f"'{child.name}' takes one value", [_type_hint(child)], path=child.path)
    return _scalar(parent, child, statement.values[0])


def _leaf_list(parent: SchemaNode, child: SchemaNode, statement: Statement) -> list[Any]:
    _no_block(child, statement)
    words: list[Word] = []
    for value in statement.values:
        words.extend(value.items if isinstance(value, ListValue) else (value,))
    if not statement.values:
        raise _at(statement.keyword, f"'{child.name}' needs values: [ a b ]", ["'['"])
    out: list[Any] = []
    for word in words:
        item = _scalar(parent, child, word)
        if item in out:
            raise _at(word, f"duplicate value {_show(word)} in '{child.name}'", path=child.path)
        out.append(item)
    return out


def _no_block(child: SchemaNode, statement: Statement) -> None:
    if statement.block is not None:
        raise _at(statement.keyword, f"'{child.name}' takes a value, not a block", path=child.path)


def _scalar(parent: SchemaNode, child: SchemaNode, word: Word) -> Any:
    """The RFC 7951 value of one word, checked against the leaf's type."""
    assert child.type is not None
    raw = _coerced(parent, child, word.text)
    try:
        return value_to_json(child.type, parse_value(child.type, raw))
    except InvalidValue as exc:
        raise _at(
            word, f"invalid value for '{child.name}': {exc}", [_type_hint(child)], path=child.path
        ) from None


def _coerced(parent: SchemaNode, child: SchemaNode, text: str) -> Any:
    """One word with the module verbs' spelling rules (yes/no for booleans) applied."""
    if child.kind is Kind.LEAF:
        return coerce(parent, {child.name: text})[child.name]
    return coerce(parent, {child.name: [text]})[child.name][0]


def _type_hint(node: SchemaNode) -> str:
    assert node.type is not None
    if node.type.enums:
        return " | ".join(node.type.enums)
    return node.type.name


def _where(node: SchemaNode) -> str:
    return node.path.split(":", 1)[-1].strip("/").replace("/", " ")


# ---------------------------------------------------------------------- errors


def _show(value: Word | ListValue) -> str:
    return f"'{value.text}'" if isinstance(value, Word) else "'['"


def _at(
    where: Word | ListValue,
    message: str,
    expected: Iterable[str] = (),
    *,
    path: str | None = None,
) -> DslError:
    return DslError(message, line=where.line, column=where.column, expected=expected, path=path)


def _unknown(
    word: Word, what: str, where: str, choices: Iterable[str], *, path: str | None = None
) -> DslError:
    """`unknown keyword 'vai' in routing static; did you mean 'via'?` (difflib)."""
    names = sorted(set(choices))
    spelled = word.text.replace("_", "-")
    close = difflib.get_close_matches(spelled, names, n=1, cutoff=0.6)
    suggestion = close[0] if close else None
    hint = f"; did you mean '{suggestion}'?" if suggestion else f" (one of: {', '.join(names)})"
    return DslError(
        f"unknown {what} '{word.text}'{where}{hint}",
        line=word.line,
        column=word.column,
        expected=names,
        suggestion=suggestion,
        path=path,
    )
