"""Helpers of the REST tests: start a real `flyos-agent` serving REST on a free port.

The agent runs `--backend none --netconf-listen off --rest-listen 127.0.0.1:<port>`
with a config that has admin, operator and viewer users (scrypt hashes made
by flyos_agent.config.hash_password).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from flyos_agent.config import hash_password

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]
READY = "flyos-agent ready:"
MAX_BODY = 1024 * 1024  # rest_max_body_bytes of the test agent
PASSWORDS = {"admin": "admin-secret", "operator": "operator-secret", "viewer": "viewer-secret"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(path: Path, extra: str = "") -> Path:
    """A config file with one user per group (and `extra` [agent] lines)."""
    lines = ["[agent]", extra, ""]
    for name, password in PASSWORDS.items():
        lines += [
            "[[user]]",
            f'name = "{name}"',
            f'password_hash = "{hash_password(password)}"',
            f'group = "{name}"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class RestAgent:
    """A running agent: its base URL, IPC socket and log lines."""

    base: str
    socket: Path
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def session(self, user: str | None = "admin") -> requests.Session:
        """An HTTP session with the Basic credentials of `user` (None: anonymous)."""
        session = requests.Session()
        if user is not None:
            session.auth = (user, PASSWORDS[user])
        return session

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `flyos` client against this agent."""
        command = [str(BIN / "flyos"), "--socket", str(self.socket), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def start_agent(workdir: Path, *extra: str, config_extra: str = "") -> RestAgent:
    """Start an agent in `workdir` and wait for its ready line."""
    port = free_port()
    config = write_config(workdir / "agent.toml", config_extra)
    command = [
        str(BIN / "flyos-agent"),
        "--config",
        str(config),
        "--state-dir",
        str(workdir / "state"),
        "--ipc-socket",
        str(workdir / "agent.sock"),
        "--backend",
        "none",
        "--netconf-listen",
        "off",
        "--rest-listen",
        f"127.0.0.1:{port}",
        *extra,
    ]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    scheme = "https" if "rest_tls_cert" in config_extra else "http"
    agent = RestAgent(f"{scheme}://127.0.0.1:{port}", workdir / "agent.sock", proc)
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            agent.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(30):
        proc.kill()
        raise AssertionError("agent did not become ready:\n" + "\n".join(agent.lines))
    return agent


def stop_agent(agent: RestAgent) -> int:
    """SIGTERM the agent and return its exit status."""
    agent.proc.terminate()
    try:
        return agent.proc.wait(20)
    except subprocess.TimeoutExpired:
        agent.proc.kill()
        agent.proc.wait(10)
        raise


def errors_of(response: requests.Response) -> list[dict[str, Any]]:
    """The entries of an RFC 8040 errors body."""
    assert response.headers["Content-Type"].startswith("application/yang-data+json")
    entries: list[dict[str, Any]] = response.json()["ietf-restconf:errors"]["error"]
    return entries
