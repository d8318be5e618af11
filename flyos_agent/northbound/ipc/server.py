"""The asyncio Unix-socket server: one Manager session per connection.

The peer's credentials (SO_PEERCRED) pick the session: root and members of the
IPC group get an admin session under their own user name; anyone else must
`login` as a configured user first. Requests on one connection are answered in
order; each runs in a worker thread so a slow commit never blocks other
clients. When a connection ends, for any reason, its session is closed: its
locks are released and its unconfirmed confirmed commit is reverted.

Limits (config keys): `ipc_max_connections` connections at once (one beyond
gets a resource-denied reply and is closed); a peer that must log in has
`login_timeout` seconds to do so; failed logins back off per (uid, user)
(`login_backoff_after`, `login_backoff_max`) and three on one connection
close it; request lines are capped at `max_message_bytes` and nested at most
`max_nesting_depth` deep.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import pwd
import socket
import stat
import struct
from pathlib import Path

from flyos_agent.config import AgentConfig
from flyos_agent.errors import AccessDenied, FlyosError, OperationFailed, ResourceDenied, TooBig
from flyos_agent.northbound.backoff import LoginBackoff
from flyos_agent.northbound.ipc.handlers import CHANNEL, Context, Peer, dispatch
from flyos_agent.northbound.ipc.protocol import BadRequest, error_reply, ok_reply, parse_request
from flyos_agent.runtime.manager import Manager

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 3
SHUTDOWN_GRACE_SECONDS = 10.0
_UCRED = struct.Struct("3i")


class SocketInUse(Exception):
    """The socket path cannot be used: a live agent answers there, or it is not a socket."""


def bind_socket(path: Path, group: str) -> socket.socket:
    """A listening Unix socket at `path`: mode 0660 root:<group>, or 0600 without the group.

    A stale socket file (nobody answers a connect) is replaced; a live one
    raises SocketInUse. The parent directory is created if missing.
    """
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise SocketInUse(f"{path} exists and is not a socket")
        if _answers(path):
            raise SocketInUse(f"another flyos-agent is already serving on {path}")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise SocketInUse(f"cannot bind {path}: {exc.strerror}") from None
    finally:
        os.umask(umask)
    gid = _group_id(group)
    if gid is not None:
        os.chown(path, -1, gid)
        os.chmod(path, 0o660)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError as exc:
        raise SocketInUse(f"cannot check whether {path} is in use: {exc}") from None
    finally:
        probe.close()
    return True


def _group_id(group: str) -> int | None:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def peer_of(sock: socket.socket, group: str) -> Peer:
    """Who is connected on `sock`, and whether they get an admin session without login."""
    pid, uid, gid = _UCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    )
    try:
        entry = pwd.getpwuid(uid)
        name, groups = entry.pw_name, {gid, *os.getgrouplist(entry.pw_name, entry.pw_gid)}
    except KeyError:
        name, groups = f"uid-{uid}", {gid}
    group_id = _group_id(group)
    trusted = uid == 0 or (group_id is not None and group_id in groups)
    return Peer(pid=pid, uid=uid, name=name, trusted=trusted)


class IpcServer:
    """Serves the IPC protocol on an already bound socket until `close()`."""

    def __init__(self, manager: Manager, config: AgentConfig, sock: socket.socket) -> None:
        self.manager = manager
        self.config = config
        self.sock = sock
        self._server: asyncio.Server | None = None
        self._closing = False
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._backoff = LoginBackoff(config.login_backoff_after, config.login_backoff_max)

    async def start(self) -> None:
        """Start accepting connections."""
        self._server = await asyncio.start_unix_server(
            self._serve, sock=self.sock, limit=self.config.max_message_bytes
        )

    async def close(self) -> None:
        """Stop accepting, end every connection (closing its session) and wait for them."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for writer in self._connections.values():
            writer.transport.abort()
        if self._connections:
            _, late = await asyncio.wait(list(self._connections), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in late:
                log.warning("an IPC request is still running at shutdown; abandoning it")
                task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing:
            writer.transport.abort()
            return
        limit = self.config.ipc_max_connections
        if len(self._connections) >= limit:
            error = ResourceDenied(f"too many IPC connections (limit {limit}); try again later")
            log.warning("refused an IPC connection: %s", error)
            with contextlib.suppress(OSError):
                await _refuse(writer, error)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        ctx: Context | None = None
        try:
            peer = peer_of(writer.get_extra_info("socket"), self.config.ipc_group)
            ctx = Context(self.manager, self.config, peer, self._backoff)
            if peer.trusted:
                ctx.session = await asyncio.to_thread(
                    self.manager.open_session, peer.name, CHANNEL, "admin"
                )
            await self._converse(ctx, reader, writer)
        except OSError as exc:
            log.debug("IPC connection ended: %s", exc)
        finally:
            del self._connections[task]
            if ctx is not None and ctx.session is not None:
                await asyncio.to_thread(self.manager.close_session, ctx.session)
            writer.close()

    async def _converse(
        self, ctx: Context, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        login_deadline = loop.time() + self.config.login_timeout
        while True:
            wait = None if ctx.session is not None else max(0.0, login_deadline - loop.time())
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), wait)
            except TimeoutError:
                timeout = self.config.login_timeout
                log.info("closing IPC connection of %s: no login in time", ctx.peer.name)
                late = AccessDenied(f"no login within {timeout} s; closing the connection")
                await _refuse(writer, late)
                return
            except asyncio.IncompleteReadError:
                return
            except asyncio.LimitOverrunError:
                limit = self.config.max_message_bytes
                big = TooBig(f"message larger than {limit} bytes; closing the connection")
                await _refuse(writer, big)
                return
            if not line.strip():
                continue
            writer.write(await self._answer(ctx, line))
            await writer.drain()
            if ctx.failed_logins >= MAX_FAILED_LOGINS:
                log.warning("closing IPC connection of %s after failed logins", ctx.peer.name)
                return
            if ctx.session is not None and ctx.session.closed:
                return

    async def _answer(self, ctx: Context, line: bytes) -> bytes:
        try:
            request = parse_request(line, self.config.max_nesting_depth)
        except BadRequest as bad:
            return error_reply(bad.request_id, bad.error)
        try:
            return ok_reply(request.id, await asyncio.to_thread(dispatch, ctx, request))
        except FlyosError as error:
            return error_reply(request.id, error)
        except Exception as exc:
            log.exception("IPC command '%s' failed", request.command)
            summary = (str(exc).splitlines() or [type(exc).__name__])[0]
            return error_reply(request.id, OperationFailed(f"internal error: {summary}"))


async def _refuse(writer: asyncio.StreamWriter, error: FlyosError) -> None:
    """Send the one error reply a connection gets before it is closed."""
    writer.write(error_reply(None, error))
    await writer.drain()
