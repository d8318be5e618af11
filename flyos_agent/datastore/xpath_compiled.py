"""Compiled must/when expressions: the common local subset as Python closures.

Most YANG constraints look at their own list entry (`../type = 'vlan'`,
`not(via and nexthop)`): this module compiles such expressions once into
closures over an ancestor chain of Maps, so checking them on 100k entries costs
a few dictionary lookups each. Anything outside the subset (absolute paths,
predicates, unusual functions) is not compiled, and at run time a value the
subset cannot express raises Unsupported: callers then use the full evaluator
in flyos_agent.datastore.xpath. Constraints that read only their own container
or entry's leaves compile further, into generated source (xpath_codegen).

Subset: relative location paths of `..`, `.` and child names; string and
number literals; = != < <= > >=; and, or; not(), true(), false(), boolean(),
count(), string(), string-length(), current(). Defaults are visible, as YANG
requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from immutables import Map
from pyang import xpath_parser

from flyos_agent.schema import Kind, SchemaNode
from flyos_agent.schema.values import value_to_text


class Unsupported(Exception):
    """The expression (or this evaluation of it) is outside the compiled subset."""


@dataclass(frozen=True, slots=True)
class Item:
    """A node in the data tree: schema, value (None if absent) and parent item."""

    node: SchemaNode
    value: Any
    parent: Item | None


Value = Any  # list[Item] | str | float | bool
Compiled = Callable[[Item], Value]


def chain(nodes: list[SchemaNode], values: list[Any]) -> Item:
    """The Item for the last of `nodes`, with its ancestors linked."""
    item: Item | None = None
    for node, value in zip(nodes, values, strict=True):
        item = Item(node, value, item)
    assert item is not None
    return item


@cache
def compile_expression(expression: str) -> Compiled | None:
    """A closure computing the boolean value of `expression` for a context Item,
    or None if the expression is outside the compiled subset."""
    try:
        return _compile_bool(xpath_parser.parse(expression))
    except Exception:  # pyang's parser raises several kinds; all mean "not compiled"
        return None


def holds(function: Compiled, context: Item) -> bool:
    """The boolean value of a compiled expression at `context` (may raise Unsupported)."""
    return bool(function(context))


# --------------------------------------------------------------------------- compiler


def _compile_bool(ast: Any) -> Compiled:
    """A closure returning the boolean value of `ast`, specialised for the
    shapes constraints use most: existence tests, and/or/not, comparisons."""
    kind = ast[0]
    if kind == "bool":
        left, right = _compile_bool(ast[2]), _compile_bool(ast[3])
        if ast[1] == "and":
            return lambda item: left(item) and right(item)
        return lambda item: left(item) or right(item)
    if kind == "path_expr":
        inner = ast[1]
        if inner[0] == "function_call" and inner[1] == "not" and len(inner[2]) == 1:
            negated = _compile_bool(inner[2][0])
            return lambda item: not negated(item)
        if inner[0] not in ("literal", "number", "function_call"):
            return _compile_bool(inner)
    if kind == "relative":
        simple = simple_path(ast[1])
        if simple is not None:
            return _exists(*simple)
    if kind == "comp":
        return _compile_comparison(ast[1], ast[2], ast[3])
    value = _compile(ast)
    return lambda item: _boolean(value(item))


def simple_path(steps: list[Any]) -> tuple[int, str] | None:
    """(number of `..` steps, child name) for paths like `x` or `../../x`, else None."""
    ups = 0
    for step in steps[:-1]:
        if step[1:] != ("parent", ("node_type", "node"), []):
            return None
        ups += 1
    last = steps[-1]
    if last[1] != "child" or last[2][0] != "name" or last[3]:
        return None
    return ups, last[2][2]


def _target(item: Item, ups: int, name: str) -> tuple[SchemaNode | None, Any]:
    """Schema node and value (default included) of child `name` after `ups` steps up."""
    current: Item | None = item
    for _ in range(ups):
        current = current.parent if current is not None else None
    if current is None:
        return None, None
    if not isinstance(current.value, Map):
        if current.value is None and _implicit(current.node):
            raise Unsupported("defaults inside an absent non-presence container")
        return None, None
    node = current.node.children.get(name)
    if node is None:
        return None, None
    value = current.value.get(name)
    if value is None and node.kind is Kind.LEAF and node.default is not None:
        if node.when is not None:
            raise Unsupported("a default that a when statement may hide")
        value = node.default
    return node, value


def _exists(ups: int, name: str) -> Compiled:
    return lambda item: _target(item, ups, name)[1] is not None


def _compile(ast: Any) -> Compiled:
    kind = ast[0]
    if kind == "path_expr":
        return _compile_primary(ast[1])
    if kind == "relative":
        return _compile_path(ast[1])
    if kind == "bool":
        left, right = _compile(ast[2]), _compile(ast[3])
        if ast[1] == "and":
            return lambda item: _boolean(left(item)) and _boolean(right(item))
        return lambda item: _boolean(left(item)) or _boolean(right(item))
    if kind == "comp":
        return _compile_comparison(ast[1], ast[2], ast[3])
    raise Unsupported(kind)


def _compile_primary(ast: Any) -> Compiled:
    kind = ast[0]
    if kind == "literal":
        text = ast[1][1:-1]
        return lambda item: text
    if kind == "number":
        number = float(ast[1])
        return lambda item: number
    if kind == "function_call":
        return _compile_function(ast[1], [_compile(arg) for arg in ast[2]])
    return _compile(ast)  # a parenthesised expression


def _compile_function(name: str, args: list[Compiled]) -> Compiled:
    if name == "current" and not args:
        return lambda item: [item]
    if name in ("true", "false") and not args:
        constant = name == "true"
        return lambda item: constant
    if len(args) != 1:
        raise Unsupported(name)
    (arg,) = args
    if name == "not":
        return lambda item: not _boolean(arg(item))
    if name == "boolean":
        return lambda item: _boolean(arg(item))
    if name == "count":
        return lambda item: float(len(_nodes(arg(item))))
    if name == "string":
        return lambda item: _string(arg(item))
    if name == "string-length":
        return lambda item: float(len(_string(arg(item))))
    raise Unsupported(name)


def _compile_path(steps: list[Any]) -> Compiled:
    moves: list[tuple[str, str | None]] = []
    for step in steps:
        _tag, axis, test, predicates = step
        if predicates:
            raise Unsupported("predicate")
        if axis == "parent" and test == ("node_type", "node"):
            moves.append(("up", None))
        elif axis == "self" and test == ("node_type", "node"):
            continue
        elif axis == "child" and test[0] == "name":
            moves.append(("down", test[2]))
        else:
            raise Unsupported(axis)

    def walk(item: Item) -> list[Item]:
        current = [item]
        for move, name in moves:
            if move == "up":
                current = [i.parent for i in current if i.parent is not None]
            else:
                assert name is not None
                current = [child for i in current for child in _children(i, name)]
        return current

    return walk


def _children(item: Item, name: str) -> list[Item]:
    node = item.node.children.get(name)
    if node is None:
        return []
    value = item.value
    if not isinstance(value, Map):
        if value is None and _implicit(item.node):
            raise Unsupported("defaults inside an absent non-presence container")
        return []
    child = value.get(name)
    if child is None:
        if node.default is not None and node.kind is Kind.LEAF:
            if node.when is not None:
                raise Unsupported("a default that a when statement may hide")
            return [Item(node, node.default, item)]
        return []
    if node.kind is Kind.LIST:
        return [Item(node, entry, item) for entry in child.values()]
    if node.kind is Kind.LEAF_LIST:
        return [Item(node, v, item) for v in child]
    return [Item(node, child, item)]


def _implicit(node: SchemaNode) -> bool:
    """A non-presence container: it exists in XPath's eyes even when not stored."""
    return node.kind is Kind.CONTAINER and not node.presence


