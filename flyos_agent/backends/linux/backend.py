"""The Linux backend: every kernel-facing handler, registered per YANG path, in one namespace.

Priorities follow the dependency order vrf (10) < interfaces (20) < tunnels
(30) < addresses (40) < routes and rules (50); system settings (5) depend on
nothing. ACL and NAT (60) belong to the nftables part.

Every reconcile, checking or converging, records what still drifts; with
`watch_drift` a monitor checks on its own when the kernel changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, PathHandler, Registry
from flyos_agent.backends.linux.addresses import Addresses
from flyos_agent.backends.linux.drift import DriftMonitor, DriftRecord
from flyos_agent.backends.linux.interfaces import Interfaces
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.reconcile import reconcile
from flyos_agent.backends.linux.routes import Announcements, StaticNexthops, StaticRoutes
from flyos_agent.backends.linux.rules import PolicyRules
from flyos_agent.backends.linux.state import operational_state
from flyos_agent.backends.linux.system import SystemSettings
from flyos_agent.backends.linux.tracking import Tracker
from flyos_agent.backends.linux.tunnels import TunnelParameters, WireGuardDevices, WireGuardPeers
from flyos_agent.backends.linux.vrf import Vrfs
from flyos_agent.schema import Schema

SYSTEM, VRF, INTERFACES, TUNNELS, ADDRESSES, ROUTING = 5, 10, 20, 30, 40, 50


class LinuxBackend(Backend):
    """Pushes transactions into the kernel of network namespace `netns` (None: the agent's)."""

    name = "linux"

    def __init__(
        self, schema: Schema, netns: str | None = None, *, track_interval: float = 1.0
    ) -> None:
        self.schema = schema
        self.kernel = Kernel(netns)
        self.tracker = Tracker(self.kernel, track_interval)
        self.drift = DriftRecord()
        self._monitor: DriftMonitor | None = None

    def handlers(self) -> list[tuple[str, int, PathHandler]]:
        """(schema path, priority, handler) of every handler this backend registers."""
        schema, kernel = self.schema, self.kernel
        interface = "/flyos-interfaces:interfaces/interface"
        tunnels = "/flyos-tunnel:tunnels"
        routing = "/flyos-routing:routing"
        announcements = Announcements(schema)
        return [
            ("/flyos-system:system", SYSTEM, SystemSettings(schema, kernel)),
            ("/flyos-vrf:vrfs/vrf", VRF, Vrfs(schema, kernel)),
            (interface, INTERFACES, Interfaces(schema, kernel)),
            *[
                (f"{tunnels}/{kind}", TUNNELS, TunnelParameters(schema, kernel, kind))
                for kind in ("gre", "ipip", "vxlan")
            ],
            (f"{tunnels}/wireguard", TUNNELS, WireGuardDevices(schema, kernel)),
            (f"{tunnels}/wireguard/peer", TUNNELS, WireGuardPeers(schema, kernel)),
            (f"{interface}/ipv4/address", ADDRESSES, Addresses(schema, kernel)),
            (f"{interface}/ipv6/address", ADDRESSES, Addresses(schema, kernel)),
            (f"{routing}/static", ROUTING, StaticRoutes(schema, kernel, self.tracker)),
            (f"{routing}/static/nexthop", ROUTING, StaticNexthops(schema, kernel, self.tracker)),
            (f"{routing}/pbr", ROUTING, PolicyRules(schema, kernel)),
            (f"{routing}/bgp", ROUTING, announcements),
            (f"{routing}/ospf", ROUTING, announcements),
        ]

    def register(self, registry: Registry) -> None:
        """Register every handler at its YANG path."""
        for path, priority, handler in self.handlers():
            registry.add(path, priority, handler, f"linux:{path.rpartition('/')[2]}")

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """Operational state of the configured objects and the drift record (RFC 7951 JSON)."""
        return operational_state(self.kernel, self.tracker, running) | self.drift.state()

    def reconcile(self, running: Map[str, Any], apply: bool) -> dict[str, Any]:
        """Drift between `running` and the kernel's agent-owned links, addresses, routes and
        rules; with `apply`, converge the kernel to `running` (foreign objects are never
        touched). The drift record keeps what still drifts."""
        report, remaining = reconcile(self.schema, self.kernel, self.tracker, running, apply=apply)
        self.drift.record(remaining)
        return report

    def check_drift(self, running: Map[str, Any]) -> None:
        """Record the drift from `running` (call it where no transaction can interleave)."""
        self.reconcile(running, apply=False)

    def watch_drift(
        self,
        run_locked: Callable[[Callable[[Map[str, Any]], None]], None],
        interval: float,
        listener: Callable[[dict[str, Any]], None] | None = None,
        current: Callable[[], Map[str, Any]] | None = None,
    ) -> None:
        """Check for drift after kernel events and every `interval` seconds; a check that
        finds drift runs as `run_locked(check)`, which must call it with running while no
        commit runs. With `current` (running, read without the lock), a check first looks
        without the lock and takes it only to confirm drift. `listener(event)` hears of
        every change of the drift found."""
        self.drift.listener = listener

        def check() -> None:
            if current is not None and self._in_sync(current()):
                return
            run_locked(self.check_drift)

        self._monitor = DriftMonitor(self.kernel, check, interval)
        self._monitor.start()

    def _in_sync(self, running: Map[str, Any]) -> bool:
        """A check without the commit lock: True (and recorded) when the kernel matches
        `running`. A commit in flight can only make it see drift, which the caller then
        re-checks under the lock — so commits wait for a check only when drift is found."""
        _report, remaining = reconcile(self.schema, self.kernel, self.tracker, running, apply=False)
        if remaining:
            return False
        self.drift.record(remaining)
        return True

    def committed(self) -> None:
        """A commit happened: re-check soon if drift is recorded (the commit may resolve it)."""
        if self._monitor is not None and self.drift.drifted:
            self._monitor.request()

    def close(self) -> None:
        """Stop the drift monitor and next-hop tracking, close the kernel sockets."""
        if self._monitor is not None:
            self._monitor.close()
        self.tracker.close()
        self.kernel.close()
