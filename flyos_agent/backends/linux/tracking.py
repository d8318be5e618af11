"""Next-hop tracking: routes with `track true` are in the kernel only while a next hop is reachable.

A next hop is reachable when its gateway is directly connected (the kernel's
route lookup for it names an interface and no further gateway), that
interface is up with carrier, and the kernel's neighbour entry for the gateway
is not FAILED. A route is reachable when any of its next hops is (routes
without a gateway, such as blackholes, always are). A monitor thread wakes on
link and neighbour events (and once per interval), withdraws the routes whose
next hops became unreachable and restores those that came back; for a FAILED
neighbour it sends one datagram to the gateway so the kernel probes it again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import threading
from dataclasses import dataclass

from pyroute2 import netns as pyroute2_netns
from pyroute2.netlink.exceptions import NetlinkError

from flyos_agent.backends.linux.bulk import resolve
from flyos_agent.backends.linux.kernel import Kernel, kernel_error
from flyos_agent.backends.linux.netlink_batch import open_netlink
from flyos_agent.backends.linux.route_messages import Route, encode_route

log = logging.getLogger(__name__)

RTMGRP_LINK = 0x1
RTMGRP_NEIGH = 0x4
NUD_FAILED = 0x20
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
DISCARD_PORT = 9


@dataclass
class Tracked:
    """A tracked route: its kernel form, whether it is reachable and whether it is installed."""

    route: Route
    path: str
    reachable: bool = False
    installed: bool = False


class Tracker:
    """The tracked routes of one namespace and the thread that keeps them right."""

    def __init__(self, kernel: Kernel, interval: float = 1.0) -> None:
        self.kernel = kernel
        self.interval = interval
        self.routes: dict[str, Tracked] = {}
        self._stop = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._probes: dict[int, socket.socket] = {}

    # ------------------------------------------------------------------ commit side

    def track(self, prefix: str, route: Route, path: str) -> None:
        """Track `route` (installing it now if reachable); raises if the kernel refuses it."""
        with self.kernel.lock:
            entry = Tracked(route, path)
            entry.reachable = self._reachable(route)
            if entry.reachable:
                self._send(route, "add", path)
                entry.installed = True
            self.routes[prefix] = entry
        self._start()

    def adopt(self, prefix: str, route: Route, path: str, *, installed: bool) -> None:
        """Track a route that may already be in the kernel (after a restart); the next
        evaluation installs or withdraws it as its next hops are."""
        with self.kernel.lock:
            self.routes[prefix] = Tracked(route, path, reachable=installed, installed=installed)
        self._start()

    def untrack(self, prefix: str) -> Tracked | None:
        """Stop tracking `prefix` and withdraw its route if installed; the entry it had."""
        with self.kernel.lock:
            entry = self.routes.pop(prefix, None)
            if entry is not None and entry.installed:
                self._withdraw(entry)
            return entry

    def status(self, prefix: str) -> tuple[str, bool] | None:
        """(track-status, installed) of a tracked prefix, or None if it is not tracked."""
        entry = self.routes.get(prefix)
        if entry is None:
            return None
        return ("reachable" if entry.reachable else "unreachable", entry.installed)

    def evaluate(self) -> None:
        """Withdraw routes whose next hops became unreachable, restore those that came back."""
        with self.kernel.lock:
            for entry in self.routes.values():
                entry.reachable = self._reachable(entry.route)
                try:
                    if entry.reachable and not entry.installed:
                        self._send(entry.route, "add", entry.path)
                        entry.installed = True
                        log.info("tracked route %s restored", entry.route.prefix)
                    elif not entry.reachable and entry.installed:
                        self._withdraw(entry)
                        log.info("tracked route %s withdrawn", entry.route.prefix)
                except Exception:
                    log.exception("tracking %s failed", entry.route.prefix)

    def close(self) -> None:
        """Stop the monitor thread and close the probe sockets."""
        self._stop.set()
        with contextlib.suppress(OSError):  # closed already: a second close()
            self._wake_write.send(b"\0")  # the monitor's select() returns at once
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._wake_read.close()
        self._wake_write.close()
        for sock in self._probes.values():
            sock.close()
        self._probes.clear()

    # ------------------------------------------------------------------ kernel side

    def _send(self, route: Route, op: str, path: str) -> None:
        names = self.kernel.ifindex_map()
        request = encode_route(route, op, lambda dev: resolve(names, dev))
        failures = self.kernel.rtnl.execute([request])
        if failures:
            raise kernel_error(failures[0], f"route {op}", path)

    def _withdraw(self, entry: Tracked) -> None:
        """Delete the route; one the kernel already dropped (its link went down) is fine."""
        names = self.kernel.ifindex_map()
        request = encode_route(entry.route, "del", lambda dev: resolve(names, dev))
        failures = self.kernel.rtnl.execute([request])
        if failures and failures[0].errno != errno.ESRCH:
            raise kernel_error(failures[0], "route del", entry.path)
        entry.installed = False

    def _reachable(self, route: Route) -> bool:
        hops = [(hop.gateway, hop.dev) for hop in route.nexthops] or [(route.gateway, route.dev)]
        if all(gateway is None for gateway, _dev in hops):
            return True
        return any(
            self._hop_reachable(route.family, gateway, dev, route.onlink)
            for gateway, dev in hops
            if gateway is not None
        )

    def _hop_reachable(self, family: int, gateway: str, dev: str | None, onlink: bool) -> bool:
        ipr = self.kernel.ipr
        if dev is not None and onlink:
            index = self.kernel.ifindex(dev)
        else:
            try:
                (found,) = ipr.route(
                    "get", dst=gateway, **({"oif": self.kernel.ifindex(dev)} if dev else {})
                )
            except (NetlinkError, ValueError):
                return False
            if found.get("RTA_GATEWAY") is not None:
                return False
            index = found.get("RTA_OIF")
        if index is None:
            return False
        links = ipr.get_links(index)
        if not links or (links[0]["flags"] & (IFF_UP | IFF_LOWER_UP)) != (IFF_UP | IFF_LOWER_UP):
            return False
        for neighbour in ipr.get_neighbours(family=family, ifindex=index, dst=gateway):
            if neighbour["state"] & NUD_FAILED:
                self._probe(family, gateway)
                return False
        return True

    def _probe(self, family: int, gateway: str) -> None:
        """Send one datagram to the gateway so the kernel resolves its neighbour again."""
        sock = self._probes.get(family)
        if sock is None:
            sock = (
                pyroute2_netns.create_socket(
                    self.kernel.netns, family, socket.SOCK_DGRAM, 0, flags=0
                )
                if self.kernel.netns
                else socket.socket(family, socket.SOCK_DGRAM)
            )
            sock.setblocking(False)
            self._probes[family] = sock
        try:
            sock.sendto(b"", (gateway, DISCARD_PORT))
        except OSError as exc:
            log.debug("probe of %s failed: %s", gateway, exc)

    # ------------------------------------------------------------------ monitor thread

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flyos-tracker", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        events = open_netlink(self.kernel.netns, RTMGRP_LINK | RTMGRP_NEIGH)
        events.setblocking(False)
        try:
            while not self._stop.is_set():
                ready, _w, _x = select.select([events, self._wake_read], [], [], self.interval)
                if self._stop.is_set():
                    break
                if ready:
                    _drain(events)
                    self._stop.wait(0.05)  # let a burst of events settle
                    _drain(events)
                if self.routes:
                    self.evaluate()
        finally:
            events.close()


def _drain(sock: socket.socket) -> None:
    """Discard every queued event (they only wake the monitor up)."""
    while True:
        try:
            sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # ENOBUFS: events were lost, an evaluation follows anyway
            if exc.errno != errno.ENOBUFS:
                raise
