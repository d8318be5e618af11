"""XPath 1.0 value semantics and function library for flyos_agent.datastore.xpath.

Values are XPath's four types: `bool`, `float` (every number), `str`, and a
node-set, a `list` of XNodes in document order. This module holds the type
conversions, the comparison and arithmetic rules of XPath 1.0 and the core
and YANG 1.1 functions; it knows nodes only through their public attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias

from flyos_agent.schema.nodes import LeafType
from flyos_agent.schema.values import compile_pattern

if TYPE_CHECKING:
    from flyos_agent.datastore.xpath_nodes import XNode

Value: TypeAlias = "bool | float | str | list[XNode]"

_NUMBER = re.compile(r"[ \t\r\n]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\r\n]*")
_SPACE = re.compile(r"[ \t\r\n]+")
NAN = float("nan")
INF = float("inf")


class XPathError(Exception):
    """An XPath expression that does not parse or cannot be evaluated."""


class Env(Protocol):
    """What functions need from the evaluation: current() and leafref resolution."""

    @property
    def current(self) -> XNode:
        """The initial context node (XPath `current()`)."""
        ...

    def deref(self, node: XNode) -> list[XNode]:
        """The nodes a leafref or instance-identifier node points at."""
        ...


class Call(NamedTuple):
    """The dynamic context of one function call."""

    node: XNode
    position: int
    size: int
    env: Env


# --------------------------------------------------------------------------- conversions


def number_text(number: float) -> str:
    """XPath string() of a number: no exponent, integers without a fraction."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == int(number):
        return str(int(number))
    text = repr(number)
    return format(Decimal(text), "f") if "e" in text else text


def text_number(text: str) -> float:
    """XPath number() of a string: NaN unless it is a plain decimal number."""
    match = _NUMBER.fullmatch(text)
    return float(match.group(1)) if match else NAN


def to_string(value: Value) -> str:
    """XPath string(): a node-set gives the string-value of its first node."""
    if isinstance(value, list):
        return value[0].string_value() if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)
    return value


def to_number(value: Value) -> float:
    """XPath number()."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    return text_number(to_string(value))


def to_boolean(value: Value) -> bool:
    """XPath boolean(): non-empty node-set or string, non-zero non-NaN number."""
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return bool(value)


def nodeset(value: Value, what: str) -> list[XNode]:
    """`value` as a node-set, or XPathError naming `what` needed one."""
    if not isinstance(value, list):
        raise XPathError(f"{what} needs a node-set, not {type_name(value)}")
    return value


def type_name(value: Value) -> str:
    """The XPath name of the type of `value`, for error messages."""
    if isinstance(value, list):
        return "a node-set"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, float) else "a string"


# --------------------------------------------------------------------------- operators

_RELATIONAL: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _scalar_compare(op: str, left: bool | float | str, right: bool | float | str) -> bool:
    test = _RELATIONAL[op]
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            return test(to_boolean(left), to_boolean(right))
        if isinstance(left, float) or isinstance(right, float):
            return test(to_number(left), to_number(right))
        return test(left, right)
    return test(to_number(left), to_number(right))


def _sets_compare(op: str, left: list[XNode], right: list[XNode]) -> bool:
    if op in ("=", "!="):
        lefts = {n.string_value() for n in left}
        rights = {n.string_value() for n in right}
        if op == "=":
            return not lefts.isdisjoint(rights)
        return bool(lefts and rights) and not (len(lefts) == 1 and lefts == rights)
    lnums = [x for x in (text_number(n.string_value()) for n in left) if not math.isnan(x)]
    rnums = [x for x in (text_number(n.string_value()) for n in right) if not math.isnan(x)]
    if not lnums or not rnums:
        return False
    if op in ("<", "<="):
        return _RELATIONAL[op](min(lnums), max(rnums))
    return _RELATIONAL[op](max(lnums), min(rnums))


def compare(op: str, left: Value, right: Value) -> bool:
    """XPath 1.0 `=`, `!=`, `<`, `<=`, `>`, `>=` with node-set existential semantics."""
    if isinstance(left, list) and isinstance(right, list):
        return _sets_compare(op, left, right)
    if isinstance(right, list):
        return compare(_FLIPPED[op], right, left)
    if isinstance(left, list):
        if isinstance(right, bool):
            return _scalar_compare(op, bool(left), right)
        test = _RELATIONAL[op]
        if isinstance(right, float) or op not in ("=", "!="):
            number = to_number(right)
            return any(test(text_number(n.string_value()), number) for n in left)
        return any(test(n.string_value(), right) for n in left)
    return _scalar_compare(op, left, right)


def arithmetic(op: str, left: float, right: float) -> float:
    """XPath `+ - * div mod` on IEEE doubles (div by zero gives Infinity/NaN)."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "div":
        if right == 0:
            if left == 0 or math.isnan(left):
                return NAN
            return math.copysign(INF, left) * math.copysign(1.0, right)
        return left / right
    if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
        return NAN
    return left if math.isinf(right) else math.fmod(left, right)


