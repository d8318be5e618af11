"""RFC 6242 message framing: end-of-message (base:1.0) and chunked (base:1.1).

`FrameDecoder` is fed raw bytes from the SSH channel and hands back whole
messages; it never holds more than the message cap (plus one read) in memory
and raises `FramingError` for anything RFC 6242 does not allow: a malformed or
oversized chunk header, a message over the cap, junk between chunks. The mode
switches from end-of-message to chunked right after the hello exchange, so a
client's first chunked message may arrive in the same read as its hello.
"""

from __future__ import annotations

import re

EOM = b"]]>]]>"
END_OF_CHUNKS = b"\n##\n"
MAX_CHUNK_SIZE = 4294967295  # RFC 6242 4.2: chunk-size is 1..4294967295
DEFAULT_MAX_MESSAGE = 10 * 1024 * 1024

_HEADER = re.compile(rb"\n#([1-9][0-9]{0,9})\n")
_HEADER_MAX = len(b"\n#4294967295\n")


class FramingError(Exception):
    """The peer broke the framing; `too_big` says the cap was exceeded."""

    def __init__(self, message: str, *, too_big: bool = False) -> None:
        super().__init__(message)
        self.too_big = too_big


class FrameDecoder:
    """Splits a byte stream into NETCONF messages (EOM framing until `chunked` is set)."""

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.max_message = max_message
        self.chunked = False
        self._buffer = bytearray()
        self._chunks: list[bytes] = []
        self._size = 0
        self._search_from = 0

    def feed(self, data: bytes) -> None:
        """Append bytes read from the channel (call next_message until it returns None)."""
        self._buffer += data

    def next_message(self) -> bytes | None:
        """The next complete message, or None until more bytes arrive."""
        return self._next_chunked() if self.chunked else self._next_eom()

    @property
    def pending(self) -> int:
        """Bytes held for a message not yet complete."""
        return len(self._buffer) + self._size

    def _next_eom(self) -> bytes | None:
        start = max(0, self._search_from - len(EOM) + 1)
        end = self._buffer.find(EOM, start)
        if end < 0:
            if len(self._buffer) > self.max_message + len(EOM):
                raise FramingError(
                    f"message exceeds {self.max_message} bytes without an end-of-message marker",
                    too_big=True,
                )
            self._search_from = len(self._buffer)
            return None
        if end > self.max_message:
            raise FramingError(f"message exceeds {self.max_message} bytes", too_big=True)
        message = bytes(self._buffer[:end])
        del self._buffer[: end + len(EOM)]
        self._search_from = 0
        return message

    def _next_chunked(self) -> bytes | None:
        while True:
            if not b"\n#".startswith(bytes(self._buffer[:2])):
                raise FramingError(f"expected a chunk header, got {bytes(self._buffer[:16])!r}")
            if len(self._buffer) < 4:
                return None
            if self._buffer.startswith(END_OF_CHUNKS):
                del self._buffer[: len(END_OF_CHUNKS)]
                if not self._chunks:
                    raise FramingError("end-of-chunks marker before any chunk")
                message = b"".join(self._chunks)
                self._chunks, self._size = [], 0
                return message
            size, header_len = self._chunk_header()
            if size is None:
                return None
            if self._size + size > self.max_message:
                raise FramingError(
                    f"chunked message exceeds {self.max_message} bytes", too_big=True
                )
            if len(self._buffer) < header_len + size:
                return None
            self._chunks.append(bytes(self._buffer[header_len : header_len + size]))
            self._size += size
            del self._buffer[: header_len + size]

    def _chunk_header(self) -> tuple[int | None, int]:
        """(chunk size, header length), or (None, 0) while the header is incomplete."""
        match = _HEADER.match(self._buffer)
        if match is not None:
            return int(match.group(1)), match.end()
        head = bytes(self._buffer[:_HEADER_MAX])
        if not head.startswith(b"\n#"):
            raise FramingError(f"expected a chunk header, got {head[:16]!r}")
        rest = head[2:]
        if rest.startswith(b"#"):
            raise FramingError(f"malformed end-of-chunks marker {head[:4]!r}")
        digits = rest[: len(rest) - len(rest.lstrip(b"0123456789"))]
        if digits.startswith(b"0"):
            raise FramingError(f"chunk size with a leading zero in {head!r}")
        if len(digits) > len(str(MAX_CHUNK_SIZE)):
            raise FramingError(f"chunk header {head!r} is too long", too_big=True)
        if len(digits) == len(rest):
            return None, 0
        raise FramingError(f"malformed chunk header {head!r}")


def encode(message: bytes, chunked: bool) -> bytes:
    """`message` framed for the wire: one chunk, or followed by the EOM marker."""
    if chunked:
        return b"\n#%d\n%s\n##\n" % (len(message), message)
    return message + EOM
