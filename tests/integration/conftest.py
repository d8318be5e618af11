"""Fixtures: real `flyos-agent` processes (the console script in the venv) and raw clients."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
AGENT_BIN = BIN / "flyos-agent"
CLI_BIN = BIN / "flyos"
REPO = Path(__file__).resolve().parents[2]
READY = "flyos-agent ready:"


class Client:
    """A raw IPC connection speaking newline-delimited JSON."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.stream = self.sock.makefile("rb")
        self._next = 0

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self) -> dict[str, Any] | None:
        """The next reply, or None when the agent closed the connection."""
        line = self.stream.readline()
        return json.loads(line) if line else None

    def send(self, command: str, args: Any = None, request_id: Any = None) -> Any:
        if request_id is None:
            self._next += 1
            request_id = self._next
        message: dict[str, Any] = {"id": request_id, "command": command}
        if args is not None:
            message["args"] = args
        self.send_raw(json.dumps(message).encode() + b"\n")
        return request_id

    def call(self, command: str, args: Any = None) -> dict[str, Any]:
        request_id = self.send(command, args)
        reply = self.recv()
        assert reply is not None, f"connection closed while waiting for '{command}'"
        assert reply["id"] == request_id
        return reply

    def ok(self, command: str, args: Any = None) -> Any:
        reply = self.call(command, args)
        assert reply["ok"], f"{command} failed: {reply['error']}"
        return reply["result"]

    def error(self, command: str, args: Any = None) -> dict[str, Any]:
        reply = self.call(command, args)
        assert not reply["ok"], f"{command} unexpectedly succeeded: {reply['result']}"
        error: dict[str, Any] = reply["error"]
        return error

    def routes(self, source: str = "running") -> dict[str, dict[str, Any]]:
        """The static routes of `source`, by prefix."""
        config = self.ok("get-config", {"source": source, "path": "/routing"})
        entries = config.get("flyos-routing:routing", {}).get("static", [])
        return {entry["prefix"]: entry for entry in entries}

    def close(self) -> None:
        self.stream.close()
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Agent:
    """One `flyos-agent` process with its state dir and socket; restartable."""

    def __init__(self, state_dir: Path, sock: Path, *extra: str, config: Path | None = None):
        self.state_dir = state_dir
        self.socket = sock
        self.args = [
            str(AGENT_BIN),
            "--state-dir",
            str(state_dir),
            "--ipc-socket",
            str(sock),
            "--backend",
            "none",
            "--netconf-listen",
            "off",
            "--rest-listen",
            "off",
            *extra,
        ]
        if config is not None:
            self.args += ["--config", str(config)]
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 15.0) -> Agent:
        self.lines = []
        self._ready.clear()
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if not self._ready.wait(timeout):
            self.kill()
            raise AssertionError("agent did not become ready:\n" + "\n".join(self.lines))
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                self._ready.set()

    @property
    def ready_line(self) -> str:
        return next(line for line in self.lines if line.startswith(READY))

    def client(self) -> Client:
        return Client(self.socket)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signum)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _run_agent(
    *args: str, stdin: str | None = None, timeout: float = 20.0
) -> subprocess.CompletedProcess[str]:
    """Run `flyos-agent` to completion (for start-up refusals and subcommands)."""
    return subprocess.run(
        [str(AGENT_BIN), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        input=stdin if stdin is not None else "",
    )


def _run_cli(sock: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `flyos` client against `sock`."""
    return subprocess.run(
        [str(CLI_BIN), "--socket", str(sock), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
        input=stdin,
    )


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A world-traversable directory with a short path (AF_UNIX paths are short)."""
    path = Path(tempfile.mkdtemp(prefix="fly-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_agent(tmp_path: Path, short_dir: Path) -> Iterator[Any]:
    """Build (not start) agents in this test's tmp dirs; all are killed at the end."""
    agents: list[Agent] = []

    def make(*extra: str, name: str = "a", config: Path | None = None) -> Agent:
        agent = Agent(tmp_path / f"state-{name}", short_dir / f"{name}.sock", *extra, config=config)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.kill()


@pytest.fixture
def agent(make_agent: Any) -> Agent:
    """A running agent with the `none` backend."""
    started: Agent = make_agent().start()
    return started


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """One running agent for a whole test module (tests leave no locks or pending commits)."""
    base = Path(tempfile.mkdtemp(prefix="fly-"))
    agent = Agent(tmp_path_factory.mktemp("state"), base / "agent.sock").start()
    yield agent
    if agent.running:
        assert agent.stop() == 0
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def client(shared_agent: Agent) -> Iterator[Client]:
    """A connection (an admin session: the tests run as root) to the shared agent."""
    with shared_agent.client() as connection:
        yield connection


def _wait_for(predicate: Any, timeout: float = 5.0) -> None:
    """Poll `predicate` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def run_agent() -> Any:
    """`run_agent(*args)`: run flyos-agent to completion (refusals, subcommands)."""
    return _run_agent


@pytest.fixture
def run_cli() -> Any:
    """`run_cli(socket, *args, stdin=None)`: run the flyos client."""
    return _run_cli


@pytest.fixture
def wait_for() -> Any:
    """`wait_for(predicate, timeout=5)`: poll until true."""
    return _wait_for
