"""nftables match expressions for the packet-match grouping shared by ACL and NAT rules.

Expressions come out in the canonical form `nft -n -j list` prints back: numeric
protocols, families and flags, overlapping or adjacent intervals merged, and no
dependency match nft would add (and hide) by itself — `tcp dport` implies
`meta l4proto tcp`, `ip saddr` implies `meta nfproto ipv4`. A compiled rule
therefore compares equal to its listing, which is what reconcile relies on.

A rule whose address selectors name both families becomes one nft rule per
family (a "part"); selectors without a family in common never match and are
refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, NamedTuple

from immutables import Map

IPV4 = "ipv4"
IPV6 = "ipv6"
FAMILIES = frozenset((IPV4, IPV6))
NFPROTO = {IPV4: 2, IPV6: 10}
ADDRESS_PROTOCOL = {IPV4: "ip", IPV6: "ip6"}
PROTOCOL_NUMBERS = {
    "tcp": 6,
    "udp": 17,
    "icmp": 1,
    "icmpv6": 58,
    "sctp": 132,
    "gre": 47,
    "esp": 50,
    "ah": 51,
}
PORT_PROTOCOLS = {6: "tcp", 17: "udp", 132: "sctp"}
ICMP_PROTOCOLS = {1: ("icmp", IPV4), 58: ("icmpv6", IPV6)}
CT_STATES = {"invalid": 1, "established": 2, "related": 4, "new": 8, "untracked": 64}

Expr = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class MatchError(ValueError):
    """Selectors nft cannot express, or that can never match."""


class Part(NamedTuple):
    """The matches of one nft rule: `family` is the family the rule is limited to
    (None: both), `network_known` whether nft knows the network header (it then
    picks an ICMP or ICMPv6 reject instead of ICMPx), and how many of the matches
    are against anonymous sets (nft creates a set, with a handle, for each)."""

    family: str | None
    network_known: bool
    expr: list[Expr]
    anonymous_sets: int = 0


def match(left: Expr, right: Any, op: str = "==") -> Expr:
    """A `match` expression."""
    return {"match": {"op": op, "left": left, "right": right}}


@cache
def meta(key: str) -> Expr:
    """A `meta` key expression (nfproto, l4proto, iifname, ...), shared: never mutated."""
    return {"meta": {"key": key}}


@cache
def payload(protocol: str, field: str) -> Expr:
    """A payload field expression such as `ip saddr` or `tcp dport`, shared: never mutated."""
    return {"payload": {"protocol": protocol, "field": field}}


CT_STATE: Expr = {"ct": {"key": "state"}}


def protocol_number(value: Any) -> int | None:
    """The IP protocol number of a protocol leaf (an enum name or a number)."""
    if value is None:
        return None
    return PROTOCOL_NUMBERS[value] if isinstance(value, str) else int(value)


def set_name(name: str, family: str) -> str:
    """The nft set of an address set: the family is part of the name, so changing
    a set's family creates a new set instead of retyping one that rules use (and
    the name starts with a letter, as nft's text syntax wants)."""
    return f"{'v4' if family == IPV4 else 'v6'}-{name}"


class _Endpoint(NamedTuple):
    """One end of a rule: address match values by family, the families it allows
    (None: any), its address set (name, family) and its port match value."""

    addresses: dict[str, Any]
    families: frozenset[str] | None
    address_set: tuple[str, str] | None
    ports: Any


NO_ENDPOINT = _Endpoint({}, None, None, None)
ONLY = {IPV4: frozenset((IPV4,)), IPV6: frozenset((IPV6,))}


def compile_match(
    entry: Map[str, Any],
    set_family: Callable[[str], str],
    *,
    family: str | None = None,
) -> list[Part]:
    """The parts (one per address family where addresses are matched) of a rule.

    `set_family(name)` gives an address set's family; `family` limits the rule
    further (the family of a NAT rule's to-address). Raises MatchError.
    """
    get = entry.get
    proto = protocol_number(get("protocol"))
    icmp = ICMP_PROTOCOLS.get(proto) if proto is not None else None
    families = FAMILIES
    for limit in (get("family"), family, icmp[1] if icmp is not None else None):
        if limit is not None:
            families = families & ONLY[limit]
    source, destination = get("source"), get("destination")
    ends = (
        NO_ENDPOINT if source is None else _endpoint(source, set_family),
        NO_ENDPOINT if destination is None else _endpoint(destination, set_family),
    )
    by_address = False
    for end in ends:
        if end.families is not None:
            families = families & end.families
            by_address = True
    if not families:
        raise MatchError("the selectors have no address family in common: the rule never matches")
    if by_address:
        return [_part(entry, proto, fam, True, ends) for fam in sorted(families)]
    if len(families) == 1 and (get("family") is not None or family is not None):
        (only,) = families
        # an ICMP protocol match implies the family: nft hides an nfproto match before it
        return [_part(entry, proto, only, icmp is None, ends)]
    return [_part(entry, proto, None, False, ends)]


