"""What the kernel holds of the owned table: chains, rule lists with their buckets, sets.

The view is what makes commits incremental: a rule is deleted by its handle,
and a bucket knows its rules' keys and handles. It is read from the kernel
once (`from_listing`) and then kept up to date from each applied batch, so a
commit never lists the ruleset.

`listing_snapshot` / `compiled_snapshot` put a listing and a configuration in
one comparable form for reconcile: buckets flattened into their list, handles
dropped, counter values zeroed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flyos_agent.backends.linux.nft_compile import Compiler
from flyos_agent.backends.linux.nft_match import element_prefix
from flyos_agent.backends.linux.nft_model import (
    FAMILY,
    TABLE,
    RuleKey,
    bucket_number,
    head_of,
    parse_comment,
)


@dataclass
class Bucket:
    """One bucket chain: its rules' keys in order, with their handles."""

    name: str
    keys: list[RuleKey] = field(default_factory=list)
    handles: dict[RuleKey, int] = field(default_factory=dict)


@dataclass
class ListView:
    """A rule list: its buckets in the head's jump order, and each jump's handle."""

    buckets: list[Bucket] = field(default_factory=list)
    jumps: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(bucket.keys) for bucket in self.buckets)

    def locator(self) -> Callable[[RuleKey], int]:
        """`locate(key)`: the index of the bucket that holds (or would hold) `key`."""
        firsts = [bucket.keys[0] for bucket in self.buckets]
        return lambda key: max(0, bisect_right(firsts, key) - 1)

    def next_number(self) -> int:
        """A bucket number no current bucket uses."""
        return max((bucket_number(b.name) for b in self.buckets), default=-1) + 1


@dataclass
class TableView:
    """The owned table as the agent last knew it to be in the kernel.

    `next_handle` is the table's handle counter (the last handle it gave out),
    known when the agent made or verified the last allocation, else None.
    """

    exists: bool = False
    chains: set[str] = field(default_factory=set)
    lists: dict[str, ListView] = field(default_factory=dict)
    sets: dict[str, frozenset[str]] = field(default_factory=dict)
    next_handle: int | None = None

    @classmethod
    def from_listing(cls, objects: Iterable[dict[str, Any]]) -> TableView:
        """The view of a `list table` JSON listing. Rules the agent did not write
        (no agent comment, or not a jump in a head) are not in the view: they are
        drift for reconcile."""
        view = cls()
        rules: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in objects:
            if "table" in item:
                view.exists = True
            elif "chain" in item:
                view.chains.add(item["chain"]["name"])
            elif "set" in item:
                elements = item["set"].get("elem", [])
                view.sets[item["set"]["name"]] = frozenset(element_prefix(e) for e in elements)
            elif "rule" in item:
                rules[item["rule"]["chain"]].append(item["rule"])
        for head in (name for name in view.chains if head_of(name) == name):
            listing = view.lists[head] = ListView()
            for rule in rules[head]:
                target = _jump_target(rule)
                if target is not None and head_of(target) == head and target in view.chains:
                    listing.buckets.append(_bucket(target, rules[target]))
                    listing.jumps[target] = rule["handle"]
        return view


def _jump_target(rule: dict[str, Any]) -> str | None:
    expr = rule.get("expr", [])
    if len(expr) == 1 and "jump" in expr[0]:
        target: str = expr[0]["jump"]["target"]
        return target
    return None


def _bucket(name: str, rules: list[dict[str, Any]]) -> Bucket:
    bucket = Bucket(name)
    for rule in rules:
        key = parse_comment(rule.get("comment", ""))
        if key is not None and key not in bucket.handles:
            bucket.handles[key] = rule["handle"]
    bucket.keys = sorted(bucket.handles)
    return bucket


Snapshot = dict[str, dict[str, Any]]
"""{"chains": {name: body}, "sets": {name: body}, "rules": {chain: [[comment, expr], ...]}}:
the rules of a list's buckets appear under the list's head, in order."""


def listing_snapshot(objects: Iterable[dict[str, Any]]) -> Snapshot:
    """The comparable form of a table listing."""
    chains: dict[str, dict[str, Any]] = {}
    sets: dict[str, dict[str, Any]] = {}
    rules: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in objects:
        if "chain" in item:
            chains[item["chain"]["name"]] = _without_handle(item["chain"])
        elif "set" in item:
            sets[item["set"]["name"]] = _without_handle(item["set"])
        elif "rule" in item:
            rules[item["rule"]["chain"]].append(item["rule"])
    flat: dict[str, list[list[Any]]] = {}
    used: set[str] = set()
    for name in chains:
        if head_of(name) not in (None, name):
            continue
        flat[name] = []
        for rule in rules[name]:
            target = _jump_target(rule)
            if head_of(name) == name and target is not None and head_of(target) == name:
                flat[name] += [_comparable(r) for r in rules[target]]
                used.add(target)
            else:
                flat[name].append(_comparable(rule))
    shown = {name: body for name, body in chains.items() if name in flat or name not in used}
    return {"chains": shown, "sets": sets, "rules": flat}


def compiled_snapshot(compiler: Compiler) -> Snapshot:
    """The comparable form of what a configuration compiles to."""
    snap: Snapshot = {"chains": {}, "sets": {}, "rules": {}}
    for chain in compiler.base_chains():
        snap["chains"][chain.name] = chain.body()
        snap["rules"][chain.name] = [[r.comment, r.expr] for r in compiler.base_rules(chain.name)]
    for head in compiler.heads():
        snap["chains"][head.name] = head.body()
        snap["rules"][head.name] = [[r.comment, r.expr] for r in compiler.list_rules(head.name)]
    for spec in compiler.sets():
        snap["sets"][spec.name] = spec.body()
    return snap


def drift(want: Snapshot | None, have: Snapshot | None) -> list[str]:
    """Human-readable differences between the wanted and the actual table."""
    if want is None or have is None:
        if want is have:
            return []
        return [f"table {FAMILY} {TABLE}: {'missing' if have is None else 'not configured'}"]
    out: list[str] = []
    for kind in ("chains", "sets"):
        out += _compare(kind[:-1], want[kind], have[kind])
    for chain in sorted(set(want["rules"]) & set(have["rules"])):
        wanted, actual = want["rules"][chain], have["rules"][chain]
        if wanted != actual:
            out.append(f"chain {chain}: {_rule_difference(wanted, actual)}")
    return out


def _compare(kind: str, want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            out.append(f"{kind} {name}: missing")
        elif name not in want:
            out.append(f"{kind} {name}: not configured")
        elif want[name] != have[name]:
            out.append(f"{kind} {name}: differs")
    return out


def _rule_difference(wanted: list[list[Any]], actual: list[list[Any]]) -> str:
    by_comment = {comment: expr for comment, expr in actual}
    missing = sum(1 for comment, _ in wanted if comment not in by_comment)
    changed = sum(1 for c, e in wanted if c in by_comment and by_comment[c] != e)
    known = {comment for comment, _ in wanted}
    extra = sum(1 for comment, _ in actual if comment not in known)
    if not (missing or changed or extra):
        return "rules out of order"
    return f"{missing} rules missing, {changed} differ, {extra} not configured"


def _comparable(rule: dict[str, Any]) -> list[Any]:
    expr = [{"counter": None} if "counter" in e else e for e in rule.get("expr", [])]
    return [rule.get("comment"), expr]


def _without_handle(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "handle"}
