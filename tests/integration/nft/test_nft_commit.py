"""Commits land in the owned table exactly, incrementally, and roll back exactly."""

from __future__ import annotations

import json
from typing import Any

from conftest import Commit
from nft_kernel import Kernel, interfaces, without_handles

from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

T = {"family": "inet", "table": "flyos"}
IIF_ETH0 = {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth0"}}
COUNTER = {"counter": {"packets": 0, "bytes": 0}}

CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": interfaces("eth0"),
    "flyos-acl:acls": {
        "address-set": [
            {"name": "admins", "family": "ipv4", "prefix": ["10.1.0.0/16", "10.2.0.1/32"]}
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
                ],
            }
        ],
        "interface": [{"name": "eth0", "ingress": "web"}],
    },
    "flyos-nat:nat": {"rule": [{"sequence": 10, "action": "masquerade", "out-interface": "eth0"}]},
}


def chain(name: str, hook: tuple[str, str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {**T, "name": name}
    if hook:
        body.update(type=hook[0], hook=hook[1], prio=hook[2], policy="accept")
    return {"chain": body}


def rule(chain_name: str, expr: list[Any], comment: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {**T, "chain": chain_name}
    if comment:
        body["comment"] = comment
    body["expr"] = expr
    return {"rule": body}


def payload(protocol: str, field: str, right: Any) -> dict[str, Any]:
    left = {"payload": {"protocol": protocol, "field": field}}
    return {"match": {"op": "==", "left": left, "right": right}}


EXPECTED = [
    {"table": {"family": "inet", "name": "flyos"}},
    {
        "set": {
            "family": "inet",
            "name": "v4-admins",
            "table": "flyos",
            "type": "ipv4_addr",
            "flags": ["interval"],
            "elem": [{"prefix": {"addr": "10.1.0.0", "len": 16}}, "10.2.0.1"],
        }
    },
    chain("input", ("filter", "input", 0)),
    chain("forward", ("filter", "forward", 0)),
    chain("output", ("filter", "output", 0)),
    chain("nat-prerouting", ("nat", "prerouting", -100)),
    chain("nat-output", ("nat", "output", -100)),
    chain("nat-postrouting", ("nat", "postrouting", 100)),
    chain("acl-web"),
    chain("acl-web/0"),
    chain("nat-postrouting/0"),
    *[
        item
        for hook in ("input", "forward")
        for item in (
            rule(hook, [IIF_ETH0, {"jump": {"target": "acl-web"}}], "interface eth0 ingress"),
            rule(hook, [IIF_ETH0, COUNTER, {"drop": None}], "interface eth0 ingress default"),
        )
    ],
    rule("acl-web", [{"jump": {"target": "acl-web/0"}}]),
    rule(
        "acl-web/0",
        [
            payload("ip", "saddr", "@v4-admins"),
            payload("tcp", "dport", 22),
            COUNTER,
            {"accept": None},
        ],
        "acl web rule 10",
    ),
    rule(
        "acl-web/0",
        [
            {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "icmp"}},
            COUNTER,
            {"drop": None},
        ],
        "acl web rule 20",
    ),
    rule("nat-postrouting", [{"jump": {"target": "nat-postrouting/0"}}]),
    rule(
        "nat-postrouting/0",
        [
            {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}},
            COUNTER,
            {"masquerade": None},
        ],
        "nat rule 10",
    ),
]


def canonical(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in without_handles(objects))


def listing(text: str) -> list[str]:
    """A whole `nft -j list ruleset` output, comparable across re-added rules."""
    return canonical(json.loads(text)["nftables"][1:])


def test_commit_creates_exactly_the_owned_table(
    commit: Commit, kernel: Kernel, foreign: str
) -> None:
    commit(CONFIG)
    assert canonical(kernel.table()) == canonical(EXPECTED)
    assert repr(kernel.table("ip", "foreign")) == foreign


def test_dry_run_plan_is_the_exact_batch(
    commit: Commit, kernel: Kernel, netns: str, manager: Manager
) -> None:
    plan = commit(CONFIG, dry_run=True).plan
    assert plan is not None and [step["op"] for step in plan] == ["nft"]
    assert kernel.table() == []
    kernel.nft("-j", "-f", "-", stdin=json.dumps({"nftables": plan[0]["commands"]}))
    by_hand = kernel.ruleset()
    kernel.nft("delete", "table", "inet", "flyos")
    manager.backend.reconcile(manager.stores.running, apply=False)  # forget the table
    commit(CONFIG)
    assert listing(kernel.ruleset()) == listing(by_hand)


def test_appending_a_rule_touches_no_other_rule(commit: Commit, kernel: Kernel) -> None:
    commit(CONFIG)
    before = kernel.handles()
    result = commit(
        edits=[("merge", "/acls/acl[name='web']/rule[sequence='30']", {"action": "accept"})],
        dry_run=True,
    )
    assert result.plan is not None
    assert [list(c) for c in result.plan[0]["commands"]] == [["add"]]
    commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='30']", {"action": "accept"})])
    after = kernel.handles()
    assert set(after) - set(before) == {"acl web rule 30"}
    assert {k: after[k] for k in before} == before


