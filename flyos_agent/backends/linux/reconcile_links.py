"""Reconcile of links: the devices the agent creates, and the settings of every configured one.

Running wants one 'vrf' device per VRF and one device per interface entry.
The agent owns (creates, marks with links.OWNED_GROUP, deletes) the VRFs, the
interfaces of the kinds it creates, and the peer of a configured veth;
ethernet and loopback devices are only configured. Against the kernel:

- missing: a wanted device the kernel lacks. Converging creates it with its
  settings (a WireGuard device also gets its keys and peers); a missing
  ethernet or loopback device is an error, never created.
- extra: a device with the owned group that nothing configured wants (left
  by a crash between the kernel and the journal). Converging deletes it.
- different: a wanted device whose admin state, MTU, MAC (when configured),
  alias, master (bridge or VRF), ownership mark or kind differs. Converging
  sets the settings and marks an unmarked device of the right kind (made by
  an agent before the marker existed); an owned device of the wrong kind (or
  a VRF with another table) is re-created, a foreign one is left alone.

Devices neither configured nor marked are foreign: never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from immutables import Map

from flyos_agent.backends.linux import links
from flyos_agent.backends.linux.interfaces import (
    STACKED,
    creates_device,
    interfaces_of,
    link_args,
    link_settings,
    lower_device,
)
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.tunnels import device_settings, peer_spec
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Schema

# interface type -> the kernel kinds its device may have (gre: ip6gre over IPv6)
KERNEL_KINDS: dict[str, frozenset[str]] = {
    "veth": frozenset({"veth"}),
    "dummy": frozenset({"dummy"}),
    "bridge": frozenset({"bridge"}),
    "vlan": frozenset({"vlan"}),
    "gre": frozenset({"gre", "ip6gre"}),
    "ipip": frozenset({"ipip"}),
    "vxlan": frozenset({"vxlan"}),
    "wireguard": frozenset({"wireguard"}),
    "vrf": frozenset({"vrf"}),
}
RECREATE = frozenset({"type", "table"})


@dataclass(frozen=True)
class WantedLink:
    """A device running asks for: `settings` by links.configure's names, the master by name."""

    name: str
    kind: str  # the interface type, or "vrf"
    path: str
    owned: bool  # the agent creates it (itself or as the peer of a veth it creates)
    creates: bool  # reconcile creates it itself (not as a veth peer)
    depth: int  # devices it sits on; VRFs come first (-1)
    settings: Mapping[str, Any]
    entry: Mapping[str, Any] = field(default_factory=dict)
    table: int | None = None  # a VRF's table


@dataclass(frozen=True)
class LinkChange:
    """A wanted device that differs from the kernel's: what to set, and what the kernel has."""

    wanted: WantedLink
    changes: dict[str, Any]
    kernel_kind: str
    kernel_owned: bool


@dataclass
class LinkDrift:
    """The links of running against the kernel's."""

    missing: list[WantedLink]
    extra: list[str]
    different: list[LinkChange]

    @property
    def foreign(self) -> frozenset[str]:
        """Configured names held by a device of another kind the agent did not create: left
        alone, addresses included."""
        return frozenset(
            change.wanted.name
            for change in self.different
            if RECREATE & change.changes.keys() and not change.kernel_owned
        )

    def report(self) -> dict[str, Any]:
        """{"missing": [name], "extra": [name], "different": [{"name", "attributes"}]}."""
        return {
            "missing": [link.name for link in self.missing],
            "extra": list(self.extra),
            "different": [
                {"name": change.wanted.name, "attributes": sorted(change.changes)}
                for change in self.different
            ],
        }


