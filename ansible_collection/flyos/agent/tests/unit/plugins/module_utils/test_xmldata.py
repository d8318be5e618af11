# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""XML <-> dicts over the schema snapshot."""

from __future__ import annotations

import pytest
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import (
    Op,
    XmlDataError,
    config_xml,
    decode_roots,
    encode,
    parse,
    serialize,
    strip_none,
)

ROUTE = {"prefix": "10.0.0.0/24", "via": "192.0.2.1", "metric": 5, "track": True}


def test_keys_come_first_and_values_are_xml_text():
    xml = serialize(
        encode(
            "routing",
            {"static": [{"track": True, "metric": 5, "via": "192.0.2.1", "prefix": "10.0.0.0/24"}]},
        )
    )
    assert xml == (
        '<routing xmlns="urn:flyos:yang:flyos-routing"><static><prefix>10.0.0.0/24</prefix>'
        "<via>192.0.2.1</via><metric>5</metric><track>true</track></static></routing>"
    )


def test_operations_are_marked_with_the_nc_prefix():
    value = {"static": [Op("replace", ROUTE), Op("remove", {"prefix": "10.1.0.0/24"})]}
    xml = config_xml([encode("routing", value)])
    assert xml.startswith('<nc:config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><routing')
    assert '<static nc:operation="replace"><prefix>10.0.0.0/24</prefix>' in xml
    assert '<static nc:operation="remove"><prefix>10.1.0.0/24</prefix></static>' in xml


def test_a_leaf_removed_has_no_text():
    assert serialize(encode("system", {"hostname": "r1", "location": Op("remove")})) == (
        '<system xmlns="urn:flyos:yang:flyos-system"><hostname>r1</hostname>'
        '<location nc:operation="remove"/></system>'
    )


def test_option_names_round_trip_with_types():
    value = {
        "interface": [
            {
                "name": "eth0",
                "type": "ethernet",
                "mtu": 9000,
                "enabled": False,
                "ipv4": {"address": [{"ip": "192.0.2.1", "prefix_length": 24}]},
            }
        ]
    }
    element = parse(config_xml([encode("interfaces", value)]))
    assert decode_roots(element) == {"interfaces": value}


def test_rfc7951_mode_keeps_yang_names_and_numbers_of_unions():
    xml = (
        '<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
        '<routing xmlns="urn:flyos:yang:flyos-routing">'
        "<pbr><priority>10</priority><table>100</table></pbr><pbr><priority>20</priority><table>main</table></pbr>"
        "</routing></data>"
    )
    assert decode_roots(parse(xml), yang_names=True) == {
        "routing": {"pbr": [{"priority": 10, "table": 100}, {"priority": 20, "table": "main"}]}
    }
    assert decode_roots(parse(xml))["routing"]["pbr"][0]["table"] == "100"


def test_unknown_options_and_elements_are_refused():
    with pytest.raises(XmlDataError, match="unknown option 'vai'"):
        encode("routing", {"static": [{"prefix": "10.0.0.0/24", "vai": "192.0.2.1"}]})
    xml = '<system xmlns="urn:flyos:yang:flyos-system"><hostnam>r1</hostnam></system>'
    with pytest.raises(XmlDataError, match="unknown element 'hostnam'"):
        decode_roots(parse(xml), strict=True)
    assert decode_roots(parse(xml)) == {"system": {}}


def test_state_is_read_only_when_asked():
    xml = (
        '<interfaces xmlns="urn:flyos:yang:flyos-interfaces"><interface><name>eth0</name>'
        "<state><oper-status>up</oper-status><ifindex>2</ifindex></state></interface></interfaces>"
    )
    assert decode_roots(parse(xml)) == {"interfaces": {"interface": [{"name": "eth0"}]}}
    assert decode_roots(parse(xml), state=True)["interfaces"]["interface"][0]["state"] == {
        "oper_status": "up",
        "ifindex": 2,
    }


def test_bad_xml_and_doctypes_are_refused():
    with pytest.raises(XmlDataError, match="not well-formed"):
        parse("<routing>")
    with pytest.raises(XmlDataError, match="DOCTYPE"):
        parse('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_options_not_given_are_dropped():
    assert strip_none({"a": None, "b": [{"c": None, "d": 1}], "e": {}}) == {
        "b": [{"d": 1}],
        "e": {},
    }
