"""RFC 6241 edit-config semantics through Manager.edit, on candidate and on running.

The agent's rules, pinned here:
- on running an edit is one transaction: stop-on-error behaves like
  rollback-on-error (no partial commit);
- on candidate, stop-on-error keeps the edits before the failing one;
- test-only validates and changes nothing; test-then-set on running validates
  before committing, on candidate it only type-checks (constraints between
  nodes are checked by validate/commit).
"""

from __future__ import annotations

from typing import Any

import pytest
from runtime_helpers import route_path, static_routes

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import DataExists, DataMissing, FlyosError, InvalidValue
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

TARGETS = ["candidate", "running"]
BASE = {
    "interfaces": {
        "interface": [{"name": "eth0", "type": "ethernet"}, {"name": "eth1", "type": "ethernet"}]
    },
    "routing": {"static": [{"prefix": "10.0.0.0/8", "via": "192.0.2.1", "dev": "eth0"}]},
}
ROUTE = "10.0.0.0/8"
ROUTE_XPATH = "/flyos-routing:routing/static[prefix='10.0.0.0/8']"


@pytest.fixture
def base_config() -> dict[str, Any]:
    return BASE


def commit_count(manager: Manager, session: Session) -> int:
    return len(manager.history(session))


# ---------------------------------------------------------------- operations


