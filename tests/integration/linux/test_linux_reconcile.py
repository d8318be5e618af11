"""Start-up reconcile: the kernel's agent-owned routes and rules converge on running;
everything foreign is left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, sh

from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema

pytestmark = pytest.mark.netns

CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {
                "name": "eth0",
                "type": "ethernet",
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
            }
        ]
    },
    "flyos-routing:routing": {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "10.0.0.2"},
            {"prefix": "10.2.0.0/24", "via": "10.0.0.2", "table": 100},
            {"prefix": "10.3.0.0/24", "via": "10.0.0.2", "metric": 7},
            {"prefix": "10.4.0.0/24", "type": "blackhole"},
        ],
        "pbr": [{"priority": 100, "fwmark": 1, "table": 100}],
    },
}


def start(schema: Schema, state: Path, netns: Netns) -> tuple[Manager, LinuxBackend]:
    backend = LinuxBackend(schema, netns.name)
    manager = Manager(schema, Journal(state / "flyos.db", schema), backend)
    manager.start()
    return manager, backend


def test_startup_reconcile_restores_removes_and_leaves_foreign_routes_alone(
    schema: Schema, netns: Netns, tmp_path: Path
) -> None:
    manager, _backend = start(schema, tmp_path, netns)
    manager.copy(manager.open_session("t", "test"), "running", "running", config=CONFIG)
    expected = netns.dump()
    manager.close()
    ns = f"ip -n {netns.name}"
    sh(f"{ns} route del 10.1.0.0/24 proto 177")  # deleted behind the agent's back
    sh(f"{ns} route replace 10.3.0.0/24 via 10.0.0.3 metric 7 proto 177")  # changed
    sh(f"{ns} route add 10.9.0.0/24 via 10.0.0.2 table 55 proto 177")  # stale, owned
    sh(f"{ns} rule del priority 100 fwmark 1 table 100 proto 177")
    sh(f"{ns} rule add priority 900 from 10.0.0.0/8 table 55 proto 177")
    sh(f"{ns} route add 10.50.0.0/24 via 10.0.0.2 proto static")  # foreign
    sh(f"{ns} rule add priority 901 fwmark 9 table 9")  # foreign
    foreign_route = sh(f"{ns} -j route show proto static")
    foreign_rule = sh(f"{ns} -j rule show priority 901")

    manager, backend = start(schema, tmp_path, netns)
    drift = backend.reconcile(manager.stores.running, apply=False)
    assert drift["routes"] == {
        "missing": ["10.1.0.0/24"],
        "extra": [{"prefix": "10.9.0.0/24", "table": 55}],
        "different": ["10.3.0.0/24"],
    }
    assert drift["rules"] == {"missing": [100], "extra": [900]}

    result = backend.reconcile(manager.stores.running, apply=True)
    manager.close()

    assert result["applied"] and result["errors"] == []
    assert sh(f"{ns} -j route show proto static") == foreign_route
    assert sh(f"{ns} -j rule show priority 901") == foreign_rule
    sh(f"{ns} route del 10.50.0.0/24 proto static && {ns} rule del priority 901")
    assert netns.dump_like(expected) == expected


def test_reconcile_of_a_converged_kernel_reports_no_drift(
    schema: Schema, netns: Netns, tmp_path: Path
) -> None:
    manager, backend = start(schema, tmp_path, netns)
    manager.copy(manager.open_session("t", "test"), "running", "running", config=CONFIG)

    drift = backend.reconcile(manager.stores.running, apply=False)
    manager.close()

    assert drift["routes"] == {"missing": [], "extra": [], "different": []}
    assert drift["rules"] == {"missing": [], "extra": []}


def _many_alike(count: int) -> dict[str, Any]:
    """eth0 (IPv4 and IPv6) with `count` IPv4 and `count` IPv6 routes of one form each
    (gateway + device), plus routes of other forms: default routes, multipath routes,
    a reject route in another table, a route whose device is left to the kernel."""
    return {
        "flyos-interfaces:interfaces": {
            "interface": [
                {
                    "name": "eth0",
                    "type": "ethernet",
                    "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
                    "ipv6": {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]},
                }
            ]
        },
        "flyos-routing:routing": {
            "static": [
                *(
                    {
                        "prefix": f"10.{100 + i // 256}.{i % 256}.0/24",
                        "via": "10.0.0.2",
                        "dev": "eth0",
                    }
                    for i in range(count)
                ),
                *(
                    {"prefix": f"2001:db8:1:{i:x}::/64", "via": "2001:db8::2", "dev": "eth0"}
                    for i in range(count)
                ),
                {"prefix": "0.0.0.0/0", "via": "10.0.0.2"},
                {"prefix": "::/0", "via": "2001:db8::2", "dev": "eth0"},
                {
                    "prefix": "10.50.0.0/16",
                    "nexthop": [{"via": "10.0.0.2", "weight": 3}, {"via": "10.0.0.3"}],
                },
                {
                    "prefix": "2001:db8:50::/48",
                    "nexthop": [{"via": "2001:db8::2", "dev": "eth0"}, {"via": "2001:db8::3"}],
                },
                {"prefix": "10.60.0.0/24", "type": "blackhole", "table": 60, "metric": 5},
                {"prefix": "10.70.0.0/24", "via": "10.0.0.2", "metric": 70},
            ]
        },
    }


def test_reconcile_finds_each_drifted_route_among_many_alike(
    schema: Schema, netns: Netns, tmp_path: Path
) -> None:
    manager, backend = start(schema, tmp_path, netns)
    manager.copy(manager.open_session("t", "test"), "running", "running", config=_many_alike(300))
    assert backend.reconcile(manager.stores.running, apply=False)["routes"] == {
        "missing": [],
        "extra": [],
        "different": [],
    }
    expected = netns.dump()
    ns = f"ip -n {netns.name}"
    sh(f"{ns} route del 10.100.0.0/24 proto 177")  # the first of its kind in a dump
    sh(f"{ns} route del 2001:db8:1:11::/64 proto 177")
    sh(f"{ns} route replace 10.100.200.0/24 via 10.0.0.3 dev eth0 proto 177")
    sh(f"{ns} route replace 2001:db8:1:12b::/64 via 2001:db8::3 dev eth0 proto 177")
    sh(f"{ns} route replace default via 10.0.0.3 proto 177")
    sh(f"{ns} route replace 10.50.0.0/16 proto 177 nexthop via 10.0.0.2 nexthop via 10.0.0.3")
    sh(f"{ns} route add 10.99.0.0/24 via 10.0.0.2 dev eth0 proto 177")  # like the others
    sh(f"{ns} route add 2001:db8:99::/64 via 2001:db8::2 dev eth0 proto 177")
    sh(f"{ns} route add 10.98.0.0/24 via 10.0.0.2 dev eth0 proto 177 table 60")

    drift = backend.reconcile(manager.stores.running, apply=False)["routes"]

    assert sorted(drift["missing"]) == ["10.100.0.0/24", "2001:db8:1:11::/64"]
    assert sorted(drift["extra"], key=str) == [
        {"prefix": "10.98.0.0/24", "table": 60},
        {"prefix": "10.99.0.0/24", "table": 254},
        {"prefix": "2001:db8:99::/64", "table": 254},
    ]
    assert sorted(drift["different"]) == [
        "0.0.0.0/0",
        "10.100.200.0/24",
        "10.50.0.0/16",
        "2001:db8:1:12b::/64",
    ]
    result = backend.reconcile(manager.stores.running, apply=True)
    assert result["applied"] and result["errors"] == []
    assert netns.dump_like(expected) == expected
    converged = backend.reconcile(manager.stores.running, apply=False)
    manager.close()
    assert converged["routes"] == {"missing": [], "extra": [], "different": []}
