"""Plan the changes of one ordered rule list (an ACL, a nat hook) in its buckets.

A list is a head chain jumping to buckets of at most BUCKET_CAPACITY rules,
in key order. A change to a bucket rewrites only what it must, with the
cheap operations libnftables does without fetching the ruleset: rules that
go away are deleted by handle; rules that come or change are appended after
deleting the tail that follows their place (the tail's unchanged rules come
back with their counters). A rule appended after the last one touches no
other rule; one changed in the middle of a bucket rewrites at most the rest
of that bucket. A bucket that overflows splits (new buckets after it; the
head's jumps are rewritten if they are not at the end), an empty one goes.
A change to most of a list rebuilds the list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from flyos_agent.backends.linux.nft_batch import Builder, Phase
from flyos_agent.backends.linux.nft_compile import Compiler
from flyos_agent.backends.linux.nft_model import (
    ACL_PREFIX,
    BUCKET_CAPACITY,
    BUCKET_FILL,
    NAT_CHAINS,
    ChainSpec,
    RuleKey,
    RuleSpec,
    Unit,
    UnitKind,
    bucket_name,
    named_ref,
    unit_path,
)
from flyos_agent.backends.linux.nft_view import Bucket, ListView
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.errors import InvalidValue

REBUILD_MIN = 1000
"""A list is rebuilt when at least this many of its rules change and they are
at least half of it."""

Counters = Callable[[str], dict[int, tuple[int, int]]]
"""(packets, bytes) by rule handle of a bucket chain, read from the kernel."""


class ListPlanner:
    """Plans list changes into a Builder."""

    def __init__(self, builder: Builder, want: Compiler, have: Compiler, counters: Counters):
        self.builder = builder
        self.want = want
        self.have = have
        self.counters = counters

    def fresh(self, head: ChainSpec) -> None:
        """A new list: the head, its buckets filled, the jumps."""
        self.builder.add_chain(head.body())
        listing = ListView()
        self._fill(head.name, listing, self.want.list_rules(head.name), 0)
        self.builder.outcome.lists[head.name] = listing

    def remove(self, head: str, listing: ListView) -> None:
        """A list that goes: the head (and its jumps), then the buckets."""
        self.builder.remove_chain(head, Phase.REMOVE_HEADS)
        for bucket in listing.buckets:
            self.builder.remove_chain(bucket.name, Phase.REMOVE_BUCKETS)
        self.builder.outcome.lists[head] = None

    def change(self, head: str, listing: ListView, units: Iterable[Unit]) -> None:
        """Bring the rules of `units` in list `head` to what the wanted tree says."""
        units = set(units)
        wanted = _specs(self.want, units, head)
        current = _current(self.have, units, head)
        keys = {key for unit in units for h, key in self.want.slots(unit) if h == head}
        locate = listing.locator()
        present = {
            key for key in keys if listing.buckets and key in listing.buckets[locate(key)].handles
        }
        changed = {
            key
            for key in keys
            if (key in present) != (key in wanted)
            or (key in wanted and wanted[key] != current.get(key))
        }
        if not changed:
            return
        if len(changed) >= REBUILD_MIN and 2 * len(changed) >= len(listing):
            self._rebuild(head, listing)
            return
        groups: dict[int, set[RuleKey]] = defaultdict(set)
        for key in changed:
            groups[locate(key)].add(key)
        number = listing.next_number()
        replacements: dict[int, list[Bucket]] = {}
        for index in sorted(groups):
            old = listing.buckets[index] if listing.buckets else None
            replacements[index], number = self._bucket(head, old, groups[index], wanted, number)
        self._jumps(head, listing, replacements)

    # ------------------------------------------------------------------ buckets

    def _bucket(
        self,
        head: str,
        old: Bucket | None,
        keys: set[RuleKey],
        wanted: dict[RuleKey, RuleSpec],
        number: int,
    ) -> tuple[list[Bucket], int]:
        """The buckets that replace `old` (None: the list has none yet)."""
        additions = {key for key in keys if key in wanted}
        survivors = [key for key in old.keys if key not in keys - additions] if old else []
        final = sorted(set(survivors) | additions)
        start = _first_difference(final, survivors, additions)
        if not final:
            if old is not None:
                self.builder.remove_chain(old.name, Phase.REMOVE_BUCKETS)
            return [], number
        if old is None:
            target = Bucket(bucket_name(head, number))
            number += 1
            self.builder.add_chain(named_ref(target.name))
        else:
            target = Bucket(old.name, handles={k: old.handles[k] for k in survivors[:start]})
            for key in sorted(set(old.keys) - set(survivors[:start])):
                self.builder.delete_rule(old.name, old.handles[key], _rule_path(head, key))
        keep = len(final) if len(final) <= BUCKET_CAPACITY else max(start, BUCKET_FILL)
        moved = [key for key in final[start:] if key not in additions]
        counters = self.counters(old.name) if old is not None and moved else {}
        specs = [
            wanted[key] if key in additions else self._moved(head, key, old, counters)
            for key in final[start:]
        ]
        placed = [spec for spec in specs if spec is not None]
        target.keys = survivors[:start]
        self._put(target, placed[: keep - start])
        out = [target]
        rest = placed[keep - start :]
        for begin in range(0, len(rest), BUCKET_FILL):
            extra = Bucket(bucket_name(head, number))
            number += 1
            self.builder.add_chain(named_ref(extra.name))
            self._put(extra, rest[begin : begin + BUCKET_FILL])
            out.append(extra)
        return out, number

    def _moved(
        self, head: str, key: RuleKey, old: Bucket | None, counters: dict[int, tuple[int, int]]
    ) -> RuleSpec | None:
        """An unchanged rule of a rewritten tail, with its counter carried over."""
        spec = self.want.spec_at(head, key)
        counter = counters.get(old.handles[key]) if old is not None else None
        if spec is None or counter is None or not any("counter" in e for e in spec.expr):
            return spec
        return spec.with_counter(*counter)

    def _jumps(self, head: str, listing: ListView, replacements: dict[int, list[Bucket]]) -> None:
        """The head's jumps after bucket changes: appended at the end when new buckets
        only follow the old ones, rewritten otherwise; a dropped bucket's jump deleted."""
        buckets: list[Bucket] = []
        for index, bucket in enumerate(listing.buckets or [None]):
            if index in replacements:
                buckets += replacements[index]
            elif bucket is not None:
                buckets.append(bucket)
        old_names = [bucket.name for bucket in listing.buckets]
        new = [i for i, bucket in enumerate(buckets) if bucket.name not in listing.jumps]
        kept = [i for i, bucket in enumerate(buckets) if bucket.name in listing.jumps]
        post = ListView(buckets, {})
        if new and kept and min(new) < max(kept):
            self.builder.flush(head)
            for bucket in buckets:
                self.builder.jump(head, bucket.name, post.jumps)
        else:
            names = {bucket.name for bucket in buckets}
            post.jumps = {name: listing.jumps[name] for name in old_names if name in names}
            for name in old_names:
                if name not in names:
                    self.builder.delete_rule(head, listing.jumps[name], _list_path(head))
            for index in new:
                self.builder.jump(head, buckets[index].name, post.jumps)
        self.builder.outcome.lists[head] = post

    def _put(self, bucket: Bucket, specs: list[RuleSpec]) -> None:
        """Append rules to a bucket chain (their handles go to the bucket)."""
        for spec in specs:
            bucket.keys.append(spec.key)
            self.builder.append(Phase.BUCKET_RULES, spec, bucket.name, (bucket.handles, spec.key))

    def _rebuild(self, head: str, listing: ListView) -> None:
        self.builder.flush(head)
        for bucket in listing.buckets:
            self.builder.remove_chain(bucket.name, Phase.REMOVE_BUCKETS)
        post = ListView()
        self._fill(head, post, self.want.list_rules(head), listing.next_number())
        self.builder.outcome.lists[head] = post

    def _fill(self, head: str, listing: ListView, rules: list[RuleSpec], number: int) -> None:
        for begin in range(0, len(rules), BUCKET_FILL):
            bucket = Bucket(bucket_name(head, number))
            number += 1
            self.builder.add_chain(named_ref(bucket.name))
            for spec in rules[begin : begin + BUCKET_FILL]:
                bucket.keys.append(spec.key)
                self.builder.append(
                    Phase.BUCKET_RULES, spec, bucket.name, (bucket.handles, spec.key)
                )
            listing.buckets.append(bucket)
            self.builder.jump(head, bucket.name, listing.jumps)


