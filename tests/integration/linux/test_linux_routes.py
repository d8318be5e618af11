"""Static routes and policy rules in a real kernel: commit, modify, delete, rollback, dry run."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from linux_helpers import Netns, commit, rollback, sh

from flyos_agent.errors import FlyosError
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

PORTS: list[dict[str, Any]] = [
    {
        "name": "eth0",
        "type": "ethernet",
        "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
        "ipv6": {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]},
    },
    {
        "name": "eth1",
        "type": "ethernet",
        "ipv4": {"address": [{"ip": "10.0.1.1", "prefix-length": 24}]},
        "ipv6": {"address": [{"ip": "2001:db8:1::1", "prefix-length": 64}]},
    },
]
ROUTES: list[dict[str, Any]] = [
    {"prefix": "10.1.0.0/24", "via": "10.0.0.2"},
    {
        "prefix": "10.2.0.0/24",
        "nexthop": [{"via": "10.0.0.2", "weight": 3}, {"via": "10.0.1.2"}],
        "table": 100,
    },
    {"prefix": "10.3.0.0/24", "type": "blackhole", "metric": 10},
    {"prefix": "10.5.0.0/24", "type": "unreachable"},
    {"prefix": "10.6.0.0/24", "type": "prohibit", "table": 200},
    {"prefix": "10.8.0.0/24", "via": "10.9.9.9", "dev": "eth0", "onlink": True},
    {"prefix": "10.20.0.0/24", "dev": "eth1", "metric": 5},
    {"prefix": "2001:db8:10::/48", "via": "2001:db8::2"},
    {
        "prefix": "2001:db8:20::/48",
        "nexthop": [{"via": "2001:db8::2"}, {"via": "2001:db8:1::2", "weight": 2}],
    },
    {"prefix": "2001:db8:30::/48", "type": "blackhole", "table": 100},
]
RULES: list[dict[str, Any]] = [
    {"priority": 100, "fwmark": 5, "table": 100},
    {"priority": 200, "prefix": "10.0.0.0/8", "to": "10.20.0.0/16", "iif": "eth0", "table": 200},
    {"priority": 300, "prefix": "2001:db8::/32", "action": "blackhole"},
    {"priority": 400, "oif": "eth1", "fwmark": 16, "fwmask": 240, "action": "unreachable"},
]
CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": {"interface": PORTS},
    "flyos-routing:routing": {
        "static": ROUTES,
        "pbr": RULES,
        "bgp": [{"prefix": "10.99.0.0/16", "med": 10}],
        "ospf": [{"prefix": "10.98.0.0/16", "area": "0.0.0.0"}],
    },
}


def routes_by_dst(netns: Netns) -> dict[str, dict[str, Any]]:
    return {route["dst"]: route for route in netns.routes()}


def rules_by_priority(netns: Netns) -> dict[tuple[int, str], dict[str, Any]]:
    out = {}
    for family in ("-4", "-6"):
        for rule in sh_json(netns, f"{family} rule show"):
            if rule.get("protocol") == "177":
                out[(rule["priority"], family)] = rule
    return out


def sh_json(netns: Netns, command: str) -> list[dict[str, Any]]:
    import json

    return list(json.loads(sh(f"ip -j -n {netns.name} {command}")))


def test_commit_installs_every_route_and_rule(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)

    routes = routes_by_dst(netns)
    assert set(routes) == {r["prefix"] for r in ROUTES}
    assert routes["10.1.0.0/24"]["gateway"] == "10.0.0.2"
    ecmp = routes["10.2.0.0/24"]
    assert ecmp["table"] == "100"
    assert {(h["gateway"], h["dev"], h["weight"]) for h in ecmp["nexthops"]} == {
        ("10.0.0.2", "eth0", 3),
        ("10.0.1.2", "eth1", 1),
    }
    assert (routes["10.3.0.0/24"]["type"], routes["10.3.0.0/24"]["metric"]) == ("blackhole", 10)
    assert routes["10.5.0.0/24"]["type"] == "unreachable"
    assert (routes["10.6.0.0/24"]["type"], routes["10.6.0.0/24"]["table"]) == ("prohibit", "200")
    assert "onlink" in routes["10.8.0.0/24"]["flags"]
    assert routes["10.20.0.0/24"]["dev"] == "eth1" and routes["10.20.0.0/24"]["scope"] == "link"
    assert routes["2001:db8:10::/48"]["gateway"] == "2001:db8::2"
    v6_ecmp = routes["2001:db8:20::/48"]["nexthops"]
    assert {(h["gateway"], h["weight"]) for h in v6_ecmp} == {
        ("2001:db8::2", 1),
        ("2001:db8:1::2", 2),
    }
    assert routes["2001:db8:30::/48"]["type"] == "blackhole"

    rules = rules_by_priority(netns)
    assert set(rules) == {
        (100, "-4"),
        (100, "-6"),
        (200, "-4"),
        (300, "-6"),
        (400, "-4"),
        (400, "-6"),
    }
    assert (rules[(100, "-4")]["fwmark"], rules[(100, "-4")]["table"]) == ("0x5", "100")
    two = rules[(200, "-4")]
    assert (two["src"], two["srclen"], two["dst"], two["dstlen"]) == (
        "10.0.0.0",
        8,
        "10.20.0.0",
        16,
    )
    assert (two["iif"], two["table"]) == ("eth0", "200")
    assert rules[(300, "-6")]["action"] == "blackhole"
    four = rules[(400, "-4")]
    assert (four["oif"], four["fwmark"], four["fwmask"], four["action"]) == (
        "eth1",
        "0x10",
        "0xf0",
        "unreachable",
    )


def test_state_reports_installed_routes_and_announcements_without_daemon(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)

    routing = manager.get(session, path="/routing")["flyos-routing:routing"]

    assert all(
        r["state"] == {"installed": True, "track-status": "not-tracked"} for r in routing["static"]
    )
    for name in ("bgp", "ospf"):
        (entry,) = routing[name]
        assert entry["state"] == {"installed": False, "reason": "no routing daemon integration"}


def test_modify_changes_only_the_difference(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)
    before = routes_by_dst(netns)
    rules_before = rules_by_priority(netns)
    config = copy.deepcopy(CONFIG)
    static = {r["prefix"]: r for r in config["flyos-routing:routing"]["static"]}
    static["10.1.0.0/24"]["via"] = "10.0.1.2"  # same key: replaced in place
    static["10.3.0.0/24"]["metric"] = 20  # other key: moved
    static["10.2.0.0/24"]["nexthop"][0]["weight"] = 1  # a next hop alone
    config["flyos-routing:routing"]["pbr"][0]["table"] = 101

    commit(manager, session, config)

    after = routes_by_dst(netns)
    assert after["10.1.0.0/24"]["gateway"] == "10.0.1.2"
    assert after["10.3.0.0/24"]["metric"] == 20
    assert {h["weight"] for h in after["10.2.0.0/24"]["nexthops"]} == {1}
    unchanged = set(before) - {"10.1.0.0/24", "10.3.0.0/24", "10.2.0.0/24"}
    assert {k: before[k] for k in unchanged} == {k: after[k] for k in unchanged}
    rules_after = rules_by_priority(netns)
    assert rules_after[(100, "-4")]["table"] == "101"
    assert {k: v for k, v in rules_before.items() if k[0] != 100} == {
        k: v for k, v in rules_after.items() if k[0] != 100
    }


def test_delete_removes_only_the_agents_routes(
    netns: Netns, manager: Manager, session: Session
) -> None:
    sh(f"ip -n {netns.name} route add blackhole 192.0.2.0/24 proto static")
    commit(manager, session, CONFIG)
    sh(f"ip -n {netns.name} route add 198.51.100.0/24 via 10.0.0.2 proto static")

    config = copy.deepcopy(CONFIG)
    del config["flyos-routing:routing"]
    commit(manager, session, config)

    assert netns.routes() == []
    assert netns.rules() == []
    foreign = sh(f"ip -n {netns.name} route show proto static")
    assert "192.0.2.0/24" in foreign and "198.51.100.0/24" in foreign


def test_rollback_restores_the_earlier_kernel_state_exactly(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)
    earlier = netns.dump()
    config = copy.deepcopy(CONFIG)
    routing = config["flyos-routing:routing"]
    routing["static"] = [*routing["static"][2:], {"prefix": "10.77.0.0/16", "via": "10.0.0.2"}]
    routing["static"][0]["metric"] = 77
    routing["pbr"] = routing["pbr"][1:]
    commit(manager, session, config)
    assert netns.dump() != earlier

    rollback(manager, session)

    assert netns.dump_like(earlier) == earlier


def test_dry_run_shows_the_exact_kernel_operations_and_touches_nothing(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": PORTS}})
    before = netns.dump()
    manager.copy(session, "running", "candidate", config=CONFIG)

    result = manager.commit(session, dry_run=True)

    assert netns.dump_like(before) == before
    assert result.plan is not None
    assert {
        "op": "route add",
        "dst": "10.1.0.0/24",
        "gateway": "10.0.0.2",
        "table": 254,
        "metric": 0,
        "proto": 177,
    } in result.plan
    assert {
        "op": "rule add",
        "family": "ipv4",
        "priority": 100,
        "fwmark": 5,
        "fwmask": 0xFFFFFFFF,
        "table": 100,
        "proto": 177,
        "families": 2,
    } in result.plan
    nothing = [step for step in result.plan if step["op"] == "none"]
    assert {step["object"] for step in nothing} == {"bgp", "ospf"}


def test_a_batch_with_one_bad_route_is_reverted_entirely(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": PORTS}})
    sh(f"ip -n {netns.name} route add 10.100.3.7/32 via 10.0.0.2")  # a foreign route in the way
    before = netns.dump()
    routes = [{"prefix": f"10.100.{i // 256}.{i % 256}/32", "via": "10.0.0.2"} for i in range(2000)]
    config = {
        "flyos-interfaces:interfaces": {"interface": PORTS},
        "flyos-routing:routing": {"static": routes},
    }

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, config)

    assert failure.value.path == "/flyos-routing:routing/static[prefix='10.100.3.7/32']"
    assert "EEXIST" in failure.value.message
    assert netns.routes() == []
    assert netns.dump_like(before) == before
