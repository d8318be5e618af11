"""Operational state: the packet and byte counters of ACL and NAT rules, as RFC 7951 JSON.

A YANG rule may be several nft rules (one per address family; a dnat rule in
prerouting and in output), in the buckets of its list; its counters are
their sum. Only rules present in
the running configuration with a counter are reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from immutables import Map

from flyos_agent.backends.linux.nft_model import ACL_PREFIX, NAT_CHAINS, head_of, parse_comment

Counts = dict[int, list[int]]
"""[packets, bytes] by rule sequence."""


def _counts() -> Counts:
    return defaultdict(lambda: [0, 0])


def rule_counters(objects: Iterable[dict[str, Any]], running: Map[str, Any]) -> dict[str, Any]:
    """{"flyos-acl:acls": {"acl": [... rule state ...]}, "flyos-nat:nat": {...}} for `get`."""
    acl_counts: dict[str, Counts] = defaultdict(_counts)
    nat_counts = _counts()
    for item in objects:
        rule = item.get("rule")
        if rule is None:
            continue
        key = parse_comment(rule.get("comment", ""))
        counter = next((e["counter"] for e in rule.get("expr", []) if "counter" in e), None)
        head = head_of(rule["chain"])
        if key is None or counter is None or head is None:
            continue
        if head in NAT_CHAINS:
            total = nat_counts[key[0]]
        else:
            total = acl_counts[head.removeprefix(ACL_PREFIX)][key[0]]
        total[0] += counter["packets"]
        total[1] += counter["bytes"]
    out: dict[str, Any] = {}
    acls = _acl_state(running.get("acls") or Map(), acl_counts)
    if acls:
        out["flyos-acl:acls"] = {"acl": acls}
    nat = _rule_state((running.get("nat") or Map()).get("rule") or Map(), nat_counts)
    if nat:
        out["flyos-nat:nat"] = {"rule": nat}
    return out


def _acl_state(acls: Map[str, Any], counts: dict[str, Counts]) -> list[dict[str, Any]]:
    out = []
    for (name,), entry in sorted((acls.get("acl") or Map()).items()):
        rules = _rule_state(entry.get("rule") or Map(), counts.get(name, {}))
        if rules:
            out.append({"name": name, "rule": rules})
    return out


def _rule_state(rules: Map[Any, Any], counts: Counts) -> list[dict[str, Any]]:
    out = []
    for (seq,) in sorted(rules.keys()):
        total = counts.get(seq)
        if total is not None:
            state = {"packets": str(total[0]), "bytes": str(total[1])}
            out.append({"sequence": seq, "state": state})
    return out
