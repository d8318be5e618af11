# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The FlyOS DSL (docs/dsl.md of the agent) as NETCONF edits.

NETCONF carries no DSL, so the config module reads DSL text here, against
the schema snapshot, and sends each statement as one edit-config of the
candidate, in order, with the operation its verb means:

    <module> add [<kind>] { ... }     create the entry (error if it exists)
    <module> set [<kind>] { ... }     replace the entry (a module without a
                                      default kind: merge into the container)
    <module> delete [<kind>] { ... }  delete the entry (error if missing); a
                                      module without a default kind: remove
                                      the leaves named in the block
    <module> sync { ... }             replace the module's whole container

Inside a block every keyword is a YANG node name (``_`` and ``-`` alike): a
leaf takes one value, a leaf-list ``[ a b ]`` or words, a container or list
entry a block. Values are checked by the agent; only the shape is checked
here, with line and column in the message.
"""

from __future__ import annotations

import difflib

from ansible_collections.flyos.agent.plugins.module_utils.schema import (
    DEFAULT_KIND,
    MODULE_WORDS,
    ROOTS,
)
from ansible_collections.flyos.agent.plugins.module_utils.tree import (
    CONTAINER,
    LEAF_LIST,
    LIST,
    config_children,
    yang_name,
)
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import FALSE_WORDS, TRUE_WORDS, Op

VERBS = {"add": "create", "set": "replace", "delete": "delete", "sync": "replace"}
PUNCTUATION = "{}[];,"
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
WORD, STRING, NEWLINE, END = "word", "string", "end of line", "end of input"


class DslError(ValueError):
    """DSL text that cannot be understood, with where."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")


class Token:
    """A word, string, punctuation mark, newline or the end."""

    __slots__ = ("column", "kind", "line", "text")

    def __init__(self, kind: str, text: str, line: int, column: int) -> None:
        self.kind, self.text, self.line, self.column = kind, text, line, column

    def describe(self) -> str:
        if self.kind == WORD:
            return f"'{self.text}'"
        if self.kind == STRING:
            return f'"{self.text}"'
        return self.kind if self.kind in (NEWLINE, END) else f"'{self.kind}'"


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with END."""
    tokens, index, line, line_start = [], 0, 1, 0
    while index < len(text):
        char, column = text[index], index - line_start + 1
        if char == "\n":
            tokens.append(Token(NEWLINE, "\n", line, column))
            index, line, line_start = index + 1, line + 1, index + 1
        elif char in " \t\r":
            index += 1
        elif char == "#" or text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif char in PUNCTUATION:
            tokens.append(Token(char, char, line, column))
            index += 1
        elif char in "\"'":
            value, end = _string(text, index, line, column)
            tokens.append(Token(STRING, value, line, column))
            newlines = text.count("\n", index, end)
            if newlines:
                line, line_start = line + newlines, text.rfind("\n", 0, end) + 1
            index = end
        else:
            start = index
            while index < len(text) and text[index] not in " \t\r\n\"'" + PUNCTUATION:
                index += 1
            tokens.append(Token(WORD, text[start:index], line, column))
    tokens.append(Token(END, "", line, len(text) - line_start + 1))
    return tokens


def _string(text: str, start: int, line: int, column: int) -> tuple[str, int]:
    quote, out, index = text[start], [], start + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            return "".join(out), index + 1
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            digits = text[index + 2 : index + 6]
            if escaped in ESCAPES:
                out.append(ESCAPES[escaped])
                index += 2
                continue
            if (
                escaped == "u"
                and len(digits) == 4
                and all(c in "0123456789abcdefABCDEF" for c in digits)
            ):
                out.append(chr(int(digits, 16)))
                index += 6
                continue
        out.append(char)
        index += 1
    raise DslError(f"unterminated string (the {quote} here is never closed)", line, column)


class Statement:
    """``keyword value... [{ statement... }]``; values are tokens or lists of tokens."""

    __slots__ = ("block", "keyword", "values")

    def __init__(self, keyword: Token, values: list, block: list | None) -> None:
        self.keyword, self.values, self.block = keyword, values, block


class Parser:
    """Recursive descent over the tokens of a script."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != END:
            self.index += 1
        return token

    def skip_separators(self) -> None:
        while self.peek().kind in (";", NEWLINE):
            self.advance()

    def script(self) -> list[Statement]:
        statements = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token.kind == END:
                return statements
            if token.kind == "}":
                raise DslError("unexpected '}': no block is open", token.line, token.column)
            statements.append(self.statement())

    def statement(self) -> Statement:
        keyword = self.advance()
        if keyword.kind != WORD:
            raise DslError(
                f"expected a keyword, found {keyword.describe()}", keyword.line, keyword.column
            )
        values: list = []
        while True:
            token = self.peek()
            if token.kind in (WORD, STRING):
                values.append(self.advance())
            elif token.kind == "[":
                values.append(self.list_value())
            elif token.kind == "{":
                return Statement(keyword, values, self.block())
            elif token.kind == NEWLINE and self.brace_follows():
                self.skip_separators()
            elif token.kind in (";", NEWLINE, "}", END):
                return Statement(keyword, values, None)
            else:
                raise DslError(
                    f"unexpected {token.describe()} after '{keyword.text}'",
                    token.line,
                    token.column,
                )

    def brace_follows(self) -> bool:
        index = self.index
        while self.tokens[index].kind == NEWLINE:
            index += 1
        return self.tokens[index].kind == "{"

    def block(self) -> list[Statement]:
        opening = self.advance()
        statements = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token.kind == "}":
                self.advance()
                return statements
            if token.kind == END:
                where = f"line {opening.line}, column {opening.column}"
                raise DslError(
                    f"missing '}}' to close the '{{' at {where}", token.line, token.column
                )
            statements.append(self.statement())

    def list_value(self) -> list[Token]:
        opening = self.advance()
        items = []
        while True:
            token = self.advance()
            if token.kind in (WORD, STRING):
                items.append(token)
            elif token.kind == "]":
                return items
            elif token.kind == END:
                raise DslError(
                    f"missing ']' to close the '[' at line {opening.line}, column {opening.column}",
                    token.line,
                    token.column,
                )
            elif token.kind not in (",", NEWLINE):
                raise DslError(f"unexpected {token.describe()} in a list", token.line, token.column)


