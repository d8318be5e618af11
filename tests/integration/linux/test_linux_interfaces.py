"""Interfaces, addresses and VXLAN tunnels in a real kernel: commit, modify, delete, rollback."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from linux_helpers import Netns, commit, rollback, supports

from flyos_agent.errors import FlyosError
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

BASE: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {
                "name": "lo",
                "type": "loopback",
                "ipv4": {"address": [{"ip": "10.255.0.1", "prefix-length": 32}]},
            },
            {
                "name": "eth0",
                "type": "ethernet",
                "mtu": 1400,
                "mac": "02:00:00:00:00:10",
                "description": "uplink",
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
                "ipv6": {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]},
            },
            {"name": "eth1", "type": "ethernet", "enabled": False},
            {
                "name": "br0",
                "type": "bridge",
                "mac": "02:00:00:00:00:b0",
                "ipv4": {"address": [{"ip": "192.168.50.1", "prefix-length": 24}]},
            },
            {"name": "v0", "type": "veth", "veth-peer": "v1", "bridge": "br0"},
            {"name": "v1", "type": "veth", "veth-peer": "v0", "mtu": 9000},
            {"name": "vx0", "type": "vxlan", "mtu": 1300},
        ]
    },
    "flyos-tunnel:tunnels": {
        "vxlan": [
            {"name": "vx0", "vni": 100, "remote": "10.0.0.2", "underlay": "eth0", "port": 4790}
        ]
    },
}


def modified(config: dict[str, Any]) -> dict[str, Any]:
    """BASE with eth0's MTU and description changed and one more address on br0."""
    out = copy.deepcopy(config)
    eth0 = out["flyos-interfaces:interfaces"]["interface"][1]
    eth0["mtu"] = 1300
    eth0["description"] = "uplink (changed)"
    br0 = out["flyos-interfaces:interfaces"]["interface"][3]
    br0["ipv4"]["address"].append({"ip": "192.168.51.1", "prefix-length": 24})
    return out


def test_commit_puts_every_interface_setting_in_the_kernel(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, BASE)

    eth0 = netns.link("eth0")
    assert (eth0["mtu"], eth0["address"], eth0["ifalias"]) == (1400, "02:00:00:00:00:10", "uplink")
    assert "UP" in eth0["flags"]
    assert "UP" not in netns.link("eth1")["flags"]
    assert netns.addresses("eth0") == {"10.0.0.1/24", "2001:db8::1/64"}
    assert "10.255.0.1/32" in netns.addresses("lo")
    br0 = netns.link("br0")
    assert br0["linkinfo"]["info_kind"] == "bridge"
    assert br0["address"] == "02:00:00:00:00:b0"
    assert netns.addresses("br0") == {"192.168.50.1/24"}
    v0, v1 = netns.link("v0"), netns.link("v1")
    assert v0["master"] == "br0" and v0["link"] == "v1"
    assert v1["mtu"] == 9000 and "UP" in v1["flags"]
    vx0 = netns.link("vx0")
    data = vx0["linkinfo"]["info_data"]
    assert (data["id"], data["remote"], data["link"], data["port"]) == (
        100,
        "10.0.0.2",
        "eth0",
        4790,
    )
    assert vx0["mtu"] == 1300


def test_modify_changes_only_the_difference(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, BASE)
    names = ("eth0", "eth1", "br0", "v0", "v1", "vx0")
    before = netns.settled_links(names)  # carrier and operstate follow the commit later
    addresses_before = netns.addresses("eth0")

    commit(manager, session, modified(BASE))

    after = netns.settled_links(names)
    assert after["eth0"]["mtu"] == 1300 and after["eth0"]["ifalias"] == "uplink (changed)"
    changed = {k for k in before["eth0"] if before["eth0"][k] != after["eth0"].get(k)}
    assert changed == {"mtu", "ifalias"}
    for name in ("eth1", "br0", "v0", "v1", "vx0"):
        assert before[name] == after[name], name
    assert netns.addresses("br0") == {"192.168.50.1/24", "192.168.51.1/24"}
    assert netns.addresses("eth0") == addresses_before


def test_delete_removes_created_devices_and_releases_ports(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, BASE)
    commit(manager, session, {})

    for name in ("br0", "v0", "v1", "vx0"):
        assert not netns.has_link(name), name
    eth0 = netns.link("eth0")
    assert "ifalias" not in eth0
    assert netns.addresses("eth0") == set()
    assert netns.has_link("eth1")


def test_rollback_restores_the_earlier_kernel_state_exactly(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, BASE)
    earlier = netns.dump()
    bigger = modified(BASE)
    bigger["flyos-interfaces:interfaces"]["interface"].append(
        {"name": "br1", "type": "bridge", "description": "new"}
    )
    commit(manager, session, bigger)
    assert netns.dump() != earlier

    rollback(manager, session)

    assert netns.dump_like(earlier) == earlier


def test_missing_ethernet_interface_is_an_error_naming_its_path(
    netns: Netns, manager: Manager, session: Session
) -> None:
    before = netns.dump()
    config = copy.deepcopy(BASE)
    config["flyos-interfaces:interfaces"]["interface"].append({"name": "eth7", "type": "ethernet"})

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, config)

    assert failure.value.path == "/flyos-interfaces:interfaces/interface[name='eth7']"
    assert "ENODEV" in failure.value.message
    assert netns.dump_like(before) == before


@pytest.mark.parametrize("kind", ["dummy", "vlan"])
def test_kernel_without_the_driver_fails_with_eopnotsupp_and_changes_nothing(
    netns: Netns, manager: Manager, session: Session, kind: str
) -> None:
    if supports(kind):
        pytest.skip(f"kernel has the {kind} driver; this test needs a kernel without it")
    commit(manager, session, BASE)
    before = netns.dump()
    config = modified(BASE)
    entry: dict[str, Any] = {"name": "x0", "type": kind}
    if kind == "vlan":
        entry["vlan"] = {"parent": "eth0", "id": 10}
    config["flyos-interfaces:interfaces"]["interface"].append(entry)

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, config)

    assert failure.value.path == "/flyos-interfaces:interfaces/interface[name='x0']"
    assert "EOPNOTSUPP" in failure.value.message
    assert netns.dump_like(before) == before


def test_state_reports_interface_counters_and_status(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, BASE)
    netns.dump()  # wait for the carrier to come up

    state = manager.get(session, path="/interfaces/interface[name='eth0']")
    (eth0,) = state["flyos-interfaces:interfaces"]["interface"]
    kernel = netns.link("eth0")
    assert eth0["state"]["ifindex"] == kernel["ifindex"]
    assert eth0["state"]["mac"] == "02:00:00:00:00:10"
    assert eth0["state"]["mtu"] == 1400
    assert eth0["state"]["oper-status"] == "up"
    assert set(eth0["state"]["counters"]) >= {"in-octets", "out-packets"}
