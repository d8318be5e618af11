"""Configuration -> DSL text -> the same configuration (property-tested over the schema)."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import apply_edits
from flyos_agent.northbound.dsl import parse_edits, render_dsl, render_set, render_value
from flyos_agent.schema import Kind, LeafType, Schema, SchemaNode, load_schema
from flyos_agent.schema.values import InvalidValue, parse_value, value_to_json

SCHEMA: Schema = load_schema()

SAMPLES = [
    "eth0", "br-lan", "wg0", "web", "a.b_c-d", "r1.example.net", "65001:100", "no-export",
    "80", "8000-8080", "65001 65002", "02:00:00:00:00:01",
    "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=",
]  # fmt: skip
TEXT = st.lists(
    st.sampled_from([*"ab yes{}[];,\"'#/\\\t\nü0:", "//", "\x01", "\u2028"]), max_size=12
).map("".join)


def _json(leaf_type: LeafType, raw: Any) -> Any:
    try:
        return value_to_json(leaf_type, parse_value(leaf_type, raw))
    except InvalidValue:
        return None


def _addresses(version: Literal[4, 6]) -> st.SearchStrategy[str]:
    return st.ip_addresses(v=version).map(str)


def _prefixes(version: Literal[4, 6]) -> st.SearchStrategy[str]:
    bits = 32 if version == 4 else 128
    return st.builds(
        lambda a, n: str(ipaddress.ip_network(f"{a}/{n}", strict=False)),
        st.ip_addresses(v=version),
        st.integers(0, bits),
    )


def raw_values(leaf_type: LeafType) -> st.SearchStrategy[Any]:
    """Candidate raw values for a type, straight from what the schema says about it."""
    base = leaf_type.base
    if leaf_type.members:
        return st.one_of([raw_values(m) for m in leaf_type.members])
    if base.startswith(("int", "uint")):
        if leaf_type.ranges:
            return st.one_of([st.integers(lo, hi) for lo, hi in leaf_type.ranges])
        return st.integers(0, 2**32 - 1 if base != "uint8" else 255)
    if base == "boolean":
        return st.booleans()
    if base == "enumeration":
        return st.sampled_from(leaf_type.enums)
    versions: tuple[Literal[4, 6], ...] = (4, 6)
    for version in versions:
        if leaf_type.name.endswith((f"ipv{version}-prefix",)):
            return _prefixes(version)
        if f"ipv{version}-address" in leaf_type.name:
            return _addresses(version)
    if leaf_type.patterns:
        return st.sampled_from(SAMPLES)
    return TEXT


def values(leaf_type: LeafType) -> st.SearchStrategy[Any]:
    """Valid RFC 7951 values of a type."""
    return (
        raw_values(leaf_type).map(lambda raw: _json(leaf_type, raw)).filter(lambda v: v is not None)
    )


def content(node: SchemaNode, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A container or list entry of `node` with any of its config children."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, child in node.children.items():
        if not child.config:
            continue
        if child.kind is Kind.LEAF:
            assert child.type is not None
            (required if name in node.keys else optional)[name] = values(child.type)
        elif child.kind is Kind.LEAF_LIST:
            assert child.type is not None
            optional[name] = st.lists(values(child.type), max_size=3, unique=True)
        elif depth < 3 and child.kind is Kind.CONTAINER:
            optional[name] = content(child, depth + 1)
        elif depth < 3:
            optional[name] = entries(child, depth + 1)
    return st.fixed_dictionaries(required, optional=optional)


def entries(node: SchemaNode, depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        content(node, depth), max_size=2, unique_by=lambda e: tuple(e[k] for k in node.keys)
    )


configs = st.fixed_dictionaries(
    {},
    optional={f"{root.module}:{name}": content(root) for name, root in SCHEMA.roots.items()},
).map(lambda plain: trees.tree_to_plain(SCHEMA, trees.tree_from_plain(SCHEMA, plain)))


def replay(text: str) -> dict[str, Any]:
    tree = trees.EMPTY
    for statement in parse_edits(SCHEMA, text):
        result = apply_edits(SCHEMA, tree, statement.edits)
        assert not result.errors, (text, result.errors)
        tree = result.tree
    return trees.tree_to_plain(SCHEMA, tree)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs)
def test_any_configuration_renders_to_dsl_that_parses_back_to_it(config: dict[str, Any]) -> None:
    assert replay(render_dsl(SCHEMA, config)) == config
    assert replay(render_set(SCHEMA, config)) == config


def test_rendering_reads_like_the_original_syntax() -> None:
    config = {
        "flyos-routing:routing": {
            "static": [{"prefix": "10.0.0.0/24", "via": "192.168.1.1", "track": True}],
            "bgp": [{"prefix": "172.16.0.0/16", "local-pref": 200, "community": ["65001:100"]}],
        },
        "flyos-system:system": {"hostname": "r1", "description": "rack 4; row 2"},
    }
    assert render_dsl(SCHEMA, config) == (
        "route sync {\n"
        "    static { prefix 10.0.0.0/24; via 192.168.1.1; track true }\n"
        "    bgp { prefix 172.16.0.0/16; local-pref 200; community [ 65001:100 ] }\n"
        "}\n"
        "system sync {\n"
        "    hostname r1\n"
        '    description "rack 4; row 2"\n'
        "}"
    )
    assert render_dsl(SCHEMA, config, modules=["system"]).startswith("system sync {")
    assert render_set(SCHEMA, config).splitlines() == [
        "route set static { prefix 10.0.0.0/24; via 192.168.1.1; track true }",
        "route set bgp { prefix 172.16.0.0/16; local-pref 200; community [ 65001:100 ] }",
        'system set { hostname r1; description "rack 4; row 2" }',
    ]


def test_long_entries_and_nested_blocks_span_lines() -> None:
    rule = {"sequence": 10, "action": "accept", "destination": {"port": ["80", "443"]}}
    config = {"flyos-acl:acls": {"acl": [{"name": "web", "rule": [rule]}]}}
    assert render_dsl(SCHEMA, config) == (
        "acl sync {\n"
        "    acl {\n"
        "        name web\n"
        "        rule {\n"
        "            sequence 10\n"
        "            action accept\n"
        "            destination { port [ 80 443 ] }\n"
        "        }\n"
        "    }\n"
        "}"
    )


def test_values_are_quoted_only_when_they_would_not_read_back_as_one_word() -> None:
    assert render_value("fe80::1") == "fe80::1"
    assert render_value(False) == "false"
    assert render_value(200) == "200"
    assert render_value("") == '""'
    assert render_value("a b") == '"a b"'
    assert render_value('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert render_value("#tag") == '"#tag"'
    assert render_value("//x") == '"//x"'
    assert render_value("a\x01") == '"a\\u0001"'
