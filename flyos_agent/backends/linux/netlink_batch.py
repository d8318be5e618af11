"""Raw rtnetlink: many requests per sendmsg, acks for the refused ones only, and fast dumps.

A `MessageBatch` holds whole netlink messages, each numbered (its sequence
number) by its position. `RtnlSocket.send` sends a batch in chunks, each
chunk one sendmsg followed by a NOOP request that asks for an ack. The
requests themselves ask for none: the kernel handles every request of a
chunk inside the sendmsg call and answers only the ones it refuses, so once
the NOOP's ack arrives every refusal of the chunk has been read, and a
100k-request batch costs a few dozen receives instead of one per request.
Refusals are mapped back to the exact request by sequence number.

Messages are packed with `struct` (measured about 20 times faster than
pyroute2's message classes for route messages).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from pyroute2 import netns as pyroute2_netns

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_ACK_TLVS = 0x200

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSGERR_ATTR_MSG = 1

HEADER = struct.Struct("=IHHII")
ATTR = struct.Struct("=HH")
ERROR = struct.Struct("=i")

CHUNK_MESSAGES = 2048
"""Requests per sendmsg: their refusals (about 1 KiB of receive buffer each) always fit."""
RECV_BYTES = 4 * 1024 * 1024
SOCKET_BUFFER = 64 * 1024 * 1024
BARRIER_SEQ = 0
"""The sequence number of the NOOP that ends each chunk (requests are numbered from 1)."""
BARRIER = HEADER.pack(HEADER.size, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, BARRIER_SEQ, 0)


Request: TypeAlias = tuple[int, int, bytes]
"""One netlink request: message type, flags (NLM_F_REQUEST|ACK are added), payload.
A plain tuple: a 100k-route batch makes 100k of them."""


def message(msg_type: int, flags: int, seq: int, payload: bytes) -> bytes:
    """One whole netlink request (NLM_F_REQUEST added to `flags`)."""
    return HEADER.pack(16 + len(payload), msg_type, flags | NLM_F_REQUEST, seq, 0) + payload


class MessageBatch:
    """Whole netlink requests in order; `messages[i]` carries sequence number i + 1.

    Builders that pack messages themselves append them to `messages` directly,
    numbered `len(messages) + 1`.
    """

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, request: Request) -> None:
        """Append one request."""
        msg_type, flags, payload = request
        self.messages.append(message(msg_type, flags, len(self.messages) + 1, payload))


@dataclass(frozen=True)
class KernelError:
    """The kernel's refusal of one request: errno and its reason."""

    errno: int
    message: str

    def __str__(self) -> str:
        return self.message


class NetlinkFailure(OSError):
    """The netlink conversation itself broke (not one request's refusal)."""


def attr(kind: int, data: bytes) -> bytes:
    """One netlink attribute (TLV), padded to 4 bytes."""
    length = 4 + len(data)
    return ATTR.pack(length, kind) + data + b"\0" * (-length & 3)


def u32_attr(kind: int, value: int) -> bytes:
    """A u32 attribute."""
    return ATTR.pack(8, kind) + struct.pack("=I", value)


def parse_attrs(data: bytes | memoryview, offset: int, end: int) -> dict[int, bytes]:
    """The attributes in `data[offset:end]` by type (the last one wins); nested flag cleared."""
    out: dict[int, bytes] = {}
    while offset + 4 <= end:
        length, kind = ATTR.unpack_from(data, offset)
        if length < 4:
            break
        out[kind & 0x3FFF] = bytes(data[offset + 4 : offset + length])
        offset += (length + 3) & ~3
    return out


def errno_name(code: int) -> str:
    """The symbolic name of an errno (EOPNOTSUPP rather than its alias ENOTSUP)."""
    if code == errno.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno.errorcode.get(code, str(code))


def describe_errno(code: int) -> str:
    """The errno name and text, e.g. 'EEXIST: File exists'."""
    return f"{errno_name(code)}: {os.strerror(code)}"