def test_modifying_the_last_rule_changes_only_that_rule(commit: Commit, kernel: Kernel) -> None:
    commit(CONFIG)
    before = kernel.rules()
    commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='20']", {"action": "reject"})])
    after = kernel.rules()
    changed = {c for c in after if after[c] != before[c]}
    assert changed == {"acl web rule 20"}
    assert after["acl web rule 20"]["expr"][-1] == {
        "reject": {"type": "icmpx", "expr": "port-unreachable"}
    }


def test_modifying_a_middle_rule_rewrites_only_the_rest_of_its_bucket(
    commit: Commit, kernel: Kernel
) -> None:
    config = json.loads(json.dumps(CONFIG))
    rules = config["flyos-acl:acls"]["acl"][0]["rule"]
    rules += [{"sequence": s, "action": "accept", "protocol": "udp"} for s in (30, 40)]
    commit(config)
    before = kernel.rules()
    commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='20']", {"action": "reject"})])
    after = kernel.rules()
    same = {c for c in after if after[c] == before[c]}
    assert same == set(before) - {"acl web rule 20", "acl web rule 30", "acl web rule 40"}
    for moved in ("acl web rule 30", "acl web rule 40"):  # same rule, re-added after it
        assert after[moved]["expr"] == before[moved]["expr"]
    assert after["acl web rule 10"]["handle"] == before["acl web rule 10"]["handle"]


def test_a_description_edit_touches_nothing(commit: Commit, kernel: Kernel) -> None:
    commit(CONFIG)
    before = kernel.ruleset()
    result = commit(
        edits=[("merge", "/acls/acl[name='web']/rule[sequence='10']/description", "ssh")]
    )
    assert result.changed
    assert kernel.ruleset() == before


def test_deleting_rules_and_everything(commit: Commit, kernel: Kernel, foreign: str) -> None:
    commit(CONFIG)
    before = kernel.handles()
    commit(edits=[("delete", "/acls/acl[name='web']/rule[sequence='10']", None)])
    after = kernel.handles()
    assert set(after) == set(before) - {"acl web rule 10"}
    assert {k: before[k] for k in after} == after
    commit(edits=[("delete", "/nat", None)])
    assert not [item for item in kernel.table() if "nat" in json.dumps(item)]
    commit({"flyos-interfaces:interfaces": interfaces("eth0")})
    assert kernel.table() == []
    assert repr(kernel.table("ip", "foreign")) == foreign


def test_rollback_restores_the_earlier_ruleset(
    commit: Commit, kernel: Kernel, manager: Manager, session: Session, foreign: str
) -> None:
    commit(CONFIG)
    earlier = kernel.ruleset()
    commit(
        edits=[
            ("merge", "/acls/acl[name='web']/rule[sequence='30']", {"action": "drop"}),
            ("merge", "/acls/address-set[name='admins']/prefix", ["10.9.0.0/16"]),
            ("merge", "/acls/acl[name='extra']", {"rule": [{"sequence": 1, "action": "accept"}]}),
            ("merge", "/nat/rule[sequence='20']", {"action": "masquerade", "protocol": "udp"}),
        ]
    )
    assert kernel.ruleset() != earlier
    manager.rollback(session, 1)
    manager.commit(session)
    assert kernel.ruleset() == earlier  # byte for byte, handles included
    commit(
        edits=[
            ("delete", "/acls/acl[name='web']/rule[sequence='10']", None),
            ("merge", "/acls/acl[name='web']/rule[sequence='20']", {"action": "accept"}),
        ]
    )
    manager.rollback(session, 1)
    manager.commit(session)
    # re-added rules get new handles from the kernel; everything else is as it was
    assert listing(kernel.ruleset()) == listing(earlier)
    assert repr(kernel.table("ip", "foreign")) == foreign
