"""A real flyos-agent seeded with N static routes, and ncclient sessions to it.

Used by the load campaign (test_load.py) and the stateful lock model
(test_lock_model.py). The agent is the venv's `flyos-agent` console script
serving NETCONF on a free port with one admin user (public-key auth); its
first configuration is `startup_config`: interface eth0 and N /24 routes via
192.0.2.1 (`seed_config`). With the Linux backend it works in a
fresh namespace `h5-<random>` whose eth0 is a veth, removed by `stop()`.

ncclient's reader thread waits TICK seconds for input before it looks at its
send queue; `set_tick` lowers it so a round trip costs milliseconds, not 100 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh
import ncclient.transport.session  # type: ignore[import-untyped]
from ncclient import manager
from ncclient.operations import RaiseMode  # type: ignore[import-untyped]

from flyos_agent.config import hash_password

from .load_model import OK, Kind, Outcome, Request

CAMPAIGN_ENV = "FLYOS_CAMPAIGN"
NETNS_PREFIX = "h5-"
AGENT_BIN = Path(sys.executable).parent / "flyos-agent"
REPO = Path(__file__).resolve().parents[2]
READY = "flyos-agent ready:"
USER = "admin"
VIA = "192.0.2.1"


@dataclass(frozen=True)
class LoadSize:
    """How big the load campaign is: sessions, seconds of load, seeded routes."""

    sessions: int
    seconds: float
    entries: int

    @classmethod
    def from_env(cls) -> LoadSize:
        """FULL under `FLYOS_CAMPAIGN=full`, else CI (a short run that fits CI)."""
        return FULL if os.environ.get(CAMPAIGN_ENV, "").strip().lower() == "full" else CI


CI = LoadSize(sessions=10, seconds=15.0, entries=2_000)
FULL = LoadSize(sessions=50, seconds=300.0, entries=20_000)


def campaign_full() -> bool:
    """True when `FLYOS_CAMPAIGN=full` asks for the long campaigns."""
    return LoadSize.from_env() is FULL


def seed_prefix(index: int) -> str:
    """The `index`-th seeded /24: 10.0.0.0/24, 10.0.1.0/24, ... (as bench/common.py)."""
    return f"{10 + index // 65536}.{(index // 256) % 256}.{index % 256}.0/24"


def seed_config(count: int) -> dict[str, Any]:
    """RFC 7951 startup config: interface eth0 (192.0.2.2/24) and `count` routes."""
    address = {"ip": "192.0.2.2", "prefix-length": 24}
    eth0 = {"name": "eth0", "type": "ethernet", "ipv4": {"address": [address]}}
    config: dict[str, Any] = {"flyos-interfaces:interfaces": {"interface": [eth0]}}
    if count:
        routes = [{"prefix": seed_prefix(i), "via": VIA, "dev": "eth0"} for i in range(count)]
        config["flyos-routing:routing"] = {"static": routes}
    return config


def set_tick(seconds: float) -> float:
    """Set ncclient's reader poll interval; returns the previous one."""
    previous = float(ncclient.transport.session.TICK)
    ncclient.transport.session.TICK = seconds
    return previous


