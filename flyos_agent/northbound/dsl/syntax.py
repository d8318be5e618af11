"""The schema-free shape of DSL text: statements of words, lists and blocks.

    script    := { sep } { statement { sep } }
    statement := WORD { value } [ '{' { sep } { statement { sep } } '}' ]
    value     := WORD | STRING | '[' { (WORD | STRING) [ ',' ] } ']'
    sep       := ';' | end of line

A statement ends at `;`, at the end of a line or after its block's `}`, so
`static { ... } bgp { ... }` is two statements; a `{` may start on the next
line. Newlines inside `[ ]` are ignored. What the words mean is decided by the
binder against the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flyos_agent.northbound.dsl.errors import DslError
from flyos_agent.northbound.dsl.lexer import Token, TokenKind, decode, tokenize


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word or a quoted string, with where it starts."""

    text: str
    line: int
    column: int
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class ListValue:
    """`[ a b ]` or `[ a, b ]`: the words in order."""

    items: tuple[Word, ...]
    line: int
    column: int


Value = Word | ListValue


@dataclass(frozen=True, slots=True)
class Statement:
    """`keyword value... [{ statement... }]`; `block` is None when there is no block.

    `source` is the statement's own text, exactly as written (comments inside
    included), for passing one statement of a script on.
    """

    keyword: Word
    values: tuple[Value, ...] = ()
    block: tuple[Statement, ...] | None = None
    source: str = ""

    @property
    def words(self) -> list[str]:
        """The keyword and the texts of the scalar values, in order."""
        return [self.keyword.text, *(v.text for v in self.values if isinstance(v, Word))]


SEPARATORS = (TokenKind.SEMI, TokenKind.NEWLINE)
VALUE_KINDS = (TokenKind.WORD, TokenKind.STRING)


def parse(data: str | bytes) -> list[Statement]:
    """Every statement of `data`; DslError (with line and column) on bad syntax."""
    text = decode(data)
    return _Parser(tokenize(text), text).script()


class _Parser:
    """Recursive descent over a token list that ends with EOF."""

    def __init__(self, tokens: list[Token], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not TokenKind.EOF:
            self.index += 1
        return token

    def script(self) -> list[Statement]:
        statements: list[Statement] = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token.kind is TokenKind.EOF:
                return statements
            if token.kind is TokenKind.RBRACE:
                raise _error(token, "unexpected '}': no block is open", ["a keyword"])
            start = token.offset
            statement = self.statement()
            source = self.text[start : self.tokens[self.index - 1].end]
            statements.append(replace(statement, source=source))

    def skip_separators(self) -> None:
        while self.peek().kind in SEPARATORS:
            self.advance()

    def statement(self) -> Statement:
        keyword = self.advance()
        if keyword.kind is not TokenKind.WORD:
            raise _error(keyword, f"expected a keyword, found {keyword.describe()}", ["a keyword"])
        values: list[Word | ListValue] = []
        while True:
            token = self.peek()
            if token.kind in VALUE_KINDS:
                values.append(_word(self.advance()))
            elif token.kind is TokenKind.LBRACKET:
                values.append(self.list_value())
            elif token.kind is TokenKind.LBRACE:
                return Statement(_word(keyword), tuple(values), self.block())
            elif token.kind is TokenKind.NEWLINE and self.brace_follows():
                self.skip_separators()
            elif token.kind in (*SEPARATORS, TokenKind.RBRACE, TokenKind.EOF):
                return Statement(_word(keyword), tuple(values))
            else:
                raise _error(
                    token,
                    f"unexpected {token.describe()} after '{keyword.text}'",
                    ["a value", "'['", "'{'", "';'", "end of line"],
                )

    def brace_follows(self) -> bool:
        """True if only newlines stand between here and a `{`."""
        index = self.index
        while self.tokens[index].kind is TokenKind.NEWLINE:
            index += 1
        return self.tokens[index].kind is TokenKind.LBRACE

    def block(self) -> tuple[Statement, ...]:
        opening = self.advance()
        statements: list[Statement] = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token.kind is TokenKind.RBRACE:
                self.advance()
                return tuple(statements)
            if token.kind is TokenKind.EOF:
                raise _error(
                    token,
                    f"missing '}}' to close the '{{' at line {opening.line}, "
                    f"column {opening.column}",
                    ["'}'"],
                )
            statements.append(self.statement())

    def list_value(self) -> ListValue:
        opening = self.advance()
        items: list[Word] = []
        while True:
            token = self.advance()
            if token.kind in VALUE_KINDS:
                items.append(_word(token))
            elif token.kind is TokenKind.RBRACKET:
                return ListValue(tuple(items), opening.line, opening.column)
            elif token.kind is TokenKind.EOF:
                raise _error(
                    token,
                    f"missing ']' to close the '[' at line {opening.line}, column {opening.column}",
                    ["']'"],
                )
            elif token.kind not in (TokenKind.COMMA, TokenKind.NEWLINE):
                raise _error(
                    token, f"unexpected {token.describe()} in a list", ["a value", "','", "']'"]
                )


def _word(token: Token) -> Word:
    return Word(token.text, token.line, token.column, token.kind is TokenKind.STRING)


def _error(token: Token, message: str, expected: list[str]) -> DslError:
    return DslError(message, line=token.line, column=token.column, expected=expected)
