"""The fault campaign's configurations: a non-empty running config, and one commit that
creates, modifies and deletes something in every module; the same for the drivers the host
kernel lacks (VRF, GRE, IPIP, WireGuard, VLAN), with a probe for them."""

from __future__ import annotations

import copy
import subprocess
import uuid
from typing import Any

IF = "flyos-interfaces:interfaces"
TUN = "flyos-tunnel:tunnels"
ROUTING = "flyos-routing:routing"
ACLS = "flyos-acl:acls"
NAT = "flyos-nat:nat"
SYSTEM = "flyos-system:system"

BASE: dict[str, Any] = {
    SYSTEM: {"hostname": "h2-before", "ipv4-forwarding": True, "ipv6-forwarding": False},
    IF: {
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
                "description": "uplink",
                "ipv4": {"address": [{"ip": "10.0.1.1", "prefix-length": 24}]},
                "ipv6": {"address": [{"ip": "2001:db8:1::1", "prefix-length": 64}]},
            },
            {"name": "br0", "type": "bridge"},
            {"name": "v0", "type": "veth", "veth-peer": "v1", "bridge": "br0"},
            {
                "name": "vx0",
                "type": "vxlan",
                "ipv4": {"address": [{"ip": "10.9.0.1", "prefix-length": 24}]},
            },
        ]
    },
    TUN: {"vxlan": [{"name": "vx0", "vni": 10, "remote": "10.0.0.2"}]},
    ROUTING: {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "10.0.0.2"},
            {"prefix": "10.2.0.0/24", "via": "10.0.1.2", "metric": 5},
            {"prefix": "10.7.0.0/24", "nexthop": [{"via": "10.0.0.2"}, {"via": "10.0.1.2"}]},
            {"prefix": "2001:db8:7::/48", "via": "2001:db8:1::2", "table": 20},
        ],
        "pbr": [
            {"priority": 100, "fwmark": 1, "table": 100},
            {"priority": 110, "prefix": "10.8.0.0/16", "table": 20},
        ],
    },
    ACLS: {
        "address-set": [
            {"name": "admins", "family": "ipv4", "prefix": ["10.1.0.0/16", "10.2.0.1/32"]},
            {"name": "old6", "family": "ipv6", "prefix": ["2001:db8:99::/48"]},
        ],
        "acl": [
            {
                "name": "web",
                "default-action": "drop",
                "rule": [
                    {
                        "sequence": 10,
                        "action": "accept",
                        "protocol": "tcp",
                        "source": {"address-set": "admins"},
                        "destination": {"port": ["22"]},
                    },
                    {"sequence": 20, "action": "drop", "protocol": "icmp"},
                    {"sequence": 30, "action": "accept", "ct-state": ["established"]},
                ],
            },
            {
                "name": "old",
                "rule": [{"sequence": 1, "action": "drop", "source": {"address-set": "old6"}}],
            },
        ],
        "interface": [
            {"name": "eth0", "ingress": "web"},
            {"name": "eth1", "egress": "old"},
        ],
    },
    NAT: {
        "rule": [
            {"sequence": 10, "action": "masquerade", "out-interface": "eth0"},
            {
                "sequence": 20,
                "action": "dnat",
                "protocol": "tcp",
                "in-interface": "eth1",
                "destination": {"port": ["8080"]},
                "to-address": "10.0.0.2",
                "to-port": "80",
            },
            {
                "sequence": 30,
                "action": "snat",
                "out-interface": "eth1",
                "to-address": "10.0.1.1",
            },
        ]
    },
}