def rss_kib(pid: int) -> int:
    """VmRSS of process `pid` in KiB (from /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no VmRSS")


def _sh(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"


def _create_netns() -> str:
    """A namespace `h5-<random>` with lo up and eth0 (a veth to port0), both up."""
    name = f"{NETNS_PREFIX}{uuid.uuid4().hex[:8]}"
    _sh("ip", "netns", "add", name)
    try:
        _sh("ip", "-n", name, "link", "set", "lo", "up")
        _sh("ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "port0")
        _sh("ip", "-n", name, "link", "set", "port0", "up")
    except BaseException:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        raise
    return name


class LoadAgent:
    """One flyos-agent process with `entries` seeded routes; a context manager."""

    def __init__(self, entries: int, *, backend: str = "none") -> None:
        self.entries = entries
        self.backend = backend
        self._tmp = tempfile.TemporaryDirectory(prefix="h5-load-")
        self.base = Path(self._tmp.name)
        self.netns: str | None = None
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.lines: deque[str] = deque(maxlen=400)
        self.tracebacks = 0
        self.key_file = self.base / "id_ed25519"

    @property
    def pid(self) -> int:
        """The agent's process id."""
        assert self.proc is not None, "agent not started"
        return self.proc.pid

    def start(self, timeout: float = 120.0) -> LoadAgent:
        """Write key, config and startup config; start; wait for the ready line."""
        key = asyncssh.generate_private_key("ssh-ed25519")
        self.key_file.write_bytes(key.export_private_key())
        self.key_file.chmod(0o600)
        startup = self.base / "startup.json"
        startup.write_text(json.dumps(seed_config(self.entries)), encoding="utf-8")
        config = self.base / "agent.toml"
        config.write_text(
            f'[agent]\nstartup_config = "{startup}"\n'
            "netconf_max_message_bytes = 268435456\n\n"
            f'[[user]]\nname = "{USER}"\npassword_hash = "{hash_password(uuid.uuid4().hex)}"\n'
            f'group = "admin"\nssh_keys = ["{key.export_public_key().decode().strip()}"]\n',
            encoding="utf-8",
        )
        if self.backend == "linux":
            self.netns = _create_netns()
        self.port = _free_port()
        argv = [
            str(AGENT_BIN),
            *("--config", str(config), "--state-dir", str(self.base / "state")),
            *("--ipc-socket", str(self.base / "agent.sock"), "--backend", self.backend),
            *("--netconf-listen", f"127.0.0.1:{self.port}", "--rest-listen", "off"),
            *(("--netns", self.netns) if self.netns else ()),
        ]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, cwd=REPO,
        )  # fmt: skip
        ready = threading.Event()
        threading.Thread(target=self._read, args=(self.proc, ready), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("agent did not become ready:\n" + "\n".join(self.lines))
        return self

    def _read(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip("\n"))
            self.tracebacks += line.startswith("Traceback")
            if line.startswith(READY):
                ready.set()

    def connect(self, timeout: float = 60.0) -> manager.Manager:
        """An admin NETCONF session (base:1.1) whose replies never raise on rpc-error."""
        session = manager.connect(
            host="127.0.0.1",
            port=self.port,
            username=USER,
            key_filename=str(self.key_file),
            hostkey_verify=False,
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            manager_params={"timeout": timeout},
        )
        session.raise_mode = RaiseMode.NONE
        return session

    def stop(self) -> int | None:
        """SIGTERM (SIGKILL after 30 s), remove namespace and files; the exit status."""
        status = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        elif self.proc is not None:
            status = self.proc.returncode
        if self.netns is not None:
            subprocess.run(["ip", "netns", "del", self.netns], check=False, capture_output=True)
            self.netns = None
        with contextlib.suppress(OSError):
            self._tmp.cleanup()
        return status

    def __enter__(self) -> LoadAgent:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------- RPCs

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
RT_NS = "urn:flyos:yang:flyos-routing"
IF_NS = "urn:flyos:yang:flyos-interfaces"
ROUTING_SUBTREE = f'<routing xmlns="{RT_NS}"/>'
INTERFACES_SUBTREE = f'<interfaces xmlns="{IF_NS}"/>'


def route_entry(prefix: str, *, metric: int | None = None, remove: bool = False) -> str:
    """One <static> entry: merged with via 192.0.2.1 (and `metric`), or removed."""
    if remove:
        return (
            f'<static xmlns:nc="{BASE_NS}" nc:operation="remove"><prefix>{prefix}</prefix></static>'
        )
    extra = f"<metric>{metric}</metric>" if metric is not None else ""
    return f"<static><prefix>{prefix}</prefix><via>{VIA}</via>{extra}</static>"


def routing_config(*entries: str, operation: str | None = None) -> str:
    """A <config> with a <routing> holding `entries` (with nc:operation `operation`)."""
    body = "".join(entries)
    extra = f' xmlns:nc="{BASE_NS}" nc:operation="{operation}"' if operation else ""
    return f'<config xmlns="{BASE_NS}"><routing xmlns="{RT_NS}"{extra}>{body}</routing></config>'


def route_xpath(prefix: str) -> tuple[str, tuple[dict[str, str], str]]:
    """An ncclient XPath filter selecting the route `prefix` (a keyed lookup)."""
    return ("xpath", ({"rt": RT_NS}, f"/rt:routing/rt:static[rt:prefix='{prefix}']"))


def send(nc: manager.Manager, request: Request, payload: str | None = None) -> Outcome:
    """Send `request` on `nc`; the reply as an Outcome. `payload` is the <config> of
    an edit, the route prefix a get-config reads, or the source of a full read
    ("running"/"candidate"). Transport failures raise ncclient's exceptions."""
    kind = request.kind
    if kind is Kind.GET_CONFIG:
        reply = nc.get_config("running", filter=route_xpath(payload or ""))
    elif kind is Kind.GET_CONFIG_FULL:
        reply = nc.get_config(payload or "running", filter=("subtree", ROUTING_SUBTREE))
    elif kind is Kind.GET:
        reply = nc.get(filter=("subtree", INTERFACES_SUBTREE))
    elif kind is Kind.VALIDATE:
        reply = nc.validate("candidate")
    elif kind in (Kind.EDIT_CANDIDATE, Kind.EDIT_RUNNING):
        target = "candidate" if kind is Kind.EDIT_CANDIDATE else "running"
        reply = nc.edit_config(target=target, config=payload)
    elif kind in (Kind.COMMIT, Kind.CONFIRMED_COMMIT):
        reply = nc.commit(confirmed=kind is Kind.CONFIRMED_COMMIT)
    elif kind is Kind.DISCARD:
        reply = nc.discard_changes()
    elif kind in (Kind.LOCK, Kind.UNLOCK):
        verb = nc.lock if kind is Kind.LOCK else nc.unlock
        reply = verb(str(request.target))
    elif kind is Kind.CLOSE:
        reply = nc.close_session()
    else:
        reply = nc.kill_session(str(request.victim))
    return outcome_of(reply)


def outcome_of(reply: Any) -> Outcome:
    """ok, or the first rpc-error's tag and error-info session-id ("several" if more)."""
    if reply.ok:
        return OK
    errors = reply.errors
    if len(errors) > 1:
        return Outcome("several: " + ", ".join(str(e.tag) for e in errors))
    info = errors[0].xml.find(f"{{{BASE_NS}}}error-info")
    sid = info.findtext(f"{{{BASE_NS}}}session-id") if info is not None else None
    return Outcome(str(errors[0].tag), int(sid) if sid is not None else None)


def session_id(nc: manager.Manager) -> int:
    """The NETCONF session-id the server's hello gave `nc`."""
    return int(nc.session_id)
