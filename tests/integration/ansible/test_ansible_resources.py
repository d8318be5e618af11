"""Every resource module through every state, in one playbook against a real agent.

For each resource the play runs: merged, the same merged again (no change),
merged in check mode (a change is reported), gathered (what was applied, and
nothing of the check), replaced with diff, overridden twice (the second run
changes nothing), deleted of one entry, rendered then parsed (the round trip
gives the config back), and deleted of everything. `after` is what the agent
holds after each change. Each result is saved and
checked here, resource by resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flyos_collection import Ansible, Host, PlaybookRun, canonical


@dataclass(frozen=True)
class Cycle:
    """The configs one resource goes through, and what it holds after each step."""

    resource: str
    merged: Any
    checked: Any
    replaced: Any
    after_replaced: Any
    overridden: Any
    deleted: Any
    after_deleted: Any
    setup: list[dict[str, Any]] = field(default_factory=list)


CYCLES = [
    Cycle(
        "vrfs",
        merged=[
            {"name": "blue", "table": 100},
            {"name": "red", "table": 200, "description": "red"},
        ],
        checked=[{"name": "green", "table": 300}],
        replaced=[{"name": "red", "table": 201}],
        after_replaced=[{"name": "blue", "table": 100}, {"name": "red", "table": 201}],
        overridden=[
            {"name": "blue", "table": 100, "description": "tenant blue"},
            {"name": "green", "table": 300},
        ],
        deleted=[{"name": "green"}],
        after_deleted=[{"name": "blue", "table": 100, "description": "tenant blue"}],
    ),
    Cycle(
        "interfaces",
        merged=[
            {
                "name": "eth0",
                "type": "ethernet",
                "mtu": 9000,
                "description": "uplink",
                "ipv4": {"address": [{"ip": "192.0.2.1", "prefix_length": 24}]},
            },
            {"name": "dummy0", "type": "dummy"},
        ],
        checked=[{"name": "eth0", "mtu": 1400}],
        replaced=[
            {
                "name": "eth0",
                "type": "ethernet",
                "ipv6": {"address": [{"ip": "2001:db8::1", "prefix_length": 64}]},
            }
        ],
        after_replaced=[
            {"name": "dummy0", "type": "dummy"},
            {
                "name": "eth0",
                "type": "ethernet",
                "ipv6": {"address": [{"ip": "2001:db8::1", "prefix_length": 64}]},
            },
        ],
        overridden=[
            {"name": "eth0", "type": "ethernet", "enabled": False},
            {"name": "lo", "type": "loopback"},
        ],
        deleted=[{"name": "lo"}],
        after_deleted=[{"name": "eth0", "type": "ethernet", "enabled": False}],
    ),
    Cycle(
        "tunnels",
        setup=[
            {
                "flyos.agent.interfaces": {
                    "config": [
                        {"name": "gre1", "type": "gre"},
                        {"name": "gre2", "type": "gre"},
                        {"name": "vx0", "type": "vxlan"},
                    ]
                }
            }
        ],
        merged={
            "gre": [{"name": "gre1", "local": "192.0.2.1", "remote": "198.51.100.1", "ttl": 64}],
            "vxlan": [{"name": "vx0", "vni": 100, "remote": "198.51.100.2"}],
        },
        checked={"gre": [{"name": "gre2", "remote": "198.51.100.3"}]},
        replaced={"gre": [{"name": "gre1", "remote": "198.51.100.9"}]},
        after_replaced={
            "gre": [{"name": "gre1", "remote": "198.51.100.9"}],
            "vxlan": [{"name": "vx0", "vni": 100, "remote": "198.51.100.2"}],
        },
        overridden={
            "gre": [{"name": "gre2", "remote": "198.51.100.3", "key": 42}],
            "vxlan": [{"name": "vx0", "vni": 200, "remote": "198.51.100.2", "port": 4790}],
        },
        deleted={"gre": [{"name": "gre2"}]},
        after_deleted={
            "vxlan": [{"name": "vx0", "vni": 200, "remote": "198.51.100.2", "port": 4790}]
        },
    ),
    Cycle(
        "static_routes",
        merged=[
            {"prefix": "10.0.0.0/24", "via": "192.0.2.1", "metric": 10},
            {
                "prefix": "10.1.0.0/16",
                "nexthop": [{"via": "192.0.2.1", "weight": 2}, {"via": "192.0.2.2"}],
            },
        ],
        checked=[{"prefix": "10.2.0.0/24", "type": "blackhole"}],
        replaced=[{"prefix": "10.0.0.0/24", "via": "192.0.2.254"}],
        after_replaced=[
            {"prefix": "10.0.0.0/24", "via": "192.0.2.254"},
            {
                "prefix": "10.1.0.0/16",
                "nexthop": [{"via": "192.0.2.1", "weight": 2}, {"via": "192.0.2.2"}],
            },
        ],
        overridden=[
            {"prefix": "0.0.0.0/0", "via": "192.0.2.1"},
            {"prefix": "198.51.100.0/24", "type": "blackhole"},
        ],
        deleted=[{"prefix": "198.51.100.0/24"}],
        after_deleted=[{"prefix": "0.0.0.0/0", "via": "192.0.2.1"}],
    ),
    Cycle(
        "pbr_rules",
        merged=[
            {"priority": 1000, "fwmark": 100, "table": "100"},
            {"priority": 1010, "prefix": "10.1.0.0/16", "action": "blackhole"},
        ],
        checked=[{"priority": 1020, "to": "10.9.0.0/16", "table": "200"}],
        replaced=[{"priority": 1000, "fwmark": 200, "table": "200"}],
        after_replaced=[
            {"priority": 1000, "fwmark": 200, "table": "200"},
            {"priority": 1010, "prefix": "10.1.0.0/16", "action": "blackhole"},
        ],
        overridden=[
            {"priority": 500, "prefix": "10.2.0.0/16", "table": "main"},
            {"priority": 600, "fwmark": 7, "fwmask": 255, "table": "300"},
        ],
        deleted=[{"priority": 600}],
        after_deleted=[{"priority": 500, "prefix": "10.2.0.0/16", "table": "main"}],
    ),
    Cycle(
        "nat",
        merged=[
            {"sequence": 10, "action": "masquerade", "source": {"prefix": ["10.0.0.0/8"]}},
            {
                "sequence": 20,
                "action": "dnat",
                "protocol": "tcp",
                "destination": {"port": ["443"]},
                "to_address": "10.0.0.10",
                "to_port": "8443",
            },
        ],
        checked=[{"sequence": 30, "action": "snat", "to_address": "203.0.113.1"}],
        replaced=[
            {"sequence": 10, "action": "snat", "family": "ipv4", "to_address": "203.0.113.1"}
        ],
        after_replaced=[
            {"sequence": 10, "action": "snat", "family": "ipv4", "to_address": "203.0.113.1"},
            {
                "sequence": 20,
                "action": "dnat",
                "protocol": "tcp",
                "destination": {"port": ["443"]},
                "to_address": "10.0.0.10",
                "to_port": "8443",
            },
        ],
        overridden=[
            {"sequence": 5, "action": "masquerade"},
            {"sequence": 6, "action": "masquerade", "counter": False},
        ],
        deleted=[{"sequence": 6}],
        after_deleted=[{"sequence": 5, "action": "masquerade"}],
    ),
    Cycle(
        "acls",
        merged={
            "address_set": [{"name": "admins", "family": "ipv4", "prefix": ["192.0.2.0/28"]}],
            "acl": [
                {
                    "name": "web",
                    "default_action": "drop",
                    "rule": [
                        {
                            "sequence": 10,
                            "action": "accept",
                            "protocol": "tcp",
                            "destination": {"port": ["80", "443"]},
                        },
                        {
                            "sequence": 20,
                            "action": "accept",
                            "protocol": "tcp",
                            "source": {"address_set": "admins"},
                            "destination": {"port": ["22"]},
                        },
                    ],
                }
            ],
            "global": {"input": "web"},
        },
        checked={"acl": [{"name": "other", "rule": [{"sequence": 1, "action": "drop"}]}]},
        replaced={"acl": [{"name": "web", "rule": [{"sequence": 10, "action": "accept"}]}]},
        after_replaced={
            "address_set": [{"name": "admins", "family": "ipv4", "prefix": ["192.0.2.0/28"]}],
            "acl": [{"name": "web", "rule": [{"sequence": 10, "action": "accept"}]}],
            "global": {"input": "web"},
        },
        overridden={
            "acl": [
                {"name": "mgmt", "rule": [{"sequence": 1, "action": "accept", "protocol": "icmp"}]}
            ],
            "global": {"input": "mgmt"},
        },
        deleted={"global": {}},
        after_deleted={
            "acl": [
                {"name": "mgmt", "rule": [{"sequence": 1, "action": "accept", "protocol": "icmp"}]}
            ]
        },
    ),
    Cycle(
        "system",
        merged={"hostname": "edge1", "location": "rack 4"},
        checked={"hostname": "edge2"},
        replaced={"hostname": "edge1", "ipv6_forwarding": False},
        after_replaced={"hostname": "edge1", "ipv6_forwarding": False},
        overridden={"hostname": "edge3", "contact": "noc@example.net"},
        deleted={"contact": ""},
        after_deleted={"hostname": "edge3"},
    ),
]
STEPS = [
    ("merged", "merged", "merged", {}),
    ("merged_again", "merged", "merged", {}),
    ("checked", "checked", "merged", {"check_mode": True}),
    ("gathered", None, "gathered", {}),
    ("replaced", "replaced", "replaced", {"diff": True}),
    ("overridden", "overridden", "overridden", {}),
    ("overridden_again", "overridden", "overridden", {}),
    ("deleted", "deleted", "deleted", {}),
    ("rendered", "overridden", "rendered", {}),
    ("parsed", None, "parsed", {}),
    ("deleted_all", None, "deleted", {}),
]


OFFLINE = ("rendered", "parsed")


def cycle_tasks(cycle: Cycle, *, offline: bool) -> list[dict[str, Any]]:
    """The tasks of one resource's cycle that need an agent (they run only on the
    resource's host), or those that do not (`offline`: rendered and parsed, run
    on localhost). Each registers `<resource>_<step>` (a skipped task registers too)."""
    module = f"flyos.agent.{cycle.resource}"
    only = {} if offline else {"when": f"inventory_hostname == '{cycle.resource}'"}
    tasks = (
        [] if offline else [{"name": f"{cycle.resource}: setup", **t, **only} for t in cycle.setup]
    )
    for step, config_field, state, keywords in STEPS:
        if (state in OFFLINE) != offline:
            continue
        args: dict[str, Any] = {"state": state}
        if config_field is not None:
            args["config"] = getattr(cycle, config_field)
        if state == "parsed":
            args["running_config"] = f"{{{{ {cycle.resource}_rendered.rendered }}}}"
        task = {
            "name": f"{cycle.resource}: {step}",
            module: args,
            "register": f"{cycle.resource}_{step}",
        }
        tasks.append({**task, **keywords, **only})
    return tasks


@pytest.fixture(scope="module")
def run(ansible: Ansible, start_agents: Callable[[int], list[Host]]) -> PlaybookRun:
    """One playbook: one agent per resource, the cycles side by side (strategy free),
    then rendered and parsed for every resource on localhost, with no agent."""
    hosts = [
        Host(cycle.resource, host.port)
        for cycle, host in zip(CYCLES, start_agents(len(CYCLES)), strict=True)
    ]
    names = [f"{cycle.resource}_{step}" for cycle in CYCLES for step, *_ in STEPS]
    devices = {
        "hosts": "all",
        "gather_facts": False,
        "strategy": "free",
        "tasks": [task for cycle in CYCLES for task in cycle_tasks(cycle, offline=False)],
        "save": names,
    }
    offline = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [task for cycle in CYCLES for task in cycle_tasks(cycle, offline=True)],
        "save": names,
    }
    done = ansible.play([devices, offline], hosts)
    assert done.returncode == 0, done.output[-8000:]
    return done


@pytest.mark.parametrize("cycle", CYCLES, ids=[c.resource for c in CYCLES])
def test_a_resource_goes_through_every_state(run: PlaybookRun, cycle: Cycle) -> None:
    def result(step: str) -> dict[str, Any]:
        return run.result(cycle.resource, f"{cycle.resource}_{step}")

    def after(step: str) -> Any:
        return canonical(result(step)["after"])

    assert result("merged")["changed"]
    assert after("merged") == canonical(cycle.merged)
    assert not result("merged_again")["changed"], result("merged_again")

    assert result("checked")["changed"]
    assert result("checked")["changes"]
    assert canonical(result("gathered")["gathered"]) == canonical(cycle.merged), (
        "gathered is not what was applied, or check mode committed something"
    )

    replaced = result("replaced")
    assert replaced["changed"]
    assert canonical(replaced["diff"]["before"][cycle.resource]) == canonical(cycle.merged)
    assert canonical(replaced["diff"]["after"][cycle.resource]) == canonical(cycle.after_replaced)

    assert result("overridden")["changed"]
    assert after("overridden") == canonical(cycle.overridden)
    assert not result("overridden_again")["changed"], result("overridden_again")

    assert result("deleted")["changed"]
    assert after("deleted") == canonical(cycle.after_deleted)

    rendered = run.result("localhost", f"{cycle.resource}_rendered")["rendered"]
    assert rendered.startswith("<")
    parsed = run.result("localhost", f"{cycle.resource}_parsed")["parsed"]
    assert canonical(parsed) == canonical(cycle.overridden)

    assert result("deleted_all")["changed"]
    assert not result("deleted_all")["after"]
