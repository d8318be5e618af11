"""The compiled schema answers what the datastore, channels and backends ask of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flyos_agent.schema import Kind, Schema, load_schema
from flyos_agent.schema.compiler import SchemaError
from flyos_agent.schema.schema import DEFAULT_YANG_DIR, build_schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def test_every_module_is_loaded_with_namespace_prefix_and_revision(schema: Schema) -> None:
    names = {m.name for m in schema.modules}
    assert names == {
        "flyos-types",
        "flyos-interfaces",
        "flyos-routing",
        "flyos-acl",
        "flyos-nat",
        "flyos-tunnel",
        "flyos-vrf",
        "flyos-system",
        "flyos-agent-ops",
        "ietf-netconf-acm",
    }
    routing = schema.module("flyos-routing")
    assert routing.namespace == "urn:flyos:yang:flyos-routing"
    assert routing.prefix == "frt"
    assert routing.revision == "2026-11-26"
    assert routing.top_nodes == ("routing",)
    assert Path(routing.source).name == "flyos-routing.yang"
    assert schema.module_by_namespace("urn:flyos:yang:flyos-vrf") == schema.module("flyos-vrf")


def test_static_route_list_is_keyed_by_prefix(schema: Schema) -> None:
    static = schema.node("/flyos-routing:routing/static")
    assert static.kind is Kind.LIST
    assert static.keys == ("prefix",)
    assert static.module == "flyos-routing"
    assert list(static.children)[:3] == ["prefix", "via", "dev"]


def test_route_dev_is_a_leafref_to_interface_names(schema: Schema) -> None:
    dev = schema.node("/flyos-routing:routing/static/dev")
    assert dev.type is not None
    assert dev.type.base == "leafref"
    assert dev.type.leafref_target == "/flyos-interfaces:interfaces/interface/name"
    assert dev.type.members[0].derives_from("flyos-types:interface-name")
    referrers = {n.path for n in schema.leafrefs_to("/flyos-interfaces:interfaces/interface/name")}
    assert "/flyos-routing:routing/static/dev" in referrers
    assert "/flyos-routing:routing/pbr/iif" in referrers


def test_types_carry_ranges_patterns_enums_and_unions(schema: Schema) -> None:
    vlan_id = schema.node("/flyos-interfaces:interfaces/interface/vlan/id").type
    assert vlan_id is not None and vlan_id.base == "uint16" and vlan_id.ranges == ((1, 4094),)
    if_type = schema.node("/flyos-interfaces:interfaces/interface/type").type
    assert if_type is not None and "vlan" in if_type.enums and "wireguard" in if_type.enums
    table = schema.node("/flyos-routing:routing/static/table").type
    assert table is not None and table.base == "union"
    assert [m.base for m in table.members] == ["enumeration", "uint32"]
    key = schema.node("/flyos-tunnel:tunnels/wireguard/private-key").type
    assert key is not None and key.patterns


def test_defaults_mandatory_and_config_false(schema: Schema) -> None:
    interface = schema.node("/flyos-interfaces:interfaces/interface")
    assert interface.child("enabled") is not None
    assert interface.children["enabled"].default is True
    assert interface.children["type"].mandatory
    assert schema.node("/flyos-routing:routing/static/track").default is False
    state = interface.children["state"]
    assert state.kind is Kind.CONTAINER and not state.config
    assert not state.children["oper-status"].config
    vxlan_port = schema.node("/flyos-tunnel:tunnels/vxlan/port")
    assert vxlan_port.default == 4789


def test_must_when_and_unique(schema: Schema) -> None:
    vlan = schema.node("/flyos-interfaces:interfaces/interface/vlan")
    assert vlan.when == "../type = 'vlan'"
    nat_rule = schema.node("/flyos-nat:nat/rule")
    assert nat_rule.must and any("to-address" in m.expression for m in nat_rule.must)
    assert any(m.error_message for m in nat_rule.must)
    vrf = schema.node("/flyos-vrf:vrfs/vrf")
    assert vrf.unique == (("table",),)


def test_find_accepts_paths_with_or_without_prefixes_and_underscores(schema: Schema) -> None:
    local_pref = schema.node("/flyos-routing:routing/bgp/local-pref")
    assert schema.find("/routing/bgp/local-pref") is local_pref
    assert schema.find("/frt:routing/frt:bgp/frt:local-pref") is local_pref
    assert schema.node("/flyos-routing:routing/bgp").child("local_pref") is local_pref
    assert schema.find("/routing/nothing") is None


def test_cache_is_used_and_invalidated_when_a_model_changes(tmp_path: Path) -> None:
    yang = tmp_path / "yang"
    shutil.copytree(DEFAULT_YANG_DIR, yang)
    cache = tmp_path / "cache"
    first = load_schema(yang, cache)
    assert len(list(cache.glob("schema-*.pickle"))) == 1
    again = load_schema(yang, cache)
    assert again.digest == first.digest
    assert again.node("/flyos-vrf:vrfs/vrf").keys == ("name",)
    system = yang / "flyos-system.yang"
    text = system.read_text()
    marker = "leaf location {"
    assert marker in text
    system.write_text(
        text.replace(
            marker,
            'leaf motd {\n      type string;\n      description "Banner.";\n    }\n    ' + marker,
        )
    )
    changed = load_schema(yang, cache)
    assert changed.digest != first.digest
    assert changed.find("/system/motd") is not None
    assert len(list(cache.glob("schema-*.pickle"))) == 2


def test_broken_models_raise_schema_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yang").write_text(
        'module bad { yang-version 1.1; namespace "urn:bad"; prefix b;\n'
        "  leaf x { type no-such-type; } }\n"
    )
    with pytest.raises(SchemaError, match="no-such-type"):
        build_schema(tmp_path)
