"""`flyos-agent`: load the config, check the state dir, start the Manager and the channels.

Start-up refuses with one clear line (exit status 1, no traceback) on a bad
config, an untrusted state dir, or a socket path a live agent answers on.
When ready it logs exactly one `flyos-agent ready: ...` line; SIGTERM/SIGINT
stop accepting, close every session, close the Manager, remove the socket and
exit 0. `flyos-agent hash-password` reads a password on stdin and prints its
hash for a `[[user]]` table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import getpass
import json
import logging
import logging.handlers
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flyos_agent.backends.base import Backend, NoneBackend
from flyos_agent.backends.composite import CompositeBackend
from flyos_agent.backends.linux.backend import LinuxBackend
from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.config import BACKENDS, LOG_LEVELS, AgentConfig, ConfigError, hash_password
from flyos_agent.config import load_config as read_config
from flyos_agent.datastore.journal import Journal, JournalError
from flyos_agent.errors import FlyosError
from flyos_agent.northbound.ipc import IpcServer, SocketInUse, bind_socket
from flyos_agent.northbound.netconf import NetconfServer
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema, load_schema

if TYPE_CHECKING:
    from flyos_agent.northbound.rest import RestServer

log = logging.getLogger("flyos.agent")

AUDIT_LOGGER = "flyos.audit"
NETNS_DIR = Path("/var/run/netns")
LOCK_NAME = "agent.lock"


class StartupError(Exception):
    """The agent cannot start; the message is the one line to print."""


def _quiet_forked_child() -> None:
    """In a child forked by a library (pyroute2 opens namespace sockets that way):
    drop the event loop's signal wakeup fd and take the default stop actions, so
    a SIGTERM sent to the child never reaches the agent's own loop."""
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flyos-agent` console script; returns the exit status."""
    os.register_at_fork(after_in_child=_quiet_forked_child)
    args = _parser().parse_args(argv)
    if args.subcommand == "hash-password":
        return _hash_password(sys.stdin)
    overrides = {
        "state_dir": args.state_dir,
        "netns": args.netns,
        "ipc_socket": args.ipc_socket,
        "netconf_listen": args.netconf_listen,
        "rest_listen": args.rest_listen,
        "backend": args.backend,
        "log_level": args.log_level,
    }
    try:
        config = read_config(args.config, overrides)
        setup_logging(config.log_level)
        run(config)
    except (ConfigError, StartupError, SocketInUse, JournalError, FlyosError) as exc:
        print(f"flyos-agent: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flyos-agent", description="The FlyOS management agent.")
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration file")
    parser.add_argument("--state-dir", metavar="DIR", help="journal and keys (0700, ours)")
    parser.add_argument("--netns", metavar="NAME", help="network namespace for kernel work")
    parser.add_argument("--ipc-socket", metavar="PATH", help="default /run/flyos/agent.sock")
    parser.add_argument("--netconf-listen", metavar="HOST:PORT|off", help="NETCONF over SSH")
    parser.add_argument("--rest-listen", metavar="HOST:PORT|off", help="REST, RESTCONF, MCP")
    parser.add_argument("--backend", choices=BACKENDS, help="kernel backend")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="default info")
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    commands.add_parser("hash-password", help="hash a password read on stdin, for [[user]]")
    return parser


def _hash_password(stdin: IO[str]) -> int:
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("flyos-agent: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        print("flyos-agent: empty password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


# ---------------------------------------------------------------------- logging


class LogFormatter(logging.Formatter):
    """Plain lines on stderr; records of the `flyos.audit` logger as one JSON object
    each, with the event's keys (runtime.audit) as members."""

    def format(self, record: logging.LogRecord) -> str:
        """One line (plus a traceback for logged exceptions)."""
        message = record.getMessage()
        if record.name == AUDIT_LOGGER or record.name.startswith(AUDIT_LOGGER + "."):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            line = {
                "time": f"{stamp}.{int(record.msecs):03d}Z",
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": message,
            }
            fields = getattr(record, "audit", None)  # runtime.audit: the line's keys
            if isinstance(fields, dict):
                line.update({k: v for k, v in fields.items() if k not in line})
            return json.dumps(line, ensure_ascii=False, default=str)
        if record.levelno != logging.INFO:
            message = f"{record.levelname.lower()}: {record.name}: {message}"
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return message


def setup_logging(level: str) -> None:
    """Send every log record to stderr through LogFormatter at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


@contextlib.contextmanager
def _audit_only_on_success() -> Iterator[None]:
    """Hold log records back; if the block fails, drop its audit records so the
    refusal stays one line (the sessions it opened did nothing)."""
    root = logging.getLogger()
    outputs = list(root.handlers)
    held = logging.handlers.BufferingHandler(capacity=10_000)
    root.handlers[:] = [held]
    failed = True
    try:
        yield
        failed = False
    finally:
        root.handlers[:] = outputs
        for record in held.buffer:
            if not (failed and record.name == AUDIT_LOGGER):
                for output in outputs:
                    output.handle(record)


# ---------------------------------------------------------------------- start-up


def run(config: AgentConfig) -> None:
    """Run the agent until SIGTERM/SIGINT; StartupError & co. if it cannot start."""
    backend_name = config.backend
    if config.netns is not None and not (NETNS_DIR / config.netns).exists():
        raise StartupError(
            f"network namespace '{config.netns}' does not exist (no {NETNS_DIR / config.netns})"
        )
    state_dir = trusted_state_dir(config.state_dir)
    startup = _read_startup_config(config.startup_config)
    with _exclusive(state_dir), _listening(config) as sock:
        schema = load_schema()
        journal = Journal(state_dir / "flyos.db", schema, keep=config.history_keep)
        try:
            backend = _backend(backend_name, schema, config.netns)
            manager = Manager(schema, journal, backend, confirm_timeout=config.confirm_timeout)
        except BaseException:
            journal.close()
            raise
        try:
            if backend_name == "linux":
                _reconcile_at_startup(manager)  # the kernel first matches running,
            manager.start()  # so that a pending confirmed commit reverts cleanly
            if startup is not None:
                with _audit_only_on_success():
                    _load_startup_config(manager, config.startup_config, startup)
            if config.boot_from == "startup":
                _boot_from_startup(manager)
            _watch_drift(manager, config.drift_check_interval)
            asyncio.run(_serve(manager, config, sock))
        finally:
            manager.close()


def trusted_state_dir(path: Path) -> Path:
    """`path`, created 0700 if missing; StartupError unless it is a directory owned
    by this uid that nobody else can write (and so is its journal)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"state dir {path} is not a directory") from None
    except OSError as exc:
        raise StartupError(f"cannot create state dir {path}: {exc.strerror}") from None
    for item in (path, path / "flyos.db"):
        try:
            info = item.stat()
        except FileNotFoundError:
            continue
        if item is path and not stat.S_ISDIR(info.st_mode):
            raise StartupError(f"state dir {path} is not a directory")
        if info.st_uid != os.geteuid():
            raise StartupError(
                f"refusing to trust {item}: owned by uid {info.st_uid}, "
                f"not by the agent (uid {os.geteuid()})"
            )
        if info.st_mode & 0o022:
            raise StartupError(
                f"refusing to trust {item}: group/world-writable "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); chmod go-w {item}"
            )
    return path


@contextlib.contextmanager
def _exclusive(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the state dir: one agent per journal."""
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(f"state dir {state_dir} is in use by another flyos-agent") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _listening(config: AgentConfig) -> Iterator[socket.socket]:
    """The bound IPC socket; the socket file is removed on the way out."""
    path = config.ipc_socket
    try:
        sock = bind_socket(path, config.ipc_group)
    except OSError as exc:
        raise StartupError(f"cannot create the IPC socket {path}: {exc}") from None
    inode = path.stat().st_ino
    try:
        yield sock
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == inode:
                path.unlink()


def _backend(name: str, schema: Schema, netns: str | None) -> Backend:
    if name == "memory":
        return MemoryBackend(schema)
    if name == "linux":
        parts = [LinuxBackend(schema, netns), NftBackend(schema, netns)]
        return CompositeBackend(schema, parts, "linux")
    return NoneBackend()


def _reconcile_at_startup(manager: Manager) -> None:
    """Converge the kernel to running before serving (links, addresses and routes
    deleted behind the agent's back come back, stale owned objects go; foreign
    ones stay)."""
    session = manager.open_session("flyos-agent", "startup", "admin")
    try:
        report = manager.reconcile(session, apply=True)
    except FlyosError as exc:
        raise StartupError(f"start-up reconcile failed: {exc}") from None
    finally:
        manager.close_session(session)
    log.info("start-up reconcile: %s", report)


def _watch_drift(manager: Manager, interval: int | None) -> None:
    """Detect kernel drift while serving (kernel events, and every `interval` seconds):
    kept in the Linux backend's operational state and announced as 'drift-change'."""
    backend = manager.backend
    parts = backend.parts if isinstance(backend, CompositeBackend) else [backend]
    linux = next((part for part in parts if isinstance(part, LinuxBackend)), None)
    if linux is None or interval is None:
        return
    linux.watch_drift(
        manager.run_locked,
        interval,
        lambda event: manager.emit("drift-change", event),
        current=lambda: manager.stores.running,
    )
    manager.subscribe(lambda _event: linux.committed())


def _read_startup_config(path: Path | None) -> dict[str, object] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StartupError(f"startup_config {path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise StartupError(f"startup_config {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise StartupError(f"startup_config {path}: expected an RFC 7951 JSON object")
    return data


def _load_startup_config(manager: Manager, path: Path | None, data: dict[str, object]) -> None:
    """Commit `data` as the first configuration when the journal is empty."""
    session = manager.open_session("flyos-agent", "startup", "admin")
    try:
        if manager.history(session, 1):
            return
        result = manager.copy(session, f"startup_config {path}", "running", config=data)
    except FlyosError as exc:
        raise StartupError(f"startup_config {path}: {exc}") from None
    finally:
        manager.close_session(session)
    commit_id = result.commit_id if result is not None else None
    log.info("loaded startup_config %s as commit %s", path, commit_id)


def _boot_from_startup(manager: Manager) -> None:
    """NETCONF :startup semantics on request: running becomes the startup datastore.

    By default the journal is authoritative (running survives restarts as
    last committed); with `boot_from = "startup"` the saved startup
    configuration is committed over it, as an ordinary transaction.
    """
    if manager.stores.startup is None:
        log.warning("boot_from = startup, but the startup datastore is empty: keeping running")
        return
    session = manager.open_session("flyos-agent", "startup", "admin")
    try:
        result = manager.copy(session, "startup", "running")
    except FlyosError as exc:
        raise StartupError(f"cannot load the startup datastore into running: {exc}") from None
    finally:
        manager.close_session(session)
    log.info("booted from startup as commit %s", result.commit_id if result else "(no change)")


async def _serve(manager: Manager, config: AgentConfig, sock: socket.socket) -> None:
    server = IpcServer(manager, config, sock)
    await server.start()
    netconf = await _start_netconf(manager, config)
    rest = await _start_rest(manager, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("flyos-agent ready: %s", _ready_fields(manager, config, netconf, rest))
    await stop.wait()
    log.info("flyos-agent stopping")
    if rest is not None:
        await rest.close()
    if netconf is not None:
        await netconf.close()
    await server.close()


async def _start_netconf(manager: Manager, config: AgentConfig) -> NetconfServer | None:
    """The NETCONF/SSH server on config.netconf_listen, or None when it is off."""
    if config.netconf_listen is None:
        return None
    netconf = NetconfServer(manager, config)
    try:
        await netconf.start(config.netconf_listen)
    except OSError as exc:
        raise StartupError(
            f"cannot listen for NETCONF on {config.netconf_listen}: {exc.strerror or exc}"
        ) from None
    return netconf


async def _start_rest(manager: Manager, config: AgentConfig) -> RestServer | None:
    """The REST/RESTCONF listener (with MCP at /mcp) on config.rest_listen, or None when off."""
    if config.rest_listen is None:
        return None
    # the web stack (and the MCP SDK) is imported only when a REST listener is wanted
    from flyos_agent.northbound.mcp import McpHttpApp
    from flyos_agent.northbound.rest import RestListenError, RestServer

    rest = RestServer(manager, config)
    mcp = McpHttpApp(manager, config)
    rest.mount_asgi("/mcp", mcp, lifespan=mcp.lifespan)
    try:
        await rest.start()
    except RestListenError as exc:
        raise StartupError(str(exc)) from None
    return rest


def _ready_fields(
    manager: Manager,
    config: AgentConfig,
    netconf: NetconfServer | None,
    rest: RestServer | None,
) -> str:
    return (
        f"ipc={config.ipc_socket} backend={config.backend} "
        f"last-commit={manager.stores.version} state-dir={config.state_dir} "
        f"netns={config.netns or '-'} netconf={netconf.address if netconf else 'off'} "
        f"rest={rest.address if rest else 'off'} pid={os.getpid()}"
    )
