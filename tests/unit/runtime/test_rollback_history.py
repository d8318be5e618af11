"""Commit history, rollback N and compare against history."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_helpers import hostname_edit, make_manager

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import InvalidValue
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema


def set_hostname(
    manager: Manager, session: Session, schema: Schema, name: str, comment: str | None = None
) -> None:
    manager.edit(session, "candidate", [hostname_edit(schema, name)])
    manager.commit(session, comment=comment)


def hostname_of(manager: Manager, session: Session, source: str) -> str | None:
    system = manager.get_config(session, source).get("flyos-system:system", {})
    name = system.get("hostname")
    return None if name is None else str(name)


@pytest.fixture
def three_commits(manager: Manager, alice: Session, bob: Session, schema: Schema) -> None:
    set_hostname(manager, alice, schema, "one", "first")
    set_hostname(manager, bob, schema, "two", "second")
    set_hostname(manager, alice, schema, "three")


# ---------------------------------------------------------------- history


@pytest.mark.usefixtures("three_commits")
def test_history_lists_commits_newest_first_with_user_channel_and_comment(
    manager: Manager, alice: Session
) -> None:
    history = manager.history(alice)
    assert [
        (h["rollback"], h["commit-id"], h["user"], h["channel"], h["comment"]) for h in history
    ] == [
        (0, 3, "alice", "netconf", None),
        (1, 2, "bob", "rest", "second"),
        (2, 1, "alice", "netconf", "first"),
    ]
    assert all(h["changes"] == 1 for h in history)


@pytest.mark.usefixtures("three_commits")
def test_history_limit_returns_the_newest(manager: Manager, alice: Session) -> None:
    assert [h["commit-id"] for h in manager.history(alice, 2)] == [3, 2]


def test_a_commit_that_changes_nothing_is_not_recorded(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    set_hostname(manager, alice, schema, "one")
    set_hostname(manager, alice, schema, "one")
    assert [h["commit-id"] for h in manager.history(alice)] == [1]


# ---------------------------------------------------------------- rollback


@pytest.mark.usefixtures("three_commits")
def test_rollback_1_loads_the_previous_config_into_the_candidate_only(
    manager: Manager, alice: Session
) -> None:
    manager.rollback(alice, 1)
    assert hostname_of(manager, alice, "candidate") == "two"
    assert hostname_of(manager, alice, "running") == "three"


@pytest.mark.usefixtures("three_commits")
def test_commit_after_rollback_makes_it_running(
    manager: Manager, alice: Session, backend: MemoryBackend
) -> None:
    manager.rollback(alice, 2)
    result = manager.commit(alice, comment="back to one")
    assert result.commit_id == 4
    assert hostname_of(manager, alice, "running") == "one"
    assert backend.kernel == {"/flyos-system:system": '{"hostname": "one"}'}


@pytest.mark.usefixtures("three_commits")
def test_rollback_0_loads_running_and_commits_nothing(manager: Manager, alice: Session) -> None:
    manager.rollback(alice, 0)
    assert manager.get_config(alice, "candidate") == manager.get_config(alice, "running")
    assert not manager.commit(alice).changed


@pytest.mark.usefixtures("three_commits")
def test_rollback_to_before_the_first_commit_loads_the_empty_config(
    manager: Manager, alice: Session
) -> None:
    manager.rollback(alice, 3)
    assert manager.get_config(alice, "candidate") == {}


@pytest.mark.usefixtures("three_commits")
def test_rollback_beyond_history_is_refused(manager: Manager, alice: Session) -> None:
    candidate = manager.get_config(alice, "candidate")
    with pytest.raises(InvalidValue):
        manager.rollback(alice, 4)
    with pytest.raises(InvalidValue):
        manager.rollback(alice, -1)
    assert manager.get_config(alice, "candidate") == candidate


@pytest.mark.usefixtures("three_commits")
def test_rollback_to_a_commit_id(manager: Manager, alice: Session) -> None:
    manager.rollback(alice, commit_id=2)
    assert hostname_of(manager, alice, "candidate") == "two"


@pytest.mark.usefixtures("three_commits")
def test_rollback_to_an_unknown_commit_id_is_refused_with_invalid_value(
    manager: Manager, alice: Session
) -> None:
    with pytest.raises(InvalidValue):
        manager.rollback(alice, commit_id=99)


# ---------------------------------------------------------------- compare


@pytest.mark.usefixtures("three_commits")
def test_compare_running_with_candidate_shows_the_leaf_change(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", [hostname_edit(schema, "x")])
    assert manager.compare(alice, "running", "candidate") == [
        {
            "operation": "modify",
            "target": "/flyos-system:system",
            "leaves": {"hostname": {"old": "three", "new": "x"}},
        }
    ]


@pytest.mark.usefixtures("three_commits")
def test_compare_running_with_an_unchanged_candidate_is_empty(
    manager: Manager, alice: Session
) -> None:
    assert manager.compare(alice, "running", "candidate") == []


@pytest.mark.usefixtures("three_commits")
def test_compare_with_commit_n(manager: Manager, alice: Session) -> None:
    assert manager.compare(alice, "commit:1", "running") == [
        {
            "operation": "modify",
            "target": "/flyos-system:system",
            "leaves": {"hostname": {"old": "one", "new": "three"}},
        }
    ]


@pytest.mark.usefixtures("three_commits")
def test_compare_with_rollback_n(manager: Manager, alice: Session) -> None:
    diff = manager.compare(alice, "rollback:1", "running")
    assert diff[0]["leaves"] == {"hostname": {"old": "two", "new": "three"}}
    assert manager.compare(alice, "rollback:0", "running") == []


@pytest.mark.usefixtures("three_commits")
def test_compare_reports_created_units_with_their_value(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    path = parse_path(schema, "/interfaces/interface[name='eth0']")
    manager.edit(alice, "candidate", [Edit("create", path, {"type": "ethernet"})])
    assert {
        "operation": "create",
        "target": "/flyos-interfaces:interfaces/interface[name='eth0']",
        "value": {"name": "eth0", "type": "ethernet"},
    } in manager.compare(alice, "running", "candidate")


@pytest.mark.usefixtures("three_commits")
@pytest.mark.parametrize("source", ["commit:99", "rollback:9", "commit:x", "nosuch"])
def test_compare_with_an_unknown_source_is_refused_with_invalid_value(
    manager: Manager, alice: Session, source: str
) -> None:
    with pytest.raises(InvalidValue):
        manager.compare(alice, source, "running")


# ---------------------------------------------------------------- how much history is kept


def test_history_keeps_at_least_50_commits_by_default(tmp_path: Path, schema: Schema) -> None:
    mgr = make_manager(tmp_path / "flyos.db", schema, MemoryBackend(schema), snapshot_every=10)
    try:
        alice = mgr.open_session("alice", "netconf")
        for n in range(120):
            set_hostname(mgr, alice, schema, f"h{n}")
        history = mgr.history(alice)
        assert len(history) >= 50
        assert [h["commit-id"] for h in history[:50]] == list(range(120, 70, -1))
        mgr.rollback(alice, 49)
        assert hostname_of(mgr, alice, "candidate") == "h70"
    finally:
        mgr.close()


def test_history_keep_is_configurable_and_older_rollbacks_are_refused(
    tmp_path: Path, schema: Schema
) -> None:
    mgr = make_manager(
        tmp_path / "flyos.db", schema, MemoryBackend(schema), keep=5, snapshot_every=2
    )
    try:
        alice = mgr.open_session("alice", "netconf")
        for n in range(30):
            set_hostname(mgr, alice, schema, f"h{n}")
        mgr.journal.wait_for_snapshot()  # pruning happens with the background snapshot
        kept = len(mgr.history(alice))
        assert 5 <= kept < 30
        mgr.rollback(alice, kept - 1)
        assert hostname_of(mgr, alice, "candidate") == f"h{30 - kept}"
        with pytest.raises(InvalidValue):
            mgr.rollback(alice, kept)
        with pytest.raises(InvalidValue):
            mgr.compare(alice, "commit:1", "running")
    finally:
        mgr.close()
