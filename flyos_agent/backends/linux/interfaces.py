"""Interfaces (/interfaces/interface): create virtual devices, configure every device.

Ethernet and loopback interfaces are configured, never created or deleted: a
configured one the kernel lacks is an error naming its path, and deleting
its entry only releases what the agent set (bridge/VRF membership, alias).
Veth, bridge, dummy, VLAN and tunnel devices are created and deleted with
their entries. A veth pair whose two ends are both configured (each naming
the other as veth-peer) is created by the end whose name sorts first; a
veth end whose peer is not configured brings the peer up with it.

Settings map as: enabled -> admin state, mtu, mac -> address, description ->
ifalias, bridge/vrf -> master. An MTU that is no longer configured returns to
the kind's default; a MAC that is no longer configured is left as it is.
Created devices carry the ownership marker (links.OWNED_GROUP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux import links
from flyos_agent.backends.linux.changes import entry_of
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.tunnels import tunnel_link
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError, InvalidValue
from flyos_agent.schema import Schema

CONFIGURED_ONLY = frozenset({"ethernet", "loopback"})
TUNNEL_TYPES = frozenset({"gre", "ipip", "vxlan"})
DEFAULT_MTU = {
    "ethernet": 1500,
    "loopback": 65536,
    "veth": 1500,
    "dummy": 1500,
    "bridge": 1500,
    "vxlan": 1450,
    "gre": 1476,
    "ipip": 1480,
    "wireguard": 1420,
}
IMMUTABLE = ("type", "vlan", "veth-peer")
STACKED = frozenset({"vlan", "vxlan", "gre", "ipip"})  # created after the devices they sit on


def interfaces_of(tree: Map[str, Any]) -> Map[Any, Any]:
    """The /interfaces/interface entries of a tree, by key."""
    entries: Map[Any, Any] = tree.get("interfaces", Map()).get("interface", Map())
    return entries


def creates_device(entry: Mapping[str, Any], interfaces: Mapping[Any, Any]) -> bool:
    """Whether this entry's device is created (and deleted) by the agent through this entry."""
    kind = entry["type"]
    if kind in CONFIGURED_ONLY:
        return False
    if kind != "veth":
        return True
    peer = entry.get("veth-peer")
    other = interfaces.get((peer,)) if peer is not None else None
    pairs = (
        other is not None and other["type"] == "veth" and other.get("veth-peer") == entry["name"]
    )
    return not pairs or entry["name"] < str(peer)


class Interfaces:
    """Handler for /interfaces/interface."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Refuse changes the kernel cannot make in place, and tunnels without parameters."""
        errors: list[FlyosError] = []
        tunnels = tree.get("tunnels", Map())
        for change in changes:
            path = format_path(self.schema, change.path)
            new = change.new
            if new is None:
                continue
            if change.op is ChangeOp.MODIFY and change.old is not None:
                for leaf in IMMUTABLE:
                    if change.old.get(leaf) != new.get(leaf):
                        errors.append(
                            InvalidValue(
                                f"'{leaf}' of an existing interface cannot change; "
                                "delete the interface and create it again",
                                path=path,
                            )
                        )
            kind = new["type"]
            if kind in TUNNEL_TYPES and (new["name"],) not in tunnels.get(kind, Map()):
                errors.append(
                    InvalidValue(
                        f"an interface of type {kind} needs its /flyos-tunnel:tunnels/{kind} entry",
                        path=path,
                    )
                )
        return errors

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Deletions (stacked devices before the devices they sit on); creations (lower
        devices first); the settings of every entry: devices going down stacked-first, then
        every other setting lower-first. The order never depends on the diff's order."""
        interfaces = interfaces_of(tree)
        depth = _depths(changes, interfaces, tree)
        deletes: list[tuple[tuple[int, str], Step]] = []
        created: list[tuple[tuple[int, str], Step]] = []
        downs: list[tuple[tuple[int, str], Step]] = []
        settings: list[tuple[tuple[int, str], Step]] = []
        for change in sorted(changes, key=lambda c: str(entry_of(c)["name"])):
            path = format_path(self.schema, change.path)
            name = str(entry_of(change)["name"])
            if change.op is ChangeOp.DELETE:
                assert change.old is not None
                deletes.append(((-depth[name], name), self._delete(change.old, interfaces, path)))
                continue
            entry = change.new
            assert entry is not None
            if change.op is ChangeOp.CREATE:
                if entry["type"] in CONFIGURED_ONLY:
                    links.require(self.kernel, entry["name"], path)
                elif creates_device(entry, interfaces):
                    step = self._create(entry, interfaces, tree, path)
                    created.append(((depth[name], name), step))
            step = self._configure(change.old, entry, path)
            if step.plan.get("state") == "down":
                downs.append(((-depth[name], name), step))
            else:
                settings.append(((depth[name], name), step))
        return [
            step
            for group in (deletes, created, downs, settings)
            for _key, step in sorted(group, key=lambda item: item[0])
        ]

    # ------------------------------------------------------------------ steps

    def _create(
        self,
        entry: Mapping[str, Any],
        interfaces: Mapping[Any, Any],
        tree: Map[str, Any],
        path: str,
    ) -> Step:
        name, kind = entry["name"], entry["type"]
        plan: dict[str, Any] = {"op": "link add", "name": name, "type": kind}
        kernel = self.kernel
        peer = entry.get("veth-peer")
        if kind == "veth" and peer is not None:
            plan["peer"] = peer
        if kind == "vlan":
            plan |= {"parent": entry["vlan"]["parent"], "id": entry["vlan"]["id"]}
        if kind in TUNNEL_TYPES:
            tunnel_entry = tree["tunnels"][kind][(name,)]
            plan |= {k: v for k, v in tunnel_entry.items() if k != "name"}

        def apply() -> None:
            link_kind, args = link_args(kernel, entry, tree, path)
            links.add(kernel, name, link_kind, args, path)
            if kind == "veth" and peer is not None and (peer,) not in interfaces:
                links.configure(kernel, peer, {"state": "up"}, path)

        return Step(plan, apply, lambda: links.delete(kernel, name, path), path)

    def _delete(self, entry: Mapping[str, Any], interfaces: Mapping[Any, Any], path: str) -> Step:
        name = entry["name"]
        kernel = self.kernel
        if not creates_device(entry, interfaces) or (entry.get("veth-peer"),) in interfaces:
            release: dict[str, Any] = {"ifalias": ""} if entry.get("description") else {}
            if entry.get("bridge") or entry.get("vrf"):
                release["master"] = 0
            plan = {"op": "link release", "name": name, **release}
            return links.settings_step(kernel, name, plan, release, path)
        plan = {"op": "link del", "name": name, "type": entry["type"]}
        return links.delete_step(kernel, name, plan, path)

    def _configure(self, old: Mapping[str, Any] | None, new: Mapping[str, Any], path: str) -> Step:
        wanted = link_settings(new)
        before = link_settings(old) if old is not None else {}
        changes = {k: v for k, v in wanted.items() if before.get(k) != v}
        for key in before.keys() - wanted.keys():
            if key == "mtu" and DEFAULT_MTU.get(new["type"]):
                changes["mtu"] = DEFAULT_MTU[new["type"]]
            elif key == "ifalias":
                changes["ifalias"] = ""
            elif key == "master":
                changes["master"] = None
        if old is None and "state" not in changes:
            changes["state"] = "up"
        plan = {"op": "link set", "name": new["name"], **changes}
        return links.settings_step(self.kernel, new["name"], plan, changes, path)