def by_name(items: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    """The entry of a config list whose `key` is `value`."""
    return next(item for item in items if item[key] == value)


def change_everything(config: dict[str, Any]) -> dict[str, Any]:
    """`config` with creates, modifications and deletions in every host-supported module."""
    out = copy.deepcopy(config)
    out[SYSTEM] = {"hostname": "h2-after", "ipv4-forwarding": False, "ipv6-forwarding": True}
    interfaces = out[IF]["interface"]
    eth0 = by_name(interfaces, "name", "eth0")
    eth0["mtu"] = 1400
    eth0["description"] = "changed"
    eth0["ipv4"]["address"].append({"ip": "10.0.2.1", "prefix-length": 24})
    eth0["ipv6"] = {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]}
    eth1 = by_name(interfaces, "name", "eth1")
    del eth1["ipv6"]
    eth1["description"] = "uplink, renamed"
    eth1["mtu"] = 1480
    br0 = by_name(interfaces, "name", "br0")
    br0["mac"] = "02:00:00:00:0b:00"
    br0["ipv4"] = {"address": [{"ip": "192.168.50.1", "prefix-length": 24}]}
    interfaces.remove(by_name(interfaces, "name", "vx0"))
    interfaces += [
        {"name": "br1", "type": "bridge", "enabled": False},
        {"name": "v2", "type": "veth", "veth-peer": "v3", "bridge": "br1", "mtu": 1300},
        {
            "name": "vx1",
            "type": "vxlan",
            "ipv6": {"address": [{"ip": "fd00::1", "prefix-length": 64}]},
        },
    ]
    out[TUN] = {"vxlan": [{"name": "vx1", "vni": 42, "remote": "10.0.1.2", "port": 4790}]}
    routing = out[ROUTING]
    routing["static"] = [
        {"prefix": "10.1.0.0/24", "via": "10.0.1.2"},
        {"prefix": "10.2.0.0/24", "via": "10.0.1.2", "metric": 5},
        {
            "prefix": "10.3.0.0/24",
            "nexthop": [{"via": "10.0.0.2"}, {"via": "10.0.1.2", "weight": 2}],
        },
        {"prefix": "2001:db8:5::/48", "type": "blackhole", "table": 10},
        {"prefix": "10.4.0.0/24", "dev": "br0", "metric": 50},
        {"prefix": "2001:db8:6::/48", "via": "2001:db8::2"},
    ]
    routing["pbr"] = [
        {"priority": 100, "fwmark": 2, "table": 100},
        {"priority": 120, "to": "10.50.0.0/16", "table": 100},
        {"priority": 200, "prefix": "2001:db8::/32", "table": 10},
    ]
    acls = out[ACLS]
    acls["address-set"] = [
        {"name": "admins", "family": "ipv4", "prefix": ["10.1.0.0/16", "10.3.0.0/24"]},
        {"name": "ops", "family": "ipv4", "prefix": ["192.0.2.0/24"]},
    ]
    web = by_name(acls["acl"], "name", "web")
    web["rule"] = [
        {"sequence": 10, "action": "accept", "protocol": "tcp", "destination": {"port": ["443"]}},
        {"sequence": 30, "action": "accept", "ct-state": ["established"]},
        {"sequence": 40, "action": "drop", "source": {"address-set": "ops"}},
    ]
    acls["acl"] = [
        web,
        {
            "name": "mgmt",
            "default-action": "drop",
            "rule": [
                {
                    "sequence": 5,
                    "action": "accept",
                    "protocol": "udp",
                    "destination": {"port": ["161"]},
                }
            ],
        },
    ]
    acls["interface"] = [
        {"name": "eth0", "ingress": "web", "egress": "mgmt"},
        {"name": "br0", "ingress": "mgmt"},
    ]
    out[NAT] = {
        "rule": [
            {"sequence": 10, "action": "masquerade", "out-interface": "eth1"},
            {
                "sequence": 20,
                "action": "dnat",
                "protocol": "tcp",
                "in-interface": "eth1",
                "destination": {"port": ["8443"]},
                "to-address": "10.0.0.2",
                "to-port": "443",
            },
            {
                "sequence": 40,
                "action": "snat",
                "out-interface": "br0",
                "to-address": "192.168.50.1",
            },
        ]
    }
    return out


# ----------------------------------------------------------------- drivers the host lacks

VRF = "flyos-vrf:vrfs"
DRIVERS = ("vrf", "gre", "ipip", "wireguard", "vlan")
PROBES = {  # each kind's devices named apart: the probes share one scratch namespace
    "vlan": ["vlanp type veth peer name vlanq", "vlan0 link vlanp type vlan id 5"],
    "vrf": ["vrf0 type vrf table 5"],
    "gre": ["gre9 type gre local 192.0.2.1 remote 192.0.2.2"],
    "ipip": ["ipip9 type ipip local 192.0.2.1 remote 192.0.2.2"],
    "wireguard": ["wg9 type wireguard"],
}
KEY = {  # any 32 bytes make a WireGuard key; fixed ones keep the dumps reproducible
    "own": "aDItcHJpdmF0ZS1rZXktb25lLi4uLi4uLi4uLi4uLi4=",
    "peer1": "aDItcGVlci1vbmUuLi4uLi4uLi4uLi4uLi4uLi4uLi4=",
    "peer2": "aDItcGVlci10d28uLi4uLi4uLi4uLi4uLi4uLi4uLi4=",
}