@pytest.mark.parametrize("target", TARGETS)
def test_merge_keeps_existing_leaves_and_adds_new_ones(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(session, target, [Edit("merge", route_path(schema, ROUTE), {"metric": 10})])
    assert static_routes(manager, session, target)[ROUTE] == {
        "prefix": ROUTE,
        "via": "192.0.2.1",
        "dev": "eth0",
        "metric": 10,
    }


@pytest.mark.parametrize("target", TARGETS)
def test_replace_drops_the_leaves_it_does_not_give(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(
        session, target, [Edit("replace", route_path(schema, ROUTE), {"via": "192.0.2.9"})]
    )
    assert static_routes(manager, session, target)[ROUTE] == {"prefix": ROUTE, "via": "192.0.2.9"}


@pytest.mark.parametrize("target", TARGETS)
def test_create_adds_a_missing_entry(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    path = route_path(schema, "10.1.0.0/16")
    manager.edit(session, target, [Edit("create", path, {"via": "192.0.2.1"})])
    assert static_routes(manager, session, target)["10.1.0.0/16"] == {
        "prefix": "10.1.0.0/16",
        "via": "192.0.2.1",
    }


@pytest.mark.parametrize("target", TARGETS)
def test_create_of_existing_data_is_refused_with_data_exists(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = manager.get_config(session, target)
    with pytest.raises(DataExists) as caught:
        manager.edit(
            session, target, [Edit("create", route_path(schema, ROUTE), {"via": "192.0.2.7"})]
        )
    assert caught.value.tag == "data-exists"
    assert caught.value.path == ROUTE_XPATH
    assert manager.get_config(session, target) == before


@pytest.mark.parametrize("target", TARGETS)
def test_delete_removes_existing_data(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(session, target, [Edit("delete", route_path(schema, ROUTE))])
    assert ROUTE not in static_routes(manager, session, target)


@pytest.mark.parametrize("target", TARGETS)
def test_delete_of_missing_data_is_refused_with_data_missing(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = manager.get_config(session, target)
    with pytest.raises(DataMissing) as caught:
        manager.edit(session, target, [Edit("delete", route_path(schema, "10.99.0.0/16"))])
    assert caught.value.tag == "data-missing"
    assert caught.value.path == "/flyos-routing:routing/static[prefix='10.99.0.0/16']"
    assert manager.get_config(session, target) == before


@pytest.mark.parametrize("target", TARGETS)
def test_remove_of_missing_data_is_silently_accepted(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = manager.get_config(session, target)
    commits = commit_count(manager, session)
    manager.edit(session, target, [Edit("remove", route_path(schema, "10.99.0.0/16"))])
    assert manager.get_config(session, target) == before
    assert commit_count(manager, session) == commits


@pytest.mark.parametrize("target", TARGETS)
def test_remove_deletes_existing_data(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(session, target, [Edit("remove", route_path(schema, ROUTE))])
    assert ROUTE not in static_routes(manager, session, target)


def test_edit_of_running_commits_at_once(
    manager: Manager, session: Session, schema: Schema
) -> None:
    result = manager.edit(
        session, "running", [Edit("merge", route_path(schema, ROUTE), {"metric": 5})]
    )
    assert result is not None and result.commit_id == 2
    assert manager.history(session)[0]["commit-id"] == 2


def test_edit_of_candidate_leaves_running_alone(
    manager: Manager, session: Session, schema: Schema
) -> None:
    manager.edit(session, "candidate", [Edit("merge", route_path(schema, ROUTE), {"metric": 5})])
    assert "metric" not in static_routes(manager, session, "running")[ROUTE]
    assert static_routes(manager, session, "candidate")[ROUTE]["metric"] == 5


def test_merge_below_a_missing_entry_creates_that_entry_in_the_kernel_too(
    manager: Manager, session: Session, schema: Schema, backend: MemoryBackend
) -> None:
    """A merge of a next hop under a new route creates the route: the commit's
    changes, and so the kernel, must include the route itself, not only its next hop."""
    nexthop = parse_path(schema, "/routing/static[prefix='10.7.0.0/16']/nexthop[via='192.0.2.1']")
    result = manager.edit(session, "running", [Edit("merge", nexthop, {})])
    assert static_routes(manager, session, "running")["10.7.0.0/16"]["nexthop"] == [
        {"via": "192.0.2.1"}
    ]
    assert result is not None
    route_xpath = "/flyos-routing:routing/static[prefix='10.7.0.0/16']"
    assert {"operation": "create", "target": route_xpath} in result.changes
    assert route_xpath in backend.kernel


# ---------------------------------------------------------------- default-operation


@pytest.mark.parametrize("target", TARGETS)
def test_default_operation_merge_applies_to_edits_without_operation(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(
        session,
        target,
        [Edit(None, route_path(schema, ROUTE), {"metric": 7})],
        default_operation="merge",
    )
    assert static_routes(manager, session, target)[ROUTE]["dev"] == "eth0"
    assert static_routes(manager, session, target)[ROUTE]["metric"] == 7


@pytest.mark.parametrize("target", TARGETS)
def test_default_operation_replace_applies_to_edits_without_operation(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(
        session,
        target,
        [Edit(None, route_path(schema, ROUTE), {"via": "192.0.2.9"})],
        default_operation="replace",
    )
    assert static_routes(manager, session, target)[ROUTE] == {"prefix": ROUTE, "via": "192.0.2.9"}


@pytest.mark.parametrize("target", TARGETS)
def test_default_operation_none_skips_edits_without_operation_but_not_explicit_ones(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    manager.edit(
        session,
        target,
        [
            Edit(None, route_path(schema, ROUTE), {"metric": 7}),
            Edit("create", route_path(schema, "10.1.0.0/16"), {"via": "192.0.2.1"}),
        ],
        default_operation="none",
    )
    found = static_routes(manager, session, target)
    assert "metric" not in found[ROUTE]
    assert "10.1.0.0/16" in found


def test_unknown_default_operation_is_refused_with_invalid_value(
    manager: Manager, session: Session, schema: Schema
) -> None:
    with pytest.raises(InvalidValue):
        manager.edit(
            session,
            "candidate",
            [Edit(None, route_path(schema, ROUTE), {})],
            default_operation="bogus",
        )


def test_unknown_error_option_is_refused_with_invalid_value(
    manager: Manager, session: Session, schema: Schema
) -> None:
    with pytest.raises(InvalidValue):
        manager.edit(
            session, "candidate", [Edit(None, route_path(schema, ROUTE), {})], error_option="x"
        )


def test_unknown_test_option_is_refused_with_invalid_value(
    manager: Manager, session: Session, schema: Schema
) -> None:
    before = commit_count(manager, session)
    with pytest.raises(InvalidValue):
        manager.edit(
            session,
            "running",
            [Edit("merge", route_path(schema, ROUTE), {"metric": 1})],
            test_option="x",
        )
    assert commit_count(manager, session) == before


def test_unknown_operation_of_one_edit_is_refused_with_invalid_value(
    manager: Manager, session: Session, schema: Schema
) -> None:
    """One error model: a bad operation is an RFC 6241 error, not a bare ValueError."""
    with pytest.raises(FlyosError) as caught:
        manager.edit(
            session, "candidate", [Edit("bogus", route_path(schema, ROUTE), {"metric": 1})]
        )
    assert caught.value.tag in ("invalid-value", "bad-attribute")


# ---------------------------------------------------------------- error-option


def three_edits(schema: Schema) -> list[Edit]:
    """A good edit, one that fails (create of existing data), another good one."""
    return [
        Edit("create", route_path(schema, "10.1.0.0/16"), {"via": "192.0.2.1"}),
        Edit("create", route_path(schema, ROUTE), {"via": "192.0.2.1"}),
        Edit("create", route_path(schema, "10.2.0.0/16"), {"via": "192.0.2.1"}),
    ]


def test_stop_on_error_on_candidate_keeps_the_edits_before_the_failing_one(
    manager: Manager, session: Session, schema: Schema
) -> None:
    with pytest.raises(DataExists):
        manager.edit(session, "candidate", three_edits(schema), error_option="stop-on-error")
    found = static_routes(manager, session, "candidate")
    assert "10.1.0.0/16" in found
    assert "10.2.0.0/16" not in found


def test_stop_on_error_on_running_commits_nothing(
    manager: Manager, session: Session, schema: Schema
) -> None:
    before = manager.get_config(session, "running")
    commits = commit_count(manager, session)
    with pytest.raises(DataExists):
        manager.edit(session, "running", three_edits(schema), error_option="stop-on-error")
    assert manager.get_config(session, "running") == before
    assert commit_count(manager, session) == commits


@pytest.mark.parametrize("target", TARGETS)
def test_rollback_on_error_applies_nothing(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = manager.get_config(session, target)
    commits = commit_count(manager, session)
    with pytest.raises(DataExists):
        manager.edit(session, target, three_edits(schema), error_option="rollback-on-error")
    assert manager.get_config(session, target) == before
    assert commit_count(manager, session) == commits


@pytest.mark.parametrize("target", TARGETS)
def test_continue_on_error_applies_the_good_edits_and_reports_the_bad_one(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    with pytest.raises(DataExists) as caught:
        manager.edit(session, target, three_edits(schema), error_option="continue-on-error")
    assert caught.value.path == ROUTE_XPATH
    found = static_routes(manager, session, target)
    assert {"10.1.0.0/16", "10.2.0.0/16"} <= set(found)


# ---------------------------------------------------------------- test-option


def dangling_route(schema: Schema) -> Edit:
    return Edit("create", route_path(schema, "10.1.0.0/16"), {"dev": "nosuch0"})


@pytest.mark.parametrize("target", TARGETS)
def test_test_only_accepts_a_valid_edit_and_changes_nothing(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = {t: manager.get_config(session, t) for t in TARGETS}
    commits = commit_count(manager, session)
    result = manager.edit(
        session,
        target,
        [Edit("merge", route_path(schema, ROUTE), {"metric": 3})],
        test_option="test-only",
    )
    assert result is None
    assert {t: manager.get_config(session, t) for t in TARGETS} == before
    assert commit_count(manager, session) == commits


@pytest.mark.parametrize("target", TARGETS)
def test_test_only_reports_a_constraint_violation_and_changes_nothing(
    manager: Manager, session: Session, schema: Schema, target: str
) -> None:
    before = {t: manager.get_config(session, t) for t in TARGETS}
    with pytest.raises(DataMissing) as caught:
        manager.edit(session, target, [dangling_route(schema)], test_option="test-only")
    assert caught.value.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']/dev"
    assert {t: manager.get_config(session, t) for t in TARGETS} == before


def test_test_then_set_on_running_refuses_a_constraint_violation(
    manager: Manager, session: Session, schema: Schema
) -> None:
    before = manager.get_config(session, "running")
    commits = commit_count(manager, session)
    with pytest.raises(DataMissing):
        manager.edit(session, "running", [dangling_route(schema)], test_option="test-then-set")
    assert manager.get_config(session, "running") == before
    assert commit_count(manager, session) == commits


def test_test_then_set_on_running_commits_a_valid_edit(
    manager: Manager, session: Session, schema: Schema
) -> None:
    result = manager.edit(
        session,
        "running",
        [Edit("merge", route_path(schema, ROUTE), {"metric": 3})],
        test_option="test-then-set",
    )
    assert result is not None and result.changed
    assert static_routes(manager, session, "running")[ROUTE]["metric"] == 3


def test_test_then_set_on_candidate_keeps_edits_whose_constraints_commit_checks(
    manager: Manager, session: Session, schema: Schema
) -> None:
    manager.edit(session, "candidate", [dangling_route(schema)], test_option="test-then-set")
    assert static_routes(manager, session, "candidate")["10.1.0.0/16"]["dev"] == "nosuch0"
    with pytest.raises(DataMissing):
        manager.commit(session)


def test_test_then_set_on_candidate_refuses_a_type_error(
    manager: Manager, session: Session, schema: Schema
) -> None:
    before = manager.get_config(session, "candidate")
    with pytest.raises(InvalidValue) as caught:
        manager.edit(
            session,
            "candidate",
            [Edit("merge", route_path(schema, ROUTE), {"metric": "many"})],
            test_option="test-then-set",
        )
    assert caught.value.path == ROUTE_XPATH + "/metric"
    assert manager.get_config(session, "candidate") == before
