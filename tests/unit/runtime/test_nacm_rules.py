"""NACM rules (RFC 8341) from the /nacm subtree: parsing, group mapping, and the
per-node decisions of a Policy, including its fast paths."""

from __future__ import annotations

from typing import Any

import pytest
from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.paths import format_path, parse_path
from flyos_agent.errors import InvalidValue
from flyos_agent.runtime.nacm_policy import Policy, default_deny_marks
from flyos_agent.runtime.nacm_read import ReadFilter
from flyos_agent.runtime.nacm_rules import NacmConfig, parse_config
from flyos_agent.runtime.nacm_write import WriteCheck
from flyos_agent.schema import Schema

ROUTES = {
    "routing": {
        "static": [
            {"prefix": "10.1.0.0/24", "via": "192.0.2.1", "metric": 5},
            {"prefix": "10.2.0.0/24", "via": "192.0.2.1"},
        ]
    },
    "system": {"hostname": "edge"},
}


def config(schema: Schema, nacm: dict[str, Any]) -> NacmConfig:
    return parse_config(schema, trees.tree_from_plain(schema, {"nacm": nacm}).get("nacm"))


def rule_list(name: str, groups: list[str], *rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "group": groups, "rule": list(rules)}


def policy(schema: Schema, nacm: dict[str, Any], groups: set[str]) -> Policy:
    parsed = config(schema, nacm)
    return Policy(schema, parsed, parsed.rules_for(frozenset(groups)))


def readable(schema: Schema, found: Policy, data: dict[str, Any]) -> dict[str, Any]:
    kept, _hidden = ReadFilter(found).tree(trees.tree_from_plain(schema, data))
    return trees.tree_to_plain(schema, kept)


def test_defaults_are_those_of_rfc_8341(schema: Schema) -> None:
    parsed = parse_config(schema, None)
    assert (parsed.enabled, parsed.read_default, parsed.write_default, parsed.exec_default) == (
        True,
        True,
        False,
        True,
    )
    assert [rl.name for rl in parsed.rule_lists] == ["flyos-operator", "flyos-viewer"]


def test_groups_are_the_listing_groups_plus_the_configured_group(schema: Schema) -> None:
    nacm = {"groups": {"group": [{"name": "netops", "user-name": ["nina", "olga"]}]}}
    assert config(schema, nacm).groups_of("nina", "viewer") == {"netops", "viewer"}
    assert config(schema, nacm).groups_of("vera", "viewer") == {"viewer"}
    closed = config(schema, {**nacm, "enable-external-groups": False})
    assert closed.groups_of("nina", "viewer") == {"netops"}


def test_rule_lists_and_rules_run_in_name_order_and_factory_lists_last(schema: Schema) -> None:
    nacm = {
        "rule-list": [
            rule_list("20-b", ["*"], {"name": "r", "action": "deny"}),
            rule_list(
                "10-a", ["*"], {"name": "2", "action": "deny"}, {"name": "1", "action": "permit"}
            ),
        ]
    }
    parsed = config(schema, nacm)
    assert [rl.name for rl in parsed.rule_lists] == [
        "10-a",
        "20-b",
        "flyos-operator",
        "flyos-viewer",
    ]
    assert [r.name for r in parsed.rule_lists[0].rules] == ["1", "2"]


def test_a_configured_rule_list_replaces_the_factory_one_of_its_name(schema: Schema) -> None:
    parsed = config(schema, {"rule-list": [{"name": "flyos-viewer", "group": ["viewer"]}]})
    assert [(rl.name, len(rl.rules)) for rl in parsed.rule_lists] == [
        ("flyos-viewer", 0),
        ("flyos-operator", 2),
    ]
    assert policy(schema, {"rule-list": [{"name": "flyos-viewer"}]}, {"viewer"}).may_exec("lock")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/routing/nowhere", "unknown node 'nowhere'"),
        ("/routing/static[via='1.2.3.4']", "'via' is not a key of 'static'"),
        ("/routing/static[prefix='300.0.0.0/8']", "key 'prefix'"),
        ("routing", "is not an instance-identifier"),
    ],
)
def test_a_path_that_does_not_resolve_is_refused_naming_the_rule(
    schema: Schema, path: str, message: str
) -> None:
    bad = {"rule-list": [rule_list("ops", ["*"], {"name": "r1", "path": path, "action": "deny"})]}
    with pytest.raises(InvalidValue) as caught:
        config(schema, bad)
    assert message in caught.value.message and "NACM rule 'r1'" in caught.value.message
    assert caught.value.path == "/ietf-netconf-acm:nacm/rule-list[name='ops']/rule[name='r1']/path"


