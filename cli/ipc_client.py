"""A blocking client of the agent's IPC socket (protocol in docs/ipc.md)."""

from __future__ import annotations

import itertools
import json
import os
import socket
from types import TracebackType
from typing import Any

from flyos_agent.errors import FlyosError, error_from_dict

DEFAULT_SOCKET = "/run/flyos/agent.sock"


def default_socket() -> str:
    """The socket path from $FLYOS_SOCKET, else the agent's default."""
    return os.environ.get("FLYOS_SOCKET") or DEFAULT_SOCKET


class ClientError(Exception):
    """The agent cannot be reached or broke the protocol; the message is one line."""


class IpcClient:
    """One connection (one agent session); `call` sends a request and waits for its reply."""

    def __init__(self, path: str, *, timeout: float | None = None) -> None:
        self.path = path
        self._ids = itertools.count(1)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError as exc:
            self._sock.close()
            reason = exc.strerror or str(exc)
            raise ClientError(f"cannot connect to the agent at {path}: {reason}") from None
        self._stream = self._sock.makefile("rwb")

    def call(self, command: str, args: dict[str, Any] | list[str] | None = None) -> Any:
        """The result of `command`; the agent's error is raised as a FlyosError."""
        request_id = next(self._ids)
        message = {"id": request_id, "command": command, "args": args or {}}
        try:
            self._stream.write(json.dumps(message).encode() + b"\n")
            self._stream.flush()
            line = self._stream.readline()
        except OSError as exc:
            raise ClientError(f"connection to the agent lost: {exc}") from None
        if not line:
            raise ClientError("the agent closed the connection")
        try:
            reply = json.loads(line)
        except ValueError:
            raise ClientError("the agent sent a reply that is not JSON") from None
        if not isinstance(reply, dict) or reply.get("id") != request_id:
            raise ClientError("the agent's reply does not match the request")
        if not reply.get("ok"):
            error: FlyosError = error_from_dict(reply.get("error") or {})
            raise error
        return reply.get("result")

    def close(self) -> None:
        """End the connection (and so the agent session)."""
        self._stream.close()
        self._sock.close()

    def __enter__(self) -> IpcClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
