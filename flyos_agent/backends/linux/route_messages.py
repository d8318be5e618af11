"""Static routes as kernel objects: built from config entries, packed as rtmsg, parsed from dumps.

Every route the agent installs carries protocol FLYOS_PROTO (177, "flyos";
unassigned in the kernel's rtnetlink.h and in iproute2's rt_protos), which is
how reconcile tells the agent's routes from everyone else's.

`encode_route` is the one definition of a route request; `RouteEncoder` packs
many of them fast by reusing its output as a template per route form.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Mapping
from functools import cache
from socket import inet_pton
from typing import Any, NamedTuple

from flyos_agent.backends.linux.netlink_batch import (
    ATTR,
    HEADER,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    MessageBatch,
    Request,
    attr,
    message,
    parse_attrs,
    u32_attr,
)

FLYOS_PROTO = 177

RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTM_GETROUTE = 26

RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_MULTIPATH = 9
RTA_TABLE = 15

RT_TABLE_COMPAT = 252
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_NOWHERE = 255
RTNH_F_ONLINK = 4

ROUTE_TYPES = {"unicast": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8}
TYPE_NAMES = {number: name for name, number in ROUTE_TYPES.items()}
TABLE_NAMES = {"main": 254, "local": 255, "default": 253}
DEFAULT_METRIC = {socket.AF_INET: 0, socket.AF_INET6: 1024}

RTMSG = struct.Struct("=BBBBBBBBI")
RTNH = struct.Struct("=HBBi")


class NextHop(NamedTuple):
    """One gateway of a route (weight 1..256)."""

    gateway: str | None
    dev: str | None
    weight: int = 1


class Route(NamedTuple):
    """A route as the kernel holds it; `nexthops` is set for multipath routes only."""

    family: int
    dst: str
    dst_len: int
    table: int
    metric: int
    kind: str
    gateway: str | None
    dev: str | None
    onlink: bool
    nexthops: tuple[NextHop, ...]

    @property
    def prefix(self) -> str:
        """The destination as 'address/length'."""
        return f"{self.dst}/{self.dst_len}"

    @property
    def key(self) -> tuple[int, int, str, int, int]:
        """What identifies the route in the kernel: family, table, prefix, metric."""
        return (self.family, self.table, self.dst, self.dst_len, self.metric)

    def plan(self, op: str) -> dict[str, Any]:
        """The dry-run description of `op` ('add', 'replace', 'del') on this route."""
        out: dict[str, Any] = {"op": f"route {op}", "dst": self.prefix, "table": self.table}
        if self.kind != "unicast":
            out["type"] = self.kind
        if self.gateway is not None:
            out["gateway"] = self.gateway
        if self.dev is not None:
            out["dev"] = self.dev
        if self.nexthops:
            out["nexthops"] = [hop._asdict() for hop in self.nexthops]
        out["metric"] = self.metric
        if self.onlink:
            out["onlink"] = True
        out["proto"] = FLYOS_PROTO
        return out


def table_number(value: Any) -> int:
    """A route-table leaf value ('main', 'local', 'default' or a number) as a number."""
    if isinstance(value, str):
        return TABLE_NAMES[value]
    return int(value)


def route_from_entry(entry: Mapping[str, Any], vrf_tables: Mapping[str, int]) -> Route:
    """The kernel route a /routing/static entry describes."""
    prefix: str = entry["prefix"]
    dst, _, length = prefix.partition("/")
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    vrf = entry.get("vrf")
    table_value = entry.get("table")
    if vrf is not None:
        table = vrf_tables[vrf]
    elif table_value is not None:
        table = table_number(table_value)
    else:
        table = 254
    metric = entry.get("metric")
    hops = entry.get("nexthop")
    nexthops: tuple[NextHop, ...] = ()
    if hops:
        nexthops = tuple(
            NextHop(hop["via"], hop.get("dev"), hop.get("weight", 1))
            for _key, hop in sorted(hops.items())
        )
    return Route(
        family,
        dst,
        int(length),
        table,
        DEFAULT_METRIC[family] if metric is None else metric,
        entry.get("type", "unicast"),
        entry.get("via"),
        entry.get("dev"),
        bool(entry.get("onlink", False)),
        nexthops,
    )


def same_route(desired: Route, actual: Route) -> bool:
    """Whether the kernel's route is the configured one (a device left to the kernel is
    not compared, nor are the devices of next hops configured without one)."""
    if (desired.kind, desired.gateway, desired.onlink) != (
        actual.kind,
        actual.gateway,
        actual.onlink,
    ):
        return False
    if desired.dev is not None and desired.dev != actual.dev:
        return False
    if len(desired.nexthops) != len(actual.nexthops):
        return False
    return all(
        (want.gateway, want.weight) == (have.gateway, have.weight)
        and (want.dev is None or want.dev == have.dev)
        for want, have in zip(desired.nexthops, actual.nexthops, strict=True)
    )


def encode_route(route: Route, op: str, ifindex: Callable[[str], int]) -> Request:
    """The rtnetlink request for `op` ('add', 'replace', 'del') of `route`."""
    family = route.family
    kind = ROUTE_TYPES[route.kind]
    if op == "del":
        msg_type, flags, scope = RTM_DELROUTE, 0, RT_SCOPE_NOWHERE
    else:
        msg_type = RTM_NEWROUTE
        flags = NLM_F_CREATE | (NLM_F_REPLACE if op == "replace" else NLM_F_EXCL)
        direct = kind == 1 and route.gateway is None and not route.nexthops
        scope = RT_SCOPE_LINK if direct else RT_SCOPE_UNIVERSE
    table = route.table
    head = _HEAD[family].pack(
        family,
        route.dst_len,
        0,
        0,
        table if table < 256 else RT_TABLE_COMPAT,
        FLYOS_PROTO,
        scope,
        kind,
        RTNH_F_ONLINK if route.onlink and not route.nexthops else 0,
        _ADDRESS_ATTR[family],
        RTA_DST,
        socket.inet_pton(family, route.dst),
        8,
        RTA_TABLE,
        table,
        8,
        RTA_PRIORITY,
        route.metric,
    )
    # an IPv6 delete names no next hop, so that every sibling of a multipath route goes
    if op == "del" and family == socket.AF_INET6:
        return (msg_type, flags, head)
    parts = [head]
    if route.gateway is not None:
        parts.append(_gateway_attr(family, route.gateway))
    if route.dev is not None:
        parts.append(u32_attr(RTA_OIF, ifindex(route.dev)))
    if route.nexthops:
        parts.append(attr(RTA_MULTIPATH, _multipath(route, ifindex)))
    return (msg_type, flags, b"".join(parts))


_ADDRESS_ATTR: dict[int, int] = {socket.AF_INET: 8, socket.AF_INET6: 20}
_HEAD: dict[int, struct.Struct] = {
    family: struct.Struct(f"=BBBBBBBBI HH{size}s HHI HHI")
    for family, size in ((socket.AF_INET, 4), (socket.AF_INET6, 16))
}


@cache
def _gateway_attr(family: int, gateway: str) -> bytes:
    """The RTA_GATEWAY attribute of a gateway (few gateways serve many routes)."""
    return attr(RTA_GATEWAY, socket.inet_pton(family, gateway))


def _multipath(route: Route, ifindex: Callable[[str], int]) -> bytes:
    out = []
    flags = RTNH_F_ONLINK if route.onlink else 0
    for hop in route.nexthops:
        gateway = attr(RTA_GATEWAY, socket.inet_pton(route.family, hop.gateway or ""))
        index = ifindex(hop.dev) if hop.dev is not None else 0
        out.append(RTNH.pack(8 + len(gateway), flags, hop.weight - 1, index) + gateway)
    return b"".join(out)


class RouteEncoder:
    """Packs route requests into a MessageBatch, one `struct.pack` per route.

    Routes that differ only in their destination address have the same request
    but for those bytes (and the sequence number): the first such route is
    encoded by `encode_route` and kept as the template of the others. A
    /routing/static entry of prefix, via and dev alone (the common form) needs
    no Route at all: the template is found by its prefix length, via and dev.
    """

    def __init__(self, vrf_tables: Mapping[str, int], ifindex: Callable[[str], int]) -> None:
        self.vrf_tables = vrf_tables
        self.ifindex = ifindex
        self.templates: dict[tuple[Any, ...], _Template] = {}

    def add_entry(self, batch: MessageBatch, entry: Mapping[str, Any], op: str) -> None:
        """Append `op` of the route a /routing/static entry describes."""
        dst, _, length = entry["prefix"].partition("/")
        via = entry.get("via")
        dev = entry.get("dev")
        if len(entry) != 1 + (via is not None) + (dev is not None):
            self.add_route(batch, route_from_entry(entry, self.vrf_tables), op)
            return
        key = (op, length, via, dev, ":" in dst)
        template = self.templates.get(key)
        if template is None:
            route = route_from_entry(entry, self.vrf_tables)
            template = self.templates[key] = _template(route, op, self.ifindex)
        pack, head, mid, tail, family = template
        address = inet_pton(family, dst)
        batch.messages.append(pack(head, len(batch.messages) + 1, mid, address, tail))

    def add_route(self, batch: MessageBatch, route: Route, op: str) -> None:
        """Append `op` of `route`."""
        key = (op, route[:1] + route[2:])
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = _template(route, op, self.ifindex)
        pack, head, mid, tail, family = template
        address = inet_pton(family, route.dst)
        batch.messages.append(pack(head, len(batch.messages) + 1, mid, address, tail))


class _Template(NamedTuple):
    """A route request cut around its sequence number and destination address."""

    pack: Callable[[bytes, int, bytes, bytes, bytes], bytes]
    head: bytes
    mid: bytes
    tail: bytes
    family: int


_SEQ_AT = 8  # after the netlink header's length, type and flags
_DST_AT = HEADER.size + RTMSG.size + ATTR.size  # after the header, rtmsg and RTA_DST's header


def _template(route: Route, op: str, ifindex: Callable[[str], int]) -> _Template:
    """The template of the requests of `op` on routes like `route` (any destination)."""
    msg_type, flags, payload = encode_route(route, op, ifindex)
    whole = message(msg_type, flags, 0, payload)
    size = len(inet_pton(route.family, route.dst))
    assert ATTR.unpack_from(whole, _DST_AT - ATTR.size) == (ATTR.size + size, RTA_DST)
    mid_at = _SEQ_AT + 4
    tail_at = _DST_AT + size
    layout = struct.Struct(f"={_SEQ_AT}sI{_DST_AT - mid_at}s{size}s{len(whole) - tail_at}s")
    head, mid, tail = whole[:_SEQ_AT], whole[mid_at:_DST_AT], whole[tail_at:]
    return _Template(layout.pack, head, mid, tail, route.family)


def dump_request(family: int = socket.AF_UNSPEC) -> bytes:
    """The payload of a dump of the agent's routes in every table (kernel-side filtered)."""
    return RTMSG.pack(family, 0, 0, 0, 0, FLYOS_PROTO, 0, 0, 0)