def test_protocol_operations_follow_rules_then_default_deny_then_exec_default(
    schema: Schema,
) -> None:
    nacm = {
        "exec-default": "deny",
        "rule-list": [
            rule_list(
                "ops",
                ["netops"],
                {
                    "name": "1",
                    "rpc-name": "kill-session",
                    "access-operations": "exec",
                    "action": "permit",
                },
                {"name": "2", "module-name": "flyos-agent-ops", "action": "permit"},
            )
        ],
    }
    netops = policy(schema, nacm, {"netops"})
    assert netops.may_exec("kill-session") and netops.may_exec("history")
    assert not netops.may_exec("get-config")  # exec-default deny
    plain = policy(schema, {}, {"operator"})
    assert plain.may_exec("lock") and plain.may_exec("reconcile-check")
    assert not any(plain.may_exec(op) for op in ("kill-session", "delete-config", "reconcile"))


def test_data_node_rules_match_the_node_and_its_descendants_by_key(schema: Schema) -> None:
    nacm = {
        "rule-list": [
            rule_list(
                "ops",
                ["netops"],
                {
                    "name": "1",
                    "path": "/frt:routing/frt:static[frt:prefix='10.1.0.0/24']",
                    "access-operations": "read",
                    "action": "deny",
                },
            )
        ]
    }
    assert readable(schema, policy(schema, nacm, {"netops"}), ROUTES) == {
        "flyos-routing:routing": {"static": [{"prefix": "10.2.0.0/24", "via": "192.0.2.1"}]},
        "flyos-system:system": {"hostname": "edge"},
    }


def test_a_leaf_rule_hides_the_leaf_but_never_a_key(schema: Schema) -> None:
    nacm = {
        "rule-list": [
            rule_list(
                "ops",
                ["*"],
                {
                    "name": "1",
                    "path": "/routing/static/metric",
                    "access-operations": "read",
                    "action": "deny",
                },
                {
                    "name": "2",
                    "path": "/routing/static/prefix",
                    "access-operations": "read",
                    "action": "deny",
                },
            )
        ]
    }
    statics = readable(schema, policy(schema, nacm, set()), ROUTES)["flyos-routing:routing"]
    assert statics["static"][0] == {"prefix": "10.1.0.0/24", "via": "192.0.2.1"}


def test_a_permitted_subtree_shows_through_a_denied_module(schema: Schema) -> None:
    nacm = {
        "rule-list": [
            rule_list(
                "ops",
                ["*"],
                {"name": "1", "path": "/routing/static[prefix='10.2.0.0/24']", "action": "permit"},
                {"name": "2", "module-name": "flyos-routing", "action": "deny"},
            )
        ]
    }
    statics = readable(schema, policy(schema, nacm, set()), ROUTES)["flyos-routing:routing"]
    assert statics == {"static": [{"prefix": "10.2.0.0/24", "via": "192.0.2.1"}]}


def test_default_deny_all_nodes_are_hidden_unless_a_rule_permits(schema: Schema) -> None:
    marks, inherited = default_deny_marks(schema)
    assert marks == {
        "/ietf-netconf-acm:nacm": "all",
        "/flyos-tunnel:tunnels/wireguard/private-key": "all",
    }
    assert inherited["/ietf-netconf-acm:nacm/rule-list/rule/path"] == "all"
    data = {"nacm": {"write-default": "permit"}, "system": {"hostname": "edge"}}
    assert readable(schema, policy(schema, {}, set()), data) == {
        "flyos-system:system": {"hostname": "edge"}
    }
    permit = {
        "rule-list": [
            rule_list(
                "r", ["*"], {"name": "1", "module-name": "ietf-netconf-acm", "action": "permit"}
            )
        ]
    }
    assert "ietf-netconf-acm:nacm" in readable(schema, policy(schema, permit, set()), data)


def test_with_no_data_node_rules_a_read_returns_the_tree_itself(schema: Schema) -> None:
    tree = trees.tree_from_plain(schema, ROUTES)
    kept, hidden = ReadFilter(policy(schema, {}, {"operator"})).tree(tree)
    assert kept is tree
    assert hidden == {"nacm"}


