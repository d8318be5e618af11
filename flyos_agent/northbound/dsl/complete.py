"""Tab completion and `?` help for DSL text being typed, from the compiled schema.

`SchemaHelp.at(text)` looks at the text before the cursor (possibly several
lines of an open block) and says what may come next: module words, verbs,
kinds, the keywords of the block the cursor is in (with their descriptions),
or the values of a leaf (enum values, booleans, and existing names for
leafrefs and list keys from the `existing` callback).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flyos_agent.northbound.dsl.binder import (
    config_children,
    kind_nodes,
    module_words,
    resolve_module,
)
from flyos_agent.northbound.dsl.errors import DslError
from flyos_agent.northbound.dsl.lexer import Token, TokenKind, tokenize
from flyos_agent.northbound.dsl.render import module_word
from flyos_agent.northbound.verbs import DEFAULT_KIND, VERBS
from flyos_agent.schema import Kind, LeafType, Schema, SchemaNode

VERB_HELP = {
    "add": "create an entry (error if it exists)",
    "set": "create or replace an entry",
    "delete": "delete an entry (error if it is missing)",
    "sync": "replace the whole module with the block's content",
}
OPEN_BLOCK = "{"

Existing = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class Suggestion:
    """One thing that may be typed next, and what it is."""

    text: str
    description: str = ""


@dataclass(frozen=True)
class Place:
    """Where the cursor is: the partial word under it, what may come there, and a heading.

    `command` is True when the statement at the cursor is not a module
    statement (a CLI command, say): `words` then holds its complete words and
    the caller decides what follows.
    """

    prefix: str
    suggestions: list[Suggestion] = field(default_factory=list)
    topic: str = ""
    words: tuple[str, ...] = ()
    command: bool = False

    def matching(self) -> list[Suggestion]:
        """The suggestions that start with the partial word (`_` matches `-`)."""
        start = self.prefix.replace("_", "-")
        return [s for s in self.suggestions if s.text.startswith((self.prefix, start))]


@dataclass
class _Frame:
    node: SchemaNode | None
    seen: set[str] = field(default_factory=set)


def first_sentence(text: str) -> str:
    """The first sentence of a description, for one-line help."""
    sentence = " ".join(text.split()).split(". ")[0]
    return sentence.rstrip(".")


def describe_type(leaf_type: LeafType) -> str:
    """A short type summary: `uint16 (68..65535)`, `unicast | blackhole`, `inet:ip-prefix`."""
    if leaf_type.base == "leafref" and leaf_type.leafref_target:
        return f"reference to {leaf_type.leafref_target.split(':', 1)[-1]}"
    if leaf_type.enums:
        return " | ".join(leaf_type.enums)
    if leaf_type.base == "union":
        return " or ".join(describe_type(member) for member in leaf_type.members)
    name = leaf_type.name.split(":", 1)[-1]
    if leaf_type.ranges:
        ranges = ", ".join(f"{lo}..{hi}" if lo != hi else str(lo) for lo, hi in leaf_type.ranges)
        return f"{name} ({ranges})"
    return name


def describe_node(node: SchemaNode) -> str:
    """One line about a node: its type (for leaves) and the first sentence of its description."""
    summary = first_sentence(node.description)
    if node.type is not None:
        kind = "list of " if node.kind is Kind.LEAF_LIST else ""
        return f"<{kind}{describe_type(node.type)}> {summary}"
    return f"{{ {node.kind.value} }} {summary}"


class SchemaHelp:
    """Completion and help for DSL text against one schema."""

    def __init__(self, schema: Schema, existing: Existing | None = None) -> None:
        self.schema = schema
        self.existing: Existing = existing or (lambda path: ())

    def at(self, text: str) -> Place:
        """What may follow `text` (all the text before the cursor)."""
        try:
            tokens = tokenize(text, partial=True)[:-1]
        except DslError:
            return Place("")
        prefix = ""
        if tokens and tokens[-1].kind is TokenKind.STRING and not tokens[-1].closed:
            return Place("")
        last = tokens[-1] if tokens else None
        if last and last.kind is TokenKind.WORD and text.endswith(last.text):
            prefix = tokens.pop().text
        frames, words, in_list = self._walk(tokens)
        if len(frames) == 1:
            return self._top(prefix, words)
        frame = frames[-1]
        if frame.node is None:
            return Place(prefix)
        if not words:
            return self._keywords(prefix, frame)
        child = frame.node.child(words[0])
        if child is None or not child.config:
            return Place(prefix)
        if child.is_leafy and (len(words) == 1 or in_list):
            return self._values(prefix, frame.node, child, in_list)
        if not child.is_leafy and len(words) == 1:
            return Place(prefix, [Suggestion(OPEN_BLOCK, describe_node(child))])
        return Place(prefix)

    # ------------------------------------------------------------------ walking

    def _walk(self, tokens: list[Token]) -> tuple[list[_Frame], list[str], bool]:
        """The open blocks, the words of the statement being typed, and if a `[` is open."""
        frames = [_Frame(None)]
        words: list[str] = []
        in_list = False
        for token in tokens:
            kind = token.kind
            if kind in (TokenKind.WORD, TokenKind.STRING):
                words.append(token.text)
            elif kind is TokenKind.LBRACKET:
                in_list = True
            elif kind is TokenKind.RBRACKET:
                in_list = False
            elif kind is TokenKind.LBRACE:
                frames.append(_Frame(self._opened(frames, words)))
                words, in_list = [], False
            elif kind is TokenKind.RBRACE:
                if len(frames) > 1:
                    frames.pop()
                words = []
            elif kind is TokenKind.SEMI or (kind is TokenKind.NEWLINE and not in_list):
                if words:
                    frames[-1].seen.add(words[0].replace("_", "-"))
                words, in_list = [], False
        return frames, words, in_list

    def _opened(self, frames: list[_Frame], words: list[str]) -> SchemaNode | None:
        """The schema node of the block a `{` after `words` opens."""
        if len(frames) == 1:
            root = resolve_module(self.schema, words[0]) if words else None
            if root is None or len(words) < 2:
                return None
            if words[1] == "sync":
                return root
            if len(words) >= 3:
                return kind_nodes(root).get(words[2].replace("_", "-"))
            default = DEFAULT_KIND.get(root.name)
            return root.children.get(default) if default else root
        parent = frames[-1].node
        child = parent.child(words[0]) if parent is not None and words else None
        return child if child is not None and not child.is_leafy else None

    # ------------------------------------------------------------------ places

    def _top(self, prefix: str, words: list[str]) -> Place:
        if not words:
            modules = [
                Suggestion(word, first_sentence(self.schema.roots[name].description))
                for word, name in sorted(module_words(self.schema).items())
                if prefix or word == module_word(self.schema.roots[name])
            ]
            return Place(prefix, modules, "modules")
        root = resolve_module(self.schema, words[0])
        if root is None:
            return Place(prefix, words=tuple(words), command=True)
        if len(words) == 1:
            verbs = [Suggestion(verb, VERB_HELP[verb]) for verb in VERBS]
            return Place(prefix, verbs, f"verbs of {words[0]}")
        if len(words) == 2 and words[1] != "sync":
            kinds = [
                Suggestion(name, first_sentence(node.description))
                for name, node in kind_nodes(root).items()
            ]
            default = DEFAULT_KIND.get(root.name)
            block = f"a {default} entry" if default else f"the {root.name} container"
            kinds.append(Suggestion(OPEN_BLOCK, block))
            return Place(prefix, kinds, f"kinds of {words[0]}")
        return Place(prefix, [Suggestion(OPEN_BLOCK, "the block")])

    def _keywords(self, prefix: str, frame: _Frame) -> Place:
        node = frame.node
        assert node is not None
        found = [
            Suggestion(name, describe_node(child))
            for name, child in config_children(node).items()
            if child.kind is Kind.LIST or name not in frame.seen
        ]
        return Place(prefix, found, f"keywords of {node.path.split(':', 1)[-1].lstrip('/')}")

    def _values(self, prefix: str, parent: SchemaNode, child: SchemaNode, in_list: bool) -> Place:
        assert child.type is not None
        values: list[str] = []
        for leaf_type in _flatten(child.type):
            if leaf_type.enums:
                values.extend(leaf_type.enums)
            elif leaf_type.base == "boolean":
                values.extend(("true", "false"))
        if child.type.leafref_target:
            values.extend(self.existing(child.type.leafref_target))
        if child.name in parent.keys:
            values.extend(self.existing(child.path))
        unique = list(dict.fromkeys(values))
        found = [Suggestion(value) for value in unique]
        if child.kind is Kind.LEAF_LIST and not in_list:
            found.append(Suggestion("[", "a list of values"))
        return Place(prefix, found, f"{child.name} {describe_node(child)}")


def _flatten(leaf_type: LeafType) -> list[LeafType]:
    """A type and, for unions and leafrefs, the member types behind it."""
    if leaf_type.base in ("union", "leafref"):
        return [t for member in leaf_type.members for t in _flatten(member)]
    return [leaf_type]
