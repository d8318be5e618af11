"""The routes of the benchmarks as NETCONF XML and as `ip -batch` scripts.

Both sides get the same routes: `route_prefix(i)` via 192.0.2.1 dev eth0,
protocol 177 (what the agent puts on its routes).
"""

from __future__ import annotations

from pathlib import Path

from bench.common import PORT, ROUTE_VIA, route_prefix

ROUTING_NS = "urn:flyos:yang:flyos-routing"


def routes_xml(count: int) -> str:
    """<routing> with the first `count` benchmark routes."""
    entries = "".join(
        f"<static><prefix>{route_prefix(i)}</prefix><via>{ROUTE_VIA}</via><dev>{PORT}</dev></static>"
        for i in range(count)
    )
    return f'<routing xmlns="{ROUTING_NS}">{entries}</routing>'


def host_route_xml(index: int) -> str:
    """<routing> with one /32 outside the benchmark /24s (for one-route commits)."""
    prefix = f"172.16.{index // 256 % 256}.{index % 256}/32"
    return (
        f'<routing xmlns="{ROUTING_NS}"><static><prefix>{prefix}</prefix>'
        f"<via>{ROUTE_VIA}</via></static></routing>"
    )


def edit_candidate(config_xml: str) -> str:
    """An <edit-config> (merge) of `config_xml` into the candidate."""
    return f"<edit-config><target><candidate/></target><config>{config_xml}</config></edit-config>"


COMMIT = "<commit/>"


def write_ip_batch(path: Path, op: str, count: int) -> Path:
    """Write an `ip -batch` script doing `route OP` on the first `count` benchmark routes."""
    path.write_text(
        "".join(
            f"route {op} {route_prefix(i)} via {ROUTE_VIA} dev {PORT} proto 177\n"
            for i in range(count)
        )
    )
    return path