# ---------------------------------------------------------------------- binding


class Edit:
    """One statement as an edit: the top-level container and its value with operations."""

    __slots__ = ("root", "value")

    def __init__(self, root: str, value: object) -> None:
        self.root, self.value = root, value


def parse_edits(text: str) -> list[Edit]:
    """Every statement of ``text`` as an edit; DslError for anything that is not a
    module statement of the models."""
    return [bind(statement) for statement in Parser(text).script()]


def bind(statement: Statement) -> Edit:
    keyword = statement.keyword
    root_name = MODULE_WORDS.get(keyword.text.replace("_", "-"), keyword.text.replace("_", "-"))
    root = ROOTS.get(root_name)
    if root is None:
        raise _unknown(keyword, "module", "", sorted(set(MODULE_WORDS) | set(ROOTS)))
    words = list(statement.values)
    verb = words.pop(0) if words else None
    if not isinstance(verb, Token) or verb.kind != WORD or verb.text not in VERBS:
        where = verb if isinstance(verb, Token) else keyword
        raise DslError(
            f"expected a verb after '{keyword.text}' (add, set, delete, sync)",
            where.line,
            where.column,
        )
    kind_name = None
    if words and verb.text != "sync":
        kind_word = words.pop(0)
        if not isinstance(kind_word, Token) or kind_word.kind != WORD:
            raise DslError(
                f"expected a kind of {keyword.text} or '{{'", keyword.line, keyword.column
            )
        kind_name = yang_name(root, kind_word.text)
        if kind_name is None or root["children"][kind_name]["kind"] not in (LIST, CONTAINER):
            kinds = [n for n, c in config_children(root) if c["kind"] in (LIST, CONTAINER)]
            raise _unknown(kind_word, "kind", f" of {keyword.text}", kinds)
    if words:
        where = words[0] if isinstance(words[0], Token) else keyword
        raise DslError("unexpected value: expected '{'", where.line, where.column)
    if statement.block is None:
        raise DslError(
            f"'{keyword.text} {verb.text}' needs a block {{ ... }}", keyword.line, keyword.column
        )
    operation = VERBS[verb.text]
    if verb.text == "sync":
        return Edit(root_name, Op("replace", entries(root, statement.block)))
    target = kind_name or DEFAULT_KIND.get(root_name)
    if target is None:  # a module without lists by default (system, tunnels)
        if verb.text == "delete":
            return Edit(root_name, {name: Op("remove") for name in names(root, statement.block)})
        value = entries(root, statement.block)
        return Edit(root_name, Op("create", value) if verb.text == "add" else value)
    node = root["children"][target]
    value = entries(node, statement.block)
    if node["kind"] == CONTAINER:
        return Edit(root_name, {target: Op(operation, None if verb.text == "delete" else value)})
    _check_keys(node, target, value, keyword)
    if verb.text == "delete":
        value = {key: value[key] for key in node["keys"]}
    return Edit(root_name, {target: [Op(operation, value)]})