# --------------------------------------------------------------------------- values


def _nodes(value: Value) -> list[Item]:
    if not isinstance(value, list):
        raise Unsupported("not a node-set")
    return value


def _text(item: Item) -> str:
    if item.node.is_leafy:
        return value_to_text(item.value)
    raise Unsupported("string value of an inner node")


def _boolean(value: Value) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, str):
        return bool(value)
    return bool(value) if not isinstance(value, float) else value != 0


def _string(value: Value) -> str:
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compile_comparison(op: str, left_ast: Any, right_ast: Any) -> Compiled:
    compare = _OPS[op]
    ordering = op not in ("=", "!=")
    simple = simple_path(left_ast[1]) if left_ast[0] == "relative" else None
    literal = right_ast[1] if right_ast[0] == "path_expr" else None
    if simple is not None and literal is not None and literal[0] == "literal" and not ordering:
        ups, name = simple
        text = literal[1][1:-1]

        def compare_leaf(item: Item) -> bool:
            node, value = _target(item, ups, name)
            if value is None or node is None:
                return False
            if node.kind is Kind.LEAF:
                return compare(value_to_text(value), text)
            if node.kind is Kind.LEAF_LIST:
                return any(compare(value_to_text(v), text) for v in value)
            raise Unsupported("string value of an inner node")

        return compare_leaf
    left, right = _compile(left_ast), _compile(right_ast)
    return lambda item: _compare(compare, ordering, left(item), right(item))


def _compare(compare: Callable[[Any, Any], bool], ordering: bool, a: Value, b: Value) -> bool:
    """XPath 1.0 comparison (section 3.4) of two values."""
    if isinstance(a, list) and isinstance(b, list):
        right_texts = [_text(i) for i in b]
        return any(_atom(compare, ordering, _text(i), text) for i in a for text in right_texts)
    if isinstance(a, list):
        return _set_vs_atom(compare, ordering, a, b, left_is_set=True)
    if isinstance(b, list):
        return _set_vs_atom(compare, ordering, b, a, left_is_set=False)
    return _atom(compare, ordering, a, b)


def _set_vs_atom(
    compare: Callable[[Any, Any], bool],
    ordering: bool,
    items: list[Item],
    atom: Any,
    *,
    left_is_set: bool,
) -> bool:
    if isinstance(atom, bool):
        pair = (bool(items), atom) if left_is_set else (atom, bool(items))
        return compare(*pair)
    for item in items:
        text = _text(item)
        value: Any = _number(text) if isinstance(atom, float) else text
        pair = (value, atom) if left_is_set else (atom, value)
        if _atom(compare, ordering, *pair):
            return True
    return False


def _atom(compare: Callable[[Any, Any], bool], ordering: bool, a: Any, b: Any) -> bool:
    if ordering:
        return compare(_as_number(a), _as_number(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return compare(_boolean(a), _boolean(b))
    if isinstance(a, float) or isinstance(b, float):
        return compare(_as_number(a), _as_number(b))
    return compare(a, b)


def _as_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    return _number(str(value))
