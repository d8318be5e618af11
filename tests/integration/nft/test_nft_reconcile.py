"""Every construct lists back exactly as compiled; reconcile finds and repairs drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import Commit
from nft_kernel import Kernel, interfaces

from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import Manager


def acl_rule(seq: int, action: str = "accept", **fields: Any) -> dict[str, Any]:
    return {"sequence": seq, "action": action, **fields}


EVERY_CONSTRUCT: dict[str, Any] = {
    "flyos-interfaces:interfaces": interfaces("eth0", "eth1", "wan"),
    "flyos-acl:acls": {
        "address-set": [
            {"name": "admins", "family": "ipv4", "prefix": ["10.1.0.0/16", "10.2.0.1/32"]},
            {"name": "v6nets", "family": "ipv6", "prefix": ["2001:db8::/32", "2001:db9::1/128"]},
            {"name": "empty", "family": "ipv4"},
        ],
        "acl": [
            {
                "name": "all",
                "default-action": "reject",
                "rule": [
                    acl_rule(1, protocol="tcp", destination={"port": ["22"]}),
                    acl_rule(2, protocol="udp", destination={"port": ["53", "67-68", "69"]}),
                    acl_rule(3, protocol="tcp", source={"port": ["1000-2000", "1500-2500"]}),
                    acl_rule(4, "drop", protocol="icmp", **{"icmp-type": 8}),
                    acl_rule(5, "drop", protocol="icmpv6", **{"icmp-type": 128}),
                    acl_rule(6, "reject", protocol="tcp"),
                    acl_rule(7, "reject", family="ipv4"),
                    acl_rule(8, "reject", family="ipv6"),
                    acl_rule(9, "reject"),
                    acl_rule(10, "reject", source={"prefix": ["10.0.0.0/8"]}),
                    acl_rule(11, source={"prefix": ["192.0.2.1/32"]}),
                    acl_rule(12, source={"prefix": ["10.0.1.0/24", "10.0.2.0/24"]}),
                    acl_rule(13, source={"prefix": ["10.0.0.0/24", "10.0.1.0/24"]}),
                    acl_rule(14, source={"prefix": ["10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12"]}),
                    acl_rule(15, destination={"prefix": ["2001:db8::1/128", "192.0.2.0/24"]}),
                    acl_rule(
                        16, source={"address-set": "admins"}, destination={"address-set": "admins"}
                    ),
                    acl_rule(17, source={"address-set": "v6nets"}, protocol="tcp"),
                    acl_rule(18, source={"address-set": "admins", "prefix": ["10.1.2.0/24"]}),
                    acl_rule(19, **{"ct-state": ["new"]}),
                    acl_rule(20, **{"ct-state": ["related", "established", "invalid"]}),
                    acl_rule(21, "drop", **{"in-interface": "eth0", "out-interface": "eth1"}),
                    acl_rule(22, counter=False, protocol="gre"),
                    acl_rule(23, log=True, protocol=50),
                    acl_rule(24, "drop", log=True, **{"log-prefix": "flyos drop: "}),
                    acl_rule(25, protocol=200, family="ipv6"),
                    acl_rule(26, protocol="sctp", destination={"port": ["9"]}, family="ipv4"),
                    acl_rule(27, "reject", protocol="icmp"),
                    acl_rule(28, protocol="icmp", family="ipv4"),
                    acl_rule(29, destination={"prefix": ["::/0"]}),
                ],
            },
            {"name": "out", "rule": [acl_rule(1, "drop", destination={"prefix": ["0.0.0.0/0"]})]},
            {"name": "empty", "default-action": "accept"},
        ],
        "interface": [
            {"name": "eth0", "ingress": "all", "egress": "out"},
            {"name": "eth1", "egress": "empty"},
        ],
        "global": {"input": "all", "forward": "empty", "output": "out"},
    },
    "flyos-nat:nat": {
        "rule": [
            {"sequence": 1, "action": "masquerade", "out-interface": "wan"},
            {"sequence": 2, "action": "masquerade", "protocol": "udp", "to-port": "1024-2048"},
            {"sequence": 3, "action": "snat", "to-address": "198.51.100.1"},
            {
                "sequence": 4,
                "action": "snat",
                "to-address": "198.51.100.1",
                "protocol": "tcp",
                "to-port": "1000-2000",
                "source": {"address-set": "admins"},
            },
            {
                "sequence": 5,
                "action": "dnat",
                "protocol": "tcp",
                "destination": {"port": ["8080"]},
                "to-address": "10.0.0.5",
                "to-port": "80",
            },
            {
                "sequence": 6,
                "action": "dnat",
                "protocol": "tcp",
                "to-address": "2001:db8::5",
                "to-port": "80-90",
                "in-interface": "wan",
            },
            {"sequence": 7, "action": "dnat", "to-address": "10.0.0.6", "out-interface": "eth0"},
            {
                "sequence": 8,
                "action": "snat",
                "to-address": "2001:db8::9",
                "source": {"prefix": ["2001:db8:1::/48", "10.0.0.0/8"]},
            },
        ]
    },
}


def test_every_construct_lists_back_as_compiled(
    commit: Commit, manager: Manager, backend: NftBackend
) -> None:
    commit(EVERY_CONSTRUCT)
    report = backend.reconcile(manager.stores.running, apply=False)
    assert report["drift"] == []
    assert report["in-sync"]


def test_reconcile_repairs_drift_and_leaves_foreign_tables(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel, foreign: str
) -> None:
    commit(EVERY_CONSTRUCT)
    handles = kernel.handles()
    bucket = kernel.rules()["acl all rule 2"]["chain"]
    kernel.nft("delete", "rule", "inet", "flyos", bucket, "handle", str(handles["acl all rule 2"]))
    kernel.nft("add", "rule", "inet", "flyos", bucket, "counter", "accept")
    kernel.nft("delete", "element", "inet", "flyos", "v4-admins", "{ 10.2.0.1 }")
    kernel.nft("add", "chain", "inet", "flyos", "stray")
    drifted = kernel.ruleset()
    report = backend.reconcile(manager.stores.running, apply=False)
    assert not report["in-sync"] and not report["applied"]
    assert sorted(report["drift"]) == [
        "chain acl-all: 1 rules missing, 0 differ, 1 not configured",
        "chain stray: not configured",
        "set v4-admins: differs",
    ]
    assert kernel.ruleset() == drifted
    report = backend.reconcile(manager.stores.running, apply=True)
    assert report["applied"]
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]
    assert repr(kernel.table("ip", "foreign")) == foreign
    commit(edits=[("delete", "/acls/acl[name='all']/rule[sequence='5']", None)])
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]


def test_reconcile_creates_a_missing_table_and_removes_an_unconfigured_one(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel, foreign: str
) -> None:
    commit(EVERY_CONSTRUCT)
    kernel.nft("delete", "table", "inet", "flyos")
    report = backend.reconcile(manager.stores.running)
    assert report["drift"] == ["table inet flyos: missing"] and report["applied"]
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]
    commit({})
    kernel.nft("add", "table", "inet", "flyos")
    report = backend.reconcile(manager.stores.running)
    assert report["drift"] == ["table inet flyos: not configured"]
    assert kernel.table() == []
    assert repr(kernel.table("ip", "foreign")) == foreign


def test_changing_an_address_set_family_recompiles_its_rules(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel
) -> None:
    commit(EVERY_CONSTRUCT)
    commit(
        edits=[
            ("delete", "/acls/acl[name='all']/rule[sequence='18']", None),
            ("delete", "/nat/rule[sequence='4']", None),
            (
                "replace",
                "/acls/address-set[name='admins']",
                {"name": "admins", "family": "ipv6", "prefix": ["2001:db8:aa::/48"]},
            ),
        ]
    )
    assert "v4-admins" not in json.dumps(kernel.table())
    assert '"@v6-admins"' in json.dumps(kernel.rules()["acl all rule 16"])
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]


def test_buckets_split_and_empty_in_order(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel
) -> None:
    rules = [
        acl_rule(seq * 10, protocol="tcp", destination={"port": [str(seq)]}) for seq in range(1, 61)
    ]
    commit(
        {"flyos-acl:acls": {"acl": [{"name": "big", "rule": rules}], "global": {"input": "big"}}}
    )
    inserted = [acl_rule(seq, "drop") for seq in range(101, 131)]
    commit(edits=[("merge", "/acls/acl[name='big']", {"rule": inserted})])
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]
    buckets = {rule["chain"] for rule in kernel.rules("acl-big/").values()}
    assert len(buckets) == 3
    commit(
        edits=[
            ("delete", f"/acls/acl[name='big']/rule[sequence='{s}']", None)
            for s in range(10, 490, 10)
        ]
    )
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]
    assert len({rule["chain"] for rule in kernel.rules("acl-big/").values()}) == 2


def test_a_rewritten_tail_keeps_its_counters(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel
) -> None:
    rules = [
        acl_rule(seq, protocol="udp", destination={"port": [str(seq)]}) for seq in (10, 20, 30)
    ]
    commit({"flyos-acl:acls": {"acl": [{"name": "web", "rule": rules}]}})
    last = kernel.rules()["acl web rule 30"]
    kernel.nft(  # the rule as the agent wrote it, with traffic counted
        "replace",
        "rule",
        "inet",
        "flyos",
        last["chain"],
        "handle",
        str(last["handle"]),
        "udp",
        "dport",
        "30",
        "counter",
        "packets",
        "7",
        "bytes",
        "700",
        "accept",
        "comment",
        '"acl web rule 30"',
    )
    commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='15']", {"action": "drop"})])
    moved = kernel.rules()["acl web rule 30"]
    assert moved["handle"] != last["handle"]
    assert {"counter": {"packets": 7, "bytes": 700}} in moved["expr"]
    state = manager.get(manager.open_session("root", "test"), path="/acls")
    rule_state = state["flyos-acl:acls"]["acl"][0]["rule"][-1]
    assert rule_state["state"] == {"packets": "7", "bytes": "700"}


OTHER: dict[str, Any] = {
    "flyos-interfaces:interfaces": interfaces("eth0", "eth1"),
    "flyos-acl:acls": {
        "address-set": [{"name": "admins", "family": "ipv6", "prefix": ["2001:db8::/32"]}],
        "acl": [
            {
                "name": "renamed",
                "default-action": "drop",
                "rule": [
                    acl_rule(5, source={"address-set": "admins"}),
                    acl_rule(6, "reject", protocol="tcp", destination={"port": ["22"]}),
                ],
            },
            {"name": "all", "rule": [acl_rule(100, "drop")]},
        ],
        "interface": [{"name": "eth1", "ingress": "renamed"}],
    },
    "flyos-nat:nat": {
        "rule": [
            {
                "sequence": 9,
                "action": "snat",
                "to-address": "2001:db8::1",
                "source": {"address-set": "admins"},
            }
        ]
    },
}


def test_whole_configurations_replace_each_other(
    commit: Commit, manager: Manager, backend: NftBackend, kernel: Kernel, foreign: str
) -> None:
    for config in (EVERY_CONSTRUCT, OTHER, EVERY_CONSTRUCT, {}, OTHER):
        plan = commit(config, dry_run=True).plan
        commit(config)
        assert backend.reconcile(manager.stores.running, apply=False)["in-sync"], config.keys()
        assert plan is not None
    commit({})
    assert kernel.table() == []
    assert repr(kernel.table("ip", "foreign")) == foreign


def test_a_restarted_agent_continues_where_it_left_off(
    commit: Commit, manager: Manager, kernel: Kernel, tmp_path: Path
) -> None:
    commit(EVERY_CONSTRUCT)
    before = kernel.handles()
    manager.close()
    schema = manager.schema
    backend = NftBackend(schema, kernel.ns)
    restarted = Manager(schema, Journal(tmp_path / "flyos.db", schema), backend)
    session = restarted.open_session("root", "test")
    path = parse_path(schema, "/acls/acl[name='all']/rule[sequence='30']")
    restarted.edit(session, "running", [Edit("merge", path, {"action": "drop"})])
    after = kernel.handles()
    assert set(after) == {*before, "acl all rule 30"}
    assert all(after[comment] == handle for comment, handle in before.items())
    assert backend.reconcile(restarted.stores.running, apply=False)["in-sync"]
    restarted.close()
