"""The kernel side of the fault campaign: its namespaces, the dumps it compares, and what a
failed commit may move of them (what the kernel assigns itself, nothing else)."""

from __future__ import annotations

import difflib
import json
import re
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyroute2 import WireGuard
from pyroute2.netlink.exceptions import NetlinkError

DUMPS = {  # run inside the namespace, by one shell (process start-up is slow in the VM)
    "link": "ip -j -d link show",
    "addr": "ip -j addr show",
    "route4": "ip -j route show table all",
    "route6": "ip -6 -j route show table all",
    "rule4": "ip -j rule show",
    "rule6": "ip -6 -j rule show",
    "nft": "nft -j list ruleset",
    "sysctl": "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding",
}
SEPARATOR = "\x1e"  # ASCII record separator: never in a dump
SCRIPT = "set -e\n" + f"\necho '{SEPARATOR}'\n".join(DUMPS.values())
# Masked as statistics rather than state: the bridge's running timers (gc_timer, ...) in
# `ip -d link`; the rules' packet counters (neighbour discovery and VXLAN traffic of the
# namespace itself move them); a WireGuard peer's handshake time and byte counts.
TIMER = re.compile(r'("\w+_timer"):[0-9.]+')
COUNTER = re.compile(r'\{"counter": \{"packets": \d+, "bytes": \d+\}\}')
WG_TICKING = {"WGPEER_A_LAST_HANDSHAKE_TIME", "WGPEER_A_RX_BYTES", "WGPEER_A_TX_BYTES"}


def sh(command: str) -> str:
    """Run a shell command; its stdout (fails the test on a non-zero exit)."""
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Allowance:
    """What a failed commit may move. `recreated`: a deleted device came back (the kernel
    lists its own link-local and multicast routes after those of the same prefix on other
    devices): routes compare as sets. `nft_batch`: this applied nft batch was undone (the
    rules it deleted came back under new handles): the ruleset compares without handles."""

    recreated: bool = False
    nft_batch: list[dict[str, Any]] | None = None

    def view(self, dumps: dict[str, str]) -> dict[str, Any]:
        """`dumps` as compared under this allowance."""
        out: dict[str, Any] = dict(dumps)
        if self.recreated:
            out["route4"], out["route6"] = (
                sorted(lines(dumps["route4"])),
                sorted(lines(dumps["route6"])),
            )
        if self.nft_batch is not None:
            out["nft"] = strip_handles(dumps["nft"])
        return out


@dataclass(frozen=True)
class Lab:
    """The agent's namespace (ports eth0, eth1), the namespace of the ports' far ends, and
    the WireGuard devices whose kernel state the dumps include."""

    ns: str
    peer: str
    wireguard: tuple[str, ...] = ()

    def dumps(self) -> dict[str, str]:
        """Every dump once, and the host name of the calling thread's UTS namespace."""
        parts = sh(f"ip netns exec {self.ns} sh -c {shlex.quote(SCRIPT)}").split(SEPARATOR + "\n")
        out = dict(zip(DUMPS, parts, strict=True))
        out["link"] = TIMER.sub(r"\1:0", out["link"])
        out["nft"] = COUNTER.sub('{"counter": {"packets": 0, "bytes": 0}}', out["nft"])
        out["hostname"] = socket.gethostname()
        if self.wireguard:
            out["wireguard"] = self.wireguard_dump()
        return out

    def wireguard_dump(self) -> str:
        """The generic-netlink answer for each WireGuard device (ticking counters dropped)."""
        out: dict[str, Any] = {}
        with WireGuard(netns=self.ns) as wg:
            for name in self.wireguard:
                try:
                    out[name] = [_attrs(message.dump()) for message in wg.info(name)]
                except NetlinkError as exc:
                    out[name] = f"error {exc.code}"
        return json.dumps(out, default=str)

    def settled(self) -> dict[str, str]:
        """The dumps once two reads 0.1 s apart agree (carrier follows a link asynchronously)."""
        previous: dict[str, str] = {}
        for _attempt in range(50):
            current = self.dumps()
            if current == previous:
                return current
            previous = current
            time.sleep(0.1)
        return previous

    def like(
        self, expected: dict[str, str], allowance: Allowance, timeout: float = 3.0
    ) -> dict[str, str]:
        """The dumps, polled until they compare equal to `expected` or `timeout` passes."""
        deadline = time.monotonic() + timeout
        want = allowance.view(expected)
        current = self.dumps()
        while allowance.view(current) != want and time.monotonic() < deadline:
            time.sleep(0.1)
            current = self.dumps()
        return current