def open_netlink(netns: str | None, groups: int = 0) -> socket.socket:
    """A NETLINK_ROUTE socket living in `netns` (the current namespace if None).

    The namespace must exist: a missing one raises instead of being created.
    """
    if netns is None:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    else:
        sock = pyroute2_netns.create_socket(
            netns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE, flags=0
        )
    sock.bind((0, groups))
    return sock


class RtnlSocket:
    """A raw rtnetlink socket for batched requests and dumps."""

    def __init__(self, netns: str | None) -> None:
        self.sock = open_netlink(netns)
        for option, value in ((NETLINK_EXT_ACK, 1), (NETLINK_CAP_ACK, 1)):
            self.sock.setsockopt(SOL_NETLINK, option, value)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUFFER)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUFFER)
        self.buffer = bytearray(RECV_BYTES)
        self.seq = 0

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def execute(self, requests: Sequence[Request]) -> dict[int, KernelError]:
        """Send every request (in order); the refusals by request index."""
        batch = MessageBatch()
        for request in requests:
            batch.add(request)
        return self.send(batch)

    def send(self, batch: MessageBatch) -> dict[int, KernelError]:
        """Send every message of `batch` (in order); the refusals by message index."""
        self._drain()
        failures: dict[int, KernelError] = {}
        messages = batch.messages
        for start in range(0, len(messages), CHUNK_MESSAGES):
            self.sock.sendmsg([b"".join(messages[start : start + CHUNK_MESSAGES]), BARRIER])
            self._refusals(failures)
        return failures

    def _refusals(self, failures: dict[int, KernelError]) -> None:
        """Read the acks up to the chunk's barrier; record refusals by message index."""
        view = memoryview(self.buffer)
        while True:
            size = self.sock.recv_into(self.buffer)
            offset = 0
            while offset + 16 <= size:
                length, msg_type, flags, seq, _pid = HEADER.unpack_from(view, offset)
                if msg_type == NLMSG_ERROR:
                    if seq == BARRIER_SEQ:
                        return
                    (code,) = ERROR.unpack_from(view, offset + 16)
                    if code:
                        failures[seq - 1] = _error(view, offset, length, flags, -code)
                offset += (length + 3) & ~3

    def _drain(self) -> None:
        """Drop messages left queued by an interrupted conversation."""
        while True:
            try:
                self.sock.recv_into(self.buffer, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return

    def dump(self, msg_type: int, payload: bytes) -> Iterator[bytes]:
        """The messages of one dump request (NLM_F_DUMP), each without its netlink header."""
        self._drain()
        self.seq += 1
        seq = self.seq
        self.sock.send(
            HEADER.pack(16 + len(payload), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + payload
        )
        view = memoryview(self.buffer)
        while True:
            size = self.sock.recv_into(self.buffer)
            offset = 0
            while offset + 16 <= size:
                length, kind, flags, got, _pid = HEADER.unpack_from(view, offset)
                if got == seq:
                    if kind == NLMSG_DONE:
                        return
                    if kind == NLMSG_ERROR:
                        (code,) = ERROR.unpack_from(view, offset + 16)
                        if code:
                            raise NetlinkFailure(
                                -code, str(_error(view, offset, length, flags, -code))
                            )
                        return
                    yield bytes(view[offset + 16 : offset + length])
                offset += (length + 3) & ~3


def _error(view: memoryview, offset: int, length: int, flags: int, code: int) -> KernelError:
    """A KernelError from an error ack, with the extended-ack message when present."""
    reason = describe_errno(code)
    if flags & NLM_F_ACK_TLVS:
        # nlmsgerr: error (4) + the request's header (16; capped acks carry no payload)
        attrs = parse_attrs(view, offset + 16 + 4 + 16, offset + length)
        text = attrs.get(NLMSGERR_ATTR_MSG)
        if text:
            reason += " (" + text.rstrip(b"\0").decode(errors="replace") + ")"
    return KernelError(code, reason)
