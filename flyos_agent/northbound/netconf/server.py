"""NETCONF over SSH (RFC 6242) on asyncssh: host key, authentication, channels.

Users authenticate with their password (checked against the scrypt hash in
the config, in a worker thread) or with one of their `ssh_keys`. Nothing but
the `netconf` subsystem is served: no shell, exec, pty, forwarding or agent.
The host key (ed25519) is generated into the state dir on first start, mode
0600, and reused after.

Limits (config keys): `login_timeout` seconds to authenticate; failed
passwords back off per (source, user) (`login_backoff_after`,
`login_backoff_max`; a refused attempt gets the reason as an SSH auth
banner); at most `netconf_max_sessions` SSH connections and as many NETCONF
sessions at once: a connection beyond is disconnected (too-many-connections)
once its key exchange is done, or by the login timeout, and a session channel
beyond is refused (resource-shortage), both saying why.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import asyncssh

from flyos_agent.config import AgentConfig, Listen, User
from flyos_agent.northbound.backoff import LoginBackoff, LoginThrottled
from flyos_agent.northbound.netconf import (  # noqa: F401 - importing registers the handlers
    ops_commit,
    ops_config,
    ops_data,
    ops_flyos,
    ops_session,
)
from flyos_agent.northbound.netconf.library import Library
from flyos_agent.northbound.netconf.notifications import NotificationHub
from flyos_agent.northbound.netconf.session import CHANNEL, NetconfSession, Options, ServerState
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.runtime.audit import auth_failed
from flyos_agent.runtime.manager import Manager

log = logging.getLogger(__name__)

HOST_KEY_NAME = "ssh_host_ed25519_key"
SUBSYSTEM = "netconf"
SHUTDOWN_GRACE_SECONDS = 10.0


def load_host_key(state_dir: Path) -> asyncssh.SSHKey:
    """The server's host key from `state_dir`, generated (mode 0600) if missing."""
    path = state_dir / HOST_KEY_NAME
    try:
        return asyncssh.read_private_key(path)
    except FileNotFoundError:
        pass
    key = asyncssh.generate_private_key("ssh-ed25519", comment="flyos-agent")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    log.info("generated SSH host key %s", path)
    return key


class _Channel(asyncssh.SSHServerSession[bytes]):
    """One SSH session channel: accepts the netconf subsystem and nothing else."""

    def __init__(self, server: NetconfServer, user: User, peer: str) -> None:
        self._server = server
        self._user = user
        self._peer = peer
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._netconf: NetconfSession | None = None
        self._counted = True  # one of the server's `channels` until connection_lost
        server.channels += 1

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def subsystem_requested(self, subsystem: str) -> bool:
        return subsystem == SUBSYSTEM

    def session_started(self) -> None:
        assert self._chan is not None
        self._netconf = NetconfSession(
            self._server.state,
            _ChannelTransport(self._chan),
            self._user.name,
            self._user.group,
            self._peer,
        )
        self._server.track(self._netconf.start())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._netconf is not None:
            self._netconf.data_received(data)

    def eof_received(self) -> bool:
        if self._netconf is not None:
            self._netconf.eof_received()
        return False

    def pause_writing(self) -> None:
        if self._netconf is not None:
            self._netconf.pause_writing()

    def resume_writing(self) -> None:
        if self._netconf is not None:
            self._netconf.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._server.channels -= 1
        if self._netconf is not None:
            self._server.track(self._netconf.closed())


