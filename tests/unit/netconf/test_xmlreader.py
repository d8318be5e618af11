"""edit-config's <config> read straight into tree values: the same trees and the
same precise errors as the JSON path, edits split at operation attributes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from immutables import Map
from lxml import etree

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import EditResult, ErrorOption, Operation, apply_edits
from flyos_agent.errors import (
    BadAttribute,
    BadElement,
    FlyosError,
    InvalidValue,
    MissingElement,
    UnknownElement,
    UnknownNamespace,
)
from flyos_agent.northbound.netconf.editconfig import flatten
from flyos_agent.northbound.netconf.namespaces import BASE
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.schema import load_schema

SCHEMA = load_schema()
CODEC = XmlCodec(SCHEMA)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RT = "urn:flyos:yang:flyos-routing"
IF = "urn:flyos:yang:flyos-interfaces"
NC = f'xmlns:nc="{BASE}"'
ROUTE = "<static><prefix>{}</prefix><via>{}</via></static>"


def config(body: str) -> etree._Element:
    return etree.fromstring(f'<config xmlns="{BASE}">{body}</config>'.encode())


def routing(*entries: str, attrs: str = "") -> str:
    return f'<routing xmlns="{RT}"{attrs}>{"".join(entries)}</routing>'


def apply(
    body: str, tree: Map[str, Any] = trees.EMPTY, option: ErrorOption = ErrorOption.STOP
) -> EditResult:
    return apply_edits(SCHEMA, tree, flatten(CODEC, config(body)), error_option=option)


def only_error(body: str) -> FlyosError:
    result = apply(body)
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


@pytest.mark.parametrize("name", ["full", "demo"])
def test_the_agents_own_xml_reads_back_into_the_tree_json_gives(name: str) -> None:
    plain = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    holder = etree.Element(f"{{{BASE}}}config")
    CODEC.to_xml(plain, holder)
    result = apply_edits(SCHEMA, trees.EMPTY, flatten(CODEC, holder))
    assert not result.errors
    assert result.tree == trees.tree_from_plain(SCHEMA, plain)


def test_many_entries_become_one_list_under_canonical_keys() -> None:
    entries = [ROUTE.format(f"10.{i // 256}.{i % 256}.9/24", "192.0.2.1") for i in range(2000)]
    entries.append(ROUTE.format("2001:DB8:1::/48", "2001:DB8::1"))
    tree = apply(routing(*entries)).tree
    static = tree["routing"]["static"]
    assert len(static) == 2001
    assert dict(static[("10.7.207.0/24",)]) == {"prefix": "10.7.207.0/24", "via": "192.0.2.1"}
    assert static[("2001:db8:1::/48",)]["via"] == "2001:db8::1"


def test_a_value_that_does_not_parse_names_the_leaf_below_its_canonical_entry() -> None:
    error = only_error(routing(ROUTE.format("10.66.0.1/24", "not-an-ip")))
    assert isinstance(error, InvalidValue)
    assert error.path == "/flyos-routing:routing/static[prefix='10.66.0.0/24']/via"
    assert "invalid value for 'via'" in error.message


def test_a_key_that_does_not_parse_names_the_lists_key_leaf() -> None:
    error = only_error(routing(ROUTE.format("10.66.0.0/33", "192.0.2.1")))
    assert isinstance(error, InvalidValue)
    assert error.path == "/flyos-routing:routing/static/prefix"


@pytest.mark.parametrize(
    ("body", "error", "path", "bad"),
    [
        (
            routing("<static><via>192.0.2.1</via></static>"),
            MissingElement,
            "/flyos-routing:routing",
            "prefix",
        ),
        (
            routing("<static><prefix>10.1.0.0/16</prefix><vai>1.2.3.4</vai></static>"),
            UnknownElement,
            "/flyos-routing:routing/static[prefix='10.1.0.0/16']",
            "vai",
        ),
        (routing('<static xmlns="urn:nowhere"/>'), UnknownNamespace, None, "static"),
        ('<nothing xmlns="urn:nowhere"/>', UnknownNamespace, None, "nothing"),
        (f'<static xmlns="{RT}"/>', UnknownElement, "/", "static"),
        (
            routing(
                "<static><prefix>10.1.0.0/16</prefix><via>1.2.3.4</via><via>1.2.3.5</via></static>"
            ),
            BadElement,
            None,
            "via",
        ),
        (
            routing("<static><prefix>10.1.0.0/16</prefix><via><x/></via></static>"),
            BadElement,
            None,
            "via",
        ),
    ],
    ids=[
        "missing-key",
        "unknown-child",
        "unknown-namespace",
        "unknown-top",
        "not-top",
        "leaf-twice",
        "leaf-with-elements",
    ],
)
def test_bad_structure_refuses_the_whole_request(
    body: str, error: type[FlyosError], path: str | None, bad: str
) -> None:
    with pytest.raises(error) as caught:
        flatten(CODEC, config(body))
    assert caught.value.path == path
    assert caught.value.info["bad-element"] == bad


def test_state_data_is_refused_naming_where_it_was_given() -> None:
    body = routing(
        "<static><prefix>10.1.0.0/16</prefix><state><installed>true</installed></state></static>"
    )
    error = only_error(body)
    assert isinstance(error, UnknownElement)
    assert error.message == "'state' is state data"
    assert error.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']"


def test_an_entry_or_leaf_list_value_given_twice_is_not_unique() -> None:
    twice = routing(
        ROUTE.format("10.1.0.0/16", "192.0.2.1"), ROUTE.format("10.1.0.9/16", "192.0.2.2")
    )
    error = only_error(twice)
    assert (error.app_tag, error.path) == (
        "data-not-unique",
        "/flyos-routing:routing/static[prefix='10.1.0.0/16']",
    )
    community = (
        "<bgp><prefix>10.8.0.0/16</prefix><community>65001:1</community>"
        "<community>65001:1</community></bgp>"
    )
    error = only_error(routing(community))
    assert error.app_tag == "data-not-unique"
    assert error.path == "/flyos-routing:routing/bgp[prefix='10.8.0.0/16']/community[.='65001:1']"


def test_operations_split_into_edits_in_document_order() -> None:
    body = routing(
        ROUTE.format("10.1.0.0/16", "192.0.2.1"),
        '<static nc:operation="create"><prefix>10.2.0.0/16</prefix><via>192.0.2.2</via>'
        '<description nc:operation="replace">two</description></static>',
        '<static operation="delete"><prefix>10.3.0.0/16</prefix></static>',
        attrs=f" {NC}",
    )
    edits = flatten(CODEC, config(body))
    assert [(edit.operation, edit.path) for edit in edits] == [
        (None, ()),
        (Operation.CREATE, (("routing", None), ("static", ("10.2.0.0/16",)))),
        (
            Operation.REPLACE,
            (("routing", None), ("static", ("10.2.0.0/16",)), ("description", None)),
        ),
        (Operation.DELETE, (("routing", None), ("static", ("10.3.0.0/16",)))),
    ]
    assert edits[3].value is None
    created = edits[1].value.value
    assert dict(created) == {"prefix": "10.2.0.0/16", "via": "192.0.2.2"}
    assert edits[2].value.value == "two"


def test_a_bad_value_fails_only_its_own_edit_under_continue_on_error() -> None:
    body = routing(
        '<static nc:operation="create"><prefix>10.1.0.0/16</prefix><via>bad</via></static>',
        '<static nc:operation="create"><prefix>10.2.0.0/16</prefix><via>192.0.2.2</via></static>',
        attrs=f" {NC}",
    )
    result = apply(body, option=ErrorOption.CONTINUE)
    assert [error.path for error in result.errors] == [
        "/flyos-routing:routing/static[prefix='10.1.0.0/16']/via"
    ]
    assert list(result.tree["routing"]["static"]) == [("10.2.0.0/16",)]


def test_a_bad_operation_is_a_bad_attribute() -> None:
    body = routing(
        '<static nc:operation="upsert"><prefix>10.1.0.0/16</prefix></static>', attrs=f" {NC}"
    )
    with pytest.raises(BadAttribute) as caught:
        flatten(CODEC, config(body))
    assert caught.value.info == {"bad-attribute": "operation", "bad-element": "static"}


def test_an_empty_config_is_one_empty_merge() -> None:
    edits = flatten(CODEC, config(""))
    assert len(edits) == 1 and edits[0].operation is None and edits[0].path == ()
    assert (
        apply(
            "", tree=trees.tree_from_plain(SCHEMA, {"flyos-system:system": {"hostname": "r1"}})
        ).tree["system"]["hostname"]
        == "r1"
    )


def test_a_container_given_twice_is_merged_and_empty_containers_vanish() -> None:
    eth0 = "<interface><name>eth0</name><type>ethernet</type></interface>"
    eth1 = "<interface><name>eth1</name><type>ethernet</type><ipv4/></interface>"
    body = (
        f'<interfaces xmlns="{IF}">{eth0}</interfaces><interfaces xmlns="{IF}">{eth1}</interfaces>'
    )
    tree = apply(body).tree
    assert set(tree["interfaces"]["interface"]) == {("eth0",), ("eth1",)}
    assert "ipv4" not in tree["interfaces"]["interface"][("eth1",)]
