"""Static routes (/routing/static and its ECMP next hops) and BGP/OSPF announcements.

Untracked routes go to the kernel in one batch per handler call (see bulk):
prepare keeps the changes, the batch packs their requests when applied, and
their plans and paths are built only when read (a dry run, an error);
tracked routes (`track true`) are handed to the Tracker, one step each,
because whether they are installed depends on their next hops.

A route entry's own change (create, delete, modify) carries its next hops,
so the route handler installs the whole route. A change of next hops alone
(a weight, one hop more or less) arrives as next-hop changes: the next-hop
handler replaces the route with its new form and, to undo, with the form the
kernel held when the commit was prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.bulk import Bulk, BulkItem, ItemList, MissingDevice, resolve
from flyos_agent.backends.linux.changes import entry_of
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import MessageBatch, Request
from flyos_agent.backends.linux.route_index import RouteDump
from flyos_agent.backends.linux.route_messages import (
    Route,
    RouteEncoder,
    encode_route,
    route_from_entry,
    same_route,
)
from flyos_agent.backends.linux.tracking import Tracked, Tracker
from flyos_agent.backends.linux.vrf import VrfTables
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError, InvalidValue
from flyos_agent.schema import Schema

NO_DAEMON = "no routing daemon integration"


def static_routes(tree: Map[str, Any]) -> Map[Any, Any]:
    """The /routing/static entries of a tree, by key."""
    routes: Map[Any, Any] = tree.get("routing", Map()).get("static", Map())
    return routes


class StaticRoutes:
    """Handler for /routing/static: batched routes, tracked routes through the Tracker."""

    def __init__(self, schema: Schema, kernel: Kernel, tracker: Tracker) -> None:
        self.schema = schema
        self.kernel = kernel
        self.tracker = tracker

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Refuse gateways of the other address family than the prefix."""
        errors: list[FlyosError] = []
        for change in changes:
            entry = change.new
            if entry is None:
                continue
            v6 = ":" in entry["prefix"]
            gateways = [entry.get("via")] + [
                hop["via"] for hop in entry.get("nexthop", Map()).values()
            ]
            for gateway in gateways:
                if gateway is not None and (":" in gateway) != v6:
                    errors.append(
                        InvalidValue(
                            f"gateway {gateway} is not of the address family of {entry['prefix']}",
                            path=format_path(self.schema, change.path),
                        )
                    )
        return errors

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """One batched step per untracked route, one tracker step per tracked route."""
        tables = VrfTables(self.kernel, tree)
        plain: list[Change] = []
        tracked: list[Step] = []
        for change in changes:
            old, new = change.old, change.new
            old_tracked = old is not None and bool(old.get("track"))
            new_tracked = new is not None and bool(new.get("track"))
            for entry in (old, new):
                if entry is not None and "vrf" in entry:
                    tables[entry["vrf"]]  # every table is known before anything is applied
            if old_tracked or new_tracked:
                tracked.append(self._tracked_change(change, tables, old_tracked, new_tracked))
            else:
                plain.append(change)
        items = RouteChanges(self.schema, tables, plain)
        steps = Bulk(self.kernel, items).steps() if plain else []
        return steps + tracked

    def _tracked_change(
        self, change: Change, tables: VrfTables, old_tracked: bool, new_tracked: bool
    ) -> Step:
        """The tracker step of a change with a tracked route on either side."""
        old = route_from_entry(change.old, tables) if change.old is not None else None
        new = route_from_entry(change.new, tables) if change.new is not None else None
        return self._tracked_step(
            entry_of(change)["prefix"],
            format_path(self.schema, change.path),
            old,
            new,
            old_tracked=old_tracked,
            new_tracked=new_tracked,
        )

    def _tracked_step(
        self,
        prefix: str,
        path: str,
        old: Route | None,
        new: Route | None,
        *,
        old_tracked: bool,
        new_tracked: bool,
    ) -> Step:
        """Turn route `old` into `new` (either may be absent), either or both tracked."""
        old_plain, new_plain = (None if old_tracked else old), (None if new_tracked else new)
        old_watched = old if old_tracked else None
        new_watched = new if new_tracked else None
        plain = _route_item(path, old_plain, new_plain) if old_plain or new_plain else None
        bulk = Bulk(self.kernel, ItemList([plain])) if plain is not None else None
        tracker = self.tracker

        def apply() -> None:
            if old_watched is not None:
                tracker.untrack(prefix)
            if bulk is not None:
                bulk.apply()
            if new_watched is not None:
                try:
                    tracker.track(prefix, new_watched, path)
                except FlyosError:
                    undo_plain_and_old()
                    raise

        def undo_plain_and_old() -> None:
            if bulk is not None:
                bulk.undo()
            if old_watched is not None:
                tracker.track(prefix, old_watched, path)

        def undo() -> None:
            if new_watched is not None:
                tracker.untrack(prefix)
            undo_plain_and_old()

        plan: dict[str, Any] = {"op": "route track", "dst": prefix}
        if new_watched is not None:
            plan = {**new_watched.plan("add"), "op": "route track", "track": True}
        elif old_watched is not None:
            plan = {**old_watched.plan("del"), "op": "route untrack"}
        return Step(plan, apply, undo, path)


