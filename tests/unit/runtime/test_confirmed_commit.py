"""Confirmed commit (RFC 6241 :confirmed-commit:1.1): timeout, confirm, cancel, persist, restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import hostname_edit, make_manager

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import InvalidValue, OperationFailed
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

CONFIRM_TIMEOUT = 1
BASE = {
    "system": {"hostname": "base"},
    "interfaces": {"interface": [{"name": "eth0", "type": "ethernet"}]},
}


@pytest.fixture
def base_config() -> dict[str, Any]:
    return BASE


@pytest.fixture
def manager_options() -> dict[str, Any]:
    return {"confirm_timeout": CONFIRM_TIMEOUT}


@pytest.fixture
def bob(manager: Manager) -> Session:
    return manager.open_session("bob", "netconf")


def trial_edits(schema: Schema, name: str = "trial") -> list[Edit]:
    """A change that shows in running and in the kernel: hostname plus a new interface."""
    return [
        hostname_edit(schema, name),
        Edit(
            "merge", parse_path(schema, f"/interfaces/interface[name='{name}0']"), {"type": "dummy"}
        ),
    ]


def running(manager: Manager, session: Session) -> dict[str, Any]:
    return manager.get_config(session, "running")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)


def confirmed(
    manager: Manager, session: Session, schema: Schema, name: str = "trial", **options: Any
) -> None:
    manager.edit(session, "candidate", trial_edits(schema, name))
    result = manager.commit(session, confirmed=True, **options)
    assert result.changed and result.confirm_deadline is not None


# ---------------------------------------------------------------- timeout


def test_timeout_reverts_running_to_before_the_confirmed_commit(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    before = running(manager, alice)
    confirmed(manager, alice, schema, timeout=1)
    assert running(manager, alice)["flyos-system:system"] == {"hostname": "trial"}
    wait_until(lambda: manager.confirm_pending() is None)
    assert running(manager, alice) == before


def test_timeout_revert_is_a_commit_in_history(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=1)
    wait_until(lambda: manager.confirm_pending() is None)
    newest = manager.history(alice)[0]
    assert newest["commit-id"] == 3
    assert newest["user"] == "system"
    assert "confirmed commit reverted" in newest["comment"]
    assert "timeout" in newest["comment"]


def test_timeout_revert_puts_the_kernel_back(
    manager: Manager, alice: Session, schema: Schema, backend: MemoryBackend
) -> None:
    kernel = backend.snapshot()
    confirmed(manager, alice, schema, timeout=1)
    assert backend.kernel != kernel
    wait_until(lambda: manager.confirm_pending() is None)
    assert backend.kernel == kernel


def test_timeout_revert_clears_the_stored_pending_confirm(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=1)
    assert manager.journal.pending_confirm() is not None
    wait_until(lambda: manager.confirm_pending() is None)
    assert manager.journal.pending_confirm() is None


def test_follow_up_confirmed_commit_extends_the_timeout(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    started = time.monotonic()
    confirmed(manager, alice, schema, "first", timeout=1)
    confirmed(manager, alice, schema, "second", timeout=3)
    time.sleep(max(0.0, started + 1.4 - time.monotonic()))
    assert manager.confirm_pending() is not None
    assert running(manager, alice)["flyos-system:system"] == {"hostname": "second"}
    manager.confirm(alice)


def test_follow_up_confirmed_commit_keeps_the_original_rollback_point(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    before = running(manager, alice)
    confirmed(manager, alice, schema, "first", timeout=1)
    confirmed(manager, alice, schema, "second", timeout=1)
    pending = manager.confirm_pending()
    assert pending is not None and pending["rollback-to"] == 1
    wait_until(lambda: manager.confirm_pending() is None)
    assert running(manager, alice) == before


# ---------------------------------------------------------------- confirm / cancel


def test_confirming_commit_makes_it_permanent(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    started = time.monotonic()
    confirmed(manager, alice, schema, timeout=1)
    after = running(manager, alice)
    manager.commit(alice)
    assert manager.confirm_pending() is None
    time.sleep(max(0.0, started + 1.4 - time.monotonic()))
    assert running(manager, alice) == after
    assert manager.history(alice)[0]["commit-id"] == 2
    assert manager.journal.pending_confirm() is None


def test_confirm_verb_confirms(manager: Manager, alice: Session, schema: Schema) -> None:
    confirmed(manager, alice, schema, timeout=60)
    result = manager.confirm(alice)
    assert not result.changed
    assert manager.confirm_pending() is None


def test_confirm_that_loses_the_race_with_a_revert_is_refused(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    """A confirm issued while the revert is running must not report success."""
    confirmed(manager, alice, schema, timeout=60)
    outcome: list[BaseException | None] = []

    def confirm() -> None:
        try:
            manager.confirm(alice)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with manager._lock:  # the revert holds the Manager's lock while it runs
        thread = threading.Thread(target=confirm)
        thread.start()
        time.sleep(0.1)
        manager.cancel_commit(alice)
    thread.join(timeout=5)
    assert len(outcome) == 1 and isinstance(outcome[0], OperationFailed)


def test_confirm_without_pending_confirmed_commit_is_refused(
    manager: Manager, alice: Session
) -> None:
    with pytest.raises(OperationFailed):
        manager.confirm(alice)


def test_cancel_commit_reverts_at_once(
    manager: Manager, alice: Session, schema: Schema, backend: MemoryBackend
) -> None:
    before, kernel = running(manager, alice), backend.snapshot()
    confirmed(manager, alice, schema, timeout=60)
    manager.cancel_commit(alice)
    assert running(manager, alice) == before
    assert backend.kernel == kernel
    assert manager.confirm_pending() is None
    assert "cancelled" in manager.history(alice)[0]["comment"]


def test_cancel_commit_without_pending_confirmed_commit_is_refused(
    manager: Manager, alice: Session
) -> None:
    with pytest.raises(OperationFailed):
        manager.cancel_commit(alice)


# ---------------------------------------------------------------- persist


def test_persist_id_confirms_from_another_session(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=60, persist="tok-1")
    after = running(manager, alice)
    manager.commit(bob, persist_id="tok-1")
    assert manager.confirm_pending() is None
    assert running(manager, bob) == after


def test_persist_id_cancels_from_another_session(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    before = running(manager, alice)
    confirmed(manager, alice, schema, timeout=60, persist="tok-1")
    manager.cancel_commit(bob, persist_id="tok-1")
    assert running(manager, bob) == before


def test_wrong_persist_id_is_refused_and_changes_nothing(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=60, persist="tok-1")
    after, commits = running(manager, alice), len(manager.history(alice))
    manager.edit(bob, "candidate", [Edit("merge", parse_path(schema, "/system/contact"), "bob")])
    with pytest.raises(InvalidValue) as caught:
        manager.commit(bob, persist_id="tok-2")
    assert caught.value.tag == "invalid-value"
    assert running(manager, bob) == after
    assert len(manager.history(bob)) == commits
    pending = manager.confirm_pending()
    assert pending is not None and pending["persist"]


def test_persistent_confirmed_commit_needs_its_persist_id_even_from_its_own_session(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=60, persist="tok-1")
    with pytest.raises(InvalidValue):
        manager.commit(alice)
    assert manager.confirm_pending() is not None


def test_persist_id_without_pending_confirmed_commit_is_refused(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", trial_edits(schema))
    with pytest.raises(InvalidValue):
        manager.commit(alice, persist_id="tok-1")
    assert running(manager, alice)["flyos-system:system"] == {"hostname": "base"}


def test_without_persist_another_session_cannot_confirm(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=60)
    with pytest.raises(OperationFailed):
        manager.commit(bob)
    with pytest.raises(OperationFailed):
        manager.cancel_commit(bob)
    assert manager.confirm_pending() is not None


def test_one_shot_change_of_running_by_another_session_is_refused_while_pending(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    """Bob's change would be silently undone by the revert: refuse it, as his commit is."""
    confirmed(manager, alice, schema, timeout=60)
    after, commits = running(manager, bob), len(manager.history(bob))
    contact = [Edit("merge", parse_path(schema, "/system/contact"), "bob")]
    with pytest.raises(OperationFailed):
        manager.edit(bob, "running", contact)
    with pytest.raises(OperationFailed):
        manager.copy(bob, "running", "running", config=BASE)
    assert running(manager, bob) == after
    assert len(manager.history(bob)) == commits
    manager.edit(bob, "running", contact, test_option="test-only")


