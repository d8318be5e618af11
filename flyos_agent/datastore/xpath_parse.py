"""Parsing XPath expressions into pyang ASTs, and the AST shapes the evaluator looks for.

A private copy of pyang's parser (same tables) fixes its union action and its
lexer's handling of `*` and operator names; each parsed expression is checked
(known functions, argument counts, no variables) and cached per string.
Literals cannot span lines (pyang's lexer).
"""

from __future__ import annotations

import copy
import threading
from functools import lru_cache
from typing import Any, TypeAlias

from pyang import xpath_lexer, xpath_parser

from flyos_agent.datastore.xpath_functions import XPathError, check_call

Expr: TypeAlias = Any
# Functions that read no context when given arguments.
_PURE = frozenset(
    {
        "concat", "string", "number", "normalize-space", "translate", "substring",
        "substring-before", "substring-after", "string-length", "deref", "boolean", "not",
        "count", "sum", "floor", "ceiling", "round", "contains", "starts-with", "re-match",
        "enum-value", "bit-is-set",
    }
)  # fmt: skip


class _Lexer(xpath_lexer.XPathLexer):  # type: ignore[misc]
    """pyang's lexer, fixing `*` and operator names at the start or after a comma.

    Like pyang's, it does not accept literals spanning lines.
    """

    def input(self, s: str) -> None:
        super().input(s)
        previous = None
        for token in self.toks:
            if token.type == "_whitespace":
                continue
            if previous is None or previous.type == "COMMA":
                if token.type == "STAR":
                    token.type = "wildcard"
                elif token.type in ("AND", "OR", "MOD", "DIV"):
                    token.type = "name"
            previous = token


def _union(p: Any) -> None:
    """`UnionExpr : UnionExpr BAR PathExpr`; pyang's own action mangles a third member."""
    left, right = p[1], p[3]
    members = left[1] if left[0] == "union" else [left]
    p[0] = ("union", [*members, right])


def _make_parser() -> Any:
    """A private copy of pyang's XPath parser (same tables) with the union action fixed."""
    parser = copy.copy(xpath_parser.parser)
    parser.productions = [copy.copy(p) for p in parser.productions]
    for production in parser.productions:
        if production.func == "p_union_expr_2":
            production.callable = _union
    return parser


_PARSER = _make_parser()
_PARSE_LOCK = threading.Lock()


def _check(ast: Expr) -> None:
    if isinstance(ast, list):
        for item in ast:
            _check(item)
    elif isinstance(ast, tuple) and ast:
        if ast[0] == "function_call":
            check_call(ast[1], len(ast[2]))
        elif ast[0] == "variable":
            raise XPathError(f"XPath variables are not supported (${ast[1]})")
        for item in ast[1:]:
            _check(item)


@lru_cache(maxsize=4096)  # bounded: NETCONF clients choose filter expressions
def parse(expression: str) -> Expr:
    """The AST of `expression` (cached); XPathError for syntax errors, unknown
    functions, wrong argument counts and variables."""
    with _PARSE_LOCK:
        try:
            ast = _PARSER.parse(expression, lexer=_Lexer(), debug=False)
        except xpath_lexer.XPathError as exc:
            reason = f"{exc.msg} (column {exc.pos})"
            raise XPathError(f"invalid XPath {expression!r}: {reason}") from None
        except SyntaxError as exc:
            raise XPathError(f"invalid XPath {expression!r}: {exc.msg or exc}") from None
    if ast is None:
        raise XPathError(f"invalid XPath {expression!r}: empty expression")
    _check(ast)
    return ast


def conjuncts(expr: Expr) -> list[Expr]:
    """The operands of a chain of `and`s (`[expr]` itself when it is not one)."""
    if isinstance(expr, tuple) and expr[0] == "bool" and expr[1] == "and":
        return conjuncts(expr[2]) + conjuncts(expr[3])
    return [expr]


def independent(expr: Expr) -> bool:
    """True if `expr` does not depend on its context node, position or size."""
    if isinstance(expr, list):
        return independent(expr[0])
    tag = expr[0]
    if tag in ("literal", "number", "$const", "absolute"):
        return True
    if tag == "path_expr":
        return independent(expr[1])
    if tag == "path":
        return independent(expr[2])
    if tag == "function_call":
        name, args = expr[1], expr[2]
        return name == "current" or (name in _PURE and bool(args) and all(map(independent, args)))
    if tag in ("comp", "arith", "bool"):
        return independent(expr[2]) and independent(expr[3])
    if tag == "negative":
        return independent(expr[1])
    return tag == "union" and all(map(independent, expr[1]))


def with_key_hint(ast: Expr, text: str) -> Expr:
    """`a/list/key` -> `a/list[key = text]/key`, so deref() can use a keyed lookup."""
    if not (isinstance(ast, tuple) and ast[0] in ("absolute", "relative") and len(ast[1]) > 1):
        return ast
    prev, last = ast[1][-2], ast[1][-1]
    if not (_is_name_step(prev) and _is_name_step(last)) or last[3]:
        return ast
    hint: Expr = ("comp", "=", ("relative", [("step", "child", last[2], [])]), ("$const", text))
    return (ast[0], [*ast[1][:-2], ("step", "child", prev[2], [hint, *prev[3]]), last])


def _is_name_step(step: Expr) -> bool:
    return bool(step[1] == "child" and isinstance(step[2], tuple) and step[2][0] == "name")