class Transition(NamedTuple):
    """How route `old` becomes `new`: the plan, the (route, op) requests, their undos (aligned)."""

    plan: dict[str, Any]
    forward: list[tuple[Route, str]]
    back: list[tuple[Route, str]]


def transition(old: Route | None, new: Route | None) -> Transition:
    """The requests turning route `old` into `new` (either may be absent)."""
    if old is None and new is not None:
        return Transition(new.plan("add"), [(new, "add")], [(new, "del")])
    if new is None and old is not None:
        return Transition(old.plan("del"), [(old, "del")], [(old, "add")])
    assert old is not None and new is not None
    if old.key == new.key:
        return Transition(new.plan("replace"), [(new, "replace")], [(old, "replace")])
    plan = {**new.plan("add"), "op": "route move", "from": old.plan("del")}
    return Transition(plan, [(old, "del"), (new, "add")], [(old, "add"), (new, "del")])


class RouteChanges:
    """The untracked route changes of one commit as Bulk items, built lazily.

    Prepare keeps only the changes: an item's plan and path are built when read,
    and the requests of a created or deleted route come from its entry through
    the RouteEncoder when the batch is applied.
    """

    def __init__(self, schema: Schema, tables: VrfTables, changes: list[Change]) -> None:
        self.schema = schema
        self.tables = tables
        self.changes = changes

    def __len__(self) -> int:
        return len(self.changes)

    def transition(self, index: int) -> Transition:
        """The routes of change `index` and how one becomes the other."""
        change = self.changes[index]
        old = route_from_entry(change.old, self.tables) if change.old is not None else None
        new = route_from_entry(change.new, self.tables) if change.new is not None else None
        return transition(old, new)

    def plan(self, index: int) -> dict[str, Any]:
        """The dry-run description of change `index`."""
        return self.transition(index).plan

    def path(self, index: int) -> str:
        """The YANG path of change `index`."""
        return format_path(self.schema, self.changes[index].path)

    def forward(self, names: dict[str, int]) -> tuple[MessageBatch, list[int]]:
        """Every change's requests, and the change each message belongs to."""
        batch = MessageBatch()
        owners: list[int] = []
        encoder = RouteEncoder(self.tables, partial(resolve, names))
        index = 0
        try:
            for index, change in enumerate(self.changes):
                old, new = change.old, change.new
                if old is None and new is not None:
                    encoder.add_entry(batch, new, "add")
                elif new is None and old is not None:
                    encoder.add_entry(batch, old, "del")
                else:
                    for route, op in self.transition(index).forward:
                        encoder.add_route(batch, route, op)
                        owners.append(index)
                    continue
                owners.append(index)
        except MissingDevice as exc:
            exc.item = index
            raise
        return batch, owners

    def backward(self, names: dict[str, int]) -> list[Request]:
        """The undo of every request of `forward`, aligned with them."""
        lookup = partial(resolve, names)
        return [
            encode_route(route, op, lookup)
            for index in range(len(self.changes))
            for route, op in self.transition(index).back
        ]


