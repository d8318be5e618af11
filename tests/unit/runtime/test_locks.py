"""RFC 6241 locks on candidate and running, and how sessions end."""

from __future__ import annotations

import pytest
from runtime_helpers import hostname_edit

from flyos_agent.datastore.edit import Edit
from flyos_agent.errors import (
    AccessDenied,
    InUse,
    InvalidValue,
    LockDenied,
    OperationFailed,
)
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema


def hostname(schema: Schema, name: str) -> list[Edit]:
    return [hostname_edit(schema, name)]


def test_lock_held_by_another_session_is_denied_naming_the_holder(
    manager: Manager, alice: Session, bob: Session
) -> None:
    manager.lock(alice, "running")
    with pytest.raises(LockDenied) as caught:
        manager.lock(bob, "running")
    assert caught.value.tag == "lock-denied"
    assert caught.value.info == {"session-id": alice.id}


def test_lock_on_a_modified_candidate_is_denied(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", hostname(schema, "pending"))
    with pytest.raises(LockDenied):
        manager.lock(alice, "candidate")


def test_lock_on_candidate_is_granted_again_after_discard(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", hostname(schema, "pending"))
    manager.discard(alice)
    manager.lock(alice, "candidate")


@pytest.mark.parametrize("target", ["candidate", "running"])
def test_edit_by_another_session_while_locked_is_in_use(
    manager: Manager, alice: Session, bob: Session, schema: Schema, target: str
) -> None:
    manager.lock(alice, target)
    with pytest.raises(InUse) as caught:
        manager.edit(bob, target, hostname(schema, "bob"))
    assert caught.value.info == {"session-id": alice.id}
    assert manager.get_config(bob, target) == {}


def test_commit_by_another_session_while_running_is_locked_is_in_use(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", hostname(schema, "bob"))
    manager.lock(alice, "running")
    with pytest.raises(InUse):
        manager.commit(bob)
    assert manager.get_config(bob, "running") == {}


def test_commit_by_another_session_while_candidate_is_locked_is_in_use(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    """Bob must not commit the edits that Alice is making under her candidate lock."""
    manager.lock(alice, "candidate")
    manager.edit(alice, "candidate", hostname(schema, "alice"))
    with pytest.raises(InUse) as caught:
        manager.commit(bob)
    assert caught.value.info == {"session-id": alice.id}
    assert manager.get_config(bob, "running") == {}


def test_discard_by_another_session_while_candidate_is_locked_is_in_use(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.lock(alice, "candidate")
    manager.edit(alice, "candidate", hostname(schema, "alice"))
    with pytest.raises(InUse):
        manager.discard(bob)
    assert manager.get_config(alice, "candidate") == {"flyos-system:system": {"hostname": "alice"}}


def test_lock_holder_edits_and_commits_freely(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    manager.lock(alice, "candidate")
    manager.lock(alice, "running")
    manager.edit(alice, "candidate", hostname(schema, "alice"))
    assert manager.commit(alice).changed


def test_unlock_by_a_non_holder_is_refused_and_the_lock_stays(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.lock(alice, "running")
    with pytest.raises(OperationFailed):
        manager.unlock(bob, "running")
    with pytest.raises(InUse):
        manager.edit(bob, "running", hostname(schema, "bob"))


def test_unlock_of_an_unlocked_datastore_is_refused(manager: Manager, alice: Session) -> None:
    with pytest.raises(OperationFailed):
        manager.unlock(alice, "running")


def test_unlock_by_the_holder_lets_others_lock(
    manager: Manager, alice: Session, bob: Session
) -> None:
    manager.lock(alice, "running")
    manager.unlock(alice, "running")
    manager.lock(bob, "running")


def test_a_lock_dies_with_its_session(manager: Manager, alice: Session, bob: Session) -> None:
    manager.lock(alice, "running")
    manager.lock(alice, "candidate")
    manager.close_session(alice)
    manager.lock(bob, "running")
    manager.lock(bob, "candidate")


def test_closing_the_candidate_lock_holder_discards_its_uncommitted_edits(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.lock(alice, "candidate")
    manager.edit(alice, "candidate", hostname(schema, "alice"))
    manager.close_session(alice)
    assert manager.get_config(bob, "candidate") == {}
    manager.lock(bob, "candidate")


def test_kill_session_releases_the_victims_locks(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.lock(alice, "running")
    manager.kill_session(bob, alice.id)
    manager.lock(bob, "running")
    with pytest.raises(AccessDenied):
        manager.edit(alice, "running", hostname(schema, "alice"))


def test_kill_session_of_itself_is_refused_and_keeps_its_locks(
    manager: Manager, alice: Session, bob: Session
) -> None:
    manager.lock(alice, "running")
    with pytest.raises(InvalidValue):
        manager.kill_session(alice, alice.id)
    with pytest.raises(LockDenied):
        manager.lock(bob, "running")


def test_kill_session_of_an_unknown_session_is_refused(manager: Manager, alice: Session) -> None:
    with pytest.raises(InvalidValue):
        manager.kill_session(alice, 9999)


def test_kill_session_needs_admin_rights(manager: Manager, alice: Session) -> None:
    operator = manager.open_session("olga", "netconf", "operator")
    manager.lock(alice, "running")
    with pytest.raises(AccessDenied):
        manager.kill_session(operator, alice.id)


def test_lock_on_running_is_denied_while_a_confirmed_commit_is_pending(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", hostname(schema, "trial"))
    manager.commit(alice, confirmed=True, timeout=60)
    with pytest.raises(LockDenied):
        manager.lock(bob, "running")
    manager.confirm(alice)
    manager.lock(bob, "running")


def test_a_closed_session_can_do_nothing(manager: Manager, alice: Session) -> None:
    other = manager.open_session("bob", "rest")
    manager.close_session(alice)
    with pytest.raises(AccessDenied):
        manager.lock(alice, "running")
    with pytest.raises(AccessDenied):
        manager.get_config(alice, "running")
    with pytest.raises(AccessDenied):
        manager.kill_session(alice, other.id)
    with pytest.raises(AccessDenied):
        manager.enter_private(alice)
    assert alice.id not in manager.stores.private


def test_lock_survives_other_sessions_coming_and_going(manager: Manager, alice: Session) -> None:
    manager.lock(alice, "running")
    other = manager.open_session("carol", "mcp")
    manager.close_session(other)
    with pytest.raises(LockDenied) as caught:
        manager.lock(manager.open_session("dave", "dsl"), "running")
    assert caught.value.info == {"session-id": alice.id}
