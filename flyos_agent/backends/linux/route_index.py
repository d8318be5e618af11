"""The agent's routes in a kernel dump, matched against configured routes without decoding each.

Decoding a 100k-route dump message by message into `Route`s costs seconds.
But routes installed alike (same table, metric, type, gateway, device...)
have messages that differ only in the bytes of their destination address
(and, for IPv6, in the cache info the kernel fills per route). A `RouteDump`
groups the messages by everything else — their *form* — and decodes one
message per form; each route is then known by its form and its packed
destination. A message whose layout does not allow this (no RTA_DST right
after RTA_TABLE, as for a default route; no cache info where IPv6 keeps it)
forms a group of its own.

A `RouteMatcher` does the same for configured entries: entries that differ
only in their destination share one `Route` form (the common form, prefix +
via + dev, is recognised without building a `Route` at all), so comparing a
form with a kernel form (`same_route`) happens once per pair of forms.
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import ATTR
from flyos_agent.backends.linux.route_messages import (
    RTA_DST,
    RTM_GETROUTE,
    Route,
    decode_route,
    dump_request,
    route_from_entry,
    same_route,
)

RouteId: TypeAlias = tuple[int, bytes]
"""A route's identity: the number of its (family, table, prefix length, metric), and its
packed destination address."""

RTA_CACHEINFO = 12
_DST_AT = 24  # rtmsg (12) + RTA_TABLE (8) + RTA_DST's header (4)
_CACHEINFO_SIZE = 36  # header + struct rta_cacheinfo
_CACHEINFO_FROM_END = 44  # cache info, then RTA_PREF (8): the kernel's IPv6 layout
_ADDRESS_SIZE: dict[int, int] = {socket.AF_INET: 4, socket.AF_INET6: 16}
_SINGLE = -1  # a form of one message (its layout cannot be cut)
_FOREIGN = -2  # not a route of the agent's kind (decode_route returns None)


class RouteDump:
    """The agent's routes in the kernel, by RouteId: one decoded Route per form."""

    def __init__(self, messages: Iterable[bytes], ifname: Callable[[int], str | None]) -> None:
        self.ifname = ifname
        self.forms: list[Route] = []
        self.routes: dict[RouteId, int] = {}
        """Every route's form, by RouteId (in dump order)."""
        self._idents: dict[tuple[int, int, int, int], int] = {}
        self._form_ident: list[int] = []
        self._by_residue: dict[bytes, int] = {}
        for message in messages:
            self._add(message)

    @classmethod
    def read(cls, kernel: Kernel) -> RouteDump:
        """Every route of the agent's protocol, in every table, as the kernel holds it now."""
        with kernel.lock:
            names = {index: name for name, index in kernel.ifindex_map().items()}
            messages = [
                message
                for family in (socket.AF_INET, socket.AF_INET6)
                for message in kernel.rtnl.dump(RTM_GETROUTE, dump_request(family))
            ]
        return cls(messages, names.get)

    def ident(self, family: int, table: int, dst_len: int, metric: int) -> int | None:
        """The number of this (family, table, prefix length, metric), None if no route has it."""
        return self._idents.get((family, table, dst_len, metric))

    def route_id(self, route: Route) -> RouteId | None:
        """The RouteId of `route`, None if the kernel has no route of its kind."""
        ident = self.ident(route.family, route.table, route.dst_len, route.metric)
        if ident is None:
            return None
        return ident, socket.inet_pton(route.family, route.dst)

    def route(self, route_id: RouteId) -> Route:
        """The Route the kernel holds under `route_id`."""
        form = self.forms[self.routes[route_id]]
        return form._replace(dst=socket.inet_ntop(form.family, route_id[1]))

    def all(self) -> list[Route]:
        """Every route, in dump order."""
        return [self.route(route_id) for route_id in self.routes]

    def _add(self, message: bytes) -> None:
        family = message[0]
        if family == socket.AF_INET and len(message) >= _DST_AT + 4:
            residue = message[:_DST_AT] + message[_DST_AT + 4 :]
            dst = message[_DST_AT : _DST_AT + 4]
        elif family == socket.AF_INET6 and len(message) >= _DST_AT + 16 + _CACHEINFO_FROM_END:
            # the destination and the cache info's value (the 32 bytes before RTA_PREF) go
            residue = message[:_DST_AT] + message[_DST_AT + 16 : -40] + message[-8:]
            dst = message[_DST_AT : _DST_AT + 16]
        else:
            self._new_form(message)
            return
        form = self._by_residue.get(residue)
        if form is None:
            self._by_residue[residue] = self._new_form(message)
        elif form >= 0:
            self.routes[(self._form_ident[form], dst)] = form
        elif form == _SINGLE:
            self._new_form(message)

    def _new_form(self, message: bytes) -> int:
        """Decode `message` as a new form; its number, or _SINGLE/_FOREIGN if it is not
        shared by other messages."""
        route = decode_route(message, self.ifname)
        if route is None:
            return _FOREIGN
        key = (route.family, route.table, route.dst_len, route.metric)
        ident = self._idents.setdefault(key, len(self._idents))
        number = len(self.forms)
        self.forms.append(route)
        self._form_ident.append(ident)
        self.routes[(ident, socket.inet_pton(route.family, route.dst))] = number
        return number if _cuttable(message, route.family) else _SINGLE


