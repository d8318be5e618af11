"""Raw rtnetlink: many requests per sendmsg, one ack per request, and fast dumps.

`RtnlSocket.execute` sends requests in chunks (each chunk one sendmsg), every
request with NLM_F_ACK and its own sequence number, and maps every error ack
back to the request it answers. The kernel handles each request of a chunk
inside the sendmsg call, so the acks are queued when it returns; the receive
buffer is sized so that a chunk's acks always fit.

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

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSGERR_ATTR_MSG = 1

HEADER = struct.Struct("=IHHII")
ATTR = struct.Struct("=HH")
ERROR = struct.Struct("=i")

CHUNK_MESSAGES = 2048
CHUNK_BYTES = 256 * 1024
RECV_BYTES = 4 * 1024 * 1024
SOCKET_BUFFER = 64 * 1024 * 1024


Request: TypeAlias = tuple[int, int, bytes]
"""One netlink request: message type, flags (NLM_F_REQUEST|ACK are added), payload.
A plain tuple: a 100k-route batch makes 100k of them."""


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
        """Send every request (in order) with an ack each; the refusals by request index."""
        failures: dict[int, KernelError] = {}
        start = 0
        total = len(requests)
        while start < total:
            chunk = bytearray()
            first_seq = self.seq + 1
            index = start
            while index < total and index - start < CHUNK_MESSAGES and len(chunk) < CHUNK_BYTES:
                msg_type, flags, payload = requests[index]
                self.seq += 1
                chunk += HEADER.pack(
                    16 + len(payload), msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, self.seq, 0
                )
                chunk += payload
                index += 1
            self.sock.send(chunk)
            for seq, error in self._acks(first_seq, self.seq):
                failures[start + seq - first_seq] = error
            start = index
        return failures

    def _acks(self, first: int, last: int) -> Iterator[tuple[int, KernelError]]:
        """Read the acks of sequence numbers first..last; yield the errors."""
        pending = last - first + 1
        view = memoryview(self.buffer)
        while pending:
            size = self.sock.recv_into(self.buffer)
            offset = 0
            while offset + 16 <= size:
                length, msg_type, flags, seq, _pid = HEADER.unpack_from(view, offset)
                if msg_type == NLMSG_ERROR and first <= seq <= last:
                    pending -= 1
                    (code,) = ERROR.unpack_from(view, offset + 16)
                    if code:
                        yield seq, _error(view, offset, length, flags, -code)
                offset += (length + 3) & ~3

    def dump(self, msg_type: int, payload: bytes) -> Iterator[bytes]:
        """The messages of one dump request (NLM_F_DUMP), each without its netlink header."""
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
