"""The nf_tables expressions of one rule, encoded as libnftables 1.0.6 encodes its JSON.

Covers the forms the compiler writes (nft_match, nft_compile): meta, payload and
ct matches against single values, prefixes, ranges and named sets, followed by
statements (nft_encode_stmt). What nft adds or rewrites on the way is done here
the same way:

- dependencies: a network-header match gets `meta nfproto` in front of it, a
  transport-header match `meta l4proto` (ICMP and ICMPv6 also `meta nfproto`),
  unless an earlier match established them;
- a prefix on a byte boundary becomes a shorter payload load (other prefixes
  are masked with a bitwise expression); a range becomes two comparisons;
- equality matches on adjacent payload fields are merged into one load and one
  comparison when that keeps the kernel's fast path (`tcp sport P tcp dport Q`
  is one 4-byte load; `ip saddr A ip daddr B` stays two).

Anything else (anonymous sets, interface wildcards, other keys) raises
Unsupported: the batch then goes through libnftables.
"""

from __future__ import annotations

import socket
import struct
from typing import Any, NamedTuple

from flyos_agent.backends.linux.nft_encode_nla import (
    CMP_EQ,
    CMP_GTE,
    CMP_LTE,
    CMP_NEQ,
    REG_1,
    Unsupported,
    bitwise,
    cmp,
    dependency,
    element,
    load_compare,
    meta_load,
    payload_load,
    strz,
    u32,
)
from flyos_agent.backends.linux.nft_encode_stmt import plain, statement

Expr = dict[str, Any]
BASE_NETWORK = 1
BASE_TRANSPORT = 2
META_KEYS = {"iifname": 6, "oifname": 7, "nfproto": 15, "l4proto": 16}
CT_STATE = 0
IFNAMSIZ = 16
_HOST_U32 = struct.Struct("=I")


class Field(NamedTuple):
    """A payload field: where it is, its size, what nft makes sure of before reading
    it, and for an address field its address family."""

    base: int
    offset: int
    size: int
    nfproto: int | None
    l4proto: int | None
    family: int = 0


def _fields() -> dict[tuple[str, str], Field]:
    fields = {
        ("ip", "saddr"): Field(BASE_NETWORK, 12, 4, 2, None, socket.AF_INET),
        ("ip", "daddr"): Field(BASE_NETWORK, 16, 4, 2, None, socket.AF_INET),
        ("ip6", "saddr"): Field(BASE_NETWORK, 8, 16, 10, None, socket.AF_INET6),
        ("ip6", "daddr"): Field(BASE_NETWORK, 24, 16, 10, None, socket.AF_INET6),
        ("icmp", "type"): Field(BASE_TRANSPORT, 0, 1, 2, 1),
        ("icmpv6", "type"): Field(BASE_TRANSPORT, 0, 1, 10, 58),
    }
    for name, number in (("tcp", 6), ("udp", 17), ("sctp", 132)):
        fields[(name, "sport")] = Field(BASE_TRANSPORT, 0, 2, None, number)
        fields[(name, "dport")] = Field(BASE_TRANSPORT, 2, 2, None, number)
    return fields


FIELDS = _fields()


# ---------------------------------------------------------------------- one rule