class _ChannelTransport:
    """The session's Transport over an SSH channel."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def write(self, data: bytes) -> None:
        if not self._chan.is_closing():
            self._chan.write(data)

    def close(self) -> None:
        self._chan.close()

    def pause_reading(self) -> None:
        self._chan.pause_reading()

    def resume_reading(self) -> None:
        self._chan.resume_reading()


class _SSHServer(asyncssh.SSHServer):
    """Authentication against the [[user]] tables of the config."""

    def __init__(self, server: NetconfServer) -> None:
        self._server = server
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = "-"
        self._counted = False
        self._refusal: str | None = None  # over the connection cap: why, said at begin_auth

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self._peer = str(peer[0]) if peer else "-"
        limit = self._server.config.netconf_max_sessions
        if self._server.connections >= limit:
            self._refusal = f"too many NETCONF connections (limit {limit})"
            return
        self._server.connections += 1
        self._counted = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._server.connections -= 1

    def begin_auth(self, username: str) -> bool:
        if self._refusal is not None and self._conn is not None:
            # said after the key exchange, so the client can read it (and not a reset)
            log.warning("netconf: refused a connection from %s: %s", self._peer, self._refusal)
            self._conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, self._refusal)
            return True
        user = self._server.config.user(username)
        if user is not None and user.ssh_keys and self._conn is not None:
            try:
                keys = asyncssh.import_authorized_keys("\n".join(user.ssh_keys) + "\n")
            except (ValueError, asyncssh.KeyImportError) as exc:
                log.warning("ssh_keys of user '%s' do not parse: %s", username, exc)
            else:
                self._conn.set_authorized_keys(keys)
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        backoff = self._server.backoff
        try:
            backoff.check(self._peer, username)
        except LoginThrottled as refused:
            auth_failed(username, CHANNEL, self._peer, "backing off")
            if self._conn is not None:
                self._conn.send_auth_banner(f"{refused.message}\n")
            return False
        user = await asyncio.to_thread(self._server.config.authenticate, username, password)
        if user is None:
            backoff.failed(self._peer, username)
            auth_failed(username, CHANNEL, self._peer, "wrong password")
            return False
        backoff.succeeded(self._peer, username)
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def session_requested(self) -> asyncssh.SSHServerSession[bytes] | bool:
        assert self._conn is not None
        user = self._server.config.user(self._conn.get_extra_info("username"))
        if user is None:
            return False
        limit = self._server.config.netconf_max_sessions
        if self._server.channels >= limit:
            reason = f"too many NETCONF sessions (limit {limit})"
            log.warning(
                "netconf: refused a session of %s from %s: %s", user.name, self._peer, reason
            )
            raise asyncssh.ChannelOpenError(asyncssh.OPEN_RESOURCE_SHORTAGE, reason)
        return _Channel(self._server, user, self._peer)


class NetconfServer:
    """The NETCONF/SSH listener of the agent."""

    def __init__(
        self, manager: Manager, config: AgentConfig, options: Options | None = None
    ) -> None:
        self.config = config
        asyncssh.set_log_level(logging.WARNING)  # not a line per connection and channel
        codec = XmlCodec(manager.schema)
        hub = NotificationHub(codec, asyncio.get_running_loop())
        options = options or Options(
            max_message=config.netconf_max_message_bytes, max_depth=config.max_nesting_depth
        )
        self.state = ServerState(manager, codec, Library(manager.schema), hub, options)
        self.backoff = LoginBackoff(config.login_backoff_after, config.login_backoff_max)
        self.connections = 0  # SSH connections open, authenticated or not
        self.channels = 0  # session channels open (each a NETCONF session)
        manager.subscribe(hub.on_commit)
        manager.subscribe_events(hub.on_event)
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, listen: Listen) -> None:
        """Listen on `listen`; OSError if the address cannot be bound."""
        key = await asyncio.to_thread(load_host_key, self.config.state_dir)
        self._acceptor = await asyncssh.create_server(
            lambda: _SSHServer(self),
            listen.host,
            listen.port,
            server_host_keys=[key],
            encoding=None,
            login_timeout=self.config.login_timeout,
            allow_pty=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            keepalive_interval=60,
        )

    @property
    def address(self) -> Listen:
        """Where the server listens (with the real port when 0 was asked for)."""
        assert self._acceptor is not None
        host, port = self._acceptor.sockets[0].getsockname()[:2]
        return Listen(str(host), int(port))

    def track(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a session's start/close coroutine as a task the server waits for."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("netconf session task failed", exc_info=task.exception())

    async def close(self) -> None:
        """Stop listening, end every session (closing its Manager session) and wait."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        for session in list(self.state.sessions.values()):
            session.terminate()
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE_SECONDS
        while self._tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
        for session in list(self.state.sessions.values()):
            await session.closed()