def wanted_links(schema: Schema, running: Map[str, Any]) -> dict[str, WantedLink]:
    """Every device running asks for, by name."""
    out: dict[str, WantedLink] = {}
    for key, vrf in running.get("vrfs", Map()).get("vrf", Map()).items():
        path = format_path(schema, (("vrfs", None), ("vrf", key)))
        settings = {"state": "up", "ifalias": vrf.get("description", "")}
        name = vrf["name"]
        out[name] = WantedLink(name, "vrf", path, True, True, -1, settings, table=vrf["table"])
    interfaces = interfaces_of(running)
    depths = _depths(interfaces, running)
    for key, entry in interfaces.items():
        name, kind = entry["name"], entry["type"]
        path = format_path(schema, (("interfaces", None), ("interface", key)))
        settings = {"ifalias": "", "master": None, **link_settings(entry)}
        creates = creates_device(entry, interfaces)
        owned = creates or kind == "veth"  # a veth end that is not created is its peer's peer
        out[name] = WantedLink(name, kind, path, owned, creates, depths[name], settings, entry)
    return out


def link_drift(schema: Schema, kernel: Kernel, running: Map[str, Any]) -> LinkDrift:
    """The drift between running's devices and the kernel's (one link dump)."""
    wanted = wanted_links(schema, running)
    with kernel.lock:
        dump = kernel.ipr.get_links()
    by_name = {link.get("IFLA_IFNAME"): link for link in dump}
    names = {int(link["index"]): str(link.get("IFLA_IFNAME")) for link in dump}
    peers = _veth_peers(wanted.values(), by_name, names)
    extra = sorted(
        name
        for name, link in by_name.items()
        if link.get("IFLA_GROUP") == links.OWNED_GROUP and name not in wanted and name not in peers
    )
    missing: list[WantedLink] = []
    different: list[LinkChange] = []
    for want in sorted(wanted.values(), key=_order):
        link = by_name.get(want.name)
        if link is None:
            missing.append(want)
            continue
        owned = link.get("IFLA_GROUP") == links.OWNED_GROUP
        changes = _differences(want, link, names, owned)
        if changes:
            different.append(LinkChange(want, changes, links.kind_of(link), owned))
    return LinkDrift(missing, extra, different)


def converge_links(kernel: Kernel, running: Map[str, Any], drift: LinkDrift) -> list[str]:
    """Delete extra devices, re-create and create missing ones, set what differs; the errors
    (one line per refused operation; the other operations still run)."""
    errors: list[str] = []
    with kernel.lock:
        for name in drift.extra:
            _attempt(errors, _delete_if_present, kernel, name)
        create = list(drift.missing)
        configure: list[tuple[WantedLink, Mapping[str, Any]]] = [
            (want, want.settings) for want in drift.missing
        ]
        for change in drift.different:
            want = change.wanted
            if not RECREATE & change.changes.keys():
                configure.append((want, change.changes))
            elif change.kernel_owned:
                _attempt(errors, links.delete, kernel, want.name, want.path)
                create.append(want)
                configure.append((want, want.settings))
            else:
                errors.append(
                    f"{want.path}: link {want.name}: the kernel has a "
                    f"{change.kernel_kind or 'plain'} device the agent did not create, "
                    f"where running wants a {want.kind}: left alone"
                )
        for want in sorted(create, key=_order):
            if want.creates:
                _attempt(errors, _create, kernel, running, want)
            elif not want.owned:
                errors.append(
                    f"{want.path}: link {want.name}: ENODEV: the configured {want.kind} device "
                    "is absent (the agent configures such devices, never creates them)"
                )
        for want, settings in sorted(configure, key=lambda item: _order(item[0])):
            if kernel.link(want.name) is not None:
                _attempt(errors, _configure, kernel, want, settings)
    return errors


# ---------------------------------------------------------------------- comparing


def _differences(
    want: WantedLink, link: Any, names: Mapping[int, str], owned: bool
) -> dict[str, Any]:
    """The settings to set on `link` for `want` ('type'/'table' when it must be re-created)."""
    changes: dict[str, Any] = {}
    if want.owned:
        if links.kind_of(link) not in KERNEL_KINDS[want.kind]:
            changes["type"] = want.kind
        elif not owned:
            changes["group"] = links.OWNED_GROUP  # adopted: made before the marker existed
        if want.table is not None and "type" not in changes and _vrf_table(link) != want.table:
            changes["table"] = want.table
    have = links.settings_of(link)
    for key, value in want.settings.items():
        current: Any = have[key]
        if key == "master":
            current = names.get(current) if current else None
        if key == "address":
            same = str(current or "").lower() == str(value).lower()
        else:
            same = current == value
        if not same:
            changes[key] = value
    return changes