def _specs(compiler: Compiler, units: set[Unit], head: str) -> dict[RuleKey, RuleSpec]:
    return {spec.key: spec for unit in units for spec in compiler.rules(unit) if spec.chain == head}


def _current(compiler: Compiler, units: set[Unit], head: str) -> dict[RuleKey, RuleSpec]:
    """The rules before the commit; a unit that does not compile there (the tree before
    the commit is rebuilt call by call, and may still hold this call's new set families)
    counts as changed."""
    out: dict[RuleKey, RuleSpec] = {}
    for unit in units:
        try:
            out.update((s.key, s) for s in compiler.rules(unit) if s.chain == head)
        except InvalidValue:
            continue
    return out


def _first_difference(
    final: list[RuleKey], survivors: list[RuleKey], additions: set[RuleKey]
) -> int:
    """Where the bucket's new content first differs from the rules that stay."""
    for index, key in enumerate(final):
        if index >= len(survivors) or survivors[index] != key or key in additions:
            return index
    return len(final)


def _rule_path(head: str, key: RuleKey) -> InstancePath:
    if head in NAT_CHAINS:
        return unit_path(Unit(UnitKind.NAT_RULE, seq=key[0]))
    return unit_path(Unit(UnitKind.ACL_RULE, head.removeprefix(ACL_PREFIX), key[0]))


def _list_path(head: str) -> InstancePath:
    if head in NAT_CHAINS:
        return unit_path(Unit(UnitKind.NAT))
    return unit_path(Unit(UnitKind.ACL, head.removeprefix(ACL_PREFIX)))