def _part(
    entry: Map[str, Any],
    proto: int | None,
    family: str | None,
    network_known: bool,
    ends: tuple[_Endpoint, _Endpoint],
) -> Part:
    get = entry.get
    expr: list[Expr] = []
    sets = 0
    for leaf, key in (("in-interface", "iifname"), ("out-interface", "oifname")):
        name = get(leaf)
        if name is not None:
            expr.append(match(meta(key), name))
    source, destination = ends
    by_address = source.families is not None or destination.families is not None
    if family is not None and network_known and not by_address:
        expr.append(match(meta("nfproto"), NFPROTO[family]))
    has_ports = source.ports is not None or destination.ports is not None
    icmp_type = get("icmp-type") if proto in ICMP_PROTOCOLS else None
    if proto is not None and not has_ports and icmp_type is None:
        expr.append(match(meta("l4proto"), proto))
    if by_address and family is not None:
        for end, field in ((source, "saddr"), (destination, "daddr")):
            value = end.addresses.get(family)
            if value is not None:
                expr.append(match(payload(ADDRESS_PROTOCOL[family], field), value))
                sets += _is_set(value)
            if end.address_set is not None:
                left = payload(ADDRESS_PROTOCOL[family], field)
                expr.append(match(left, "@" + set_name(end.address_set[0], family)))
    if has_ports:
        for end, field in ((source, "sport"), (destination, "dport")):
            if end.ports is not None:
                expr.append(match(payload(PORT_PROTOCOLS[proto or 0], field), end.ports))
                sets += _is_set(end.ports)
    if icmp_type is not None:
        expr.append(match(payload(ICMP_PROTOCOLS[proto or 0][0], "type"), icmp_type))
    states = get("ct-state")
    if states:
        bits = sorted({CT_STATES[state] for state in states})
        expr.append(match(CT_STATE, bits[0] if len(bits) == 1 else bits, "in"))
    return Part(family, network_known or by_address, expr, sets)


def _is_set(value: Any) -> bool:
    return type(value) is dict and "set" in value


def _endpoint(value: Map[str, Any], set_family: Callable[[str], str]) -> _Endpoint:
    get = value.get
    prefixes = get("prefix")
    addresses: dict[str, Any] = {}
    families = None
    if prefixes and len(prefixes) == 1:
        family = IPV6 if ":" in prefixes[0] else IPV4
        addresses = {family: _address_value(prefixes)}
        families = ONLY[family]
    elif prefixes:
        by_family: dict[str, list[str]] = {}
        for prefix in prefixes:
            by_family.setdefault(IPV6 if ":" in prefix else IPV4, []).append(prefix)
        addresses = {fam: _address_value(group) for fam, group in by_family.items()}
        families = ONLY[next(iter(addresses))] if len(addresses) == 1 else FAMILIES
    name = get("address-set")
    address_set = None
    if name is not None:
        address_set = (name, set_family(name))
        families = ONLY[address_set[1]] & (families if families is not None else FAMILIES)
    ports = get("port")
    return _Endpoint(addresses, families, address_set, _port_match(ports) if ports else None)


def _address_value(prefixes: list[str]) -> Any:
    if len(prefixes) == 1:  # the common case, without ipaddress: values are canonical already
        address, _, length = prefixes[0].partition("/")
        if int(length) == (128 if ":" in address else 32):
            return address
        return {"prefix": {"addr": address, "len": int(length)}}
    return address_value([ipaddress.ip_network(prefix) for prefix in prefixes])


def _port_match(values: tuple[str, ...]) -> Any:
    if len(values) == 1 and values[0].isdigit():
        return int(values[0])
    return port_value(merge_intervals(parse_port_range(value) for value in values))


def parse_port_range(text: str) -> tuple[int, int]:
    """'80' -> (80, 80); '8000-8080' -> (8000, 8080); MatchError for a reversed range."""
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    if first > last:
        raise MatchError(f"port range '{text}' is reversed")
    return first, last


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted intervals with overlapping and adjacent ones merged (as nft merges them)."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def port_value(ranges: list[tuple[int, int]]) -> Any:
    """One port, one range, or an anonymous set of them."""
    items: list[Any] = [low if low == high else {"range": [low, high]} for low, high in ranges]
    return items[0] if len(items) == 1 else {"set": items}


def address_value(nets: list[Network]) -> Any:
    """One address, prefix or range, or an anonymous set of them (intervals merged)."""
    version = nets[0].version
    merged = merge_intervals((int(n.network_address), int(n.broadcast_address)) for n in nets)
    items = [_interval_json(low, high, version) for low, high in merged]
    return items[0] if len(items) == 1 else {"set": items}


def _interval_json(low: int, high: int, version: int) -> Any:
    address: type[ipaddress.IPv4Address | ipaddress.IPv6Address] = (
        ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    )
    if low == high:
        return str(address(low))
    size = high - low + 1
    if size & (size - 1) == 0 and low % size == 0:
        bits = 32 if version == 4 else 128
        return {"prefix": {"addr": str(address(low)), "len": bits - size.bit_length() + 1}}
    return {"range": [str(address(low)), str(address(high))]}


def element_json(prefix: str) -> Any:
    """A named-set element for a prefix: an address for a host prefix, else a prefix."""
    net = ipaddress.ip_network(prefix)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return {"prefix": {"addr": str(net.network_address), "len": net.prefixlen}}


def element_prefix(element: Any) -> str:
    """The prefix text of a listed named-set element (the inverse of element_json)."""
    if isinstance(element, dict) and "prefix" in element:
        return f"{element['prefix']['addr']}/{element['prefix']['len']}"
    if isinstance(element, str):
        return str(ipaddress.ip_network(element))
    return repr(element)  # a range or anything else nft lists: never equal to a prefix


def collapse(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Prefixes as the sorted, non-overlapping list an interval set can hold."""
    nets = [ipaddress.ip_network(prefix) for prefix in prefixes]
    v4 = [net for net in nets if isinstance(net, ipaddress.IPv4Network)]
    v6 = [net for net in nets if isinstance(net, ipaddress.IPv6Network)]
    merged = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    return tuple(str(net) for net in merged)
