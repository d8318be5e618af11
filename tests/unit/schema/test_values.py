"""Leaf values parse into canonical form, and bad values say why."""

from __future__ import annotations

import pytest

from flyos_agent.schema import InvalidValue, Schema, load_schema, parse_value, value_to_json


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def leaf_type(schema: Schema, path: str):  # type: ignore[no-untyped-def]
    node = schema.find(path)
    assert node is not None and node.type is not None
    return node.type


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("10.0.0.0/24", "10.0.0.0/24"),
        ("10.0.0.1/24", "10.0.0.0/24"),
        ("2001:DB8:0:0::1/64", "2001:db8::/64"),
        ("::/0", "::/0"),
    ],
)
def test_prefixes_are_canonical(schema: Schema, raw: str, canonical: str) -> None:
    assert parse_value(leaf_type(schema, "/routing/static/prefix"), raw) == canonical


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "10.0.0.256/8", "banana", "", "2001:db8::/129"])
def test_bad_prefixes_are_refused_with_the_type_name(schema: Schema, raw: str) -> None:
    with pytest.raises(InvalidValue, match="is not a valid ipv4-prefix"):
        parse_value(leaf_type(schema, "/routing/static/prefix"), raw)


def test_integers_ranges_and_json_forms(schema: Schema) -> None:
    vlan = leaf_type(schema, "/interfaces/interface/vlan/id")
    assert parse_value(vlan, "100") == 100
    assert parse_value(vlan, 4094) == 4094
    with pytest.raises(InvalidValue, match=r"out of range 1\.\.4094"):
        parse_value(vlan, "4095")
    with pytest.raises(InvalidValue, match="not an integer"):
        parse_value(vlan, "ten")
    with pytest.raises(InvalidValue, match="not an integer"):
        parse_value(vlan, True)


def test_unions_try_members_in_order(schema: Schema) -> None:
    table = leaf_type(schema, "/routing/static/table")
    assert parse_value(table, "main") == "main"
    assert parse_value(table, "100") == 100
    assert parse_value(table, 100) == 100
    assert value_to_json(table, 100) == 100
    with pytest.raises(InvalidValue, match="matches no member"):
        parse_value(table, "mian")


def test_booleans_enums_and_leafrefs(schema: Schema) -> None:
    assert parse_value(leaf_type(schema, "/routing/static/track"), "true") is True
    assert parse_value(leaf_type(schema, "/routing/static/track"), False) is False
    with pytest.raises(InvalidValue, match="not a boolean"):
        parse_value(leaf_type(schema, "/routing/static/track"), "maybe")
    with pytest.raises(InvalidValue, match="one of"):
        parse_value(leaf_type(schema, "/interfaces/interface/type"), "token-ring")
    dev = leaf_type(schema, "/routing/static/dev")
    assert parse_value(dev, "eth0") == "eth0"
    with pytest.raises(InvalidValue):
        parse_value(dev, "x" * 16)


def test_mac_addresses_and_ipv6_are_lower_case(schema: Schema) -> None:
    assert parse_value(leaf_type(schema, "/interfaces/interface/mac"), "02:AA:bb:00:00:01") == (
        "02:aa:bb:00:00:01"
    )
    address = leaf_type(schema, "/interfaces/interface/ipv6/address/ip")
    assert parse_value(address, "FD00:0:0:1::1") == "fd00:0:0:1::1"
