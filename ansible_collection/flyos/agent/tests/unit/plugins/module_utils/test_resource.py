# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""What each resource state sends."""

from __future__ import annotations

from ansible_collections.flyos.agent.plugins.module_utils.resource import Resource
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import Op

ROUTES = [
    {"prefix": "10.0.0.0/24", "via": "192.0.2.1"},
    {"prefix": "10.1.0.0/24", "via": "192.0.2.1"},
]


def test_list_resource_states():
    routes = Resource("static_routes")
    assert routes.edit_for("merged", ROUTES[:1], ROUTES) == ROUTES[:1]
    assert routes.edit_for("replaced", ROUTES[:1], ROUTES) == [Op("replace", ROUTES[0])]
    assert routes.edit_for("overridden", ROUTES[:1], ROUTES) == [
        Op("replace", ROUTES[0]),
        Op("remove", {"prefix": "10.1.0.0/24"}),
    ]
    assert routes.edit_for("deleted", [{"prefix": "10.1.0.0/24"}], ROUTES) == [
        Op("remove", {"prefix": "10.1.0.0/24"})
    ]
    assert routes.edit_for("deleted", None, ROUTES) == [
        Op("remove", {"prefix": p["prefix"]}) for p in ROUTES
    ]
    assert routes.edit_for("deleted", None, []) is None


def test_container_resource_states():
    system = Resource("system")
    assert system.edit_for("merged", {"hostname": "r1"}, {}) == {"hostname": "r1"}
    replaced = system.edit_for("replaced", {"hostname": "r1"}, {})
    assert replaced["hostname"] == "r1" and replaced["location"] == Op("remove")
    assert system.edit_for("overridden", {"hostname": "r1"}, {}) == Op(
        "replace", {"hostname": "r1"}
    )
    assert system.edit_for("deleted", {"contact": ""}, {}) == {"contact": Op("remove")}
    assert system.edit_for("deleted", None, {}) == Op("remove")


def test_container_resource_lists_are_replaced_entry_by_entry():
    acls = Resource("acls")
    acl = {"name": "web", "rule": [{"sequence": 10, "action": "accept"}]}
    assert acls.edit_for("replaced", {"acl": [acl], "global": {"input": "web"}}, {}) == {
        "acl": [Op("replace", acl)],
        "global": Op("replace", {"input": "web"}),
    }
    assert acls.edit_for("deleted", {"acl": [{"name": "web", "rule": None}]}, {}) == {
        "acl": [Op("remove", {"name": "web"})],
    }


def test_rendered_xml_parses_back():
    routes = Resource("static_routes")
    xml = routes.render(ROUTES)
    assert xml.startswith('<routing xmlns="urn:flyos:yang:flyos-routing"><static>')
    from ansible_collections.flyos.agent.plugins.module_utils.xmldata import parse

    assert routes.from_data(parse(xml), strict=True) == ROUTES