def xpath_round(number: float) -> float:
    """XPath round(): nearest integer, halves towards positive infinity."""
    if math.isnan(number) or math.isinf(number):
        return number
    rounded = float(math.floor(number + 0.5))
    return -0.0 if rounded == 0 and number < 0 else rounded


# --------------------------------------------------------------------------- functions

Function: TypeAlias = Callable[[Call, list[Value]], Value]


def _context_or_arg(call: Call, args: list[Value]) -> str:
    return to_string(args[0]) if args else call.node.string_value()


def _first_node(call: Call, args: list[Value], name: str) -> XNode | None:
    if not args:
        return call.node
    nodes = nodeset(args[0], f"{name}()")
    return nodes[0] if nodes else None


def _local_name(call: Call, args: list[Value]) -> str:
    node = _first_node(call, args, "local-name")
    return node.name if node is not None else ""


def _namespace_uri(call: Call, args: list[Value]) -> str:
    node = _first_node(call, args, "namespace-uri")
    if node is None or node.schema is None or node.is_text:
        return ""
    return node.schema.namespace


def _substring(call: Call, args: list[Value]) -> str:
    text = to_string(args[0])
    start = xpath_round(to_number(args[1]))
    end = start + xpath_round(to_number(args[2])) if len(args) > 2 else INF
    if math.isnan(start) or math.isnan(end):
        return ""
    low, high = max(start, 1.0), min(end, len(text) + 1.0)
    return text[int(low) - 1 : int(high) - 1] if high > low else ""


def _substring_before(call: Call, args: list[Value]) -> str:
    text, sep = to_string(args[0]), to_string(args[1])
    if not sep:
        return ""
    before, found, _ = text.partition(sep)
    return before if found else ""


def _substring_after(call: Call, args: list[Value]) -> str:
    text, sep = to_string(args[0]), to_string(args[1])
    if not sep:
        return text
    _, found, after = text.partition(sep)
    return after if found else ""


def _translate(call: Call, args: list[Value]) -> str:
    text, source, target = (to_string(a) for a in args)
    table: dict[int, int | None] = {}
    for index, char in enumerate(source):
        table.setdefault(ord(char), ord(target[index]) if index < len(target) else None)
    return text.translate(table)


def _sum(call: Call, args: list[Value]) -> float:
    return float(sum(text_number(n.string_value()) for n in nodeset(args[0], "sum()")))


def _rounding(func: Callable[[float], int]) -> Function:
    def apply(call: Call, args: list[Value]) -> float:
        number = to_number(args[0])
        return number if math.isnan(number) or math.isinf(number) else float(func(number))

    return apply


def _re_match(call: Call, args: list[Value]) -> bool:
    try:
        pattern = compile_pattern(to_string(args[1]))
    except Exception as exc:  # the regex module's error class
        raise XPathError(f"re-match(): invalid pattern {to_string(args[1])!r}: {exc}") from None
    return pattern.fullmatch(to_string(args[0])) is not None