def test_writes_are_checked_per_node_and_access(schema: Schema) -> None:
    nacm = {
        "write-default": "permit",
        "rule-list": [
            rule_list(
                "ops",
                ["*"],
                {
                    "name": "1",
                    "path": "/routing/static/metric",
                    "access-operations": "update",
                    "action": "deny",
                },
                {"name": "2", "path": "/system", "access-operations": "delete", "action": "deny"},
            )
        ],
    }
    found = policy(schema, nacm, set())
    old = trees.tree_from_plain(schema, ROUTES)

    def denied(change: dict[str, Any]) -> tuple[str, str] | None:
        new = trees.tree_from_plain(schema, change)
        result = WriteCheck(found).denied(diff_trees(schema, old, new))
        return None if result is None else (result[0], format_path(schema, result[1]))

    moved = {
        **ROUTES,
        "routing": {"static": [{"prefix": "10.1.0.0/24", "via": "192.0.2.1", "metric": 7}]},
    }
    assert denied(moved) == ("update", "/flyos-routing:routing/static[prefix='10.1.0.0/24']/metric")
    assert denied({"routing": ROUTES["routing"]}) == ("delete", "/flyos-system:system/hostname")
    added = {
        **ROUTES,
        "routing": {
            "static": [
                *ROUTES["routing"]["static"],
                {"prefix": "10.3.0.0/24", "via": "192.0.2.1", "metric": 1},
            ]
        },
    }
    assert denied(added) is None  # creating a metric is not updating one


def test_a_one_route_change_is_decided_without_looking_at_other_routes(schema: Schema) -> None:
    many = {
        "routing": {
            "static": [
                {"prefix": f"10.{i // 256}.{i % 256}.0/24", "via": "192.0.2.1"} for i in range(2000)
            ]
        }
    }
    old = trees.tree_from_plain(schema, many)
    path = parse_path(schema, "/routing/static[prefix='172.16.0.0/24']")
    new = trees.set_at(old, path, Map({"prefix": "172.16.0.0/24", "via": "192.0.2.9"}), schema)
    changes = diff_trees(schema, old, new, {path})
    keyed = {
        "rule-list": [
            rule_list(
                "r",
                ["*"],
                {"name": "1", "path": "/routing/static[prefix='10.0.0.0/24']", "action": "deny"},
            )
        ]
    }
    counted = CountingPolicy(schema, keyed)
    assert WriteCheck(counted).denied(changes) is None
    assert counted.calls <= 2


class CountingPolicy(Policy):
    """A Policy that counts its per-node decisions."""

    def __init__(self, schema: Schema, nacm: dict[str, Any]) -> None:
        parsed = config(schema, {"write-default": "permit", **nacm})
        super().__init__(schema, parsed, parsed.rules_for(frozenset()))
        self.calls = 0

    def allowed(self, access: str, path: Any, node: Any) -> bool:
        self.calls += 1
        return super().allowed(access, path, node)


def test_reading_one_route_decides_only_about_that_route(schema: Schema) -> None:
    many = {
        "routing": {
            "static": [
                {"prefix": f"10.{i // 256}.{i % 256}.0/24", "via": "192.0.2.1", "description": "x"}
                for i in range(2000)
            ]
        }
    }
    tree = trees.tree_from_plain(schema, many)
    hide = {
        "rule-list": [
            rule_list(
                "r",
                ["*"],
                {
                    "name": "1",
                    "path": "/routing/static/description",
                    "access-operations": "read",
                    "action": "deny",
                },
            )
        ]
    }
    counted = CountingPolicy(schema, hide)
    warm = parse_path(schema, "/routing/static[prefix='10.0.8.0/24']")
    ReadFilter(counted).subtree(warm, trees.get(tree, warm))  # plans are made once per schema node
    counted.calls = 0
    path = parse_path(schema, "/routing/static[prefix='10.0.7.0/24']")
    kept = ReadFilter(counted).subtree(path, trees.get(tree, path))
    assert trees.entry_to_plain(schema.node("/flyos-routing:routing/static"), kept) == {
        "prefix": "10.0.7.0/24",
        "via": "192.0.2.1",
    }
    assert counted.calls <= 2
    whole, _ = ReadFilter(counted).tree(tree)
    assert all("description" not in entry for entry in whole["routing"]["static"].values())


def test_a_diff_is_filtered_change_by_change(schema: Schema) -> None:
    hide = {
        "rule-list": [
            rule_list(
                "r",
                ["*"],
                {
                    "name": "1",
                    "path": "/routing/static/metric",
                    "access-operations": "read",
                    "action": "deny",
                },
            )
        ]
    }
    found = policy(schema, hide, set())
    old = trees.tree_from_plain(schema, ROUTES)
    changed = {
        **ROUTES,
        "routing": {
            "static": [
                {"prefix": "10.1.0.0/24", "via": "192.0.2.1", "metric": 9},
                ROUTES["routing"]["static"][1],
            ]
        },
    }
    changes = diff_trees(schema, old, trees.tree_from_plain(schema, changed))
    [visible] = [ReadFilter(found).change(c) for c in changes]
    assert visible is not None and "metric" not in visible.new and "metric" not in visible.old
