"""Tokens of the DSL: words, quoted strings, braces, brackets, `;`, `,` and newlines.

`#` and `//` start a comment when they begin a token; a word is any run of
characters other than white space, quotes and `{ } [ ] ; ,`, so IPv6
addresses, prefixes, `65001:100` and `8000-8080` are single words.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from flyos_agent.northbound.dsl.errors import DslError


class TokenKind(enum.Enum):
    """What a token is."""

    WORD = "word"
    STRING = "string"
    LBRACE = "'{'"
    RBRACE = "'}'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    SEMI = "';'"
    COMMA = "','"
    NEWLINE = "end of line"
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text (a string's content, unescaped) and where it starts.

    `offset` and `end` delimit its characters in the text (a string's with
    its quotes); `closed` is False only for a string still open at the end of
    a partial text.
    """

    kind: TokenKind
    text: str
    line: int
    column: int
    offset: int = 0
    end: int = 0
    closed: bool = True

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind is TokenKind.WORD:
            return f"'{self.text}'"
        if self.kind is TokenKind.STRING:
            return f'"{self.text}"'
        return str(self.kind.value)


PUNCTUATION = {
    "{": TokenKind.LBRACE,
    "}": TokenKind.RBRACE,
    "[": TokenKind.LBRACKET,
    "]": TokenKind.RBRACKET,
    ";": TokenKind.SEMI,
    ",": TokenKind.COMMA,
}
QUOTES = "\"'"
WORD_STOP = frozenset(PUNCTUATION) | frozenset(QUOTES) | frozenset(" \t\r\n")
SURROGATES = (0xD800, 0xDFFF)
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def decode(data: str | bytes) -> str:
    """DSL text from bytes (UTF-8) or str; DslError naming the first bad byte."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DslError(
            f"the text is not UTF-8 (byte 0x{data[exc.start]:02x})", line=line, column=column
        ) from None


def tokenize(data: str | bytes, *, partial: bool = False) -> list[Token]:
    """All tokens of `data`, ending with EOF.

    With `partial` (text being typed), a string still open at the end is
    returned as an unclosed STRING token instead of raising.
    """
    return list(_scan(decode(data), partial))


def _scan(text: str, partial: bool) -> Iterator[Token]:
    index, line, line_start = 0, 1, 0
    size = len(text)
    while index < size:
        char = text[index]
        column = index - line_start + 1
        if char == "\n":
            yield Token(TokenKind.NEWLINE, "\n", line, column, index, index + 1)
            index += 1
            line, line_start = line + 1, index
        elif char in " \t\r":
            index += 1
        elif char == "#" or text.startswith("//", index):
            end = text.find("\n", index)
            index = size if end < 0 else end
        elif char in PUNCTUATION:
            yield Token(PUNCTUATION[char], char, line, column, index, index + 1)
            index += 1
        elif char in QUOTES:
            token, index, newlines = _string(text, index, line, column, partial)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", 0, index) + 1
            yield token
        else:
            start = index
            while index < size and text[index] not in WORD_STOP:
                _check_char(text[index], line, index - line_start + 1)
                index += 1
            yield Token(TokenKind.WORD, text[start:index], line, column, start, index)
    yield Token(TokenKind.EOF, "", line, index - line_start + 1, index, index)


def _check_char(char: str, line: int, column: int) -> None:
    if unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\r\n":
        raise DslError(
            f"unexpected character U+{ord(char):04X}", line=line, column=column, expected=["a word"]
        )


def _string(text: str, start: int, line: int, column: int, partial: bool) -> tuple[Token, int, int]:
    """The string token opening at `start`, the index after it and the newlines inside it."""
    quote = text[start]
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            token = Token(TokenKind.STRING, "".join(out), line, column, start, index + 1)
            return token, index + 1, text.count("\n", start, index)
        if char == "\\" and index + 1 < len(text):
            escaped, index = _escape(text, index)
            out.append(escaped)
            continue
        if char != "\n":
            _check_char(char, line, column)
        out.append(char)
        index += 1
    if partial:
        token = Token(TokenKind.STRING, "".join(out), line, column, start, index, closed=False)
        return token, index, text.count("\n", start, index)
    raise DslError(
        f"unterminated string (the {quote} here is never closed)",
        line=line,
        column=column,
        expected=[quote],
    )


def _escape(text: str, index: int) -> tuple[str, int]:
    """The character a backslash escape at `index` stands for, and the index after it.

    `\\n \\t \\r \\\\ \\" \\'` and `\\uXXXX`; any other backslash is kept as it is.
    """
    escaped = text[index + 1]
    if escaped in ESCAPES:
        return ESCAPES[escaped], index + 2
    digits = text[index + 2 : index + 6]
    if escaped == "u" and len(digits) == 4 and all(c in HEX_DIGITS for c in digits):
        code = int(digits, 16)
        if not SURROGATES[0] <= code <= SURROGATES[1]:
            return chr(code), index + 6
    return "\\", index + 1


def inside_string(text: str) -> bool:
    """True if `text` ends inside a quoted string (a `?` typed there is just a character)."""
    try:
        tokens = tokenize(text, partial=True)
    except DslError:
        return False
    return len(tokens) > 1 and tokens[-2].kind is TokenKind.STRING and not tokens[-2].closed


def needs_more(text: str) -> bool:
    """True while `text` has an open `{`, `[` or string: the REPL keeps reading lines."""
    try:
        tokens = tokenize(text, partial=True)
    except DslError:
        return False
    depth = 0
    for token in tokens:
        if token.kind in (TokenKind.LBRACE, TokenKind.LBRACKET):
            depth += 1
        elif token.kind in (TokenKind.RBRACE, TokenKind.RBRACKET):
            depth -= 1
        elif token.kind is TokenKind.STRING and not token.closed:
            return True
    return depth > 0
