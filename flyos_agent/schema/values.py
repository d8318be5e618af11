"""Leaf values: parse any channel's representation into one canonical Python value.

Canonical values are what the datastore stores and compares: `int` for the
integer types, `bool` for boolean, `True` for empty, `Decimal` for decimal64,
`str` for everything else (enumeration names, strings, addresses). Address and
prefix types from ietf-inet-types are canonicalised the way libyang does it
(IPv6 compressed and lower case, host bits of a prefix cleared), so that two
spellings of one prefix are one list key.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import regex

from flyos_agent.schema.nodes import LeafType, Pattern

INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
JSON_STRING_INTEGERS = frozenset({"int64", "uint64"})


class InvalidValue(ValueError):
    """A value that does not fit its YANG type; the message says why."""


@cache
def compile_pattern(xsd: str) -> regex.Pattern[str]:
    """Compile an XSD regular expression (implicitly anchored) for `fullmatch`."""
    out: list[str] = []
    in_class = False
    escaped = False
    for char in xsd:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char in "^$" and not in_class:
            out.append("\\" + char)
        else:
            out.append(char)
    return regex.compile("".join(out))


def _matches(pattern: Pattern, text: str) -> bool:
    return (compile_pattern(pattern.regex).fullmatch(text) is not None) != pattern.invert


def _in_intervals(value: int | Decimal, intervals: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= value <= hi for lo, hi in intervals)


def _describe_intervals(intervals: tuple[tuple[int, int], ...]) -> str:
    return " | ".join(str(lo) if lo == hi else f"{lo}..{hi}" for lo, hi in intervals)


def _parse_integer(lt: LeafType, raw: Any) -> int:
    if isinstance(raw, bool):
        raise InvalidValue(f"{raw!r} is not an integer")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not text.isascii() or not text.lstrip("+-").isdigit():
            raise InvalidValue(f"'{raw}' is not an integer")
        value = int(text)
    else:
        raise InvalidValue(f"{raw!r} is not an integer")
    lo, hi = INTEGER_BOUNDS[lt.base]
    if not lo <= value <= hi:
        raise InvalidValue(f"{value} is out of the {lt.base} range {lo}..{hi}")
    if lt.ranges and not _in_intervals(value, lt.ranges):
        raise InvalidValue(f"{value} is out of range {_describe_intervals(lt.ranges)}")
    return value


def _parse_decimal(lt: LeafType, raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise InvalidValue(f"{raw!r} is not a decimal number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidValue(f"'{raw}' is not a decimal number") from None
    digits = lt.fraction_digits or 1
    exponent = value.as_tuple().exponent
    if not value.is_finite() or (isinstance(exponent, int) and -exponent > digits):
        raise InvalidValue(f"'{raw}' has more than {digits} fraction digits")
    if lt.ranges and not _in_intervals(value, lt.ranges):
        raise InvalidValue(f"{value} is out of range {_describe_intervals(lt.ranges)}")
    return value.quantize(Decimal(1).scaleb(-digits))


def _parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw == "true":
        return True
    if raw == "false":
        return False
    raise InvalidValue(f"'{raw}' is not a boolean (true or false)")


_IPV4_MASKS = [(0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF for n in range(33)]
_IPV6_MASKS = [((1 << 128) - 1) ^ ((1 << (128 - n)) - 1) for n in range(129)]


def _prefix_length(text: str, limit: int) -> int | None:
    if not (text.isascii() and text.isdigit()) or (len(text) > 1 and text[0] == "0"):
        return None
    length = int(text)
    return length if length <= limit else None


def _canonical_ipv4_prefix(text: str) -> str | None:
    """10.0.0.1/24 -> 10.0.0.0/24; None if `text` is not an IPv4 prefix.

    inet_pton is as strict as the ietf-inet-types pattern (four decimal
    octets, no leading zeros), so the pattern need not run as well.
    """
    address, sep, length_text = text.partition("/")
    length = _prefix_length(length_text, 32) if sep else None
    if length is None:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET, address)
    except OSError:
        return None
    number = int.from_bytes(packed, "big")
    masked = number & _IPV4_MASKS[length]
    if masked == number:
        return text
    return f"{socket.inet_ntop(socket.AF_INET, masked.to_bytes(4, 'big'))}/{length}"


def _canonical_ipv6_prefix(text: str) -> str | None:
    """2001:DB8::1/32 -> 2001:db8::/32; None if `text` is not an IPv6 prefix."""
    address, sep, length_text = text.partition("/")
    length = _prefix_length(length_text, 128) if sep else None
    if length is None:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except OSError:
        return None
    masked = int.from_bytes(packed, "big") & _IPV6_MASKS[length]
    return f"{socket.inet_ntop(socket.AF_INET6, masked.to_bytes(16, 'big'))}/{length}"


_FAST_PREFIXES = {
    "ietf-inet-types:ipv4-prefix": _canonical_ipv4_prefix,
    "ietf-inet-types:ipv6-prefix": _canonical_ipv6_prefix,
}


def _canonical_inet(lt: LeafType, text: str) -> str:
    """Canonical text of address types, as libyang prints them."""
    if lt.derives_from("ietf-yang-types:mac-address") or lt.derives_from(
        "ietf-yang-types:phys-address"
    ):
        return text.lower()
    if lt.derives_from("ietf-inet-types:ipv6-address") or lt.derives_from(
        "ietf-inet-types:ipv6-address-no-zone"
    ):
        address, sep, zone = text.partition("%")
        try:
            packed = socket.inet_pton(socket.AF_INET6, address)
        except OSError:
            raise InvalidValue(f"'{text}' is not a valid IPv6 address") from None
        return socket.inet_ntop(socket.AF_INET6, packed) + sep + zone
    return text


def _parse_string(lt: LeafType, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(f"{raw!r} is not a string")
    fast = _fast_prefix_parser(lt)
    if fast is not None:
        canonical = fast(raw)
        if canonical is None:
            raise InvalidValue(f"'{raw}' is not a valid {lt.name.partition(':')[2]}")
        return canonical
    if lt.lengths and not _in_intervals(len(raw), lt.lengths):
        raise InvalidValue(
            f"length {len(raw)} of '{raw}' is out of {_describe_intervals(lt.lengths)}"
        )
    for pattern in lt.patterns:
        if not _matches(pattern, raw):
            if pattern.error_message:
                raise InvalidValue(f"'{raw}': {pattern.error_message}")
            if lt.typedefs:
                raise InvalidValue(f"'{raw}' is not a valid {lt.name.partition(':')[2]}")
            raise InvalidValue(f"'{raw}' does not match pattern '{pattern.regex}'")
    return _canonical_inet(lt, raw) if lt.typedefs else raw


def _parse_enum(lt: LeafType, raw: Any) -> str:
    if isinstance(raw, str) and raw in lt.enums:
        return raw
    raise InvalidValue(f"'{raw}' is not one of: {', '.join(lt.enums)}")


def _parse_bits(lt: LeafType, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(f"{raw!r} is not a set of bits")
    names = raw.split()
    unknown = [n for n in names if n not in lt.bits]
    if unknown:
        raise InvalidValue(f"unknown bits {', '.join(unknown)}; known: {', '.join(lt.bits)}")
    return " ".join(b for b in lt.bits if b in names)


def _parse_empty(raw: Any) -> bool:
    if raw in (True, None, "", [None]):
        return True
    raise InvalidValue(f"{raw!r} given for a leaf of type empty")


def _parse_union(lt: LeafType, raw: Any) -> Any:
    reasons = []
    for member in lt.members:
        try:
            return _parse(member, raw)
        except InvalidValue as exc:
            reasons.append(str(exc))
    raise InvalidValue(f"'{raw}' matches no member of {lt.name}: " + "; ".join(reasons))


_MEMO_LIMIT = 4096
_MISSING = object()


def _fast_prefix_parser(lt: LeafType) -> Callable[[str], str | None] | None:
    """For ip-prefix types (or unions of them): a direct canonicaliser, else None."""
    if lt.base == "leafref" and lt.members:
        return _fast_prefix_parser(lt.members[0])
    if lt.base == "string" and not lt.lengths:
        return next((_FAST_PREFIXES[t] for t in lt.typedefs if t in _FAST_PREFIXES), None)
    if lt.base == "union" and lt.members:
        parsers = [_fast_prefix_parser(m) for m in lt.members]
        if all(parsers):
            members = [p for p in parsers if p is not None]

            def first_member(text: str) -> str | None:
                for parser in members:
                    canonical = parser(text)
                    if canonical is not None:
                        return canonical
                return None

            return first_member
    return None


_parsers: dict[int, tuple[LeafType, Callable[[Any], Any]]] = {}


def leaf_parser(lt: LeafType) -> Callable[[Any], Any]:
    """The function that parses values of `lt` (what parse_value calls).

    Prefixes take a direct path; results for repeated inputs (a next hop, an
    interface name) come from a small memo. Callers converting many values
    fetch this once per type.
    """
    slot = _parsers.get(id(lt))
    if slot is not None and slot[0] is lt:
        return slot[1]
    fast = _fast_prefix_parser(lt)
    memo: dict[tuple[type, Any], Any] = {}

    def parse(raw: Any) -> Any:
        kind = type(raw)
        if fast is not None and kind is str:
            canonical = fast(raw)
            if canonical is not None:
                return canonical
        if kind is not str and kind is not int and kind is not bool:
            return _parse(lt, raw)
        key = (kind, raw)
        hit = memo.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        value = _parse(lt, raw)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = value
        return value

    _parsers[id(lt)] = (lt, parse)
    return parse


def parse_value(lt: LeafType, raw: Any) -> Any:
    """Parse `raw` (XML text, JSON value, DSL word) into the canonical value of `lt`.

    Raises InvalidValue with a reason a person can act on.
    """
    return leaf_parser(lt)(raw)


def _parse(lt: LeafType, raw: Any) -> Any:
    base = lt.base
    if base in INTEGER_BOUNDS:
        return _parse_integer(lt, raw)
    if base in ("string", "instance-identifier", "identityref", "binary"):
        return _parse_string(lt, raw)
    if base == "enumeration":
        return _parse_enum(lt, raw)
    if base == "boolean":
        return _parse_boolean(raw)
    if base == "union":
        return _parse_union(lt, raw)
    if base == "leafref":
        if not lt.members:
            raise InvalidValue(f"leafref {lt.leafref_path} has no resolved target")
        return _parse(lt.members[0], raw)
    if base == "empty":
        return _parse_empty(raw)
    if base == "decimal64":
        return _parse_decimal(lt, raw)
    if base == "bits":
        return _parse_bits(lt, raw)
    raise InvalidValue(f"type {base} is not supported")


def value_to_text(value: Any) -> str:
    """The XML/DSL text of a canonical value."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def value_to_json(lt: LeafType, value: Any) -> Any:
    """The RFC 7951 JSON encoding of a canonical value."""
    base = lt.base
    if base == "leafref" and lt.members:
        return value_to_json(lt.members[0], value)
    if base == "empty":
        return [None]
    if base in JSON_STRING_INTEGERS or base == "decimal64":
        return str(value)
    if base == "union" and isinstance(value, int) and not isinstance(value, bool):
        members = [m for m in lt.members if m.base in INTEGER_BOUNDS]
        return str(value) if members and members[0].base in JSON_STRING_INTEGERS else value
    return value
