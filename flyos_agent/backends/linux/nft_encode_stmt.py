"""nf_tables statements of a rule (what follows its matches), as libnftables 1.0.6 encodes
their JSON: counter, log, accept/drop, jump, reject, snat/dnat/masquerade.

A NAT statement loads its address and ports into registers 1, 2, 3 with
immediates first (as nft allocates them), then names those registers.
"""

from __future__ import annotations

import socket
import struct
from functools import cache
from typing import Any

from flyos_agent.backends.linux.nft_encode_nla import (
    REG_1,
    Unsupported,
    attr,
    element,
    immediate,
    strz,
    u32,
    verdict,
)

VERDICTS = {"accept": 1, "drop": 0}
NFT_JUMP = -3
REJECT_TYPES = {"icmp": 0, "icmpv6": 0, "tcp reset": 1, "icmpx": 2}
NAT_TYPES = {"snat": 0, "dnat": 1}
NAT_FAMILIES = {"ip": (2, socket.AF_INET), "ip6": (10, socket.AF_INET6)}
NAT_RANGE_PROTO_SPECIFIED = 2
_U64 = struct.Struct(">Q")


@cache
def plain(name: str) -> bytes:
    """A statement without arguments: a verdict, counter, log or masquerade."""
    if name in VERDICTS:
        return verdict(VERDICTS[name])
    if name in ("counter", "log"):
        return element(name, b"")
    if name == "masquerade":
        return element("masq", b"")
    raise Unsupported(f"statement {name}")


def statement(name: str, args: Any) -> bytes:
    """A statement with arguments: counter values, log prefix, jump, reject, nat."""
    if name == "jump" and isinstance(args, dict) and isinstance(args.get("target"), str):
        return verdict(NFT_JUMP, args["target"])
    if name == "counter":
        return _counter(args)
    if name == "log":
        return _log(args)
    if name == "reject":
        return _reject(args)
    if name in NAT_TYPES:
        return _nat(NAT_TYPES[name], args)
    if name == "masquerade":
        return _masquerade(args)
    raise Unsupported(f"statement {name}")


def _counter(args: Any) -> bytes:
    """A counter starting at the given values (carried over from an earlier rule)."""
    if not isinstance(args, dict) or not set(args) <= {"packets", "bytes"}:
        raise Unsupported(f"counter {args}")
    packets, bytes_ = args.get("packets", 0), args.get("bytes", 0)
    if not isinstance(packets, int) or not isinstance(bytes_, int):
        raise Unsupported(f"counter {args}")
    body = attr(1, _U64.pack(bytes_)) if bytes_ else b""
    body += attr(2, _U64.pack(packets)) if packets else b""
    return element("counter", body)


def _log(args: Any) -> bytes:
    """A log statement with a prefix."""
    if not isinstance(args, dict) or set(args) != {"prefix"} or not isinstance(args["prefix"], str):
        raise Unsupported(f"log {args}")
    return element("log", strz(2, args["prefix"]))


def _reject(args: Any) -> bytes:
    """A reject with a TCP reset, or an ICMP / ICMPv6 / ICMPx code."""
    kind = REJECT_TYPES.get(str(args.get("type"))) if isinstance(args, dict) else None
    if kind is None:
        raise Unsupported(f"reject {args}")
    body = u32(1, kind)
    if args["type"] != "tcp reset":
        code = args.get("expr")
        if not isinstance(code, int) or not 0 <= code <= 255:
            raise Unsupported(f"reject {args}")
        body += attr(2, bytes((code,)))
    return element("reject", body)


def _ports(port: Any, first: int) -> tuple[list[bytes], list[int]]:
    """Immediates loading a port or port range from register `first` on, and the registers."""
    bounds = port.get("range") if isinstance(port, dict) else [port, port]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise Unsupported(f"port {port!r}")
    low, high = bounds
    if not all(isinstance(value, int) and 0 <= value <= 0xFFFF for value in (low, high)):
        raise Unsupported(f"port {port!r}")
    values = [low] if low == high else [low, high]
    registers = list(range(first, first + len(values)))
    loads = [immediate(r, v.to_bytes(2, "big")) for r, v in zip(registers, values, strict=True)]
    return loads, registers


def _nat(kind: int, args: Any) -> bytes:
    """snat/dnat to one address (and a port or port range)."""
    if not isinstance(args, dict) or not set(args) <= {"family", "addr", "port"}:
        raise Unsupported(f"nat {args}")
    if "addr" not in args or args.get("family") not in NAT_FAMILIES:
        raise Unsupported(f"nat {args}")
    number, family = NAT_FAMILIES[args["family"]]
    try:
        address = socket.inet_pton(family, args["addr"])
    except (OSError, TypeError):
        raise Unsupported(f"nat address {args['addr']!r}") from None
    parts = [immediate(REG_1, address)]
    body = u32(1, kind) + u32(2, number) + u32(3, REG_1)
    if "port" in args:
        loads, registers = _ports(args["port"], REG_1 + 1)
        parts += loads
        body += u32(5, registers[0]) + (u32(6, registers[1]) if len(registers) > 1 else b"")
        body += u32(7, NAT_RANGE_PROTO_SPECIFIED)
    return b"".join([*parts, element("nat", body)])


def _masquerade(args: Any) -> bytes:
    """A masquerade to a port or port range."""
    if not isinstance(args, dict) or set(args) != {"port"}:
        raise Unsupported(f"masquerade {args}")
    loads, registers = _ports(args["port"], REG_1)
    body = u32(1, NAT_RANGE_PROTO_SPECIFIED) + u32(2, registers[0])
    body += u32(3, registers[1]) if len(registers) > 1 else b""
    return b"".join([*loads, element("masq", body)])
