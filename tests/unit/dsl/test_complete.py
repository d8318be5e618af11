"""Completion, `?` help and help topics, all derived from the compiled schema."""

from __future__ import annotations

import pytest

from flyos_agent.northbound.dsl.complete import SchemaHelp, describe_type
from flyos_agent.northbound.dsl.help import schema_topics, search
from flyos_agent.schema import Schema, load_schema

SCHEMA: Schema = load_schema()
INTERFACES = "/flyos-interfaces:interfaces/interface/name"


def existing(path: str) -> list[str]:
    return {INTERFACES: ["eth0", "eth1"], "/flyos-routing:routing/static/prefix": ["10.0.0.0/24"]}[
        path
    ]


HELP = SchemaHelp(SCHEMA, existing)


def offered(text: str) -> list[str]:
    return [s.text for s in HELP.at(text).matching()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["acl", "nacm", "nat", "nic", "route", "system", "tunnel", "vrf"]),
        ("ro", ["route", "routing"]),
        ("route ", ["add", "set", "delete", "sync"]),
        ("route add ", ["static", "pbr", "bgp", "ospf", "{"]),
        ("acl set ", ["address-set", "acl", "interface", "global", "{"]),
        (
            "route add static { ",
            [
                "prefix",
                "via",
                "dev",
                "nexthop",
                "type",
                "metric",
                "table",
                "vrf",
                "onlink",
                "track",
                "description",
            ],
        ),
        ("route add static { prefix 10.0.0.0/8; d", ["dev", "description"]),
        (
            "route add static {\n  prefix 10.0.0.0/8\n  via 10.0.0.1\n  ",
            ["dev", "nexthop", "type", "metric", "table", "vrf", "onlink", "track", "description"],
        ),
        ("route add static { dev ", ["eth0", "eth1"]),
        ("route add static { type ", ["unicast", "blackhole", "unreachable", "prohibit"]),
        ("route add static { track ", ["true", "false"]),
        ("route delete static { prefix ", ["10.0.0.0/24"]),
        ("route add static { table ", ["main", "local", "default"]),
        (
            "acl add acl { rule { ct-state [ new ",
            ["new", "established", "related", "invalid", "untracked"],
        ),
        ("route add bgp { community ", ["["]),
        ("route sync { ", ["static", "pbr", "bgp", "ospf"]),
        ("acl add acl { rule { destination { ", ["prefix", "address-set", "port"]),
        ("nic add interface { ipv4 ", ["{"]),
        ('route add static { description "open', []),
    ],
)
def test_completion_offers_what_may_come_next(text: str, expected: list[str]) -> None:
    assert offered(text) == expected


def test_non_module_statements_are_left_to_the_caller() -> None:
    place = HELP.at("show running | d")
    assert place.command and place.words == ("show", "running", "|") and place.prefix == "d"
    assert not HELP.at("route ").command


def test_question_mark_help_lists_leaf_names_with_descriptions() -> None:
    place = HELP.at("route add static { ")
    assert place.topic == "keywords of routing/static"
    described = {s.text: s.description for s in place.suggestions}
    assert described["via"] == "<ipv4-address or ipv6-address> The gateway address"
    assert described["nexthop"].startswith("{ list } One next hop")
    value = HELP.at("route add static { metric ")
    assert "uint32" in value.topic and "route metric" in value.topic


def test_type_summaries() -> None:
    mtu = SCHEMA.find("/interfaces/interface/mtu")
    assert mtu is not None and mtu.type is not None
    assert describe_type(mtu.type) == "uint16 (68..65535)"


def test_help_topics_cover_the_schema_and_search_is_fuzzy() -> None:
    topics = schema_topics(SCHEMA)
    names = [t.name for t in topics]
    assert "route" in names and "route static nexthop weight" in names
    assert not any(name.endswith(" state") for name in names)
    assert search(topics, "local_pref")[0].name == "route bgp local-pref"
    assert search(topics, "loca-pref")[0].name == "route bgp local-pref"
    assert search(topics, "route static")[0].body.count("\n  ") >= 10
    assert "route static via" in [t.name for t in search(topics, "gateway")]
    assert search(topics, "zzzz") == []
