"""Raw nf_tables netlink: reads of single rules and single chains, and whole transactions.

libnftables (1.0.6) cannot read one rule, and reading one chain through it
fetches and parses the whole ruleset. The kernel can answer both directly:
NFT_MSG_GETRULE for (table, chain, handle), or a dump filtered by (table,
chain). The backend uses them to verify predicted handles, to learn handles
after a batch, and to carry counters over when it rewrites a bucket.

`send_batch` sends a transaction encoded by nft_encode. The kernel processes
it while the send runs, so what it refused is already queued when the send
returns (libnftables reads it the same way); no message asks for an ack.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWRULE = 6
NFT_MSG_GETRULE = 7
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NFPROTO_INET = 1
NFTA_RULE_TABLE = 1
NFTA_RULE_CHAIN = 2
NFTA_RULE_HANDLE = 3
NFTA_RULE_EXPRESSIONS = 4
NFTA_RULE_USERDATA = 7
NFTA_EXPR_NAME = 1
NFTA_EXPR_DATA = 2
NFTA_COUNTER_BYTES = 1
NFTA_COUNTER_PACKETS = 2
NFTA_IMMEDIATE_DATA = 2
NFTA_DATA_VERDICT = 2
NFTA_VERDICT_CHAIN = 2
NFTNL_UDATA_RULE_COMMENT = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
SO_SNDBUFFORCE = 32
SNDBUF_SLACK = 1 << 16
_HEADER = struct.Struct("=IHHII")
_GENMSG = struct.Struct("=BBH")
_ATTR = struct.Struct("=HH")
_U64 = struct.Struct(">Q")


class NetlinkError(OSError):
    """The kernel refused a netlink request."""


class BatchRefused(NetlinkError):
    """The kernel refused a transaction, which left nothing applied; `seq` is the
    sequence number of the first message it refused (None: the whole batch, or lost)."""

    def __init__(self, code: int, seq: int | None) -> None:
        super().__init__(code, os.strerror(code))
        self.seq = seq


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the backend needs to know of a kernel rule."""

    handle: int
    comment: str
    counter: tuple[int, int] | None
    jump: str | None


def open_socket() -> socket.socket:
    """A netfilter netlink socket in the calling thread's network namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)  # errors without the refused message
    sock.settimeout(5.0)
    return sock


def send_batch(sock: socket.socket, transaction: bytes) -> None:
    """Send one encoded transaction (batch begin ... batch end) in one datagram;
    BatchRefused if the kernel refused any of it."""
    sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, len(transaction) + SNDBUF_SLACK)
    sock.send(transaction)
    refused: list[tuple[int, int]] = []
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        while True:
            try:
                data = sock.recv(1 << 16)
            except BlockingIOError:
                break
            except OSError as exc:  # ENOBUFS: more refusals than the queue held
                refused.append((exc.errno or errno.ENOBUFS, -1))
                continue
            refused += _refusals(data)
    finally:
        sock.settimeout(timeout)
    if refused:
        positive = [entry for entry in refused if entry[1] > 0]
        code, seq = min(positive, key=lambda entry: entry[1]) if positive else refused[0]
        raise BatchRefused(code, seq if seq > 0 else None)


def _refusals(data: bytes) -> Iterator[tuple[int, int]]:
    """(errno, sequence number of the refused message) of each error in a datagram."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            return
        if kind == NLMSG_ERROR and length >= _HEADER.size + 4 + _HEADER.size:
            (code,) = struct.unpack_from("=i", data, offset + _HEADER.size)
            seq = _HEADER.unpack_from(data, offset + _HEADER.size + 4)[3]
            if code:
                yield -code, seq
        offset += (length + 3) & ~3


