"""The Linux backend: every kernel-facing handler, registered per YANG path, in one namespace.

Priorities follow the dependency order vrf (10) < interfaces (20) < tunnels
(30) < addresses (40) < routes and rules (50); system settings (5) depend on
nothing. ACL and NAT (60) belong to the nftables part.
"""

from __future__ import annotations

from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, PathHandler, Registry
from flyos_agent.backends.linux.addresses import Addresses
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
        """Operational state of the configured objects (RFC 7951 JSON)."""
        return operational_state(self.kernel, self.tracker, running)

    def reconcile(self, running: Map[str, Any], apply: bool) -> dict[str, Any]:
        """Drift between `running` and the kernel's agent-owned routes and rules; with
        `apply`, converge the kernel to `running` (foreign objects are never touched)."""
        return reconcile(self.schema, self.kernel, self.tracker, running, apply=apply)

    def close(self) -> None:
        """Stop next-hop tracking and close the kernel sockets."""
        self.tracker.close()
        self.kernel.close()