def _route_item(path: str, old: Route | None, new: Route | None) -> BulkItem:
    """The batch item that turns route `old` into `new` (either may be absent)."""
    plan, forward, back = transition(old, new)
    return BulkItem(plan, path, partial(_encode_all, forward), partial(_encode_all, back))


def _encode_all(operations: list[tuple[Route, str]], names: dict[str, int]) -> list[Request]:
    lookup = partial(resolve, names)
    return [encode_route(route, op, lookup) for route, op in operations]


class StaticNexthops:
    """Handler for /routing/static/nexthop: replace routes whose next hops alone changed."""

    def __init__(self, schema: Schema, kernel: Kernel, tracker: Tracker) -> None:
        self.schema = schema
        self.kernel = kernel
        self.tracker = tracker

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the route handler's checks."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Replace each still-configured route with its new next hops (undo: the kernel's form).

        A route the kernel does not hold under the same key is being created or moved: its
        own change installs it whole. A tracked route is handed to the tracker in its new form.
        """
        routes = static_routes(tree)
        tables = VrfTables(self.kernel, tree)
        affected: dict[tuple[Any, ...], Any] = {}
        for change in changes:
            route_path = change.path[:-1]
            entry = routes.get(route_path[-1][1])
            if entry is not None:
                affected[route_path] = entry
        plain = {path: entry for path, entry in affected.items() if not entry.get("track")}
        installed = self._installed() if plain else {}
        items = []
        tracked = []
        for route_path, entry in affected.items():
            new = route_from_entry(entry, tables)
            path = format_path(self.schema, route_path)
            if route_path not in plain:
                tracked.append(self._retrack(entry["prefix"], new, path))
                continue
            old = installed.get(new.key)
            if old is not None and not same_route(new, old):
                items.append(_route_item(path, old, new))
        return (Bulk(self.kernel, ItemList(items)).steps() if items else []) + tracked

    def _retrack(self, prefix: str, new: Route, path: str) -> Step:
        """Track `prefix` in its new form; undo: the form the tracker had."""
        tracker = self.tracker
        previous: list[Tracked] = []

        def apply() -> None:
            entry = tracker.untrack(prefix)
            tracker.track(prefix, new, path)
            if entry is not None:
                previous.append(entry)

        def undo() -> None:
            tracker.untrack(prefix)
            if previous:
                entry = previous.pop()
                tracker.track(prefix, entry.route, entry.path)

        plan = {**new.plan("replace"), "op": "route track", "track": True}
        return Step(plan, apply, undo, path)

    def _installed(self) -> dict[tuple[int, int, str, int, int], Route]:
        return {route.key: route for route in owned_routes(self.kernel)}


def owned_routes(kernel: Kernel) -> list[Route]:
    """Every route of the agent's protocol in every table, as the kernel holds it."""
    return RouteDump.read(kernel).all()


class Announcements:
    """Handler for /routing/bgp and /routing/ospf: kept in config, never installed (no daemon)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Never refuses: announcements wait for a routing daemon integration."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """A step with no kernel operation per change, so a dry run shows why nothing happens."""
        return [
            Step(
                {"op": "none", "object": change.node.name, "reason": NO_DAEMON},
                _nothing,
                _nothing,
                format_path(self.schema, change.path),
            )
            for change in changes
        ]


def _nothing() -> None:
    """No kernel operation."""
