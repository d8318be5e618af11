"""Differential test: our validator and libyang accept and reject the same configs.

Hypothesis builds random configurations across every module, mostly plausible
and sometimes broken (bad values, dangling references, duplicates, violated
must/when/unique/mandatory); both implementations must agree on each.

Numbers are written as RFC 7951 JSON numbers: the agent also accepts a number
in a string (DSL words, key=value arguments and many REST clients send them),
where libyang's strict JSON parser refuses it — a deliberate leniency, not a
disagreement about validity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libyang
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.validate import validate_tree
from flyos_agent.errors import FlyosError
from flyos_agent.schema import load_schema

YANG_DIR = Path(__file__).resolve().parents[3] / "yang"
SCHEMA = load_schema()

names = st.sampled_from(["eth0", "eth1", "br0", "eth1.10", "vx0", "wg0", "gre1", "blue", "eth9"])
ipv4 = st.sampled_from(["192.0.2.1", "198.51.100.7", "10.0.0.1", "10.0.0.256", "1.2.3"])
prefixes = st.sampled_from(
    ["10.0.0.0/24", "10.0.0.1/24", "10.1.0.0/16", "0.0.0.0/0", "2001:db8::/32", "10.0.0.0/33", "x"]
)
wg_keys = st.sampled_from(
    [
        "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=",
        "not-a-key",
        "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=",
    ]
)

interfaces = st.fixed_dictionaries(
    {
        "name": names,
        "type": st.sampled_from(["ethernet", "bridge", "vlan", "vxlan", "wireguard", "gre"]),
    },
    optional={
        "mtu": st.integers(0, 70000),
        "enabled": st.booleans(),
        "mac": st.sampled_from(["02:00:00:00:00:01", "02:00:00:00:01", "02:AA:BB:CC:DD:EE"]),
        "vlan": st.fixed_dictionaries({"parent": names, "id": st.integers(0, 4096)}),
        "bridge": names,
        "vrf": st.sampled_from(["blue", "red"]),
        "ipv4": st.fixed_dictionaries(
            {
                "address": st.lists(
                    st.fixed_dictionaries({"ip": ipv4, "prefix-length": st.integers(0, 33)}),
                    max_size=2,
                )
            }
        ),
    },
)
routes = st.fixed_dictionaries(
    {"prefix": prefixes},
    optional={
        "via": ipv4,
        "dev": names,
        "type": st.sampled_from(["unicast", "blackhole", "prohibit"]),
        "metric": st.integers(-1, 5),
        "table": st.sampled_from(["main", 100, "local", 0]),
        "vrf": st.sampled_from(["blue", "red"]),
        "track": st.booleans(),
        "nexthop": st.lists(
            st.fixed_dictionaries({"via": ipv4}, optional={"weight": st.integers(0, 300)}),
            max_size=2,
        ),
    },
)
pbr = st.fixed_dictionaries(
    {"priority": st.integers(0, 32766)},
    optional={
        "prefix": prefixes,
        "fwmark": st.integers(0, 10),
        "fwmask": st.integers(0, 10),
        "iif": names,
        "table": st.sampled_from(["main", 100]),
        "action": st.sampled_from(["lookup", "blackhole"]),
    },
)
vrfs = st.fixed_dictionaries(
    {"name": st.sampled_from(["blue", "red", "eth0"]), "table": st.sampled_from([10, 20, 254, 10])}
)
nat_rules = st.fixed_dictionaries(
    {"sequence": st.integers(1, 4), "action": st.sampled_from(["snat", "dnat", "masquerade"])},
    optional={
        "to-address": ipv4,
        "to-port": st.sampled_from(["80", "1000-2000", "70000"]),
        "protocol": st.sampled_from(["tcp", "icmp"]),
        "out-interface": names,
    },
)
acl = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["a", "b"]),
        "rule": st.lists(
            st.fixed_dictionaries(
                {"sequence": st.integers(1, 3), "action": st.sampled_from(["accept", "drop"])},
                optional={
                    "protocol": st.sampled_from(["tcp", "udp", "icmp"]),
                    "icmp-type": st.integers(0, 8),
                    "log-prefix": st.just("x: "),
                    "log": st.booleans(),
                    "destination": st.fixed_dictionaries(
                        {"port": st.lists(st.sampled_from(["22", "80-90"]), max_size=2)}
                    ),
                },
            ),
            max_size=3,
        ),
    },
)
wireguard = st.fixed_dictionaries(
    {"name": names, "private-key": wg_keys}, optional={"listen-port": st.integers(0, 70000)}
)

configs = st.fixed_dictionaries(
    {},
    optional={
        "flyos-interfaces:interfaces": st.fixed_dictionaries(
            {"interface": st.lists(interfaces, max_size=4)}
        ),
        "flyos-routing:routing": st.fixed_dictionaries(
            {}, optional={"static": st.lists(routes, max_size=3), "pbr": st.lists(pbr, max_size=2)}
        ),
        "flyos-vrf:vrfs": st.fixed_dictionaries({"vrf": st.lists(vrfs, max_size=2)}),
        "flyos-nat:nat": st.fixed_dictionaries({"rule": st.lists(nat_rules, max_size=2)}),
        "flyos-acl:acls": st.fixed_dictionaries({"acl": st.lists(acl, max_size=2)}),
        "flyos-tunnel:tunnels": st.fixed_dictionaries(
            {"wireguard": st.lists(wireguard, max_size=1)}
        ),
        "flyos-system:system": st.fixed_dictionaries(
            {}, optional={"hostname": st.sampled_from(["r1", "r1.example.net", "bad_name", ""])}
        ),
    },
)


@pytest.fixture(scope="module")
def ctx() -> Iterator[libyang.Context]:
    context = libyang.Context(str(YANG_DIR))
    for module in SCHEMA.modules:
        context.load_module(module.name)
    yield context
    context.destroy()


def libyang_accepts(ctx: libyang.Context, config: dict[str, Any]) -> tuple[bool, str]:
    try:
        node = ctx.parse_data_mem(json.dumps(config), "json", strict=True, no_state=True)
    except libyang.LibyangError as exc:
        return False, str(exc)
    if node is not None:
        node.free()
    return True, ""


def we_accept(config: dict[str, Any]) -> tuple[bool, str]:
    try:
        tree = trees.tree_from_plain(SCHEMA, config)
    except FlyosError as exc:
        return False, str(exc)
    errors = validate_tree(SCHEMA, tree)
    return not errors, "; ".join(str(e) for e in errors)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs)
def test_we_and_libyang_agree(ctx: libyang.Context, config: dict[str, Any]) -> None:
    ours, our_reason = we_accept(config)
    theirs, their_reason = libyang_accepts(ctx, config)
    event(
        "accepted by both"
        if ours and theirs
        else "rejected by both"
        if ours == theirs
        else "disagree"
    )
    assert ours == theirs, f"ours={ours} ({our_reason}) libyang={theirs} ({their_reason})"
