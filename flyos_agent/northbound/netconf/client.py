"""A minimal asyncio NETCONF client over asyncssh (benchmarks, tests, scripts).

It does the hello exchange, picks chunked framing when asked to offer
base:1.1, and sends RPCs one at a time; `send_raw` puts arbitrary bytes on
the channel (for fuzzing the server). It does not parse replies beyond
framing: callers get the reply bytes.
"""

from __future__ import annotations

import itertools
from types import TracebackType

import asyncssh

from flyos_agent.northbound.netconf.framing import FrameDecoder, encode
from flyos_agent.northbound.netconf.namespaces import BASE, BASE_1_0, BASE_1_1
from flyos_agent.northbound.netconf.server import SUBSYSTEM

READ_SIZE = 65536


class NetconfClient:
    """One NETCONF session; use `await NetconfClient.connect(...)`."""

    def __init__(
        self,
        connection: asyncssh.SSHClientConnection,
        writer: asyncssh.SSHWriter[bytes],
        reader: asyncssh.SSHReader[bytes],
        max_message: int,
    ) -> None:
        self.connection = connection
        self.writer = writer
        self.reader = reader
        self.decoder = FrameDecoder(max_message)
        self.server_hello = b""
        self._ids = itertools.count(1)

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        username: str,
        *,
        password: str | None = None,
        client_keys: list[str] | None = None,
        base11: bool = True,
        max_message: int = 64 * 1024 * 1024,
    ) -> NetconfClient:
        """Connect, open the netconf subsystem and exchange hellos."""
        connection = await asyncssh.connect(
            host,
            port,
            username=username,
            password=password,
            client_keys=client_keys,
            known_hosts=None,
            agent_path=None,
        )
        writer, reader, _ = await connection.open_session(subsystem=SUBSYSTEM, encoding=None)
        client = cls(connection, writer, reader, max_message)
        hello = await client.receive()
        if hello is None:
            raise ConnectionError("the server closed the session before its hello")
        client.server_hello = hello
        offered = [BASE_1_0, BASE_1_1] if base11 else [BASE_1_0]
        capabilities = "".join(f"<capability>{uri}</capability>" for uri in offered)
        hello_text = f'<hello xmlns="{BASE}"><capabilities>{capabilities}</capabilities></hello>'
        client.writer.write(encode(hello_text.encode(), False))
        client.decoder.chunked = base11 and BASE_1_1.encode() in hello
        return client

    async def receive(self) -> bytes | None:
        """The next message from the server; None when the session ended."""
        while True:
            message = self.decoder.next_message()
            if message is not None:
                return message
            data = await self.reader.read(READ_SIZE)
            if not data:
                return None
            self.decoder.feed(data)

    def send_message(self, message: bytes) -> None:
        """Frame `message` as negotiated and send it."""
        self.writer.write(encode(message, self.decoder.chunked))

    def send_raw(self, data: bytes) -> None:
        """Send bytes exactly as given (no framing)."""
        self.writer.write(data)

    async def rpc(self, operation: str) -> bytes:
        """Send one <rpc> around `operation` (XML text) and return the reply."""
        message_id = next(self._ids)
        self.send_message(
            f'<rpc xmlns="{BASE}" message-id="{message_id}">{operation}</rpc>'.encode()
        )
        reply = await self.receive()
        if reply is None:
            raise ConnectionError("the server closed the session")
        return reply

    async def close(self) -> None:
        """End the SSH connection (without close-session)."""
        self.connection.close()
        await self.connection.wait_closed()

    async def __aenter__(self) -> NetconfClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
