"""Reconcile of links and addresses: devices the agent created (IFLA_GROUP 177) come back
or go, configured interfaces get their settings and exactly their addresses back, and
foreign devices and addresses stay as they are — on demand and at a daemon's start-up."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, ipj, sh
from pyroute2 import IPRoute

from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

CONFIG: dict[str, Any] = {
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
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
            },
            {
                "name": "br0",
                "type": "bridge",
                "description": "lan",
                "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
                "ipv6": {"address": [{"ip": "2001:DB8:5::1", "prefix-length": 64}]},
            },
            {"name": "v1", "type": "veth", "veth-peer": "v1p", "bridge": "br0"},
        ]
    },
    "flyos-routing:routing": {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "10.0.0.2"},
            {"prefix": "198.51.100.0/24", "via": "192.0.2.2"},
        ]
    },
}
NO_DRIFT = {
    "links": {"missing": [], "extra": [], "different": []},
    "addresses": {"missing": [], "extra": []},
    "routes": {"missing": [], "extra": [], "different": []},
    "rules": {"missing": [], "extra": []},
}


def make_netns() -> Iterator[Netns]:
    """The agent's namespace (h1-*) with ports eth0/eth1 whose far ends (10.0.N.2) live in
    a second namespace; IPv6 DAD off. Both are removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    ns = Netns(f"h1-{tag}", f"h1-{tag}-p")
    try:
        for name in (ns.name, ns.peer):
            sh(f"ip netns add {name}")
            for knob in ("all", "default"):
                sh(f"ip netns exec {name} sysctl -qw net.ipv6.conf.{knob}.accept_dad=0")
        for index in (0, 1):
            port = f"port{index} netns {ns.peer}"
            sh(f"ip -n {ns.name} link add eth{index} type veth peer name {port}")
            sh(f"ip -n {ns.peer} addr add 10.0.{index}.2/24 dev port{index}")
            sh(f"ip -n {ns.peer} link set port{index} up")
        yield ns
    finally:
        for name in (ns.name, ns.peer):
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


@pytest.fixture
def netns() -> Iterator[Netns]:
    yield from make_netns()


def drift_of(report: dict[str, Any]) -> dict[str, Any]:
    return {key: report[key] for key in NO_DRIFT}


def owned_links(ns: str) -> set[str]:
    return {link["ifname"] for link in ipj(ns, "link show") if link["group"] == "177"}


def add_marked_address(ns: str, device: str, address: str, length: int) -> None:
    """An address with IFA_PROTO 177, as an agent adds them (iproute2 6.1 cannot)."""
    with IPRoute(netns=ns) as ipr:
        index = ipr.link_lookup(ifname=device)[0]
        ipr.addr("add", index=index, address=address, prefixlen=length, proto=177)


def assert_converged(netns: Netns) -> None:
    """The kernel holds what CONFIG asks for."""
    assert owned_links(netns.name) == {"br0", "v1", "v1p"}
    bridge = netns.link("br0", details=False)
    assert bridge["ifalias"] == "lan" and "UP" in bridge["flags"]
    assert netns.link("v1", details=False)["master"] == "br0"
    assert "UP" in netns.link("v1p", details=False)["flags"]
    assert netns.link("eth0", details=False)["mtu"] == 1400
    assert netns.addresses("br0") == {"192.0.2.1/24", "2001:db8:5::1/64"}
    assert netns.addresses("eth0") == {"10.0.0.1/24"}
    assert {route["dst"] for route in netns.routes()} == {"10.1.0.0/24", "198.51.100.0/24"}


def test_created_links_and_addresses_carry_the_marker_and_a_fresh_commit_has_no_drift(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)

    assert owned_links(netns.name) == {"br0", "v1", "v1p"}  # never lo, eth0 or eth1
    with IPRoute(netns=netns.name) as ipr:
        protocols = {
            message.get("IFA_LOCAL"): message.get("IFA_PROTO") for message in ipr.get_addr()
        }
    assert protocols["10.0.0.1"] == 177 and protocols["127.0.0.1"] != 177
    # loopback, link-local and kernel routes are the kernel's: none of it is drift
    assert drift_of(backend.reconcile(manager.stores.running, apply=False)) == NO_DRIFT


