"""Tunnels (/tunnels): GRE, IPIP and VXLAN device parameters, WireGuard keys and peers.

GRE, IPIP and VXLAN parameters are given when the interface handler creates
the device (see `tunnel_link`); a later change of them is a kernel changelink
(a refusal, such as a new VNI, names the path and asks for re-creation).
WireGuard is configured over its generic-netlink API through pyroute2: the
device's private key, listen port and fwmark, then one request per peer.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux import links
from flyos_agent.backends.linux.changes import ancestor_key, entry_of
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Schema

GRE_KEY = 0x2000
VXLAN_PORT = 4789
WIREGUARD_PORT = 51820
ZERO_KEY = "A" * 43 + "="


def tunnel_link(
    kernel: Kernel, kind: str, entry: Mapping[str, Any], path: str
) -> tuple[str, dict[str, Any]]:
    """The kernel link kind and pyroute2 keywords of a gre, ipip or vxlan tunnel entry."""
    v6 = ":" in str(entry.get("remote") or entry.get("group") or entry.get("local") or "")
    underlay = entry.get("underlay")
    link_index = links.require(kernel, underlay, path)["index"] if underlay else None
    if kind == "vxlan":
        suffix = "6" if v6 else ""
        args: dict[str, Any] = {
            "vxlan_id": entry["vni"],
            "vxlan_port": entry.get("port", VXLAN_PORT),
            "vxlan_learning": 1 if entry.get("learning", True) else 0,
        }
        for leaf, attr in (("remote", "group"), ("group", "group"), ("local", "local")):
            if leaf in entry:
                args[f"vxlan_{attr}{suffix}"] = entry[leaf]
        optional = {"vxlan_ttl": entry.get("ttl"), "vxlan_link": link_index}
        return "vxlan", args | {k: v for k, v in optional.items() if v is not None}
    link_kind = "ip6gre" if kind == "gre" and v6 else kind
    prefix = f"{link_kind}_"
    args = {prefix + "remote": entry["remote"]}
    optional = {
        "local": entry.get("local"),
        "ttl": entry.get("ttl"),
        "link": link_index,
    }
    if kind == "gre" and entry.get("key") is not None:
        # gre flags are encoded big-endian by pyroute2, ip6gre flags in host order
        flags = GRE_KEY if link_kind == "gre" else socket.htons(GRE_KEY)
        optional |= {"ikey": entry["key"], "okey": entry["key"], "iflags": flags, "oflags": flags}
    args |= {prefix + k: v for k, v in optional.items() if v is not None}
    return link_kind, args


class TunnelParameters:
    """Handler for /tunnels/gre, /tunnels/ipip and /tunnels/vxlan entries."""

    def __init__(self, schema: Schema, kernel: Kernel, kind: str) -> None:
        self.schema = schema
        self.kernel = kernel
        self.kind = kind

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the model's constraints."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """A changelink for each modified tunnel (creation and deletion go with the device)."""
        return [
            self._change(change.old, change.new, format_path(self.schema, change.path))
            for change in changes
            if change.op is ChangeOp.MODIFY and change.old is not None and change.new is not None
        ]

    def _change(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> Step:
        kernel, kind, name = self.kernel, self.kind, new["name"]
        plan = {"op": "link change", "name": name, "type": kind}
        plan |= {k: v for k, v in new.items() if k != "name"}

        def change(entry: Mapping[str, Any]) -> None:
            link_kind, args = tunnel_link(kernel, kind, entry, path)
            index = links.require(kernel, name, path)["index"]
            kernel.call(
                f"link change {name} type {link_kind}",
                path,
                lambda: kernel.ipr.link("set", index=index, kind=link_kind, **args),
            )

        return Step(plan, lambda: change(new), lambda: change(old), path)


def device_settings(entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """WireGuard device settings of an entry (None: cleared)."""
    if entry is None:
        return {"private_key": ZERO_KEY, "listen_port": 0, "fwmark": 0}
    return {
        "private_key": entry["private-key"],
        "listen_port": entry.get("listen-port", 0),
        "fwmark": entry.get("fwmark", 0),
    }


def peer_spec(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The pyroute2 WireGuard peer structure of a peer entry (allowed-ips replaced)."""
    spec: dict[str, Any] = {
        "public_key": entry["public-key"],
        "allowed_ips": list(entry.get("allowed-ips", ())),
        "replace_allowed_ips": True,
        "persistent_keepalive": entry.get("persistent-keepalive", 0),
        "preshared_key": entry.get("preshared-key", ZERO_KEY),
    }
    if "endpoint-address" in entry:
        spec["endpoint_addr"] = entry["endpoint-address"]
        spec["endpoint_port"] = entry.get("endpoint-port", WIREGUARD_PORT)
    return spec


class WireGuardDevices:
    """Handler for /tunnels/wireguard: private key, listen port, fwmark."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the model's constraints."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Set the device settings (cleared when the entry goes and the device stays)."""
        steps = []
        for change in changes:
            name = entry_of(change)["name"]
            path = format_path(self.schema, change.path)
            new, old = device_settings(change.new), device_settings(change.old)
            plan = {"op": "wireguard set", "name": name, "listen-port": new["listen_port"]}
            plan |= {"fwmark": new["fwmark"], "private-key": "(set)" if change.new else "(cleared)"}
            steps.append(
                Step(
                    plan,
                    partial(self._set, name, new, path),
                    partial(self._set, name, old, path),
                    path,
                )
            )
        return steps

    def _set(self, name: str, settings: Mapping[str, Any], path: str) -> None:
        if self.kernel.link(name) is None:
            return  # the device itself is gone or not made yet: nothing to configure
        self.kernel.call(
            f"wireguard set {name}", path, lambda: self.kernel.wireguard.set(name, **settings)
        )


class WireGuardPeers:
    """Handler for /tunnels/wireguard/peer."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the model's constraints."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """One request per peer: set it (allowed-ips replaced) or remove it."""
        steps = []
        for change in changes:
            device = ancestor_key(change, 1)
            path = format_path(self.schema, change.path)
            key = entry_of(change)["public-key"]
            forward = peer_spec(change.new) if change.new else {"public_key": key, "remove": True}
            backward = peer_spec(change.old) if change.old else {"public_key": key, "remove": True}
            op = "remove" if change.new is None else "set"
            plan = {"op": f"wireguard peer {op}", "name": device, "public-key": key}
            if change.new is not None:
                plan |= {
                    k: v for k, v in forward.items() if k not in ("public_key", "preshared_key")
                }
            steps.append(
                Step(
                    plan,
                    partial(self._peer, device, forward, path),
                    partial(self._peer, device, backward, path),
                    path,
                )
            )
        return steps

    def _peer(self, device: str, spec: Mapping[str, Any], path: str) -> None:
        if self.kernel.link(device) is None:
            return  # the device is gone: so are its peers
        self.kernel.call(
            f"wireguard peer {device}",
            path,
            lambda: self.kernel.wireguard.set(device, peer=dict(spec)),
        )
