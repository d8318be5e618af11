"""The plan of a commit is the same whatever the hash seed, with lower devices first: the
kernel refuses to bring up a VLAN whose parent is down (ENETDOWN)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns

pytestmark = pytest.mark.netns

CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {"name": "eth0", "type": "ethernet"},
            {"name": "eth1", "type": "ethernet", "enabled": False},
            {"name": "eth0.100", "type": "vlan", "vlan": {"parent": "eth0", "id": 100}},
            {"name": "eth0.200", "type": "vlan", "vlan": {"parent": "eth0", "id": 200}},
            {"name": "q5", "type": "vlan", "vlan": {"parent": "eth0.100", "id": 5}},
            {"name": "dummy0", "type": "dummy"},
            {"name": "a7", "type": "vlan", "vlan": {"parent": "dummy0", "id": 7}},
            {"name": "br0", "type": "bridge"},
            {"name": "v0", "type": "veth", "veth-peer": "v1", "bridge": "br0"},
            {"name": "v1", "type": "veth", "veth-peer": "v0"},
            {
                "name": "vx0",
                "type": "vxlan",
                "ipv4": {"address": [{"ip": "10.9.0.1", "prefix-length": 24}]},
            },
        ]
    },
    "flyos-tunnel:tunnels": {
        "vxlan": [{"name": "vx0", "vni": 100, "remote": "10.0.0.2", "underlay": "eth0"}]
    },
}

PLAN = """
import json, sys, tempfile
from pathlib import Path
from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import load_schema

netns, config = sys.argv[1], json.loads(sys.argv[2])
schema = load_schema()
with tempfile.TemporaryDirectory() as tmp:
    manager = Manager(schema, Journal(Path(tmp) / "flyos.db", schema), LinuxBackend(schema, netns))
    manager.start()
    try:
        session = manager.open_session("tester", "test")
        manager.copy(session, "running", "candidate", config=config)
        plan = manager.commit(session, dry_run=True).plan
    finally:
        manager.close()
print(json.dumps(plan, default=str))
"""


def dry_run_plan(netns: Netns, seed: int) -> list[dict[str, Any]]:
    """The dry-run plan of CONFIG, computed in a fresh interpreter with PYTHONHASHSEED=seed."""
    done = subprocess.run(
        [sys.executable, "-c", PLAN, netns.name, json.dumps(CONFIG)],
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    plan: list[dict[str, Any]] = json.loads(done.stdout)
    return plan


def position(plan: list[dict[str, Any]], op: str, name: str) -> int:
    (index,) = [i for i, step in enumerate(plan) if step["op"] == op and step["name"] == name]
    return index


def test_plan_is_identical_across_hash_seeds_with_lower_devices_first(netns: Netns) -> None:
    plans = {seed: dry_run_plan(netns, seed) for seed in (1, 2, 3, 4)}

    for seed in (2, 3, 4):
        assert plans[seed] == plans[1], f"PYTHONHASHSEED={seed} reorders the plan"
    plan = plans[1]
    for lower, upper in [
        ("eth0", "eth0.100"),
        ("eth0", "eth0.200"),
        ("eth0.100", "q5"),
        ("dummy0", "a7"),
        ("eth0", "vx0"),
    ]:
        assert position(plan, "link set", lower) < position(plan, "link set", upper), upper
    for lower, upper in [("eth0.100", "q5"), ("dummy0", "a7")]:
        assert position(plan, "link add", lower) < position(plan, "link add", upper), upper
    creations = [step["name"] for step in plan if step["op"] == "link add"]
    settings = [i for i, step in enumerate(plan) if step["op"] == "link set"]
    assert max(position(plan, "link add", name) for name in creations) < min(settings)
