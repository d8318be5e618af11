"""A failure at any step of a commit touching every host-supported module leaves the kernel
byte-identical (`ip -j` dumps of links, addresses, routes and rules) and running unchanged."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from linux_helpers import Netns, commit, sh

from flyos_agent.backends.base import Step
from flyos_agent.errors import FlyosError, OperationFailed
from flyos_agent.runtime import transaction
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

BASE: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {
                "name": "eth0",
                "type": "ethernet",
                "mtu": 1450,
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
            },
            {
                "name": "eth1",
                "type": "ethernet",
                "ipv4": {"address": [{"ip": "10.0.1.1", "prefix-length": 24}]},
                "ipv6": {"address": [{"ip": "2001:db8:1::1", "prefix-length": 64}]},
            },
            {"name": "br0", "type": "bridge"},
            {"name": "v0", "type": "veth", "veth-peer": "v1", "bridge": "br0"},
        ]
    },
    "flyos-routing:routing": {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "10.0.0.2"},
            {"prefix": "10.2.0.0/24", "via": "10.0.1.2", "metric": 5},
        ],
        "pbr": [{"priority": 100, "fwmark": 1, "table": 100}],
    },
}


def change_everything(config: dict[str, Any]) -> dict[str, Any]:
    """Creates, modifies and deletes something in every module the host kernel supports."""
    out = copy.deepcopy(config)
    interfaces = out["flyos-interfaces:interfaces"]["interface"]
    interfaces[0]["mtu"] = 1400
    interfaces[0]["description"] = "changed"
    interfaces[0]["ipv4"]["address"].append({"ip": "10.0.2.1", "prefix-length": 24})
    del interfaces[1]["ipv6"]
    interfaces[2]["mac"] = "02:00:00:00:0b:00"
    interfaces[2]["ipv4"] = {"address": [{"ip": "192.168.50.1", "prefix-length": 24}]}
    interfaces += [
        {"name": "br1", "type": "bridge", "enabled": False},
        {"name": "v2", "type": "veth", "veth-peer": "v3", "bridge": "br1"},
        {
            "name": "vx0",
            "type": "vxlan",
            "ipv6": {"address": [{"ip": "fd00::1", "prefix-length": 64}]},
        },
    ]
    out["flyos-tunnel:tunnels"] = {"vxlan": [{"name": "vx0", "vni": 42, "remote": "10.0.0.2"}]}
    routing = out["flyos-routing:routing"]
    routing["static"] = [
        {"prefix": "10.1.0.0/24", "via": "10.0.1.2"},
        {
            "prefix": "10.3.0.0/24",
            "nexthop": [{"via": "10.0.0.2"}, {"via": "10.0.1.2", "weight": 2}],
        },
        {"prefix": "2001:db8:5::/48", "type": "blackhole", "table": 10},
        {"prefix": "10.4.0.0/24", "dev": "br0", "track": True},
    ]
    routing["pbr"] = [{"priority": 200, "prefix": "10.0.0.0/8", "table": 10}]
    return out


@pytest.fixture
def based(netns: Netns, manager: Manager, session: Session) -> Iterator[None]:
    commit(manager, session, BASE)
    yield


def as_set(dump: str) -> set[str]:
    return {json.dumps(entry, sort_keys=True) for entry in json.loads(dump)}


def steps_of(manager: Manager, session: Session, config: dict[str, Any]) -> list[dict[str, Any]]:
    manager.copy(session, "running", "candidate", config=config)
    plan = manager.commit(session, dry_run=True).plan
    manager.discard(session)
    assert plan is not None
    return plan


def test_a_failure_at_any_step_leaves_the_kernel_byte_identical(
    netns: Netns,
    manager: Manager,
    session: Session,
    based: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = change_everything(BASE)
    count = len(steps_of(manager, session, target))
    assert count > 10
    before = netns.dump()
    running = manager.get_config(session)
    prepare = transaction.Transaction.prepare

    for failing in range(count):

        def prepare_failing_at(self: transaction.Transaction, failing: int = failing) -> list[Step]:
            steps = prepare(self)
            step = steps[failing]

            def refuse() -> None:
                raise OperationFailed(f"injected failure at step {failing}", path=step.path)

            steps[failing] = Step(step.plan, refuse, step.undo, step.path)
            return steps

        monkeypatch.setattr(transaction.Transaction, "prepare", prepare_failing_at)
        with pytest.raises(FlyosError, match="injected failure"):
            commit(manager, session, target)
        assert netns.dump_like(before) == before, (
            f"step {failing}: {steps_of(manager, session, target)[failing]}"
        )
        assert manager.get_config(session) == running

    monkeypatch.setattr(transaction.Transaction, "prepare", prepare)
    commit(manager, session, target)
    assert netns.dump() != before


@pytest.mark.parametrize(
    "case",
    [
        (
            "link add br1 type bridge",
            "/flyos-interfaces:interfaces/interface[name='br1']",
        ),
        (
            "route add 10.3.0.0/24 via 10.0.0.2",
            "/flyos-routing:routing/static[prefix='10.3.0.0/24']",
        ),
        (
            "addr add 10.0.2.1/24 dev eth0",
            "/flyos-interfaces:interfaces/interface[name='eth0']/ipv4/address[ip='10.0.2.1']",
        ),
        (
            "link add vx9 type vxlan id 42 dstport 4789",
            "/flyos-interfaces:interfaces/interface[name='vx0']",
        ),
    ],
)
def test_a_conflicting_foreign_object_fails_the_commit_naming_the_path(
    netns: Netns,
    manager: Manager,
    session: Session,
    based: None,
    case: tuple[str, str],
) -> None:
    conflict, path = case
    sh(f"ip -n {netns.name} {conflict}")
    before = netns.dump()

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, change_everything(BASE))

    assert failure.value.path == path
    assert "EEXIST" in failure.value.message
    assert netns.dump_like(before) == before


def test_deleted_devices_come_back_exactly_when_a_later_step_fails(
    netns: Netns, manager: Manager, session: Session
) -> None:
    config = change_everything(BASE)
    interfaces = config["flyos-interfaces:interfaces"]["interface"]
    interfaces[1]["bridge"] = "br0"
    commit(manager, session, config)
    sh(f"ip -n {netns.name} route add 10.60.0.0/24 via 10.0.0.2")  # in the way of the last step
    before = netns.dump()
    target = copy.deepcopy(config)
    target_interfaces = target["flyos-interfaces:interfaces"]["interface"]
    target_interfaces[1].pop("bridge")
    target_interfaces[3].pop("bridge")  # v0
    target["flyos-interfaces:interfaces"]["interface"] = [
        entry for entry in target_interfaces if entry["name"] not in ("br0", "vx0", "br1", "v2")
    ]
    del target["flyos-tunnel:tunnels"]
    target["flyos-routing:routing"]["static"] = [{"prefix": "10.60.0.0/24", "via": "10.0.0.2"}]

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, target)

    assert failure.value.path == "/flyos-routing:routing/static[prefix='10.60.0.0/24']"
    after = netns.dump_like(before)
    # re-created devices get their kernel IPv6 routes (fe80::/64, ff00::/8) back at other
    # positions among the equal routes of other devices: that one dump is compared as a set
    assert {k: v for k, v in after.items() if k != "route6"} == {
        k: v for k, v in before.items() if k != "route6"
    }
    assert as_set(after["route6"]) == as_set(before["route6"])
