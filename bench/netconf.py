"""NETCONF/SSH benchmarks: a real flyos-agent beside a bare SSH channel echo (the floor).

1. Latency: round trip of a small get-config (running holds 10 routes), one
   request at a time, vs echoing a message of the same size on a bare
   asyncssh channel.
2. Throughput, 1 session: time per request over a run of back-to-back requests.
3. Throughput, 20 concurrent sessions: wall time per request while 20
   sessions send back-to-back requests at once.

Both servers run as their own processes on this machine, and both are driven
by the same asyncssh client code (not ncclient, whose polling loop adds up to
100 ms per reply). Ratios are ours / floor: what NETCONF, XML and the Manager
add to one SSH round trip.

Run: .venv/bin/python -m bench netconf (scenario 6 of `python -m bench`)
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh

from bench.common import Figure, Scale, report, route_config
from flyos_agent.config import hash_password
from flyos_agent.northbound.netconf.client import NetconfClient
from flyos_agent.northbound.netconf.framing import EOM

USER, PASSWORD = "bench", "bench-password"
GET_CONFIG = "<get-config><source><running/></source></get-config>"
BATCHES = 5
READY = "flyos-agent ready:"

Request = Callable[[], Awaitable[Any]]


# ---------------------------------------------------------------------- the floor


class _Echo(asyncssh.SSHServerSession[bytes]):
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def subsystem_requested(self, subsystem: str) -> bool:
        return True

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self._chan.write(data)


class _EchoServer(asyncssh.SSHServer):
    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return password == PASSWORD

    def session_requested(self) -> asyncssh.SSHServerSession[bytes]:
        return _Echo()


async def _serve_echo(port: int) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    await asyncssh.create_server(
        _EchoServer, "127.0.0.1", port, server_host_keys=[key], encoding=None
    )
    print("echo ready", flush=True)
    await asyncio.Event().wait()


class EchoClient:
    """Sends a message and waits for the same bytes back, on a bare SSH channel."""

    def __init__(self, connection: asyncssh.SSHClientConnection, size: int) -> None:
        self.connection = connection
        self.payload = b"x" * max(1, size - len(EOM)) + EOM
        self.writer: asyncssh.SSHWriter[bytes] | None = None
        self.reader: asyncssh.SSHReader[bytes] | None = None

    @classmethod
    async def connect(cls, port: int, size: int) -> EchoClient:
        connection = await asyncssh.connect(
            "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None, agent_path=None
        )
        client = cls(connection, size)
        client.writer, client.reader, _ = await connection.open_session(
            subsystem="echo", encoding=None
        )
        return client

    async def request(self) -> None:
        assert self.writer is not None and self.reader is not None
        self.writer.write(self.payload)
        await self.reader.readuntil(EOM)

    async def close(self) -> None:
        self.connection.close()
        await self.connection.wait_closed()


# ---------------------------------------------------------------------- measuring


async def _latencies(request: Request, count: int) -> list[float]:
    for _ in range(50):
        await request()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        await request()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def _per_request(requests: list[Request], per_session: int) -> list[float]:
    """Wall time per request (ms) of each batch, all sessions sending at once."""

    async def run(request: Request) -> None:
        for _ in range(per_session):
            await request()

    out = []
    for _ in range(BATCHES):
        start = time.perf_counter()
        await asyncio.gather(*(run(r) for r in requests))
        out.append((time.perf_counter() - start) * 1000 / (per_session * len(requests)))
    return out


async def _measure(connect: Callable[[], Awaitable[Any]], scale: Scale) -> dict[str, list[float]]:
    clients = [await connect() for _ in range(scale.sessions)]
    batch = max(scale.rpc_requests // 5, 2)
    try:
        one = clients[0]
        return {
            "latency": await _latencies(one.request, scale.rpc_requests),
            "one": await _per_request([one.request], batch),
            "many": await _per_request([c.request for c in clients], max(batch // 10, 1)),
        }
    finally:
        for client in clients:
            await client.close()


class AgentClient:
    """A NetconfClient whose request is one small get-config."""

    def __init__(self, client: NetconfClient) -> None:
        self.client = client
        self.reply_size = 0

    @classmethod
    async def connect(cls, port: int) -> AgentClient:
        client = await NetconfClient.connect("127.0.0.1", port, USER, password=PASSWORD)
        return cls(client)

    async def request(self) -> None:
        reply = await self.client.rpc(GET_CONFIG)
        if b"<rpc-error" in reply:
            raise RuntimeError(reply.decode())
        self.reply_size = len(reply)

    async def close(self) -> None:
        await self.client.close()


# ---------------------------------------------------------------------- processes


def _start_agent(base: Path, port: int) -> subprocess.Popen[str]:
    startup = base / "startup.json"
    startup.write_text(json.dumps(route_config(10)))
    config = base / "agent.toml"
    config.write_text(
        f'[agent]\nstartup_config = "{startup}"\nlog_level = "warning"\n\n'
        f'[[user]]\nname = "{USER}"\npassword_hash = "{hash_password(PASSWORD)}"\n'
        'group = "admin"\n'
    )
    agent = Path(sys.executable).parent / "flyos-agent"
    proc = subprocess.Popen(
        [
            str(agent),
            "--config",
            str(config),
            "--state-dir",
            str(base / "state"),
            "--ipc-socket",
            str(base / "agent.sock"),
            "--backend",
            "none",
            "--netconf-listen",
            f"127.0.0.1:{port}",
            "--rest-listen",
            "off",
            "--log-level",
            "info",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(READY):
            return proc
    raise RuntimeError("flyos-agent did not start")


def _start_echo(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.netconf", "--echo-server", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "echo ready":
        raise RuntimeError("echo server did not start")
    return proc


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _run(agent_port: int, echo_port: int, scale: Scale) -> tuple[dict[str, list[float]], ...]:
    probe = await AgentClient.connect(agent_port)
    await probe.request()
    size = probe.reply_size
    await probe.close()
    ours = await _measure(lambda: AgentClient.connect(agent_port), scale)
    floor = await _measure(lambda: EchoClient.connect(echo_port, size), scale)
    return ours, floor, {"size": [float(size)]}


def _figures(
    ours: dict[str, list[float]], floor: dict[str, list[float]], size: int, sessions: int
) -> list[Figure]:
    reference = "bare SSH channel echo"
    notes = {"reply bytes": size}
    return [
        Figure(
            "6a. RPC: get-config round trip (1 session)",
            "ms",
            ours["latency"],
            floor["latency"],
            reference,
            "ratio <= 10",
            ratio_limit=10.0,
            notes=dict(notes),
        ),
        Figure(
            "6b. RPC: throughput, 1 session (ms/request)",
            "ms",
            ours["one"],
            floor["one"],
            reference,
            "ratio <= 10",
            ratio_limit=10.0,
            notes=dict(notes),
        ),
        Figure(
            f"6c. RPC: throughput, {sessions} sessions (ms/request)",
            "ms",
            ours["many"],
            floor["many"],
            reference,
            "ratio <= 10",
            ratio_limit=10.0,
            notes=dict(notes),
        ),
    ]


def run(scale: Scale) -> list[Figure]:
    """The RPC figures: a real agent (backend none) beside the bare SSH echo."""
    with tempfile.TemporaryDirectory(prefix="flyos-bench-") as tmp:
        agent_port, echo_port = _free_port(), _free_port()
        agent = _start_agent(Path(tmp), agent_port)
        echo = _start_echo(echo_port)
        try:
            ours, floor, size = asyncio.run(_run(agent_port, echo_port, scale))
        finally:
            for proc in (agent, echo):
                proc.terminate()
                proc.wait(10)
    figures = _figures(ours, floor, int(size["size"][0]), scale.sessions)
    for figure in figures:
        rps = 1000 / figure.ours_median
        floor_rps = 1000 / (figure.reference_median or 1)
        figure.notes.update({"requests/s": round(rps), "floor requests/s": round(floor_rps)})
    return figures


def main(argv: list[str]) -> Any:
    """`python -m bench.netconf`: the RPC figures alone, into results/netconf.json."""
    if argv[:1] == ["--echo-server"]:
        asyncio.run(_serve_echo(int(argv[1])))
        return None
    figures = run(Scale())
    report("NETCONF over SSH (flyos-agent, backend none) vs a bare SSH echo", figures, "netconf")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