# ---------------------------------------------------------------- session end and restart


def test_session_end_reverts_a_confirmed_commit_without_persist(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    before = running(manager, bob)
    confirmed(manager, alice, schema, timeout=60)
    manager.close_session(alice)
    assert running(manager, bob) == before
    assert manager.confirm_pending() is None


def test_kill_session_reverts_the_victims_confirmed_commit(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    before = running(manager, bob)
    confirmed(manager, alice, schema, timeout=60)
    manager.kill_session(bob, alice.id)
    assert running(manager, bob) == before


def test_session_end_does_not_revert_a_confirmed_commit_with_persist(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    confirmed(manager, alice, schema, timeout=60, persist="tok-1")
    after = running(manager, alice)
    manager.close_session(alice)
    assert running(manager, bob) == after
    assert manager.confirm_pending() is not None
    manager.commit(bob, persist_id="tok-1")
    assert running(manager, bob) == after


def test_restart_reverts_a_pending_confirmed_commit(tmp_path: Path, schema: Schema) -> None:
    db = tmp_path / "flyos.db"
    first = make_manager(db, schema, MemoryBackend(schema), confirm_timeout=CONFIRM_TIMEOUT)
    alice = first.open_session("alice", "netconf")
    first.copy(alice, "running", "running", config=BASE)
    before = running(first, alice)
    confirmed(first, alice, schema, timeout=60)
    first.close()

    second = make_manager(db, schema, MemoryBackend(schema), confirm_timeout=CONFIRM_TIMEOUT)
    try:
        bob = second.open_session("bob", "netconf")
        assert running(second, bob) == before
        assert second.confirm_pending() is None
        assert second.journal.pending_confirm() is None
        newest = second.history(bob)[0]
        assert newest["commit-id"] == 3 and "restarted" in newest["comment"]
    finally:
        second.close()
