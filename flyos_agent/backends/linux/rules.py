"""Policy routing rules (/routing/pbr) as kernel rules, batched like routes.

Each rule carries protocol FLYOS_PROTO (FRA_PROTOCOL), the agent's ownership
mark. A rule that matches no address (no `prefix`, no `to`) applies to both
address families, so it is installed once for IPv4 and once for IPv6.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.bulk import Bulk, BulkItem, ItemList
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    Request,
    attr,
    parse_attrs,
    u32_attr,
)
from flyos_agent.backends.linux.route_messages import FLYOS_PROTO, table_number
from flyos_agent.backends.linux.vrf import VrfTables
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError, InvalidValue
from flyos_agent.schema import Schema

RTM_NEWRULE = 32
RTM_DELRULE = 33
RTM_GETRULE = 34

FRA_DST = 1
FRA_SRC = 2
FRA_IIFNAME = 3
FRA_PRIORITY = 6
FRA_FWMARK = 10
FRA_TABLE = 15
FRA_FWMASK = 16
FRA_OIFNAME = 17
FRA_PROTOCOL = 21

ACTIONS = {"lookup": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8}
ACTION_NAMES = {number: name for name, number in ACTIONS.items()}
FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")
FULL_MASK = 0xFFFFFFFF  # the kernel's mask for a fwmark given without one


class Rule(NamedTuple):
    """A kernel policy rule of one address family."""

    family: int
    priority: int
    src: str | None
    dst: str | None
    fwmark: int | None
    fwmask: int | None
    iif: str | None
    oif: str | None
    table: int
    action: str

    def plan(self, op: str) -> dict[str, Any]:
        """The dry-run description of `op` ('add' or 'del') on this rule."""
        out: dict[str, Any] = {
            "op": f"rule {op}",
            "family": "ipv6" if self.family == socket.AF_INET6 else "ipv4",
            "priority": self.priority,
        }
        fields = {"from": self.src, "to": self.dst, "fwmark": self.fwmark, "fwmask": self.fwmask}
        fields |= {"iif": self.iif, "oif": self.oif}
        out |= {name: value for name, value in fields.items() if value is not None}
        if self.action == "lookup":
            out["table"] = self.table
        else:
            out["action"] = self.action
        out["proto"] = FLYOS_PROTO
        return out


def rules_from_entry(entry: Mapping[str, Any], tables: Mapping[str, int]) -> list[Rule]:
    """The kernel rules (one per address family it applies to) of a /routing/pbr entry."""
    src, dst = entry.get("prefix"), entry.get("to")
    addresses = [a for a in (src, dst) if a is not None]
    if addresses:
        families = [socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET]
    else:
        families = [socket.AF_INET, socket.AF_INET6]
    action = entry.get("action", "lookup")
    vrf = entry.get("vrf")
    if vrf is not None:
        table = tables[vrf]
    elif action == "lookup":
        table = table_number(entry.get("table", "main"))
    else:
        table = 0
    return [
        Rule(
            family,
            entry["priority"],
            src,
            dst,
            entry.get("fwmark"),
            entry.get("fwmask", FULL_MASK) if "fwmark" in entry else None,
            entry.get("iif"),
            entry.get("oif"),
            table,
            action,
        )
        for family in families
    ]


def encode_rule(rule: Rule, op: str) -> Request:
    """The rtnetlink request for `op` ('add' or 'del') of `rule`."""
    src_len = int(rule.src.partition("/")[2]) if rule.src else 0
    dst_len = int(rule.dst.partition("/")[2]) if rule.dst else 0
    table = rule.table
    parts = [
        FIB_RULE_HDR.pack(
            rule.family,
            dst_len,
            src_len,
            0,
            table if table < 256 else 252,
            0,
            0,
            ACTIONS[rule.action],
            0,
        ),
        u32_attr(FRA_PRIORITY, rule.priority),
        attr(FRA_PROTOCOL, bytes([FLYOS_PROTO])),
    ]
    if rule.action == "lookup":
        parts.append(u32_attr(FRA_TABLE, table))
    for kind, prefix in ((FRA_SRC, rule.src), (FRA_DST, rule.dst)):
        if prefix is not None:
            parts.append(attr(kind, socket.inet_pton(rule.family, prefix.partition("/")[0])))
    if rule.fwmark is not None:
        parts.append(u32_attr(FRA_FWMARK, rule.fwmark))
    if rule.fwmask is not None:
        parts.append(u32_attr(FRA_FWMASK, rule.fwmask))
    for kind, name in ((FRA_IIFNAME, rule.iif), (FRA_OIFNAME, rule.oif)):
        if name is not None:
            parts.append(attr(kind, name.encode() + b"\0"))
    if op == "del":
        return (RTM_DELRULE, 0, b"".join(parts))
    return (RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, b"".join(parts))


def decode_rule(data: bytes) -> Rule | None:
    """The Rule in a RTM_NEWRULE dump message, or None if it is not one of ours."""
    family, dst_len, src_len, _tos, table, _r1, _r2, action, _flags = FIB_RULE_HDR.unpack_from(data)
    attrs = parse_attrs(data, FIB_RULE_HDR.size, len(data))
    if attrs.get(FRA_PROTOCOL) != bytes([FLYOS_PROTO]) or action not in ACTION_NAMES:
        return None

    def u32(kind: int) -> int | None:
        value = attrs.get(kind)
        return struct.unpack("=I", value)[0] if value else None

    def prefix(kind: int, length: int) -> str | None:
        value = attrs.get(kind)
        return f"{socket.inet_ntop(family, value)}/{length}" if value else None

    def name(kind: int) -> str | None:
        value = attrs.get(kind)
        return value.rstrip(b"\0").decode() if value else None

    return Rule(
        family,
        u32(FRA_PRIORITY) or 0,
        prefix(FRA_SRC, src_len),
        prefix(FRA_DST, dst_len),
        u32(FRA_FWMARK),
        u32(FRA_FWMASK),
        name(FRA_IIFNAME),
        name(FRA_OIFNAME),
        (u32(FRA_TABLE) or table) if ACTION_NAMES[action] == "lookup" else 0,
        ACTION_NAMES[action],
    )


def owned_rules(kernel: Kernel) -> list[Rule]:
    """Every rule of the agent's protocol, as the kernel holds it."""
    with kernel.lock:
        out = []
        for family in (socket.AF_INET, socket.AF_INET6):
            header = FIB_RULE_HDR.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
            for message in kernel.rtnl.dump(RTM_GETRULE, header):
                rule = decode_rule(message)
                if rule is not None:
                    out.append(rule)
        return out


