"""Harness of the reliability campaigns: campaign size, namespaces, a restartable agent.

Everything here is real: `ip netns` namespaces with veth ports, the
`flyos-agent` console script of the venv with the Linux backend, ncclient
over SSH, the IPC socket, and `ip -j` dumps of the kernel. Test modules in
tests/reliability import these helpers (`from .agent_harness import ...`);
the fixtures in conftest.py wire them up.

`FLYOS_CAMPAIGN=full` selects the long campaigns (`campaign_size`); any other
value, or none, the short CI ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import ncclient.transport.session  # type: ignore[import-untyped]
from ncclient import manager

from flyos_agent.config import hash_password

ncclient.transport.session.TICK = 0.001  # the reader polls every TICK s: ms round trips

CAMPAIGN_ENV = "FLYOS_CAMPAIGN"
AGENT_BIN = Path(sys.executable).parent / "flyos-agent"
REPO = Path(__file__).resolve().parents[2]
READY = "flyos-agent ready:"
ADMIN = "admin"
VIEWER = "viewer"
PASSWORD = "campaign-pass"
BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
IF_NS = "urn:flyos:yang:flyos-interfaces"
RT_NS = "urn:flyos:yang:flyos-routing"
ACL_NS = "urn:flyos:yang:flyos-acl"
OWNED_PROTO = "177"


# ---------------------------------------------------------------------- campaign size


def campaign_full() -> bool:
    """True when `FLYOS_CAMPAIGN=full` asks for the long campaigns."""
    return os.environ.get(CAMPAIGN_ENV, "").strip().lower() == "full"


def campaign_size(short: int, full: int) -> int:
    """`full` under `FLYOS_CAMPAIGN=full`, else `short` (the CI size)."""
    return full if campaign_full() else short


def seed_from_env(name: str) -> int:
    """The seed in environment variable `name`, or a fresh one (print it to replay)."""
    value = os.environ.get(name)
    return int(value) if value else time.time_ns() % 1_000_000_007


# ---------------------------------------------------------------------- namespaces


def sh(*argv: str) -> str:
    """Run a command; its stdout. AssertionError with its stderr on failure."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"
    return done.stdout


def host_prefix(destination: str) -> str:
    """`ip` prints host routes without their length: add it back (/32 or /128)."""
    if "/" in destination or destination == "default":
        return destination
    return f"{destination}/{128 if ':' in destination else 32}"


@dataclass
class Namespace:
    """The agent's namespace with veth ports eth0..ethN-1; their far ends (10.0.i.2/24,
    up) live in `peer`. IPv6 DAD is off so addresses never sit tentative."""

    name: str
    peer: str
    ports: tuple[str, ...]

    def ipj(self, *args: str) -> Any:
        """`ip -j -n NAME ARGS...` parsed ([] for empty output)."""
        out = sh("ip", "-j", "-n", self.name, *args)
        return json.loads(out) if out.strip() else []

    def owned_routes(self) -> set[tuple[str, str, str]]:
        """The agent's routes (protocol 177) of both families, all tables, as
        (destination, table, gateway-or-type)."""
        routes: set[tuple[str, str, str]] = set()
        for family in ("-4", "-6"):
            for route in self.ipj(family, "route", "show", "table", "all", "proto", OWNED_PROTO):
                target = route.get("gateway") or route.get("type", "unicast")
                routes.add((host_prefix(route["dst"]), str(route.get("table", "main")), target))
        return routes

    def port(self, name: str) -> dict[str, Any]:
        """What the kernel holds of a port as {mtu, description, enabled, ipv4}: its MTU,
        alias (None if unset), admin state and global IPv4 addresses ("ip/len")."""
        (link,) = self.ipj("link", "show", "dev", name)
        (addr,) = self.ipj("addr", "show", "dev", name)
        return {
            "mtu": link["mtu"],
            "description": link.get("ifalias"),
            "enabled": "UP" in link["flags"],
            "ipv4": sorted(
                f"{a['local']}/{a['prefixlen']}"
                for a in addr["addr_info"]
                if a["family"] == "inet" and a["scope"] == "global"
            ),
        }

    def remove(self) -> None:
        """Delete both namespaces (their veth pairs go with them)."""
        for name in (self.name, self.peer):
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def create_namespace(prefix: str, ports: int = 3) -> Namespace:
    """A fresh namespace `<prefix><random>` with `ports` veth ports (see Namespace)."""
    tag = uuid.uuid4().hex[:8]
    ns = Namespace(f"{prefix}{tag}", f"{prefix}{tag}-p", tuple(f"eth{i}" for i in range(ports)))
    try:
        for name in (ns.name, ns.peer):
            sh("ip", "netns", "add", name)
            for knob in ("all", "default"):
                sysctl = f"net.ipv6.conf.{knob}.accept_dad=0"
                sh("ip", "netns", "exec", name, "sysctl", "-qw", sysctl)
        sh("ip", "-n", ns.peer, "link", "set", "lo", "up")
        for index, port in enumerate(ns.ports):
            far = f"port{index}"
            sh("ip", "-n", ns.name, "link", "add", port, "type", "veth", "peer", far)
            sh("ip", "-n", ns.name, "link", "set", far, "netns", ns.peer)
            sh("ip", "-n", ns.peer, "addr", "add", f"10.0.{index}.2/24", "dev", far)
            sh("ip", "-n", ns.peer, "link", "set", far, "up")
    except BaseException:
        ns.remove()
        raise
    return ns