def _attrs(message: Any) -> Any:
    """A pyroute2 message dump without its header and ticking peer counters."""
    if isinstance(message, dict):
        return {k: _attrs(v) for k, v in message.items() if k != "header"}
    if isinstance(message, list):
        return [_attrs(item) for item in message if not _ticking(item)]
    return message


def _ticking(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2 and str(item[0]) in WG_TICKING


def new_lab(wireguard: tuple[str, ...] = ()) -> Iterator[Lab]:
    """Two fresh namespaces (prefix h2-), eth0/eth1 here, their peers answering 10.0.x.2 and
    2001:db8:x::2; removed when the generator is closed."""
    tag = uuid.uuid4().hex[:8]
    made = Lab(f"h2-{tag}", f"h2-{tag}-p", wireguard)
    try:
        for name in (made.ns, made.peer):
            sh(f"ip netns add {name}")
            for knob in ("all", "default"):
                sh(f"ip netns exec {name} sysctl -qw net.ipv6.conf.{knob}.accept_dad=0")
        for index in (0, 1):
            port = f"port{index}"
            sh(f"ip -n {made.ns} link add eth{index} type veth peer name {port} netns {made.peer}")
            sh(f"ip -n {made.peer} addr add 10.0.{index}.2/24 dev {port}")
            sh(f"ip -n {made.peer} addr add 2001:db8:{index}::2/64 dev {port}")
            sh(f"ip -n {made.peer} link set {port} up")
        yield made
    finally:
        for name in (made.ns, made.peer):
            subprocess.run(["ip", "netns", "del", name], check=False)


def lines(dump: str) -> list[str]:
    """A JSON dump as one line per object (a `nft -j` listing: per ruleset object)."""
    try:
        parsed = json.loads(dump)
    except json.JSONDecodeError:
        return dump.splitlines()
    items = parsed["nftables"] if isinstance(parsed, dict) and "nftables" in parsed else parsed
    return [json.dumps(item) for item in items] if isinstance(items, list) else [dump]


def difference(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A readable diff of the (viewed) dumps that differ."""
    out = []
    for key, value in before.items():
        if value != after.get(key):
            old, new = _as_lines(value), _as_lines(after[key])
            out += [f"--- {key}", *list(difflib.unified_diff(old, new, n=1, lineterm=""))[2:40]]
    return "\n".join(out)


def _as_lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return lines(value)
    return [json.dumps(item) if not isinstance(item, str) else item for item in value]


def strip_handles(ruleset: str) -> list[dict[str, Any]]:
    """The `nft -j` listing as a re-add can reproduce it: without handles, and with chains
    and sets in name order (the listing shows them in creation order); the rules of each
    chain stay in their order."""
    out = []
    for item in json.loads(ruleset)["nftables"]:
        kind, body = next(iter(item.items()))
        out.append({kind: {k: v for k, v in body.items() if k != "handle"}})
    return sorted(out, key=_listing_key)


def _listing_key(item: dict[str, Any]) -> tuple[str, str, str]:
    kind, body = next(iter(item.items()))
    return (body.get("table", ""), body.get("chain") or body.get("name", ""), kind)


def kept_handles(before: str, after: str, batch: list[dict[str, Any]]) -> list[str]:
    """Rules of `before` that `batch` did not delete (by handle, or with their chain) and
    that `after` lacks at the same handle: rules an undo must not have moved (none)."""
    gone_handles = {c["delete"]["rule"]["handle"] for c in batch if "rule" in c.get("delete", {})}
    gone_chains = {
        body["chain"]["name"]
        for c in batch
        for verb, body in c.items()
        if verb in ("delete", "flush") and "chain" in body
    }
    rules_after = {
        (item["rule"]["chain"], item["rule"]["handle"]): item
        for item in json.loads(after)["nftables"]
        if "rule" in item
    }
    moved = []
    for item in json.loads(before)["nftables"]:
        rule = item.get("rule")
        if (
            rule
            and rule["handle"] not in gone_handles
            and rule["chain"] not in gone_chains
            and rules_after.get((rule["chain"], rule["handle"])) != item
        ):
            moved.append(json.dumps(rule))
    return moved