def _vrf_table(link: Any) -> int | None:
    data = link.get(("linkinfo", "data"))
    table = data.get("IFLA_VRF_TABLE") if data is not None else None
    return int(table) if table is not None else None


def _veth_peers(
    wanted: Iterable[WantedLink], by_name: Mapping[str, Any], names: Mapping[int, str]
) -> set[str]:
    """The peers of configured veths: the configured peer name, and the kernel's peer
    (an unnamed one gets a kernel-chosen name) when it lives in this namespace."""
    peers: set[str] = set()
    for want in wanted:
        if want.kind != "veth":
            continue
        if want.entry.get("veth-peer"):
            peers.add(str(want.entry["veth-peer"]))
        link = by_name.get(want.name)
        if link is not None and link.get("IFLA_LINK_NETNSID") is None:
            peer = names.get(int(link.get("IFLA_LINK") or 0))
            if peer is not None:
                peers.add(peer)
    return peers


def _depths(interfaces: Map[Any, Any], running: Map[str, Any]) -> dict[str, int]:
    """How many devices each interface sits on (a stacked one on at least one)."""
    entries = {str(entry["name"]): entry for entry in interfaces.values()}
    depths: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name in depths:
            return depths[name]
        entry = entries.get(name)
        if entry is None or name in seen:
            return 0
        lower = lower_device(entry, running)
        found = (
            1 + depth(lower, seen | {name}) if lower is not None else int(entry["type"] in STACKED)
        )
        depths[name] = found
        return found

    return {name: depth(name, frozenset()) for name in entries}


def _order(want: WantedLink) -> tuple[int, str]:
    return (want.depth, want.name)


# ---------------------------------------------------------------------- converging


def _attempt(errors: list[str], action: Callable[..., None], *args: Any) -> None:
    """Run `action(*args)`; a refusal becomes one line of `errors`."""
    try:
        action(*args)
    except FlyosError as exc:
        errors.append(str(exc))


def _delete_if_present(kernel: Kernel, name: str) -> None:
    """Delete `name` unless it went already (with its veth peer, or its lower device)."""
    if kernel.link(name) is not None:
        links.delete(kernel, name, None)


def _create(kernel: Kernel, running: Map[str, Any], want: WantedLink) -> None:
    """Create a wanted device (marked as owned); a WireGuard one with its keys and peers."""
    if want.kind == "vrf":
        links.add(kernel, want.name, "vrf", {"vrf_table": want.table}, want.path)
        return
    kind, args = link_args(kernel, want.entry, running, want.path)
    links.add(kernel, want.name, kind, args, want.path)
    peer = want.entry.get("veth-peer")
    if want.kind == "veth" and peer is not None and (peer,) not in interfaces_of(running):
        links.configure(kernel, peer, {"state": "up"}, want.path)
    if want.kind == "wireguard":
        _configure_wireguard(kernel, running, want)


def _configure_wireguard(kernel: Kernel, running: Map[str, Any], want: WantedLink) -> None:
    entry = running.get("tunnels", Map()).get("wireguard", Map()).get((want.name,))
    if entry is None:
        return
    kernel.call(
        f"wireguard set {want.name}",
        want.path,
        lambda: kernel.wireguard.set(want.name, **device_settings(entry)),
    )
    for peer in entry.get("peer", Map()).values():
        spec = peer_spec(peer)
        kernel.call(
            f"wireguard peer {want.name}",
            want.path,
            partial(kernel.wireguard.set, want.name, peer=spec),
        )


def _configure(kernel: Kernel, want: WantedLink, settings: Mapping[str, Any]) -> None:
    """Set `settings` on the device (a master by name; 'type'/'table' were handled)."""
    resolved = {key: value for key, value in settings.items() if key not in RECREATE}
    if "group" not in resolved and want.owned:
        resolved["group"] = links.OWNED_GROUP
    if "master" in resolved:
        master = resolved["master"]
        resolved["master"] = links.require(kernel, master, want.path)["index"] if master else 0
    links.configure(kernel, want.name, resolved, want.path)