def entries(node: dict, block: list[Statement]) -> dict:
    """The value a block describes for a container or list entry (YANG names)."""
    out: dict = {}
    seen_keys: dict = {}
    for statement in block:
        name, child = _child(node, statement.keyword)
        if child["kind"] == LIST:
            entry = _block_of(child, name, statement)
            _check_keys(child, name, entry, statement.keyword)
            key = tuple(str(entry[k]) for k in child["keys"])
            if key in seen_keys.setdefault(name, set()):
                raise _at(statement.keyword, f"duplicate {name} entry {' '.join(key)}")
            seen_keys[name].add(key)
            out.setdefault(name, []).append(entry)
            continue
        if name in out:
            raise _at(statement.keyword, f"'{name}' is given twice")
        if child["kind"] == CONTAINER:
            out[name] = _block_of(child, name, statement)
        elif child["kind"] == LEAF_LIST:
            out[name] = _leaf_list(child, name, statement)
        else:
            out[name] = _leaf(child, name, statement)
    return out


def names(node: dict, block: list[Statement]) -> list[str]:
    """``system delete { hostname; contact }``: the children named."""
    return [_child(node, statement.keyword)[0] for statement in block]


def _child(node: dict, keyword: Token) -> tuple[str, dict]:
    name = yang_name(node, keyword.text) if keyword.kind == WORD else None
    child = node["children"].get(name) if name else None
    if child is not None and child.get("config", True) is False:
        raise _at(keyword, f"'{name}' is state data and cannot be set")
    if child is None:
        raise _unknown(keyword, "keyword", "", [name for name, _child in config_children(node)])
    return name, child


def _block_of(child: dict, name: str, statement: Statement) -> dict:
    if statement.values:
        raise _at(statement.keyword, f"'{name}' takes a block, not a value")
    if statement.block is None:
        raise _at(statement.keyword, f"'{name}' needs a block {{ ... }}")
    return entries(child, statement.block)


def _leaf(child: dict, name: str, statement: Statement) -> object:
    if statement.block is not None:
        raise _at(statement.keyword, f"'{name}' takes a value, not a block")
    if child.get("type") == "empty" and not statement.values:
        return True
    if len(statement.values) != 1 or not isinstance(statement.values[0], Token):
        raise _at(statement.keyword, f"'{name}' takes one value")
    return _scalar(child, statement.values[0].text)


def _leaf_list(child: dict, name: str, statement: Statement) -> list:
    if statement.block is not None:
        raise _at(statement.keyword, f"'{name}' takes values, not a block")
    if not statement.values:
        raise _at(statement.keyword, f"'{name}' needs values: [ a b ]")
    out = []
    for value in statement.values:
        for token in value if isinstance(value, list) else [value]:
            item = _scalar(child, token.text)
            if item in out:
                raise _at(token, f"duplicate value '{token.text}' in '{name}'")
            out.append(item)
    return out


def _scalar(node: dict, text: str) -> object:
    if node.get("type") == "bool":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return text


def _check_keys(node: dict, name: str, entry: dict, where: Token) -> None:
    missing = [key for key in node["keys"] if key not in entry]
    if missing:
        raise _at(where, f"a {name} entry needs {', '.join(missing)}")


def _at(token: Token, message: str) -> DslError:
    return DslError(message, token.line, token.column)


def _unknown(token: Token, what: str, where: str, choices: list[str]) -> DslError:
    spelled = token.text.replace("_", "-")
    close = difflib.get_close_matches(spelled, choices, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (one of: {', '.join(choices)})"
    return _at(token, f"unknown {what} '{token.text}'{where}{hint}")