def decode_route(data: bytes, ifname: Callable[[int], str | None]) -> Route | None:
    """The Route in a RTM_NEWROUTE dump message, or None if it is not one of ours."""
    family, dst_len, _src, _tos, table, proto, _scope, kind, flags = RTMSG.unpack_from(data)
    if proto != FLYOS_PROTO or kind not in TYPE_NAMES:
        return None
    attrs = parse_attrs(data, RTMSG.size, len(data))
    if RTA_TABLE in attrs:
        (table,) = struct.unpack("=I", attrs[RTA_TABLE])
    dst = attrs.get(RTA_DST)
    metric = attrs.get(RTA_PRIORITY)
    gateway = attrs.get(RTA_GATEWAY)
    oif = attrs.get(RTA_OIF)
    nexthops: tuple[NextHop, ...] = ()
    onlink = bool(flags & RTNH_F_ONLINK)
    if RTA_MULTIPATH in attrs:
        nexthops, onlink = _decode_multipath(family, attrs[RTA_MULTIPATH], ifname)
    return Route(
        family,
        socket.inet_ntop(family, dst)
        if dst
        else ("::" if family == socket.AF_INET6 else "0.0.0.0"),
        dst_len,
        table,
        struct.unpack("=I", metric)[0] if metric else 0,
        TYPE_NAMES[kind],
        socket.inet_ntop(family, gateway) if gateway else None,
        ifname(struct.unpack("=I", oif)[0]) if oif else None,
        onlink,
        nexthops,
    )


def _decode_multipath(
    family: int, data: bytes, ifname: Callable[[int], str | None]
) -> tuple[tuple[NextHop, ...], bool]:
    hops = []
    onlink = False
    offset = 0
    while offset + RTNH.size <= len(data):
        length, flags, hops_minus_one, index = RTNH.unpack_from(data, offset)
        if length < RTNH.size:
            break
        nested = parse_attrs(data, offset + RTNH.size, offset + length)
        gateway = nested.get(RTA_GATEWAY)
        hops.append(
            NextHop(
                socket.inet_ntop(family, gateway) if gateway else None,
                ifname(index) if index else None,
                hops_minus_one + 1,
            )
        )
        onlink = onlink or bool(flags & RTNH_F_ONLINK)
        offset += (length + 3) & ~3
    return tuple(sorted(hops)), onlink
