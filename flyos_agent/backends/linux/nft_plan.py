"""Plan one nft batch: from what the kernel holds (the view) to what a tree compiles to.

Only what the transaction touches is planned: the filter base chains (a few
jumps, rewritten whole when an attachment or a default action changes), the
rule lists of changed ACL and NAT rules (nft_lists), and changed address sets
(elements added and deleted, never the whole set). A rule whose compiled form
did not change (a description edit) is left alone, counter included.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flyos_agent.backends.linux.nft_batch import Batch, Builder, Command, Phase
from flyos_agent.backends.linux.nft_compile import Compiler
from flyos_agent.backends.linux.nft_lists import Counters, ListPlanner
from flyos_agent.backends.linux.nft_match import FAMILIES, element_json, set_name
from flyos_agent.backends.linux.nft_model import (
    FAMILY,
    FILTER_CHAINS,
    TABLE,
    ChainSpec,
    SetSpec,
    Unit,
    UnitKind,
    named_ref,
    unit_path,
)
from flyos_agent.backends.linux.nft_view import TableView


@dataclass
class Dirty:
    """What a transaction touches: rule units, lists that may come or go, the filter
    base chains, address sets."""

    rules: set[Unit] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)
    base: bool = False
    sets: set[str] = field(default_factory=set)


Fragments = dict[tuple[str, str], Builder]
"""New and removed lists as planned by an earlier prepare call of the same commit
(they depend on the wanted tree and the view only): a new 50k-rule list is
planned once, not once per call. Changed lists are planned again each call:
the tree before the commit is only complete after the last call."""


class Planner:
    """Plans batches from a view and the compilers of the wanted and the current tree."""

    def __init__(
        self,
        view: TableView,
        want: Compiler,
        have: Compiler,
        counters: Counters,
        fragments: Fragments | None = None,
    ):
        self.view = view
        self.want = want
        self.have = have
        self.counters = counters
        self.fragments: Fragments = {} if fragments is None else fragments

    def plan(self, dirty: Dirty) -> Batch:
        """The batch that brings what `dirty` names from the view to the wanted tree."""
        builder = Builder()
        view = self.view
        if not self.want.table_needed():
            if view.exists:
                builder.table("delete")
            return builder.batch()
        if not view.exists:
            builder.table("add")
        if dirty.base:
            self._base_chains(builder, view.chains if view.exists else set())
        units: dict[str, set[Unit]] = defaultdict(set)
        lists = self.want.lists
        for unit in dirty.rules:
            for head in lists(unit):
                units[head].add(unit)
        for head in sorted(dirty.lists | units.keys()):
            builder.merge(self._list(head, units.get(head, set())))
        self._sets(builder, dirty.sets)
        return builder.batch()

    def _list(self, head: str, units: set[Unit]) -> Builder:
        """The planned changes of one list (from the fragments when planned already)."""
        spec = self.want.head(head)
        listing = self.view.lists.get(head) if self.view.exists else None
        if listing is not None and spec is not None:
            changed = Builder()
            ListPlanner(changed, self.want, self.have, self.counters).change(head, listing, units)
            return changed
        key = ("fresh" if listing is None else "remove", head)
        cached = self.fragments.get(key)
        if cached is not None:
            return cached
        fragment = self.fragments[key] = Builder()
        lists = ListPlanner(fragment, self.want, self.have, self.counters)
        if listing is not None:
            lists.remove(head, listing)
        elif spec is not None:
            lists.fresh(spec)
        return fragment

    def rebuild(self) -> Batch:
        """The batch that replaces the whole table with what the wanted tree compiles to."""
        builder = Builder()
        if self.view.exists:
            builder.table("delete")
        if self.want.table_needed():
            builder.table("add")
            self._base_chains(builder, set())
            lists = ListPlanner(builder, self.want, self.want, self.counters)
            for head in self.want.heads():
                lists.fresh(head)
            for spec in self.want.sets():
                _add_set(builder, spec)
        return builder.batch()

    def _base_chains(self, builder: Builder, present: set[str]) -> None:
        """The filter base chains, rewritten whole (a few jumps and default actions)."""
        wanted = {spec.name: spec for spec in self.want.base_chains()}
        for name, hook in FILTER_CHAINS.items():
            if name in wanted:
                if name in present:
                    builder.flush(name)
                else:
                    builder.add_chain(ChainSpec(name, hook).body())
                for spec in self.want.base_rules(name):
                    builder.append(Phase.BASE_RULES, spec, name)
            elif name in present:
                builder.remove_chain(name, Phase.REMOVE_BASE)

    def _sets(self, builder: Builder, names: Iterable[str]) -> None:
        for name in sorted(names):
            spec = self.want.set_spec(name)
            path = unit_path(Unit(UnitKind.SET, name))
            for family in sorted(FAMILIES):
                nft_name = set_name(name, family)
                present = self.view.sets.get(nft_name) if self.view.exists else None
                if spec is not None and spec.name == nft_name:
                    if present is None:
                        _add_set(builder, spec)
                    else:
                        _element_changes(builder, spec, present)
                elif present is not None:
                    command = Command({"delete": {"set": named_ref(nft_name)}}, path)
                    builder.command(Phase.REMOVE_SETS, command)
                    builder.outcome.sets[nft_name] = None


def _add_set(builder: Builder, spec: SetSpec) -> None:
    builder.command(Phase.SETS, Command({"add": {"set": spec.body()}}, spec.path, 1))
    builder.outcome.sets[spec.name] = frozenset(spec.elements)


def _element_changes(builder: Builder, spec: SetSpec, present: frozenset[str]) -> None:
    wanted = frozenset(spec.elements)
    for verb, prefixes in (("delete", present - wanted), ("add", wanted - present)):
        if prefixes:
            ordered = sorted(prefixes, key=lambda p: ipaddress.ip_network(p).network_address.packed)
            body = {
                "family": FAMILY,
                "table": TABLE,
                "name": spec.name,
                "elem": [element_json(prefix) for prefix in ordered],
            }
            builder.command(Phase.SETS, Command({verb: {"element": body}}, spec.path))
    builder.outcome.sets[spec.name] = wanted
