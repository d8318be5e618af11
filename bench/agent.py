"""flyos-agent processes for the benchmarks: --backend linux in a namespace, serving NETCONF.

An `AgentBox` is one namespace (with port eth0) and one agent doing its
kernel work there, reached over NETCONF with a password user. Its first
configuration (eth0 with 192.0.2.2/24) comes from `startup_config`, as on a
real box; the benchmark routes then come over NETCONF. It can be stopped
and started again on the same state dir (the kernel keeps its routes in
between), and tells how long a start takes until a NETCONF client has the
server's hello. The agent runs through bench.agent_main (flyos-agent's own
main; see there why) with a bytecode cache under /tmp (PYTHONPYCACHEPREFIX):
this sandbox sets PYTHONDONTWRITEBYTECODE, and an installed agent has its
.pyc files, so a start should not include compiling every module.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType

from bench.common import route_config, rss_mb
from bench.netns import Namespace
from bench.payloads import COMMIT, edit_candidate, routes_xml
from flyos_agent.config import hash_password
from flyos_agent.northbound.netconf.client import NetconfClient

USER, PASSWORD = "bench", "bench-password"
READY = "flyos-agent ready:"
MAX_MESSAGE = 256 * 1024 * 1024
START_TIMEOUT = 120.0
PYCACHE = Path(tempfile.gettempdir()) / "fbench-pycache"
REPO = Path(__file__).resolve().parents[1]


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _agent_environment() -> dict[str, str]:
    """This environment, with bytecode written to (and read from) PYCACHE."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


class RpcError(RuntimeError):
    """The agent answered an RPC with <rpc-error>."""


async def rpc_ok(client: NetconfClient, operation: str) -> bytes:
    """Send `operation`; its reply, RpcError if the reply carries an rpc-error."""
    reply = await client.rpc(operation)
    if b"<rpc-error" in reply:
        raise RpcError(reply.decode(errors="replace")[:2000])
    return reply


class AgentBox:
    """A namespace with port eth0 and a flyos-agent (--backend linux) working in it."""

    def __init__(self) -> None:
        self.ns = Namespace(port=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="fbench-")
        self.base = Path(self._tmp.name)
        self.port = free_port()
        startup = self.base / "startup.json"
        startup.write_text(json.dumps(route_config(0)))
        self.config = self.base / "agent.toml"
        self.config.write_text(
            f'[agent]\nstartup_config = "{startup}"\n'
            f"netconf_max_message_bytes = {MAX_MESSAGE}\n\n"
            f'[[user]]\nname = "{USER}"\npassword_hash = "{_password_hash()}"\ngroup = "admin"\n'
        )
        self.proc: subprocess.Popen[str] | None = None
        self.lines: deque[str] = deque(maxlen=200)
        self.ready_seconds = 0.0

    @property
    def pid(self) -> int:
        """The agent's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self, *, profile: Path | None = None) -> float:
        """Start the agent; seconds until a NETCONF client got its hello.

        With `profile`, the agent runs under cProfile (its main thread: imports,
        journal load, reconcile, listeners) and writes the stats there when stopped.
        """
        self.lines.clear()
        profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
        args = [
            sys.executable,
            *profiler,
            "-m",
            "bench.agent_main",
            "--config",
            str(self.config),
            "--state-dir",
            str(self.base / "state"),
            "--ipc-socket",
            str(self.base / "agent.sock"),
            "--backend",
            "linux",
            "--netns",
            self.ns.name,
            "--netconf-listen",
            f"127.0.0.1:{self.port}",
            "--rest-listen",
            "off",
        ]
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=_agent_environment(),
        )
        threading.Thread(target=self._read_log, args=(self.proc, start), daemon=True).start()
        asyncio.run(self._first_hello())
        return time.perf_counter() - start

    def _read_log(self, proc: subprocess.Popen[str], start: float) -> None:
        """Keep the agent's last log lines; note when it logged its ready line."""
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                self.ready_seconds = time.perf_counter() - start

    async def _first_hello(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("flyos-agent exited:\n" + "\n".join(self.lines))
            try:
                client = await self.connect()
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("flyos-agent did not serve NETCONF in time") from None
                await asyncio.sleep(0.005)
                continue
            await client.close()
            return

    async def connect(self) -> NetconfClient:
        """A NETCONF session as the benchmark user (hello exchanged)."""
        return await NetconfClient.connect(
            "127.0.0.1", self.port, USER, password=PASSWORD, max_message=MAX_MESSAGE
        )

    async def commit_xml(self, client: NetconfClient, config_xml: str) -> tuple[float, float]:
        """Edit `config_xml` into the candidate and commit: (edit seconds, commit seconds)."""
        try:
            start = time.perf_counter()
            await rpc_ok(client, edit_candidate(config_xml))
            edited = time.perf_counter()
            await rpc_ok(client, COMMIT)
            return edited - start, time.perf_counter() - edited
        except ConnectionError as exc:
            tail = "\n".join(list(self.lines)[-20:])
            raise RuntimeError(f"{exc}; the agent's last log lines:\n{tail}") from exc

    def load_routes(self, count: int) -> tuple[float, float]:
        """Commit the first `count` benchmark routes: (edit seconds, commit seconds)."""

        async def run() -> tuple[float, float]:
            client = await self.connect()
            try:
                return await self.commit_xml(client, routes_xml(count))
            finally:
                await client.close()

        return asyncio.run(run())

    def rss_mb(self) -> float:
        """The agent's resident set size now, in MB."""
        return rss_mb(self.pid)

    def stop(self) -> None:
        """SIGTERM the agent and wait for it (the kernel keeps what it installed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        """Stop the agent, remove its namespace and state."""
        self.stop()
        self.ns.delete()
        self._tmp.cleanup()

    def __enter__(self) -> AgentBox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
