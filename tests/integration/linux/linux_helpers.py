"""Shared helpers of the Linux backend tests: shell, `ip -j` dumps, commits."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

DUMPS = {
    "link": "link show",
    "addr": "addr show",
    "route4": "-4 route show table all",
    "route6": "-6 route show table all",
    "rule4": "-4 rule show",
    "rule6": "-6 rule show",
}


def sh(command: str) -> str:
    """Run a shell command; its stdout (fails the test on a non-zero exit)."""
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done.stdout


def ipj(ns: str, command: str) -> Any:
    """`ip -j -n NS <command>` parsed."""
    out = sh(f"ip -j -n {ns} {command}")
    return json.loads(out) if out.strip() else []


@dataclass
class Netns:
    """The agent's namespace and the namespace of the ports' far ends."""

    name: str
    peer: str

    def dump(self) -> dict[str, str]:
        """The raw `ip -j` dumps of links, addresses, routes (all tables) and rules, once
        the kernel has settled (carrier and link-local addresses follow a link asynchronously)."""
        previous: dict[str, str] = {}
        for _attempt in range(40):
            current = {key: sh(f"ip -j -n {self.name} {cmd}") for key, cmd in DUMPS.items()}
            if current == previous:
                return current
            previous = current
            time.sleep(0.1)
        return previous

    def dump_like(self, expected: dict[str, str], timeout: float = 3.0) -> dict[str, str]:
        """The dumps, polled until they equal `expected` or `timeout` passes (the kernel
        applies carrier changes asynchronously, up to a second later)."""
        deadline = time.monotonic() + timeout
        current = self.dump()
        while current != expected and time.monotonic() < deadline:
            time.sleep(0.1)
            current = self.dump()
        return current

    def link(self, name: str, *, details: bool = True) -> dict[str, Any]:
        """`ip -j [-d] link show dev NAME` (details carry kind data, and timers that tick)."""
        flag = "-d " if details else ""
        links: list[dict[str, Any]] = ipj(self.name, f"{flag}link show dev {name}")
        return links[0]

    def settled_links(self, names: tuple[str, ...], timeout: float = 5.0) -> dict[str, Any]:
        """`ip -j link show` of `names` once the kernel's asynchronous link-state update is
        done: every link that is up has left operstate DOWN and lost NO-CARRIER, and two
        reads 0.1 s apart agree (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        previous: dict[str, Any] = {}
        while True:
            current = {name: self.link(name, details=False) for name in names}
            pending = [
                link
                for link in current.values()
                if "UP" in link["flags"]
                and (link["operstate"] == "DOWN" or "NO-CARRIER" in link["flags"])
            ]
            if (current == previous and not pending) or time.monotonic() > deadline:
                return current
            previous = current
            time.sleep(0.1)

    def has_link(self, name: str) -> bool:
        return any(link["ifname"] == name for link in ipj(self.name, "link show"))

    def addresses(self, name: str) -> set[str]:
        (link,) = ipj(self.name, f"addr show dev {name}")
        return {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"] if a["scope"] != "link"}

    def routes(self, table: str = "all") -> list[dict[str, Any]]:
        """The agent's routes (protocol 177) of both families."""
        out: list[dict[str, Any]] = []
        for family in ("-4", "-6"):
            out += ipj(self.name, f"{family} route show table {table} proto 177")
        return out

    def rules(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for family in ("-4", "-6"):
            out += [r for r in ipj(self.name, f"{family} rule show") if r.get("protocol") == "177"]
        return out


PROBES = {
    # a VLAN needs a parent that can carry tags (loopback cannot): a veth end
    "vlan": ["probe1 type veth peer name probe2", "probe0 link probe1 type vlan id 5"],
    "vrf": ["probe0 type vrf table 5"],
    # without endpoints the kernel answers EEXIST (the gre0/tunl0 fallback devices exist)
    "gre": ["probe0 type gre local 192.0.2.1 remote 192.0.2.2"],
    "ipip": ["probe0 type ipip local 192.0.2.1 remote 192.0.2.2"],
}


def supports(kind: str) -> bool:
    """Whether the kernel can create a device of `kind` (tried in a scratch namespace)."""
    scratch = f"flyos-probe-{uuid.uuid4().hex[:6]}"
    sh(f"ip netns add {scratch}")
    try:
        for args in PROBES.get(kind, [f"probe0 type {kind}"]):
            done = subprocess.run(
                f"ip -n {scratch} link add {args}", shell=True, capture_output=True, check=False
            )
            if done.returncode != 0:
                return False
        return True
    finally:
        sh(f"ip netns del {scratch}")


def commit(manager: Manager, session: Session, config: dict[str, Any]) -> None:
    """Make `config` the whole running configuration (one transaction)."""
    manager.copy(session, "running", "running", config=config)


def rollback(manager: Manager, session: Session, index: int = 1) -> None:
    """Commit the configuration of `index` commits back."""
    manager.rollback(session, index)
    manager.commit(session)