class _Rule:
    """The expressions of one rule in order. Payload comparisons nft may merge wait
    in `pending` (base, offset, value, position in `parts`) until the next statement."""

    __slots__ = ("l4proto", "nfproto", "parts", "pending")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pending: list[tuple[int, int, bytes, int]] = []
        self.nfproto: int | None = None
        self.l4proto: int | None = None

    def encode(self, exprs: list[Expr]) -> bytes:
        """The encoded expressions (payload equality matches, the common case, inline)."""
        parts = self.parts
        for expr in exprs:
            for name, args in expr.items():
                if name != "match":
                    if self.pending:
                        self._merge()
                    parts.append(plain(name) if args is None else statement(name, args))
                    continue
                left, right = args["left"], args["right"]
                body = left.get("payload")
                if body is None or args["op"] != "==":
                    self._match(left, args["op"], right)
                    continue
                field = FIELDS.get((body["protocol"], body["field"]))
                if field is None:
                    raise Unsupported(f"payload field {body}")
                if (field.nfproto is not None and self.nfproto != field.nfproto) or (
                    field.l4proto is not None and self.l4proto != field.l4proto
                ):
                    self._depend(field)
                kind = type(right)
                if kind is int or (kind is str and right[:1] != "@"):
                    self.pending.append((field.base, field.offset, pack(field, right), len(parts)))
                    parts.append(b"")
                else:
                    self._payload(field, right)
        if self.pending:
            self._merge()
        return b"".join(parts)

    # ------------------------------------------------------------------ matches

    def _match(self, left: Expr, op: str, right: Any) -> None:
        """Any match but a payload equality (those are handled inline)."""
        if "meta" in left and op == "==":
            self._meta(left["meta"]["key"], right)
        elif left == {"ct": {"key": "state"}} and op == "in":
            self._ct_state(right)
        else:
            raise Unsupported(f"match on {left} with {op}")

    def _depend(self, field: Field) -> None:
        """The dependency matches nft puts in front of a payload match."""
        if field.nfproto is not None and self.nfproto != field.nfproto:
            if self.nfproto is not None:
                raise Unsupported("conflicting network protocols")
            self.parts.append(dependency(META_KEYS["nfproto"], field.nfproto))
            self.nfproto = field.nfproto
        if field.l4proto is not None and self.l4proto != field.l4proto:
            if self.l4proto is not None:
                raise Unsupported("conflicting transport protocols")
            self.parts.append(dependency(META_KEYS["l4proto"], field.l4proto))
            self.l4proto = field.l4proto

    def _payload(self, field: Field, right: Any) -> None:
        """A payload match against a named set, a prefix or a range."""
        if isinstance(right, str):
            lookup = strz(1, right[1:]) + u32(2, REG_1)
            self.parts += [payload_load(field.base, field.offset, field.size)]
            self.parts.append(element("lookup", lookup))
        elif isinstance(right, dict) and "prefix" in right:
            self._prefix(field, pack(field, right["prefix"]["addr"]), right["prefix"]["len"])
        elif isinstance(right, dict) and "range" in right:
            low, high = right["range"]
            self.parts.append(payload_load(field.base, field.offset, field.size))
            self.parts.append(cmp(CMP_GTE, pack(field, low)))
            self.parts.append(cmp(CMP_LTE, pack(field, high)))
        else:
            raise Unsupported(f"payload match against {right!r}")

    def _prefix(self, field: Field, address: bytes, length: int) -> None:
        """A prefix: a shorter load on a byte boundary, else a masked comparison."""
        if not isinstance(length, int) or not 0 <= length <= 8 * field.size:
            raise Unsupported(f"prefix length {length!r}")
        if length and length % 8 == 0:
            self.pending.append((field.base, field.offset, address[: length // 8], len(self.parts)))
            self.parts.append(b"")
            return
        mask = (((1 << length) - 1) << (8 * field.size - length)).to_bytes(field.size, "big")
        masked = bytes(a & m for a, m in zip(address, mask, strict=True))
        self.parts.append(payload_load(field.base, field.offset, field.size))
        self.parts += [bitwise(mask), cmp(CMP_EQ, masked)]

    def _merge(self) -> None:
        """Emit the pending comparisons, adjacent ones merged (each group at the place of
        its first field)."""
        pending = self.pending
        if len(pending) > 2 or (len(pending) == 2 and pending[0][0] == pending[1][0]):
            pending.sort()
            groups = [pending[0]]
            for base, offset, value, position in pending[1:]:
                last_base, last_offset, last_value, last_position = groups[-1]
                adjacent = last_base == base and last_offset + len(last_value) == offset
                if adjacent and _mergeable(len(last_value), len(value)):
                    groups[-1] = (base, last_offset, last_value + value, last_position)
                else:
                    groups.append((base, offset, value, position))
            pending = groups
        for base, offset, value, position in pending:
            head, padding = load_compare(base, offset, len(value))
            self.parts[position] = head + value + padding
        self.pending = []

    def _meta(self, key: str, right: Any) -> None:
        """A meta match; nfproto and l4proto make the protocols known."""
        number = META_KEYS.get(key)
        if number is None:
            raise Unsupported(f"meta {key}")
        if key in ("iifname", "oifname"):
            name = right.encode() if isinstance(right, str) else b""
            if not name or len(name) >= IFNAMSIZ or b"*" in name or b"\\" in name:
                raise Unsupported(f"interface name {right!r}")
            data = name.ljust(IFNAMSIZ, b"\0")
        elif isinstance(right, int) and 0 <= right <= 255:
            data = bytes((right,))
            if key == "nfproto":
                self.nfproto = right
            else:
                self.l4proto = right
        else:
            raise Unsupported(f"meta {key} {right!r}")
        self.parts += [meta_load(number), cmp(CMP_EQ, data)]

    def _ct_state(self, right: Any) -> None:
        """`ct state` in a set of states: a mask that must not come out zero."""
        bits = [right] if isinstance(right, int) else right
        if not isinstance(bits, list) or not all(isinstance(bit, int) for bit in bits):
            raise Unsupported(f"ct state {right!r}")
        mask = 0
        for bit in bits:
            mask |= bit
        load = element("ct", u32(2, CT_STATE) + u32(1, REG_1))
        self.parts += [load, bitwise(_HOST_U32.pack(mask)), cmp(CMP_NEQ, bytes(4))]


def _mergeable(first: int, second: int) -> bool:
    """Whether nft merges two adjacent payload comparisons of these sizes: into one
    register, and only when the kernel's fast path (loads up to 4 bytes) is not lost."""
    total = first + second
    return total <= 16 and (total <= 4 or first > 4 or second > 4)


def pack(field: Field, value: Any) -> bytes:
    """A value of a payload field in network byte order."""
    if field.family:
        if type(value) is not str:
            raise Unsupported(f"address {value!r}")
        try:
            return socket.inet_pton(field.family, value)
        except OSError:
            raise Unsupported(f"address {value!r}") from None
    if type(value) is not int or not 0 <= value < 1 << (8 * field.size):
        raise Unsupported(f"value {value!r}")
    return value.to_bytes(field.size, "big")


def expressions(exprs: list[Expr]) -> bytes:
    """The body of NFTA_RULE_EXPRESSIONS for a rule's JSON expressions; Unsupported
    for a form this module does not cover."""
    return _Rule().encode(exprs)
