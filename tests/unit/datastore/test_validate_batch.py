"""Long runs of one list's entries are validated in bulk with exactly the per-entry results."""

from __future__ import annotations

from typing import Any

import pytest
from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.validate import validate_changes
from flyos_agent.datastore.validate_batch import MIN_BATCH
from flyos_agent.schema import Schema, load_schema

BASE = {
    "flyos-interfaces:interfaces": {"interface": [{"name": "eth0", "type": "ethernet"}]},
}
BROKEN = {
    7: {"nexthop": [{"via": "192.0.2.7"}]},  # via and nexthop: a must
    20: {"dev": "nosuch0"},  # a leafref naming no interface
    33: {"type": "blackhole"},  # a reject route with a via: a must
    41: {"dev": "nosuch0", "table": 5, "vrf": "red"},  # two leafrefs... and a must
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def routes(count: int, broken: dict[int, dict[str, Any]]) -> dict[str, Any]:
    static = [
        {
            "prefix": f"10.{i // 256}.{i % 256}.0/24",
            "via": "192.0.2.1",
            "dev": "eth0",
            **broken.get(i, {}),
        }
        for i in range(count)
    ]
    return {**BASE, "flyos-routing:routing": {"static": static}}


def errors_of(schema: Schema, old: Map[str, Any], new: Map[str, Any], changes: Any) -> list[Any]:
    return [error.to_dict() for error in validate_changes(schema, old, new, changes)]


def test_a_bulk_run_reports_what_each_entry_checked_alone_reports(schema: Schema) -> None:
    old = trees.tree_from_plain(schema, BASE)
    new = trees.tree_from_plain(schema, routes(4 * MIN_BATCH, BROKEN))
    changes = diff_trees(schema, old, new, [(("routing", None),)])
    assert len(changes) > MIN_BATCH
    alone = [error for change in changes for error in errors_of(schema, old, new, [change])]
    assert errors_of(schema, old, new, changes) == alone
    failing = {error["path"].split("'")[1] for error in alone}
    assert failing == {f"10.0.{i}.0/24" for i in BROKEN}


def test_a_clean_bulk_run_has_no_errors(schema: Schema) -> None:
    old = trees.tree_from_plain(schema, BASE)
    new = trees.tree_from_plain(schema, routes(10 * MIN_BATCH, {}))
    assert validate_changes(schema, old, new, diff_trees(schema, old, new, None)) == []
