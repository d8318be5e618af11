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
