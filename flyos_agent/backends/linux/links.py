"""Link operations with exact undo: create, delete (and re-create), and set attributes.

Every device the agent creates carries device group OWNED_GROUP (IFLA_GROUP
177, like the protocol of its routes): that marker tells a restarted agent
which links are its own. Every change records what the kernel had before it,
so its undo restores that: a deleted device comes back with its ifindex, MAC
address, MTU, alias, state, master, group and kind parameters; changed
attributes get their old values.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.kernel import Kernel, KernelFailure, kernel_error
from flyos_agent.backends.linux.netlink_batch import NLM_F_CREATE, NLM_F_EXCL, attr, u32_attr

OWNED_GROUP = 177
IFF_UP = 0x1
ZERO_MAC = "00:00:00:00:00:00"
RTM_NEWLINK = 16
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINKINFO, IFLA_GROUP = 1, 3, 4, 18, 27
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
NLA_F_NESTED = 0x8000
IFINFOMSG = struct.Struct("=BxHiII")

# kind parameters read back from the kernel to re-create a deleted device
KIND_PARAMETERS: dict[str, tuple[str, ...]] = {
    "vlan": ("IFLA_VLAN_ID",),
    "vxlan": (
        "IFLA_VXLAN_ID",
        "IFLA_VXLAN_GROUP",
        "IFLA_VXLAN_GROUP6",
        "IFLA_VXLAN_LOCAL",
        "IFLA_VXLAN_LOCAL6",
        "IFLA_VXLAN_PORT",
        "IFLA_VXLAN_LINK",
        "IFLA_VXLAN_LEARNING",
        "IFLA_VXLAN_TTL",
    ),
    "gre": (
        "IFLA_GRE_LOCAL",
        "IFLA_GRE_REMOTE",
        "IFLA_GRE_TTL",
        "IFLA_GRE_LINK",
        "IFLA_GRE_IKEY",
        "IFLA_GRE_OKEY",
        "IFLA_GRE_IFLAGS",
        "IFLA_GRE_OFLAGS",
    ),
    "ip6gre": (
        "IFLA_IP6GRE_LOCAL",
        "IFLA_IP6GRE_REMOTE",
        "IFLA_IP6GRE_TTL",
        "IFLA_IP6GRE_LINK",
        "IFLA_IP6GRE_IKEY",
        "IFLA_IP6GRE_OKEY",
        "IFLA_IP6GRE_IFLAGS",
        "IFLA_IP6GRE_OFLAGS",
    ),
    "ipip": ("IFLA_IPIP_LOCAL", "IFLA_IPIP_REMOTE", "IFLA_IPIP_TTL", "IFLA_IPIP_LINK"),
    "vrf": ("IFLA_VRF_TABLE",),
}


@dataclass
class LinkSnapshot:
    """What it takes to re-create a device as it was."""

    name: str
    index: int
    kind: str
    create: dict[str, Any]
    settings: dict[str, Any]
    peer: dict[str, Any] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)


def settings_of(link: Any) -> dict[str, Any]:
    """The settable attributes of a link message: mtu, address, ifalias, master, state, group."""
    return {
        "mtu": link.get("IFLA_MTU"),
        "address": link.get("IFLA_ADDRESS"),
        "ifalias": link.get("IFLA_IFALIAS") or "",
        "master": link.get("IFLA_MASTER") or 0,
        "state": "up" if link["flags"] & IFF_UP else "down",
        "group": link.get("IFLA_GROUP") or 0,
    }


def kind_of(link: Any) -> str:
    """The kernel kind of a link message ('' for devices without one, such as lo)."""
    info = link.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    return str(kind or "")


def require(kernel: Kernel, name: str, path: str | None) -> Any:
    """The link message of `name`; an ENODEV error naming `path` if there is none."""
    link = kernel.link(name)
    if link is None:
        raise KernelFailure(
            f"interface {name}: ENODEV: No such device", path=path, info={"errno": "ENODEV"}
        )
    return link


def add(kernel: Kernel, name: str, kind: str, args: Mapping[str, Any], path: str | None) -> None:
    """Create device `name` of `kind` with `args` (pyroute2 link keywords), marked as owned
    (a veth's peer too)."""
    args = dict(args)
    if kind == "veth":
        args["peer"] = {**args.get("peer", {}), "group": OWNED_GROUP}
    kernel.call(
        f"link add {name} type {kind}",
        path,
        lambda: kernel.ipr.link("add", ifname=name, kind=kind, group=OWNED_GROUP, **args),
    )


def delete(kernel: Kernel, name: str, path: str | None) -> None:
    """Delete device `name`."""
    index = require(kernel, name, path)["index"]
    kernel.call(f"link del {name}", path, lambda: kernel.ipr.link("del", index=index))


def snapshot(kernel: Kernel, name: str, path: str) -> LinkSnapshot:
    """Everything needed to re-create device `name` as it is now."""
    with kernel.lock:
        link = require(kernel, name, path)
        info = link.get("IFLA_LINKINFO")
        kind = kind_of(link)
        data = info.get("IFLA_INFO_DATA") if info is not None else None
        create: dict[str, Any] = {}
        if data is not None:
            wanted = KIND_PARAMETERS.get(kind, ())
            for attr_name, value in data.get("attrs", []):
                if attr_name in wanted:
                    create[attr_name[len("IFLA_") :].lower()] = value
        if kind == "vlan":
            create["link"] = link.get("IFLA_LINK")
        result = LinkSnapshot(name, int(link["index"]), kind, create, settings_of(link))
        result.ports = [
            port.get("IFLA_IFNAME")
            for port in kernel.ipr.get_links()
            if port.get("IFLA_MASTER") == result.index
        ]
        if kind == "veth":
            peer = kernel.ipr.get_links(link.get("IFLA_LINK"))[0]
            result.peer = {
                "ifname": peer.get("IFLA_IFNAME"),
                "index": int(peer["index"]),
                **settings_of(peer),
            }
        return result


def restore(kernel: Kernel, snap: LinkSnapshot, path: str) -> None:
    """Re-create a deleted device from its snapshot (same ifindex, address and settings).

    Membership is restored in both directions, whichever comes back first: the device
    rejoins its master if that exists again, and ports that exist rejoin the device.
    """
    settings = dict(snap.settings)
    address = settings.pop("address")
    group = settings.pop("group")  # given at creation
    with kernel.lock:
        if snap.peer:
            _restore_veth(kernel, snap, address, path)
        else:
            args: dict[str, Any] = dict(snap.create)
            if address and address != ZERO_MAC:  # a bridge without ports shows none
                args["address"] = address
            args["group"] = group
            kernel.call(
                f"link add {snap.name} type {snap.kind}",
                path,
                lambda: kernel.ipr.link(
                    "add", index=snap.index, ifname=snap.name, kind=snap.kind, **args
                ),
            )
        present = kernel.ifindex_map()
        indexes = set(present.values())
        configure(kernel, snap.name, _without_missing_master(settings, indexes), path)
        if snap.peer:
            peer_settings = {
                k: v for k, v in snap.peer.items() if k in ("ifalias", "master", "state")
            }
            peer_settings = _without_missing_master(peer_settings, indexes)
            configure(kernel, snap.peer["ifname"], peer_settings, path)
        for port in snap.ports:
            if port in present:
                configure(kernel, port, {"master": snap.index}, path)


def _restore_veth(kernel: Kernel, snap: LinkSnapshot, address: str, path: str) -> None:
    """Re-create a veth pair with both ends' ifindex, name, address, MTU and group (pyroute2
    cannot give the peer an ifindex, so the request is packed here)."""
    peer = snap.peer
    peer_info = IFINFOMSG.pack(0, 0, peer["index"], 0, 0) + _link_attrs(
        peer["ifname"], peer["address"], peer["mtu"], peer["group"]
    )
    linkinfo = attr(IFLA_INFO_KIND, b"veth\0") + attr(
        IFLA_INFO_DATA | NLA_F_NESTED, attr(VETH_INFO_PEER | NLA_F_NESTED, peer_info)
    )
    payload = (
        IFINFOMSG.pack(0, 0, snap.index, 0, 0)
        + _link_attrs(snap.name, address, snap.settings["mtu"], snap.settings["group"])
        + attr(IFLA_LINKINFO | NLA_F_NESTED, linkinfo)
    )
    failures = kernel.rtnl.execute([(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, payload)])
    if failures:
        raise kernel_error(failures[0], f"link add {snap.name} type veth", path)


def _link_attrs(name: str, address: str, mtu: int, group: int) -> bytes:
    return (
        attr(IFLA_IFNAME, name.encode() + b"\0")
        + attr(IFLA_ADDRESS, bytes.fromhex(address.replace(":", "")))
        + u32_attr(IFLA_MTU, mtu)
        + u32_attr(IFLA_GROUP, group)
    )


def _without_missing_master(settings: dict[str, Any], indexes: set[int]) -> dict[str, Any]:
    """`settings` without a master that does not exist (yet): it re-enslaves its ports."""
    if settings.get("master") and settings["master"] not in indexes:
        return {k: v for k, v in settings.items() if k != "master"}
    return settings


def configure(kernel: Kernel, name: str, settings: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Set `settings` (mtu, address, ifalias, master, state) on `name`; the values they had.

    If the kernel refuses, the values already changed are set back before the error is raised.
    """
    if not settings:
        return {}
    with kernel.lock:
        link = require(kernel, name, path)
        before = settings_of(link)
        previous = {key: before[key] for key in settings}
        changes = {key: value for key, value in settings.items() if before[key] != value}
        done: list[str] = []
        for key, value in _ordered(changes):
            try:
                kernel.call(
                    f"link set {name} {key} {value}",
                    path,
                    partial(kernel.ipr.link, "set", index=link["index"], **{key: value}),
                )
            except KernelFailure:
                for undone in reversed(done):
                    kernel.ipr.link("set", index=link["index"], **{undone: previous[undone]})
                raise
            done.append(key)
        return previous


def _ordered(settings: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Settings in a safe order: bring down before, bring up after the other changes."""
    order = {"state": 0 if settings.get("state") == "down" else 9}
    return sorted(settings.items(), key=lambda item: order.get(item[0], 1))


def settings_step(
    kernel: Kernel, name: str, plan: dict[str, Any], settings: Mapping[str, Any], path: str
) -> Step:
    """A step setting `settings` on `name` (a master given by device name, None for none),
    undone by setting back the values the kernel had."""
    previous: list[dict[str, Any]] = []

    def apply() -> None:
        resolved = dict(settings)
        if "master" in resolved:
            master = resolved["master"]
            resolved["master"] = require(kernel, master, path)["index"] if master else 0
        previous.append(configure(kernel, name, resolved, path))

    def undo() -> None:
        if previous:
            configure(kernel, name, previous.pop(), path)

    return Step(plan, apply, undo, path)


def delete_step(kernel: Kernel, name: str, plan: dict[str, Any], path: str) -> Step:
    """A step deleting device `name` (nothing to do if it is already gone, e.g. with its
    veth peer), undone by re-creating it from a snapshot."""
    saved: list[LinkSnapshot] = []

    def apply() -> None:
        if kernel.link(name) is None:
            return
        saved.append(snapshot(kernel, name, path))
        delete(kernel, name, path)

    def undo() -> None:
        if saved:
            restore(kernel, saved.pop(), path)

    return Step(plan, apply, undo, path)
