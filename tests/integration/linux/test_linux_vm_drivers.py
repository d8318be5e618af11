"""Drivers this host kernel lacks (VRF, GRE, IPIP, WireGuard, VLAN, dummy): each test skips
where the kernel cannot create its device type, and runs in the real-kernel VM tier."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, commit, ipj, sh, supports

from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

pytestmark = pytest.mark.netns

PORT: dict[str, Any] = {
    "name": "eth0",
    "type": "ethernet",
    "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
}


def needs(*kinds: str) -> None:
    missing = [kind for kind in kinds if not supports(kind)]
    if missing:
        pytest.skip(f"kernel lacks {', '.join(missing)} (VM tier)")


def test_vrf_with_enslaved_interface_routes_and_rules_in_its_table(
    netns: Netns, manager: Manager, session: Session
) -> None:
    needs("vrf")
    config = {
        "flyos-vrf:vrfs": {"vrf": [{"name": "red", "table": 100, "description": "customer"}]},
        "flyos-interfaces:interfaces": {"interface": [{**PORT, "vrf": "red"}]},
        "flyos-routing:routing": {
            "static": [{"prefix": "10.9.0.0/16", "via": "10.0.0.2", "vrf": "red"}],
            "pbr": [{"priority": 50, "fwmark": 7, "vrf": "red"}],
        },
    }

    commit(manager, session, config)

    red = netns.link("red")
    assert red["linkinfo"]["info_data"]["table"] == 100 and red["ifalias"] == "customer"
    assert netns.link("eth0")["master"] == "red"
    assert [r["dst"] for r in netns.routes("100")] == ["10.9.0.0/16"]
    assert any(r["priority"] == 50 and r["table"] == "100" for r in netns.rules())

    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": [PORT]}})
    assert not netns.has_link("red") and "master" not in netns.link("eth0")


@pytest.mark.parametrize("kind", ["gre", "ipip"])
def test_ip_tunnels(netns: Netns, manager: Manager, session: Session, kind: str) -> None:
    needs(kind)
    tunnel: dict[str, Any] = {"name": "tun0", "local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 64}
    if kind == "gre":
        tunnel["key"] = 42
    config = {
        "flyos-interfaces:interfaces": {
            "interface": [
                PORT,
                {
                    "name": "tun0",
                    "type": kind,
                    "ipv4": {"address": [{"ip": "172.31.0.1", "prefix-length": 30}]},
                },
            ]
        },
        "flyos-tunnel:tunnels": {kind: [tunnel]},
    }

    commit(manager, session, config)

    data = netns.link("tun0")["linkinfo"]["info_data"]
    assert (data["local"], data["remote"], data["ttl"]) == ("10.0.0.1", "10.0.0.2", 64)
    assert netns.addresses("tun0") == {"172.31.0.1/30"}
    tunnel["ttl"] = 32
    commit(manager, session, config)
    assert netns.link("tun0")["linkinfo"]["info_data"]["ttl"] == 32


def test_vlan_subinterfaces_with_addresses_and_dummy(
    netns: Netns, manager: Manager, session: Session
) -> None:
    needs("vlan", "dummy")
    config = {
        "flyos-interfaces:interfaces": {
            "interface": [
                PORT,
                {
                    "name": "eth0.100",
                    "type": "vlan",
                    "vlan": {"parent": "eth0", "id": 100},
                    "ipv4": {"address": [{"ip": "192.168.100.1", "prefix-length": 24}]},
                },
                {
                    "name": "dummy0",
                    "type": "dummy",
                    "ipv4": {"address": [{"ip": "10.255.1.1", "prefix-length": 32}]},
                },
            ]
        }
    }

    commit(manager, session, config)

    vlan = netns.link("eth0.100")
    assert (vlan["link"], vlan["linkinfo"]["info_data"]["id"]) == ("eth0", 100)
    assert netns.addresses("eth0.100") == {"192.168.100.1/24"}
    assert netns.addresses("dummy0") == {"10.255.1.1/32"}
    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": [PORT]}})
    assert not netns.has_link("eth0.100") and not netns.has_link("dummy0")


# --------------------------------------------------------------------------- WireGuard

P = 2**255 - 19


def x25519_public(private: bytes) -> bytes:
    """The Curve25519 public key of a private key (RFC 7748, base point 9)."""
    k = bytearray(private)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def keypair() -> tuple[str, str]:
    private = os.urandom(32)
    encode = base64.b64encode
    return encode(private).decode(), encode(x25519_public(private)).decode()


def wireguard_config(
    port: dict[str, Any], me: tuple[str, str], peer: tuple[str, str], ends: tuple[str, str, str]
) -> dict[str, Any]:
    """`port` plus wg0 at address ends[0], listening on 51820, its peer at ends[1]/ends[2]."""
    inner, peer_inner, peer_outer = ends
    return {
        "flyos-interfaces:interfaces": {
            "interface": [
                port,
                {
                    "name": "wg0",
                    "type": "wireguard",
                    "ipv4": {"address": [{"ip": inner, "prefix-length": 24}]},
                },
            ]
        },
        "flyos-tunnel:tunnels": {
            "wireguard": [
                {
                    "name": "wg0",
                    "private-key": me[0],
                    "listen-port": 51820,
                    "peer": [
                        {
                            "public-key": peer[1],
                            "endpoint-address": peer_outer,
                            "endpoint-port": 51820,
                            "allowed-ips": [f"{peer_inner}/32"],
                            "persistent-keepalive": 5,
                        }
                    ],
                }
            ]
        },
    }


@pytest.fixture
def far_manager(schema: Schema, netns: Netns, tmp_path: Path) -> Iterator[Manager]:
    """A second agent, on the namespace at the far end of eth0."""
    far = Manager(schema, Journal(tmp_path / "far.db", schema), LinuxBackend(schema, netns.peer))
    far.start()
    yield far
    far.close()


def test_wireguard_between_two_namespaces_carries_a_ping(
    netns: Netns, manager: Manager, session: Session, far_manager: Manager
) -> None:
    needs("wireguard")
    near, far = keypair(), keypair()
    far_port = {"name": "port0", "type": "ethernet"}  # its address is the fixture's
    commit(
        manager,
        session,
        wireguard_config(PORT, near, far, ("10.200.0.1", "10.200.0.2", "10.0.0.2")),
    )
    far_session = far_manager.open_session("far", "test")
    commit(
        far_manager,
        far_session,
        wireguard_config(far_port, far, near, ("10.200.0.2", "10.200.0.1", "10.0.0.1")),
    )

    sh(f"ip netns exec {netns.name} ping -c 3 -i 0.2 -W 2 10.200.0.2")

    state = manager.get(session, path="/tunnels/wireguard[name='wg0']")
    (device,) = state["flyos-tunnel:tunnels"]["wireguard"]
    (peer,) = device["peer"]
    assert int(peer["state"]["latest-handshake"]) > 0
    assert int(peer["state"]["rx-bytes"]) > 0
    shown = ipj(netns.name, "-d link show dev wg0")
    assert shown[0]["linkinfo"]["info_kind"] == "wireguard"
