"""Runtime drift detection: what of the agent's kernel objects differs from running, and since when.

`DriftRecord` keeps what the last check found (every reconcile, checking or
converging, is a check) with the time each object was first seen drifted; it
is served as /flyos-agent-ops:drift and every change of it is handed to a
listener (the drift-change notification). Drift is reported, never corrected
here: the operator's reconcile converges the kernel.

`DriftMonitor` decides when to check: a thread listens to the namespace's
link, address, route and rule events and runs a check once they settle,
ignoring the answers to the agent's own route and rule requests (they carry
its socket's port id); a link or address event always counts, since the
kernel flushes IPv4 routes of a vanished device without an event. It also
checks every `interval` seconds, and after lost events (ENOBUFS).
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import SOL_NETLINK, open_netlink

log = logging.getLogger(__name__)

RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x1, 0x10, 0x40
RTMGRP_IPV4_RULE, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE = 0x80, 0x100, 0x400
GROUPS = (
    RTMGRP_LINK
    | RTMGRP_IPV4_IFADDR
    | RTMGRP_IPV4_ROUTE
    | RTMGRP_IPV4_RULE
    | RTMGRP_IPV6_IFADDR
    | RTMGRP_IPV6_ROUTE
)
RTNLGRP_IPV6_RULE = 19  # beyond the 32-bit group mask of bind(): joined by setsockopt
NETLINK_ADD_MEMBERSHIP = 1
HEADER = struct.Struct("=IHHII")
SETTLE = 0.2  # seconds of quiet after an event before the check
MIN_GAP = 1.0  # seconds between event-driven checks (a busy routing daemon nearby)


@dataclass(frozen=True)
class DriftedObject:
    """One kernel object that differs from running."""

    kind: str  # link, address, route, rule
    name: str
    drift: str  # missing, extra, different
    detail: str = ""

    def plain(self) -> dict[str, str]:
        """The RFC 7951 form (without `since`)."""
        out = {"kind": self.kind, "name": self.name, "drift": self.drift}
        return out | ({"detail": self.detail} if self.detail else {})


def merge_objects(objects: Iterable[DriftedObject]) -> list[DriftedObject]:
    """One object per (kind, name): the same name both missing and extra (a rule of one
    priority with other selectors) is one `different` object."""
    merged: dict[tuple[str, str], DriftedObject] = {}
    for obj in objects:
        key = (obj.kind, obj.name)
        seen = merged.get(key)
        merged[key] = obj if seen is None else DriftedObject(obj.kind, obj.name, "different")
    return list(merged.values())


class DriftRecord:
    """The drift found by the last check, and the listener told of every change of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str], tuple[DriftedObject, float]] = {}
        self._last_check: float | None = None
        self.listener: Callable[[dict[str, Any]], None] | None = None

    @property
    def drifted(self) -> bool:
        """Whether the last check found drift."""
        return bool(self._objects)

    def record(self, objects: Iterable[DriftedObject], now: float | None = None) -> None:
        """Store a check's findings; tell the listener if they differ from the last ones."""
        now = time.time() if now is None else now
        with self._lock:
            previous = self._objects
            current = {
                (obj.kind, obj.name): (obj, previous.get((obj.kind, obj.name), (obj, now))[1])
                for obj in merge_objects(objects)
            }
            changed = {k: v[0] for k, v in current.items()} != {
                k: v[0] for k, v in previous.items()
            }
            self._objects, self._last_check = current, now
        if changed:
            event = self.event()
            level = logging.INFO if event["in-sync"] else logging.WARNING
            log.log(level, "kernel drift: %s", _summary(event))
            if self.listener is not None:
                try:
                    self.listener(event)
                except Exception:
                    log.exception("drift listener failed")

    def state(self) -> dict[str, Any]:
        """/flyos-agent-ops:drift as RFC 7951 JSON (empty before the first check)."""
        with self._lock:
            if self._last_check is None:
                return {}
            return {
                "flyos-agent-ops:drift": {
                    "in-sync": not self._objects,
                    "last-check": timestamp(self._last_check),
                    **self._plain_objects(),
                }
            }

    def event(self) -> dict[str, Any]:
        """The drift-change notification's content: in-sync and every drifted object."""
        with self._lock:
            return {"in-sync": not self._objects, **self._plain_objects()}

    def _plain_objects(self) -> dict[str, Any]:
        objects = [
            obj.plain() | {"since": timestamp(since)}
            for obj, since in sorted(self._objects.values(), key=lambda item: item[1])
        ]
        return {"object": objects} if objects else {}


def timestamp(seconds: float) -> str:
    """yang:date-and-time in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _summary(event: dict[str, Any]) -> str:
    objects = event.get("object", [])
    if not objects:
        return "in sync"
    return ", ".join(f"{o['kind']} {o['name']} {o['drift']}" for o in objects)


class DriftMonitor:
    """Runs `check` soon after the kernel changes under the agent, and every `interval` s."""

    def __init__(
        self, kernel: Kernel, check: Callable[[], None], interval: float, *, settle: float = SETTLE
    ) -> None:
        self.kernel = kernel
        self.check = check
        self.interval = interval
        self.settle = settle
        self._stop = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the monitor thread (its event socket is open when this returns)."""
        events = open_netlink(self.kernel.netns, GROUPS)
        events.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_IPV6_RULE)
        events.setblocking(False)
        with self.kernel.lock:
            own = {self.kernel.rtnl.sock.getsockname()[0]}
        self._thread = threading.Thread(
            target=self._run, args=(events, own), name="flyos-drift", daemon=True
        )
        self._thread.start()

    def request(self) -> None:
        """Check soon (from any thread)."""
        if not self._stop.is_set():
            self._wake_write.send(b"c")

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._wake_write.send(b"q")
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._wake_read.close()
        self._wake_write.close()

    def _run(self, events: socket.socket, own: set[int]) -> None:
        due = time.monotonic() + self.interval
        pending: float | None = None  # when the next event-driven check may run
        last = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                deadline = due if pending is None else min(due, pending)
                ready, _w, _x = select.select(
                    [events, self._wake_read], [], [], max(0.0, deadline - now)
                )
                now = time.monotonic()
                woken = self._wake_read in ready and _drain_wake(self._wake_read)
                if self._stop.is_set():
                    return
                if woken or (events in ready and _foreign_events(events, own)):
                    pending = max(now + self.settle, last + MIN_GAP)
                if (pending is not None and now >= pending) or now >= due:
                    self._check()
                    last = time.monotonic()
                    pending, due = None, last + self.interval
        finally:
            events.close()

    def _check(self) -> None:
        try:
            self.check()
        except Exception:
            log.exception("drift check failed")


def _drain_wake(sock: socket.socket) -> bool:
    sock.recv(4096)
    return True


def _foreign_events(sock: socket.socket, own: set[int]) -> bool:
    """Read every queued event; whether one may come from someone else (not an answer to
    the agent's own request), or events were lost."""
    foreign = False
    while True:
        try:
            data = sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return foreign
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                raise
            foreign = True  # the kernel dropped events: check everything
            continue
        offset = 0
        while offset + HEADER.size <= len(data):
            length, _type, _flags, _seq, port = HEADER.unpack_from(data, offset)
            if port not in own:
                foreign = True
            offset += max((length + 3) & ~3, HEADER.size)