@contextlib.contextmanager
def namespace(prefix: str, ports: int = 3) -> Iterator[Namespace]:
    """create_namespace, removed on exit."""
    ns = create_namespace(prefix, ports)
    try:
        yield ns
    finally:
        ns.remove()


# ---------------------------------------------------------------------- the agent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now, below the ephemeral
    range (so no client connection takes it while a restarted agent is down)."""
    for _attempt in range(100):
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free TCP port in 20000-31999")


def write_agent_config(directory: Path, public_key: str, agent: dict[str, Any]) -> Path:
    """agent.toml in `directory`: `[agent]` keys from `agent`, an admin user (the
    password and `public_key`) and a viewer (the password)."""
    lines = ["[agent]"] + [f"{key} = {json.dumps(value)}" for key, value in agent.items()]
    digest = hash_password(PASSWORD)
    for name, group in ((ADMIN, "admin"), (VIEWER, "viewer")):
        lines += ["", "[[user]]", f'name = "{name}"', f'password_hash = "{digest}"']
        lines.append(f'group = "{group}"')
        if name == ADMIN:
            lines.append(f'ssh_keys = ["{public_key}"]')
    path = directory / "agent.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class AgentStartFailed(AssertionError):
    """The agent exited or never logged its ready line; the message carries its log."""


@dataclass
class AgentProcess:
    """One `flyos-agent` on the Linux backend in `netns`, serving NETCONF on `port`
    and IPC on `socket_path`; restartable over the same state dir."""

    base: Path
    netns: str
    port: int
    key_file: Path
    config: Path
    backend: str = "linux"
    proc: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    starts: int = 0
    _ready: threading.Event = field(default_factory=threading.Event)

    @property
    def state_dir(self) -> Path:
        return self.base / "state"

    @property
    def socket_path(self) -> Path:
        return self.base / "agent.sock"

    def argv(self) -> list[str]:
        return [
            str(AGENT_BIN),
            "--config",
            str(self.config),
            "--state-dir",
            str(self.state_dir),
            "--ipc-socket",
            str(self.socket_path),
            "--backend",
            self.backend,
            "--netns",
            self.netns,
            "--netconf-listen",
            f"127.0.0.1:{self.port}",
            "--rest-listen",
            "off",
        ]

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready."""
        assert not self.running, "agent already running"
        self.lines = []
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            self.argv(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.starts += 1
        threading.Thread(target=self._read, args=(self.proc, self._ready), daemon=True).start()

    def start(self, timeout: float = 30.0) -> AgentProcess:
        """Spawn and wait for the ready line; AgentStartFailed (with the log) otherwise."""
        self.spawn()
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.02):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                time.sleep(0.05)  # let the reader drain the last lines
                raise AgentStartFailed(
                    f"agent start {self.starts} failed (exit {self.proc.returncode}):\n"
                    + "\n".join(self.lines[-30:])
                )
        return self

    def _read(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                ready.set()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (no clean-up of any kind) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send `signum` and wait for the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signum)
        return self.proc.wait(timeout)

    def ipc(self, command: str, args: dict[str, Any] | None = None) -> Any:
        """One IPC request on a fresh connection (an admin session: we are root);
        its result, AssertionError on an error reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(self.socket_path))
            request = {"id": 1, "command": command, "args": args or {}}
            sock.sendall(json.dumps(request).encode() + b"\n")
            with sock.makefile("rb") as stream:
                reply = json.loads(stream.readline())
        assert reply["ok"], f"IPC {command} failed: {reply['error']}"
        return reply["result"]

    def netconf(self, timeout: float = 30.0) -> manager.Manager:
        """An admin NETCONF session (public key auth, base:1.1)."""
        return manager.connect(
            host="127.0.0.1",
            port=self.port,
            username=ADMIN,
            key_filename=str(self.key_file),
            hostkey_verify=False,
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            manager_params={"timeout": timeout},
        )


def make_agent(base: Path, netns: str, agent_config: dict[str, Any] | None = None) -> AgentProcess:
    """An AgentProcess (not started) with its key, config and state under `base`."""
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o700)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = base / "id_ed25519"
    key_file.write_bytes(key.export_private_key())
    key_file.chmod(0o600)
    public = key.export_public_key().decode().strip()
    config = write_agent_config(base, public, agent_config or {})
    return AgentProcess(base, netns, free_port(), key_file, config)


# ---------------------------------------------------------------------- checks


def reconcile_drift(report: dict[str, Any]) -> list[str]:
    """What an IPC `reconcile` check report says is out of sync (empty: none).

    Understands the Linux part (routes and rules missing/extra/different) and
    the nftables part (`in-sync`); any other part is reported if it carries
    non-empty `missing`/`extra`/`different` lists or `in-sync: false`.
    """
    drift: list[str] = []

    def walk(where: str, value: Any) -> None:
        if isinstance(value, dict):
            if value.get("in-sync") is False:
                drift.append(f"{where}: {value.get('drift')}")
            for key, item in value.items():
                if key in ("missing", "extra", "different") and item:
                    drift.append(f"{where}.{key}: {item}")
                elif key == "errors" and item:
                    drift.append(f"{where}.errors: {item}")
                elif isinstance(item, dict):
                    walk(f"{where}.{key}" if where else key, item)

    walk("", report)
    return drift


def wait_until(predicate: Callable[[], bool], timeout: float, poll: float = 0.01) -> float:
    """Poll `predicate` until true; the monotonic time it became true.
    AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(poll)


