"""Operational state read from the kernel, shaped like the config tree (RFC 7951 JSON).

Only configured objects get state: each interface its oper-status, ifindex,
MAC, MTU and counters; each static route whether it is installed and its
tracking status; each BGP/OSPF announcement that it is not installed (no
routing daemon integration); each WireGuard peer its latest handshake and
byte counters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from immutables import Map
from pyroute2.netlink.exceptions import NetlinkError

from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.route_messages import route_from_entry
from flyos_agent.backends.linux.routes import NO_DAEMON, owned_routes
from flyos_agent.backends.linux.tracking import Tracker
from flyos_agent.backends.linux.vrf import VrfTables

log = logging.getLogger(__name__)

OPER_STATUS = {
    "UP": "up",
    "DOWN": "down",
    "LOWERLAYERDOWN": "lower-layer-down",
    "DORMANT": "dormant",
    "NOTPRESENT": "not-present",
}
COUNTERS = {
    "in-octets": "rx_bytes",
    "in-packets": "rx_packets",
    "in-errors": "rx_errors",
    "in-dropped": "rx_dropped",
    "out-octets": "tx_bytes",
    "out-packets": "tx_packets",
    "out-errors": "tx_errors",
    "out-dropped": "tx_dropped",
}


def operational_state(kernel: Kernel, tracker: Tracker, running: Map[str, Any]) -> dict[str, Any]:
    """The state of every configured object, as RFC 7951 JSON."""
    out: dict[str, Any] = {}
    interfaces = running.get("interfaces", Map()).get("interface", Map())
    if interfaces:
        out["flyos-interfaces:interfaces"] = {"interface": interface_state(kernel, interfaces)}
    routing = running.get("routing", Map())
    if routing:
        out["flyos-routing:routing"] = routing_state(kernel, tracker, routing, running)
    wireguard = running.get("tunnels", Map()).get("wireguard", Map())
    if wireguard:
        out["flyos-tunnel:tunnels"] = {"wireguard": wireguard_state(kernel, wireguard)}
    return out


def interface_state(kernel: Kernel, interfaces: Map[Any, Any]) -> list[dict[str, Any]]:
    """oper-status, ifindex, mac, mtu and counters of each configured interface."""
    with kernel.lock:
        by_name = {link.get("IFLA_IFNAME"): link for link in kernel.ipr.get_links()}
    out = []
    for entry in interfaces.values():
        link = by_name.get(entry["name"])
        if link is None:
            out.append({"name": entry["name"], "state": {"oper-status": "not-present"}})
            continue
        stats = link.get("IFLA_STATS64") or {}
        state: dict[str, Any] = {
            "oper-status": OPER_STATUS.get(link.get("IFLA_OPERSTATE"), "unknown"),
            "ifindex": int(link["index"]),
            "mtu": link.get("IFLA_MTU"),
            "counters": {leaf: str(stats.get(key, 0)) for leaf, key in COUNTERS.items()},
        }
        address = link.get("IFLA_ADDRESS")
        if address:
            state["mac"] = address
        out.append({"name": entry["name"], "state": state})
    return out


def routing_state(
    kernel: Kernel, tracker: Tracker, routing: Map[str, Any], running: Map[str, Any]
) -> dict[str, Any]:
    """installed / track-status of static routes; bgp and ospf entries not installed."""
    out: dict[str, Any] = {}
    static = routing.get("static", Map())
    if static:
        installed = {route.key for route in owned_routes(kernel)}
        tables = VrfTables(kernel, running)
        routes = []
        for entry in static.values():
            tracked = tracker.status(entry["prefix"])
            if tracked is not None:
                status, present = tracked
            else:
                status = "not-tracked"
                present = route_from_entry(entry, tables).key in installed
            routes.append(
                {"prefix": entry["prefix"], "state": {"installed": present, "track-status": status}}
            )
        out["static"] = routes
    for name in ("bgp", "ospf"):
        entries = routing.get(name, Map())
        if entries:
            out[name] = [
                {"prefix": e["prefix"], "state": {"installed": False, "reason": NO_DAEMON}}
                for e in entries.values()
            ]
    return out


def wireguard_state(kernel: Kernel, devices: Map[Any, Any]) -> list[dict[str, Any]]:
    """latest-handshake, rx-bytes and tx-bytes of each configured peer."""
    out = []
    for device in devices.values():
        peers = device.get("peer", Map())
        if not peers:
            continue
        with kernel.lock:
            if kernel.link(device["name"]) is None:
                continue
            try:
                info = list(kernel.wireguard.info(device["name"]))
            except NetlinkError as exc:
                log.warning("no WireGuard state for %s: %s", device["name"], exc)
                continue
        seen = {
            _key(peer): peer for message in info for peer in message.get("WGDEVICE_A_PEERS") or []
        }
        states = []
        for entry in peers.values():
            peer = seen.get(entry["public-key"])
            if peer is None:
                continue
            handshake = peer.get("WGPEER_A_LAST_HANDSHAKE_TIME") or {}
            states.append(
                {
                    "public-key": entry["public-key"],
                    "state": {
                        "latest-handshake": str(handshake.get("tv_sec", 0)),
                        "rx-bytes": str(peer.get("WGPEER_A_RX_BYTES") or 0),
                        "tx-bytes": str(peer.get("WGPEER_A_TX_BYTES") or 0),
                    },
                }
            )
        out.append({"name": device["name"], "peer": states})
    return out


def _key(peer: Mapping[str, Any]) -> str:
    value = peer.get("WGPEER_A_PUBLIC_KEY")
    key = value.get("value") if isinstance(value, Mapping) else value
    return key.decode() if isinstance(key, bytes) else str(key)
