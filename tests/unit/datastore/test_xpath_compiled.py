"""The compiled must/when subset agrees with the full XPath evaluator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.datastore.validate import instances
from flyos_agent.datastore.xpath import evaluate_boolean
from flyos_agent.datastore.xpath_codegen import compile_local
from flyos_agent.datastore.xpath_compiled import Item, Unsupported, compile_expression, holds
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Kind, Schema, SchemaNode, load_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SCHEMA = load_schema()


def item_at(schema: Schema, tree: Map[str, Any], path: InstancePath) -> Item:
    item: Item | None = None
    node: SchemaNode | None = None
    value: Any = tree
    for name, key in path:
        node = schema.roots[name] if node is None else node.children[name]
        value = value.get(name) if isinstance(value, Map) else None
        if key is not None and value is not None:
            value = value.get(key) if node.kind is Kind.LIST else key[0]
        item = Item(node, value, item)
    assert item is not None
    return item


def constrained(schema: Schema) -> Iterator[tuple[SchemaNode, str]]:
    for node in schema.walk():
        for must in node.must:
            yield node, must.expression
        if node.when:
            yield node, node.when


def check_generated(
    node: SchemaNode, expression: str, tree: Map[str, Any], context: InstancePath, expected: bool
) -> int:
    """Compare the generated local check (if the expression has one) with `expected`."""
    from_child = node.is_leafy or expression == node.when
    scope = SCHEMA.node(node.parent_path) if from_child and node.parent_path else node
    check = compile_local(scope, expression, from_child=from_child)
    if check is None:
        return 0
    local_path = context[:-1] if from_child else context
    local = trees.get(tree, local_path)
    assert check(local) == expected, (expression, context)
    return 1


def agree(tree: Map[str, Any]) -> int:
    """Check every must/when on every instance; return how many were compiled."""
    compiled_count = 0
    for node, expression in constrained(SCHEMA):
        compiled = compile_expression(expression)
        for path, value in instances(SCHEMA, tree, node):
            paths = (
                [(*path[:-1], (node.name, (v,))) for v in value]
                if node.kind is Kind.LEAF_LIST
                else [path]
            )
            for context in paths:
                expected = evaluate_boolean(SCHEMA, tree, expression, context)
                compiled_count += check_generated(node, expression, tree, context, expected)
                if compiled is None:
                    continue
                try:
                    got = holds(compiled, item_at(SCHEMA, tree, context))
                except Unsupported:
                    continue
                compiled_count += 1
                assert got == expected, (expression, context)
    return compiled_count


def loadable_examples() -> list[Path]:
    """Examples that build a tree (the rest fail on a type error before validation)."""
    found = []
    for path in [
        EXAMPLES / "full.json",
        EXAMPLES / "demo.json",
        *(EXAMPLES / "invalid").glob("*.json"),
    ]:
        try:
            trees.tree_from_plain(SCHEMA, json.loads(path.read_text()))
        except FlyosError:
            continue
        found.append(path)
    return sorted(found)


@pytest.mark.parametrize("example", loadable_examples(), ids=lambda p: p.name)
def test_compiled_constraints_agree_on_examples(example: Path) -> None:
    agree(trees.tree_from_plain(SCHEMA, json.loads(example.read_text())))


def test_most_model_constraints_compile() -> None:
    expressions = {expression for _node, expression in constrained(SCHEMA)}
    local = {e for e in expressions if not e.lstrip("not(").startswith("/") and "/f" not in e}
    compiled = {e for e in local if compile_expression(e) is not None}
    assert len(compiled) >= len(local) - 2, sorted(local - compiled)


routes = st.fixed_dictionaries(
    {"prefix": st.sampled_from(["10.0.0.0/24", "10.1.0.0/16", "2001:db8::/32"])},
    optional={
        "via": st.sampled_from(["192.0.2.1", "2001:db8::1"]),
        "dev": st.just("eth0"),
        "type": st.sampled_from(["unicast", "blackhole", "unreachable", "prohibit"]),
        "table": st.sampled_from(["main", "100"]),
        "vrf": st.just("blue"),
        "nexthop": st.just([{"via": "192.0.2.9"}]),
    },
)
nat_rules = st.fixed_dictionaries(
    {"sequence": st.integers(1, 5), "action": st.sampled_from(["snat", "dnat", "masquerade"])},
    optional={
        "to-address": st.just("198.51.100.1"),
        "protocol": st.sampled_from(["tcp", "udp", "icmp", "6"]),
        "to-port": st.just("8080"),
    },
)


@settings(max_examples=150, deadline=None)
@given(
    route_list=st.lists(routes, max_size=3, unique_by=lambda r: r["prefix"]),
    rule_list=st.lists(nat_rules, max_size=3, unique_by=lambda r: r["sequence"]),
)
def test_compiled_constraints_agree_on_random_entries(
    route_list: list[dict[str, Any]], rule_list: list[dict[str, Any]]
) -> None:
    config = {
        "flyos-interfaces:interfaces": {"interface": [{"name": "eth0", "type": "ethernet"}]},
        "flyos-vrf:vrfs": {"vrf": [{"name": "blue", "table": 10}]},
        "flyos-routing:routing": {"static": route_list},
        "flyos-nat:nat": {"rule": rule_list},
    }
    tree = trees.tree_from_plain(SCHEMA, config)
    agree(tree)