def rule_item(path: str, old: Sequence[Rule], new: Sequence[Rule]) -> BulkItem:
    """The batch item that replaces rules `old` by `new` (delete then add)."""
    forward = [encode_rule(r, "del") for r in old] + [encode_rule(r, "add") for r in new]
    back = [encode_rule(r, "add") for r in old] + [encode_rule(r, "del") for r in new]
    if new and not old:
        plan = {**new[0].plan("add"), "families": len(new)}
    elif old and not new:
        plan = {**old[0].plan("del"), "families": len(old)}
    else:
        plan = {**new[0].plan("add"), "op": "rule replace", "families": len(new)}
    return BulkItem(plan, path, lambda _names: forward, lambda _names: back)


class PolicyRules:
    """Handler for /routing/pbr."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """`prefix` and `to` must be of one address family."""
        errors: list[FlyosError] = []
        for change in changes:
            entry = change.new
            if entry is None or "prefix" not in entry or "to" not in entry:
                continue
            if (":" in entry["prefix"]) != (":" in entry["to"]):
                errors.append(
                    InvalidValue(
                        "'prefix' and 'to' are of different address families",
                        path=format_path(self.schema, change.path),
                    )
                )
        return errors

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """One batched step per rule entry."""
        tables = VrfTables(self.kernel, tree)
        items = []
        for change in changes:
            old = rules_from_entry(change.old, tables) if change.old is not None else []
            new = rules_from_entry(change.new, tables) if change.new is not None else []
            items.append(rule_item(format_path(self.schema, change.path), old, new))
        return Bulk(self.kernel, ItemList(items)).steps() if items else []
