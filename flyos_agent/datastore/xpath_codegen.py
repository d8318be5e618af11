"""Generated Python for the most local must/when expressions.

Constraints that read only the leaves of one container or list entry
(`../type = 'vlan'` on a leaf, `mtu or not(enabled)` on an entry) are turned
into the source of one lambda over that Map, compiled once per (scope,
expression): checking one costs a dictionary lookup or two, with no Items
built. Anything else is left to xpath_compiled's closures or the full
evaluator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pyang import xpath_parser

from flyos_agent.datastore.xpath_compiled import Unsupported, simple_path
from flyos_agent.schema import Kind, SchemaNode
from flyos_agent.schema.values import value_to_text

LocalCheck = Callable[[Any], bool]
_TEXT_VALUED = frozenset({"string", "enumeration"})  # canonical value == XPath string value


@cache
def compile_local(scope: SchemaNode, expression: str, *, from_child: bool) -> LocalCheck | None:
    """A generated Python function `f(local) -> bool` for expressions that read
    only the leaves of one container or list entry.

    `scope` is the node whose Map `local` is: the constrained container or
    entry itself, or (with `from_child`) the parent of the constrained node
    (a leaf's must, a child's when), so that `../x` names a sibling. None when
    the expression needs more; then `compile_expression` (closures over Items)
    or the full evaluator apply.
    """
    source = _source(scope, expression, from_child=from_child)
    return None if source is None else compile_lambda(source, expression)


def local_source(scope: SchemaNode, expression: str) -> str | None:
    """The generated Python boolean expression over `local` (the Map of `scope`
    itself) for `expression`, or None when it reads more than that Map."""
    return _source(scope, expression, from_child=False)


@cache
def _source(scope: SchemaNode, expression: str, *, from_child: bool) -> str | None:
    try:
        return _Generator(scope, ups=1 if from_child else 0).boolean(xpath_parser.parse(expression))
    except Exception:  # outside the generated subset, or pyang's parser refused it
        return None


def compile_lambda(body: str, label: str) -> Callable[[Any], Any]:
    """`lambda local: <body>` compiled (bodies built from `local_source` parts)."""
    code = compile(f"lambda local: {body}", f"<constraint {label!r}>", "eval")
    function: Callable[[Any], Any] = eval(code, {"_text": value_to_text})  # our own source
    return function


class _Generator:
    """Writes Python source for the local subset, names resolved against `scope`."""

    def __init__(self, scope: SchemaNode, *, ups: int) -> None:
        self.scope = scope
        self.ups = ups

    def boolean(self, ast: Any) -> str:
        kind = ast[0]
        if kind == "bool":
            op = "and" if ast[1] == "and" else "or"
            return f"({self.boolean(ast[2])} {op} {self.boolean(ast[3])})"
        if kind == "path_expr":
            inner = ast[1]
            if inner[0] == "function_call":
                name, args = inner[1], inner[2]
                if name == "not" and len(args) == 1:
                    return f"(not {self.boolean(args[0])})"
                if name in ("true", "false") and not args:
                    return "True" if name == "true" else "False"
                raise Unsupported(name)
            if inner[0] in ("literal", "number"):
                raise Unsupported(inner[0])
            return self.boolean(inner)
        if kind == "relative":
            return self._exists(self._name(ast[1]))
        if kind == "comp" and ast[1] in ("=", "!="):
            return self._compare(ast[1], ast[2], ast[3])
        raise Unsupported(kind)

    def _name(self, steps: list[Any]) -> str:
        simple = simple_path(steps)
        if simple is None or simple[0] != self.ups:
            raise Unsupported("path outside the local node")
        return simple[1]

    def _exists(self, name: str) -> str:
        child = self.scope.children.get(name)
        if child is None:
            raise Unsupported("unknown name")
        if child.kind is Kind.LEAF and child.default is not None:
            if child.when is not None:
                raise Unsupported("default hidden by when")
            return "True"
        if child.kind is Kind.CONTAINER and not child.presence:
            raise Unsupported("non-presence containers always exist")
        return f"({name!r} in local)"

    def _compare(self, op: str, left: Any, right: Any) -> str:
        if left[0] != "relative" or right[0] != "path_expr" or right[1][0] != "literal":
            raise Unsupported("comparison shape")
        child = self.scope.children.get(self._name(left[1]))
        if child is None or child.kind is not Kind.LEAF or child.when is not None:
            raise Unsupported("not a plain leaf")
        literal = right[1][1][1:-1]
        value = f"local.get({child.name!r}, {child.default!r})"
        python_op = "==" if op == "=" else "!="
        assert child.type is not None
        if child.type.base not in _TEXT_VALUED:
            return f"({value} is not None and _text({value}) {python_op} {literal!r})"
        if child.default is not None:  # never absent, and its value is its text
            return f"({value} {python_op} {literal!r})"
        return f"((_v := {value}) is not None and _v {python_op} {literal!r})"