# ---------------------------------------------------------------------- NETCONF edits


def config_xml(body: str) -> str:
    """The <config> element of an edit-config (prefix `nc` bound for operations)."""
    return f'<config xmlns="{BASE_NS}" xmlns:nc="{BASE_NS}">{body}</config>'


def route_xml(prefix: str, target: str | None, operation: str = "replace") -> str:
    """A static route to `target` (a next hop or 'blackhole') with `operation`;
    target None deletes it."""
    if target is None:
        return f'<static nc:operation="delete"><prefix>{prefix}</prefix></static>'
    hop = "<type>blackhole</type>" if target == "blackhole" else f"<via>{target}</via>"
    return f'<static nc:operation="{operation}"><prefix>{prefix}</prefix>{hop}</static>'


# ---------------------------------------------------------------------- running, in kernel form


def running_routes(config: dict[str, Any]) -> set[tuple[str, str, str]]:
    """The static routes of an RFC 7951 config, in Namespace.owned_routes' form."""
    routes = config.get("flyos-routing:routing", {}).get("static", [])
    return {
        (
            entry["prefix"],
            str(entry.get("table", "main")),
            entry.get("via") or entry.get("type", "unicast"),
        )
        for entry in routes
    }


def running_ports(config: dict[str, Any], names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The interfaces `names` of an RFC 7951 config, in Namespace.port's form."""
    entries = config.get("flyos-interfaces:interfaces", {}).get("interface", [])
    by_name = {entry["name"]: entry for entry in entries}
    return {
        name: {
            "mtu": by_name[name].get("mtu"),
            "description": by_name[name].get("description"),
            "enabled": by_name[name].get("enabled", True),
            "ipv4": sorted(
                f"{a['ip']}/{a['prefix-length']}"
                for a in by_name[name].get("ipv4", {}).get("address", [])
            ),
        }
        for name in names
        if name in by_name
    }