def _cuttable(message: bytes, family: int) -> bool:
    """Whether the bytes cut from `message` to make its residue are exactly the value of
    its RTA_DST (and, for IPv6, of its RTA_CACHEINFO): then messages of equal residue
    have the same attributes at the same places, and differ in those values only."""
    size = _ADDRESS_SIZE[family]
    spans = set()
    offset = 12
    while offset + ATTR.size <= len(message):
        length, kind = ATTR.unpack_from(message, offset)
        if length < ATTR.size:
            return False
        spans.add((offset, length, kind & 0x3FFF))
        offset += (length + 3) & ~3
    if (_DST_AT - ATTR.size, ATTR.size + size, RTA_DST) not in spans:
        return False
    if family == socket.AF_INET6:
        start = len(message) - _CACHEINFO_FROM_END
        return start >= _DST_AT + size and (start, _CACHEINFO_SIZE, RTA_CACHEINFO) in spans
    return True


class Verdict(enum.Enum):
    """How the kernel holds a configured route."""

    SAME = "same"
    DIFFERENT = "different"
    MISSING = "missing"
    TRACKED = "tracked"
    """Not compared: whether a tracked route is installed is the Tracker's business."""


class RouteMatcher:
    """Configured /routing/static entries against a RouteDump, entry by entry."""

    def __init__(self, dump: RouteDump, vrf_tables: Mapping[str, int]) -> None:
        self.dump = dump
        self.vrf_tables = vrf_tables
        self.unmatched: dict[RouteId, int] = dict(dump.routes)
        """The kernel's routes that no entry checked or claimed so far names."""
        self._forms: dict[tuple[Any, ...], _Form] = {}

    def check(self, entry: Mapping[str, Any]) -> Verdict:
        """How the kernel holds the route of `entry`: as configured, another route under its
        identity (family, table, prefix, metric), none; TRACKED for a tracked entry."""
        dst, _, length = entry["prefix"].partition("/")
        via = entry.get("via")
        dev = entry.get("dev")
        if len(entry) == 1 + (via is not None) + (dev is not None):
            key: tuple[Any, ...] = (length, via, dev, ":" in dst)
            form = self._forms.get(key)
            if form is None:
                form = self._forms[key] = self._form(route_from_entry(entry, self.vrf_tables))
        elif entry.get("track"):
            return Verdict.TRACKED
        else:
            route = route_from_entry(entry, self.vrf_tables)
            key = route[:1] + route[2:]
            form = self._forms.get(key)
            if form is None:
                form = self._forms[key] = self._form(route)
        ident, family, route_form, verdicts = form
        if ident is None:
            return Verdict.MISSING
        route_id = (ident, socket.inet_pton(family, dst))
        number = self.unmatched.pop(route_id, None)
        if number is None:  # none, or named by an entry before
            number = self.dump.routes.get(route_id)
            if number is None:
                return Verdict.MISSING
        verdict = verdicts.get(number)
        if verdict is None:
            same = same_route(route_form, self.dump.forms[number])
            verdict = verdicts[number] = Verdict.SAME if same else Verdict.DIFFERENT
        return verdict

    def claim(self, route: Route) -> bool:
        """Take `route`'s identity out of `unmatched` (a tracked route); whether the kernel
        holds a route under it."""
        route_id = self.dump.route_id(route)
        if route_id is None:
            return False
        self.unmatched.pop(route_id, None)
        return route_id in self.dump.routes

    def _form(self, route: Route) -> _Form:
        ident = self.dump.ident(route.family, route.table, route.dst_len, route.metric)
        return ident, route.family, route, {}


_Form: TypeAlias = tuple[int | None, int, Route, dict[int, Verdict]]
"""A configured form: its ident in the dump, family, Route, and verdicts by kernel form."""