def _deref(call: Call, args: list[Value]) -> list[XNode]:
    nodes = nodeset(args[0], "deref()")
    return call.env.deref(nodes[0]) if nodes else []


def _enums(leaf_type: LeafType) -> tuple[str, ...]:
    if leaf_type.enums:
        return leaf_type.enums
    for member in leaf_type.members:
        found = _enums(member)
        if found:
            return found
    return ()


def _enum_value(call: Call, args: list[Value]) -> float:
    nodes = nodeset(args[0], "enum-value()")
    if not nodes or nodes[0].schema is None or nodes[0].schema.type is None:
        return NAN
    enums = _enums(nodes[0].schema.type)
    text = nodes[0].string_value()
    return float(enums.index(text)) if text in enums else NAN


def _bit_is_set(call: Call, args: list[Value]) -> bool:
    nodes = nodeset(args[0], "bit-is-set()")
    return bool(nodes) and to_string(args[1]) in nodes[0].string_value().split()


def _derived_from(call: Call, args: list[Value]) -> bool:
    nodeset(args[0], "derived-from()")
    return False


FUNCTIONS: dict[str, tuple[int, int | None, Function]] = {
    "current": (0, 0, lambda call, args: [call.env.current]),
    "last": (0, 0, lambda call, args: float(call.size)),
    "position": (0, 0, lambda call, args: float(call.position)),
    "count": (1, 1, lambda call, args: float(len(nodeset(args[0], "count()")))),
    "local-name": (0, 1, _local_name),
    "name": (0, 1, _local_name),
    "namespace-uri": (0, 1, _namespace_uri),
    "string": (0, 1, _context_or_arg),
    "concat": (2, None, lambda call, args: "".join(to_string(a) for a in args)),
    "starts-with": (2, 2, lambda call, args: to_string(args[0]).startswith(to_string(args[1]))),
    "contains": (2, 2, lambda call, args: to_string(args[1]) in to_string(args[0])),
    "substring-before": (2, 2, _substring_before),
    "substring-after": (2, 2, _substring_after),
    "substring": (2, 3, _substring),
    "string-length": (0, 1, lambda call, args: float(len(_context_or_arg(call, args)))),
    "normalize-space": (
        0,
        1,
        lambda call, args: " ".join(w for w in _SPACE.split(_context_or_arg(call, args)) if w),
    ),
    "translate": (3, 3, _translate),
    "boolean": (1, 1, lambda call, args: to_boolean(args[0])),
    "not": (1, 1, lambda call, args: not to_boolean(args[0])),
    "true": (0, 0, lambda call, args: True),
    "false": (0, 0, lambda call, args: False),
    "number": (
        0,
        1,
        lambda call, args: to_number(args[0]) if args else text_number(call.node.string_value()),
    ),
    "sum": (1, 1, _sum),
    "floor": (1, 1, _rounding(math.floor)),
    "ceiling": (1, 1, _rounding(math.ceil)),
    "round": (1, 1, lambda call, args: xpath_round(to_number(args[0]))),
    "re-match": (2, 2, _re_match),
    "deref": (1, 1, _deref),
    "derived-from": (2, 2, _derived_from),
    "derived-from-or-self": (2, 2, _derived_from),
    "enum-value": (1, 1, _enum_value),
    "bit-is-set": (2, 2, _bit_is_set),
}


def check_call(name: str, arity: int) -> None:
    """Raise XPathError unless `name` is a known function taking `arity` arguments."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise XPathError(f"unknown XPath function {name}()")
    low, high = spec[0], spec[1]
    if arity < low or (high is not None and arity > high):
        expected = str(low) if low == high else f"{low}..{'' if high is None else high}"
        raise XPathError(f"{name}() takes {expected} arguments, {arity} given")


def call_function(name: str, call: Call, args: list[Value]) -> Value:
    """Apply the function `name` (already checked by check_call)."""
    return FUNCTIONS[name][2](call, args)