def test_reconcile_recreates_deleted_links_with_their_settings_and_addresses(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    sh(f"ip -n {netns.name} link del br0 && ip -n {netns.name} link del v1")  # v1p goes too

    drift = backend.reconcile(manager.stores.running, apply=False)
    assert drift["links"] == {"missing": ["br0", "v1"], "extra": [], "different": []}
    assert drift["addresses"] == {
        "missing": [
            {"interface": "br0", "address": "192.0.2.1/24"},
            {"interface": "br0", "address": "2001:db8:5::1/64"},
        ],
        "extra": [],
    }
    assert drift["routes"]["missing"] == ["198.51.100.0/24"]  # flushed with its device

    result = backend.reconcile(manager.stores.running, apply=True)

    assert result["applied"] and result["errors"] == []
    assert_converged(netns)
    assert drift_of(backend.reconcile(manager.stores.running, apply=False)) == NO_DRIFT


def test_reconcile_sets_back_settings_and_addresses_changed_behind_the_agents_back(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    ns = f"ip -n {netns.name}"
    sh(f"{ns} link set eth0 mtu 1300 && {ns} link set br0 down && {ns} link set br0 alias wan")
    sh(f"{ns} link set v1 nomaster && {ns} link set br0 group default")  # unmarked: adopted
    sh(f"{ns} addr add 10.0.0.99/24 dev eth0 && {ns} addr del 192.0.2.1/24 dev br0")

    drift = backend.reconcile(manager.stores.running, apply=False)
    assert drift["links"] == {
        "missing": [],
        "extra": [],
        "different": [
            {"name": "br0", "attributes": ["group", "ifalias", "state"]},
            {"name": "eth0", "attributes": ["mtu"]},
            {"name": "v1", "attributes": ["master"]},
        ],
    }
    assert drift["addresses"] == {
        "missing": [
            {"interface": "br0", "address": "192.0.2.1/24"},
            {"interface": "br0", "address": "2001:db8:5::1/64"},  # IPv6 flushed by link down
        ],
        "extra": [{"interface": "eth0", "address": "10.0.0.99/24"}],
    }

    result = backend.reconcile(manager.stores.running, apply=True)

    assert result["errors"] == []
    assert_converged(netns)
    assert drift_of(backend.reconcile(manager.stores.running, apply=False)) == NO_DRIFT


def test_reconcile_removes_owned_leftovers_and_leaves_foreign_links_and_addresses(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    ns = f"ip -n {netns.name}"
    sh(f"{ns} link add stale0 group 177 type bridge")  # the agent's, no longer configured
    sh(f"{ns} link add fx0 type bridge && {ns} addr add 203.0.113.1/24 dev fx0")  # foreign
    sh(f"{ns} addr add 203.0.115.1/24 dev eth1")  # foreign address, unconfigured port
    add_marked_address(netns.name, "eth1", "203.0.114.1", 24)  # the agent's, left behind
    foreign = sh(f"{ns} -j -d link show dev fx0") + sh(f"{ns} -j addr show dev fx0")

    drift = backend.reconcile(manager.stores.running, apply=False)
    assert drift["links"] == {"missing": [], "extra": ["stale0"], "different": []}
    assert drift["addresses"] == {
        "missing": [],
        "extra": [{"interface": "eth1", "address": "203.0.114.1/24"}],
    }

    result = backend.reconcile(manager.stores.running, apply=True)

    assert result["errors"] == []
    assert not netns.has_link("stale0")
    assert sh(f"{ns} -j -d link show dev fx0") + sh(f"{ns} -j addr show dev fx0") == foreign
    assert netns.addresses("eth1") == {"203.0.115.1/24"}
    assert_converged(netns)


def test_daemon_start_up_restores_deleted_links_and_removes_leftovers(
    make_agent: Any, netns: Netns, tmp_path: Path
) -> None:
    startup = tmp_path / "startup.json"
    startup.write_text(json.dumps(CONFIG))
    config = tmp_path / "agent.toml"
    config.write_text(f'[agent]\nstartup_config = "{startup}"\n')
    agent = make_agent("--backend", "linux", "--netns", netns.name, config=config).start()
    assert agent.stop() == 0
    ns = f"ip -n {netns.name}"
    sh(f"{ns} link del br0 && {ns} link set eth0 mtu 1300")
    sh(f"{ns} link add stale0 group 177 type bridge")

    agent.start()
    assert agent.stop() == 0

    assert not netns.has_link("stale0")
    assert_converged(netns)
    (line,) = [line for line in agent.lines if line.startswith("start-up reconcile:")]
    assert "'missing': ['br0']" in line and "'extra': ['stale0']" in line


def test_a_device_of_the_wrong_kind_is_recreated_if_owned_and_left_alone_if_foreign(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    ns = f"ip -n {netns.name}"
    sh(f"{ns} link del br0 && {ns} link add br0 group 177 type veth peer name br0x")

    drift = backend.reconcile(manager.stores.running, apply=False)
    assert {"name": "br0", "attributes": ["ifalias", "state", "type"]} in drift["links"][
        "different"
    ]
    assert backend.reconcile(manager.stores.running, apply=True)["errors"] == []
    assert_converged(netns)
    assert netns.link("br0")["linkinfo"]["info_kind"] == "bridge"

    sh(f"{ns} link del br0 && {ns} link add br0 type veth peer name br0x")  # not the agent's
    foreign = sh(f"{ns} -j -d link show dev br0") + sh(f"{ns} -j addr show dev br0")
    result = backend.reconcile(manager.stores.running, apply=True)

    first, port, route = result["errors"]  # what depends on br0 fails, naming itself
    assert first == (
        "/flyos-interfaces:interfaces/interface[name='br0']: link br0: the kernel has a veth "
        "device the agent did not create, where running wants a bridge: left alone"
    )
    assert port.startswith("/flyos-interfaces:interfaces/interface[name='v1']: link set v1 master")
    assert route.startswith("route add 198.51.100.0/24 table 254: ")
    assert sh(f"{ns} -j -d link show dev br0") + sh(f"{ns} -j addr show dev br0") == foreign


def test_a_missing_ethernet_port_is_reported_never_created(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    sh(f"ip -n {netns.name} link del eth0")  # a port unplugged

    result = backend.reconcile(manager.stores.running, apply=True)

    assert result["links"]["missing"] == ["eth0"]
    assert result["errors"][0] == (
        "/flyos-interfaces:interfaces/interface[name='eth0']: link eth0: ENODEV: the configured "
        "ethernet device is absent (the agent configures such devices, never creates them)"
    )
    assert not netns.has_link("eth0")
    assert owned_links(netns.name) == {"br0", "v1", "v1p"}
