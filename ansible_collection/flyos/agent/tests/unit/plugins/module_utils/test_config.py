# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The config module's edits from DSL and XML."""

from __future__ import annotations

import pytest
from ansible_collections.flyos.agent.plugins.module_utils.config import dsl_edits, is_xml, xml_edits
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import XmlDataError

ROUTES = (
    '<config><routing xmlns="urn:flyos:yang:flyos-routing">'
    "<static><prefix>10.0.0.0/24</prefix></static></routing></config>"
)


def test_one_edit_per_statement():
    edits = dsl_edits(
        "route set static { prefix 10.0.0.0/24; via 192.0.2.1 }\nsystem set { hostname r1 }"
    )
    assert len(edits) == 2
    assert '<static nc:operation="replace">' in edits[0]
    assert "<hostname>r1</hostname>" in edits[1]


def test_xml_is_one_edit_and_replace_marks_each_container():
    assert is_xml("  <config/>") and not is_xml("route set { }")
    (merged,) = xml_edits(ROUTES, "merge")
    assert "operation" not in merged and "<prefix>10.0.0.0/24</prefix>" in merged
    (replaced,) = xml_edits(ROUTES, "replace")
    assert '<routing xmlns="urn:flyos:yang:flyos-routing" nc:operation="replace">' in replaced


def test_xml_without_our_models_is_refused():
    with pytest.raises(XmlDataError, match="none of the FlyOS models"):
        xml_edits("<config><other/></config>", "merge")