def get_rule(sock: socket.socket, table: str, chain: str, handle: int) -> RuleInfo | None:
    """Rule `handle` of `inet table chain`, None if there is no such rule."""
    attrs = _rule_attrs(table, chain) + _attr(NFTA_RULE_HANDLE, _U64.pack(handle))
    try:
        return next(_request(sock, attrs, NLM_F_REQUEST), None)
    except NetlinkError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def dump_chain(sock: socket.socket, table: str, chain: str) -> list[RuleInfo]:
    """Every rule of `inet table chain`, in order."""
    return list(_request(sock, _rule_attrs(table, chain), NLM_F_REQUEST | NLM_F_DUMP))


def _rule_attrs(table: str, chain: str) -> bytes:
    return _attr(NFTA_RULE_TABLE, table.encode() + b"\0") + _attr(
        NFTA_RULE_CHAIN, chain.encode() + b"\0"
    )


def _request(sock: socket.socket, attrs: bytes, flags: int) -> Iterator[RuleInfo]:
    payload = _GENMSG.pack(NFPROTO_INET, 0, 0) + attrs
    kind = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE
    sock.send(_HEADER.pack(_HEADER.size + len(payload), kind, flags, 0, 0) + payload)
    while True:
        data = sock.recv(1 << 20)
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, reply, _, _, _ = _HEADER.unpack_from(data, offset)
            body = data[offset + _HEADER.size : offset + length]
            offset += (length + 3) & ~3
            if reply == NLMSG_DONE:
                return
            if reply == NLMSG_ERROR:
                (code,) = struct.unpack_from("=i", body)
                if code:
                    raise NetlinkError(-code, f"GETRULE: {errno.errorcode.get(-code, code)}")
                return
            if reply & 0xFF == NFT_MSG_NEWRULE:
                yield _rule_info(_attrs(body[_GENMSG.size :]))
                if not flags & NLM_F_DUMP:
                    return


def _rule_info(attrs: dict[int, bytes]) -> RuleInfo:
    counter = None
    jump = None
    for name, data in _expressions(attrs.get(NFTA_RULE_EXPRESSIONS, b"")):
        if name == "counter":
            values = _attrs(data)
            counter = (
                _U64.unpack(values[NFTA_COUNTER_PACKETS])[0],
                _U64.unpack(values[NFTA_COUNTER_BYTES])[0],
            )
        elif name == "immediate":
            value = _attrs(_attrs(data).get(NFTA_IMMEDIATE_DATA, b""))
            verdict = _attrs(value.get(NFTA_DATA_VERDICT, b""))
            if NFTA_VERDICT_CHAIN in verdict:
                jump = verdict[NFTA_VERDICT_CHAIN].rstrip(b"\0").decode()
    handle = _U64.unpack(attrs[NFTA_RULE_HANDLE])[0]
    return RuleInfo(handle, _comment(attrs.get(NFTA_RULE_USERDATA, b"")), counter, jump)


def _expressions(data: bytes) -> Iterator[tuple[str, bytes]]:
    for element in _attr_list(data):
        expr = _attrs(element)
        yield expr.get(NFTA_EXPR_NAME, b"").rstrip(b"\0").decode(), expr.get(NFTA_EXPR_DATA, b"")


def _attr(kind: int, value: bytes) -> bytes:
    padding = b"\0" * (-len(value) % 4)
    return _ATTR.pack(_ATTR.size + len(value), kind) + value + padding


def _attr_list(data: bytes) -> Iterator[bytes]:
    offset = 0
    while offset + _ATTR.size <= len(data):
        length, _ = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            return
        yield data[offset + _ATTR.size : offset + length]
        offset += (length + 3) & ~3


def _attrs(data: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    offset = 0
    while offset + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        out[kind & 0x3FFF] = data[offset + _ATTR.size : offset + length]
        offset += (length + 3) & ~3
    return out


def _comment(userdata: bytes) -> str:
    """The comment in a rule's userdata TLVs (type u8, length u8, value)."""
    offset = 0
    while offset + 2 <= len(userdata):
        kind, length = userdata[offset], userdata[offset + 1]
        value = userdata[offset + 2 : offset + 2 + length]
        if kind == NFTNL_UDATA_RULE_COMMENT:
            return value.rstrip(b"\0").decode(errors="replace")
        offset += 2 + length
    return ""
