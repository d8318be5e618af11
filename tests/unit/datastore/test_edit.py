"""RFC 6241 edit-config semantics on configuration trees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import Edit, apply_edits
from flyos_agent.datastore.paths import format_path, parse_path
from flyos_agent.errors import DataExists, DataMissing, InvalidValue, UnknownElement
from flyos_agent.schema import Schema, load_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="module")
def full(schema: Schema) -> Map[str, Any]:
    return trees.tree_from_plain(schema, json.loads((EXAMPLES / "full.json").read_text()))


def route(schema: Schema, prefix: str) -> tuple[Any, ...]:
    return parse_path(schema, f"/routing/static[prefix='{prefix}']")


def test_create_adds_and_refuses_existing_data(schema: Schema, full: Map[str, Any]) -> None:
    path = route(schema, "10.9.0.0/16")
    result = apply_edits(schema, full, [Edit("create", path, {"via": "192.0.2.1"})])
    assert not result.errors
    assert dict(trees.get(result.tree, path)) == {"prefix": "10.9.0.0/16", "via": "192.0.2.1"}
    again = apply_edits(schema, result.tree, [Edit("create", path, {"via": "192.0.2.9"})])
    assert isinstance(again.errors[0], DataExists)
    assert again.errors[0].path == "/flyos-routing:routing/static[prefix='10.9.0.0/16']"
    assert again.tree is result.tree


def test_delete_refuses_missing_data_and_remove_does_not(
    schema: Schema, full: Map[str, Any]
) -> None:
    path = route(schema, "10.99.0.0/16")
    deleted = apply_edits(schema, full, [Edit("delete", path)])
    assert isinstance(deleted.errors[0], DataMissing)
    removed = apply_edits(schema, full, [Edit("remove", path)])
    assert not removed.errors and removed.tree is full


def test_merge_keeps_other_leaves_and_replace_drops_them(
    schema: Schema, full: Map[str, Any]
) -> None:
    path = parse_path(schema, "/interfaces/interface[name='eth0']")
    merged = apply_edits(schema, full, [Edit("merge", path, {"mtu": 9000})])
    entry = trees.get(merged.tree, path)
    assert entry["mtu"] == 9000 and entry["type"] == "ethernet" and "ipv4" in entry
    replaced = apply_edits(schema, full, [Edit("replace", path, {"type": "ethernet"})])
    assert dict(trees.get(replaced.tree, path)) == {"name": "eth0", "type": "ethernet"}


def test_merge_unites_lists_and_leaf_lists(schema: Schema, full: Map[str, Any]) -> None:
    path = parse_path(schema, "/acls/address-set[name='mgmt-hosts']")
    before = trees.get(full, path)["prefix"]
    merged = apply_edits(schema, full, [Edit("merge", path, {"prefix": ["203.0.113.0/24"]})])
    after = trees.get(merged.tree, path)["prefix"]
    assert after == (*before, "203.0.113.0/24")


def test_default_operation_none_only_applies_explicit_operations(
    schema: Schema, full: Map[str, Any]
) -> None:
    edits = [
        Edit(None, route(schema, "10.7.0.0/16"), {"via": "192.0.2.1"}),
        Edit("create", route(schema, "10.8.0.0/16"), {"via": "192.0.2.1"}),
    ]
    result = apply_edits(schema, full, edits, default_operation="none")
    assert trees.get(result.tree, route(schema, "10.7.0.0/16")) is None
    assert trees.get(result.tree, route(schema, "10.8.0.0/16")) is not None


def error_edits(schema: Schema) -> list[Edit]:
    return [
        Edit("create", route(schema, "10.1.1.0/24"), {"via": "192.0.2.1"}),
        Edit("delete", route(schema, "10.200.0.0/16")),
        Edit("create", route(schema, "10.1.2.0/24"), {"via": "192.0.2.1"}),
    ]


def test_stop_on_error_keeps_what_came_before(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(schema, full, error_edits(schema), error_option="stop-on-error")
    assert len(result.errors) == 1
    assert trees.get(result.tree, route(schema, "10.1.1.0/24")) is not None
    assert trees.get(result.tree, route(schema, "10.1.2.0/24")) is None


def test_continue_on_error_applies_the_rest(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(schema, full, error_edits(schema), error_option="continue-on-error")
    assert [e.tag for e in result.errors] == ["data-missing"]
    assert trees.get(result.tree, route(schema, "10.1.1.0/24")) is not None
    assert trees.get(result.tree, route(schema, "10.1.2.0/24")) is not None


def test_rollback_on_error_changes_nothing(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(schema, full, error_edits(schema), error_option="rollback-on-error")
    assert len(result.errors) == 1
    assert result.tree is full


def test_bad_values_name_path_and_reason(schema: Schema, full: Map[str, Any]) -> None:
    path = parse_path(schema, "/interfaces/interface[name='eth0']")
    result = apply_edits(schema, full, [Edit("merge", path, {"mtu": 10})])
    error = result.errors[0]
    assert isinstance(error, InvalidValue)
    assert error.path == "/flyos-interfaces:interfaces/interface[name='eth0']/mtu"
    assert "68..65535" in error.message
    unknown = apply_edits(schema, full, [Edit("merge", path, {"speed": 10})])
    assert isinstance(unknown.errors[0], UnknownElement)
    state = apply_edits(schema, full, [Edit("merge", path, {"state": {"mtu": 1}})])
    assert "state data" in state.errors[0].message


def test_key_in_body_must_match_key_in_path(schema: Schema, full: Map[str, Any]) -> None:
    path = route(schema, "10.5.0.0/16")
    result = apply_edits(schema, full, [Edit("create", path, {"prefix": "10.6.0.0/16"})])
    assert isinstance(result.errors[0], InvalidValue)


def test_prefix_keys_are_canonical_in_paths_and_bodies(schema: Schema) -> None:
    path = parse_path(schema, "/routing/static[prefix='10.0.0.1/24']")
    assert format_path(schema, path) == "/flyos-routing:routing/static[prefix='10.0.0.0/24']"
    result = apply_edits(
        schema,
        trees.EMPTY,
        [Edit("merge", (), {"routing": {"static": [{"prefix": "10.0.0.7/24", "dev": "x"}]}})],
    )
    assert trees.get(result.tree, path) is not None


def test_edits_share_structure_with_the_original(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(
        schema, full, [Edit("create", route(schema, "10.9.0.0/16"), {"via": "192.0.2.1"})]
    )
    assert result.tree["interfaces"] is full["interfaces"]
    assert result.touched == {route(schema, "10.9.0.0/16")}


def test_replace_at_the_root_replaces_everything(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(
        schema, full, [Edit("replace", (), {"flyos-system:system": {"hostname": "r1"}})]
    )
    assert set(result.tree.keys()) == {"system"}
    assert result.touched == {((name, None),) for name in schema.roots}


def test_a_merge_at_the_root_touches_only_the_entries_it_names(
    schema: Schema, full: Map[str, Any]
) -> None:
    config = {"flyos-routing:routing": {"static": [{"prefix": "10.9.0.0/16", "via": "192.0.2.1"}]}}
    result = apply_edits(schema, full, [Edit("merge", (), config)])
    assert result.touched == {route(schema, "10.9.0.0/16")}
    hostname = {"flyos-system:system": {"hostname": "r2"}}
    assert apply_edits(schema, full, [Edit("merge", (), hostname)]).touched == {(("system", None),)}


def test_an_edit_that_changes_nothing_touches_nothing(schema: Schema, full: Map[str, Any]) -> None:
    result = apply_edits(schema, full, [Edit("merge", (), {"flyos-routing:routing": {}})])
    assert result.tree is full and result.touched == set()