def v4(*addresses: str) -> dict[str, Any]:
    """An ipv4 container with `addresses` ("a.b.c.d/len")."""
    return {
        "address": [
            {"ip": ip, "prefix-length": int(length)}
            for ip, length in (address.split("/") for address in addresses)
        ]
    }


DRIVER_BASE: dict[str, Any] = {
    VRF: {"vrf": [{"name": "red", "table": 100}]},
    IF: {
        "interface": [
            {"name": "eth0", "type": "ethernet", "ipv4": v4("10.0.0.1/24")},
            {"name": "eth1", "type": "ethernet", "vrf": "red", "ipv4": v4("10.0.1.1/24")},
            {
                "name": "eth0.10",
                "type": "vlan",
                "vlan": {"parent": "eth0", "id": 10},
                "ipv4": v4("192.168.10.1/24"),
            },
            {"name": "gre1", "type": "gre", "ipv4": v4("172.31.0.1/30")},
            {"name": "ipip1", "type": "ipip"},
            {"name": "wg0", "type": "wireguard", "ipv4": v4("10.200.0.1/24")},
        ]
    },
    TUN: {
        "gre": [{"name": "gre1", "local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 64, "key": 42}],
        "ipip": [{"name": "ipip1", "local": "10.0.0.1", "remote": "10.0.0.3"}],
        "wireguard": [
            {
                "name": "wg0",
                "private-key": KEY["own"],
                "listen-port": 51820,
                "peer": [
                    {
                        "public-key": KEY["peer1"],
                        "endpoint-address": "10.0.0.2",
                        "endpoint-port": 51820,
                        "allowed-ips": ["10.200.0.2/32"],
                    }
                ],
            }
        ],
    },
    ROUTING: {
        "static": [{"prefix": "10.9.0.0/16", "via": "10.0.1.2", "vrf": "red"}],
        "pbr": [{"priority": 50, "fwmark": 7, "vrf": "red"}],
    },
    ACLS: {
        "acl": [
            {
                "name": "edge",
                "rule": [
                    {
                        "sequence": 10,
                        "action": "drop",
                        "protocol": "tcp",
                        "destination": {"port": ["23"]},
                    }
                ],
            }
        ],
        "interface": [{"name": "eth0.10", "ingress": "edge"}],
    },
    NAT: {"rule": [{"sequence": 10, "action": "masquerade", "out-interface": "gre1"}]},
}


def change_drivers(config: dict[str, Any]) -> dict[str, Any]:
    """`config` with a VRF and a VLAN created, a VLAN changed, an IPIP tunnel deleted, a GRE
    tunnel and WireGuard changed, a route in a VRF table changed, and an ACL bound to the new
    VLAN (a short commit: under emulation every step costs seconds)."""
    out = copy.deepcopy(config)
    out[VRF]["vrf"].append({"name": "blue", "table": 200})
    interfaces = out[IF]["interface"]
    vlan = by_name(interfaces, "name", "eth0.10")
    vlan["mtu"] = 1400
    vlan["ipv4"] = v4("192.168.11.1/24")
    interfaces.remove(by_name(interfaces, "name", "ipip1"))
    interfaces.append(
        {"name": "eth0.20", "type": "vlan", "vlan": {"parent": "eth0", "id": 20}, "vrf": "blue"}
    )
    tunnels = out[TUN]
    tunnels["gre"][0]["ttl"] = 32
    del tunnels["ipip"]
    wireguard = tunnels["wireguard"][0]
    wireguard["listen-port"] = 51821
    wireguard["peer"].append({"public-key": KEY["peer2"], "allowed-ips": ["10.200.0.3/32"]})
    out[ROUTING]["static"][0]["via"] = "10.0.1.3"
    out[ACLS]["interface"].append({"name": "eth0.20", "egress": "edge"})
    return out


def missing_drivers(kinds: tuple[str, ...] = DRIVERS) -> list[str]:
    """The device kinds this kernel cannot create (tried in a scratch namespace)."""
    scratch = f"h2-probe-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", scratch], check=True)
    try:
        missing = []
        for kind in kinds:
            for args in PROBES[kind]:
                command = ["ip", "-n", scratch, "link", "add", *args.split()]
                if subprocess.run(command, capture_output=True, check=False).returncode != 0:
                    missing.append(kind)
                    break
        return missing
    finally:
        subprocess.run(["ip", "netns", "del", scratch], check=False)
