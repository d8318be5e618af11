"""Building blocks of nf_tables netlink messages: attributes and the expressions rules use.

Encoded as libnftnl encodes them (attribute order, nested flags, register 1 for
every load and comparison: the 128-bit register numbering nft sends). What does
not depend on a value is built once (cached).
"""

from __future__ import annotations

import struct
from functools import cache

NLA_F_NESTED = 0x8000
NFTA_LIST_ELEM = 1
NFTA_EXPR_NAME = 1
NFTA_EXPR_DATA = 2
NFTA_DATA_VALUE = 1
NFTA_DATA_VERDICT = 2
NFTA_VERDICT_CODE = 1
NFTA_VERDICT_CHAIN = 2
REG_VERDICT = 0
REG_1 = 1
CMP_EQ, CMP_NEQ, CMP_LTE, CMP_GTE = 0, 1, 3, 5
_ATTR = struct.Struct("=HH")
_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")


class Unsupported(Exception):
    """A form the encoder does not cover: the batch goes through libnftables instead."""


# ---------------------------------------------------------------------- attributes


def attr(kind: int, value: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    return _ATTR.pack(4 + len(value), kind) + value + b"\0" * (-len(value) % 4)


def nest(kind: int, body: bytes) -> bytes:
    """A nested attribute around already encoded attributes."""
    return _ATTR.pack(4 + len(body), kind | NLA_F_NESTED) + body


def u32(kind: int, value: int) -> bytes:
    """A big-endian u32 attribute."""
    return attr(kind, _U32.pack(value))


def strz(kind: int, value: str) -> bytes:
    """A NUL-terminated string attribute."""
    return attr(kind, value.encode() + b"\0")


def element(name: str, data: bytes) -> bytes:
    """One expression of the rule's expression list."""
    return nest(NFTA_LIST_ELEM, strz(NFTA_EXPR_NAME, name) + nest(NFTA_EXPR_DATA, data))


def data_value(kind: int, data: bytes) -> bytes:
    """An nft_data attribute holding a value."""
    return nest(kind, attr(NFTA_DATA_VALUE, data))


# ---------------------------------------------------------------------- expressions


@cache
def payload_load(base: int, offset: int, size: int) -> bytes:
    """`payload load size @ base + offset => reg 1`."""
    return element("payload", u32(1, REG_1) + u32(2, base) + u32(3, offset) + u32(4, size))


@cache
def meta_load(key: int) -> bytes:
    """`meta load key => reg 1`."""
    return element("meta", u32(2, key) + u32(1, REG_1))


@cache
def _cmp_head(op: int, size: int) -> tuple[bytes, int]:
    """A cmp expression up to its data, and the padding after it."""
    data = _ATTR.pack(8 + size, 3 | NLA_F_NESTED) + _ATTR.pack(4 + size, NFTA_DATA_VALUE)
    body = u32(1, REG_1) + u32(2, op) + data
    padding = -size % 4
    name = strz(NFTA_EXPR_NAME, "cmp")
    total = 4 + len(name) + 4 + len(body) + size + padding
    head = _ATTR.pack(total, NFTA_LIST_ELEM | NLA_F_NESTED) + name
    head += _ATTR.pack(4 + len(body) + size + padding, NFTA_EXPR_DATA | NLA_F_NESTED) + body
    return head, padding


def cmp(op: int, data: bytes) -> bytes:
    """`cmp op reg 1 data`."""
    head, padding = _cmp_head(op, len(data))
    return head + data + b"\0" * padding


@cache
def load_compare(base: int, offset: int, size: int) -> tuple[bytes, bytes]:
    """A payload load and an equality comparison up to its data, and the padding after it."""
    head, padding = _cmp_head(CMP_EQ, size)
    return payload_load(base, offset, size) + head, b"\0" * padding


@cache
def dependency(key: int, number: int) -> bytes:
    """`meta key == number` for a one-byte meta key (nfproto, l4proto)."""
    return meta_load(key) + cmp(CMP_EQ, bytes((number,)))


def bitwise(mask: bytes) -> bytes:
    """`bitwise reg 1 = (reg 1 & mask) ^ 0`."""
    zero = bytes(len(mask))
    body = u32(1, REG_1) + u32(2, REG_1) + u32(6, 0) + u32(3, len(mask))
    return element("bitwise", body + data_value(4, mask) + data_value(5, zero))


@cache
def verdict(code: int, chain: str | None = None) -> bytes:
    """`immediate reg 0 <verdict>` (a jump names its chain)."""
    inner = attr(NFTA_VERDICT_CODE, _I32.pack(code))
    if chain is not None:
        inner += strz(NFTA_VERDICT_CHAIN, chain)
    data = nest(2, nest(NFTA_DATA_VERDICT, inner))
    return element("immediate", u32(1, REG_VERDICT) + data)


def immediate(register: int, data: bytes) -> bytes:
    """`immediate reg N data`."""
    return element("immediate", u32(1, register) + data_value(2, data))