def link_args(
    kernel: Kernel, entry: Mapping[str, Any], tree: Map[str, Any], path: str
) -> tuple[str, dict[str, Any]]:
    """The kernel link kind and pyroute2 keywords that create an entry's device."""
    kind = entry["type"]
    if kind == "veth":
        peer = entry.get("veth-peer")
        return kind, {"peer": {"ifname": peer} if peer is not None else {}}
    if kind == "vlan":
        parent = links.require(kernel, entry["vlan"]["parent"], path)
        return kind, {"link": parent["index"], "vlan_id": entry["vlan"]["id"]}
    if kind in TUNNEL_TYPES:
        return tunnel_link(kernel, kind, tree["tunnels"][kind][(entry["name"],)], path)
    return kind, {}


def lower_device(entry: Mapping[str, Any], tree: Map[str, Any]) -> str | None:
    """The device an entry's device sits on: a VLAN's parent, a tunnel's underlay."""
    kind = entry["type"]
    if kind == "vlan":
        parent: str | None = entry.get("vlan", Map()).get("parent")
        return parent
    if kind in TUNNEL_TYPES:
        tunnel = tree.get("tunnels", Map()).get(kind, Map()).get((entry["name"],))
        underlay: str | None = tunnel.get("underlay") if tunnel is not None else None
        return underlay
    return None


def _depths(
    changes: Sequence[Change], interfaces: Mapping[Any, Any], tree: Map[str, Any]
) -> dict[str, int]:
    """How many devices each changed interface sits on (0: none; a stacked device sits on
    at least one, its lower device if configured or one outside the configuration)."""
    entries: dict[str, Mapping[str, Any]] = {
        str(change.old["name"]): change.old
        for change in changes
        if change.op is ChangeOp.DELETE and change.old is not None
    }
    entries.update({str(key[0]): entry for key, entry in interfaces.items()})
    depths: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name in depths:
            return depths[name]
        entry = entries.get(name)
        if entry is None or name in seen:
            return 0
        lower = lower_device(entry, tree)
        if lower is not None:
            found = 1 + depth(lower, seen | {name})
        else:
            found = 1 if entry["type"] in STACKED else 0
        depths[name] = found
        return found

    return {str(entry_of(c)["name"]): depth(str(entry_of(c)["name"]), frozenset()) for c in changes}


def link_settings(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The link settings an interface entry asks for (master by device name)."""
    out: dict[str, Any] = {"state": "up" if entry.get("enabled", True) else "down"}
    if "mtu" in entry:
        out["mtu"] = entry["mtu"]
    if "mac" in entry:
        out["address"] = entry["mac"]
    if entry.get("description"):
        out["ifalias"] = entry["description"]
    master = entry.get("bridge") or entry.get("vrf")
    if master is not None:
        out["master"] = master
    return out
