"""Group rights until NACM: viewers read; operators also write; admins also kill sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import AccessDenied, InvalidValue
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema, load_schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def manager(tmp_path: Path, schema: Schema) -> Iterator[Manager]:
    mgr = Manager(schema, Journal(tmp_path / "flyos.db", schema), MemoryBackend(schema))
    mgr.start()
    admin = mgr.open_session("setup", "test")
    mgr.copy(admin, "running", "running", config={"system": {"hostname": "base"}})
    mgr.close_session(admin)
    yield mgr
    mgr.close()


@pytest.fixture
def viewer(manager: Manager) -> Session:
    return manager.open_session("vera", "rest", "viewer")


def hostname(schema: Schema, name: str) -> list[Edit]:
    return [Edit("merge", parse_path(schema, "/system/hostname"), name)]


@pytest.mark.parametrize("target", ["candidate", "running"])
def test_viewer_cannot_edit(manager: Manager, viewer: Session, schema: Schema, target: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        manager.edit(viewer, target, hostname(schema, "evil"))
    assert caught.value.tag == "access-denied"
    assert manager.get_config(viewer, target) == {"flyos-system:system": {"hostname": "base"}}


def test_viewer_cannot_commit_what_an_operator_left_in_the_candidate(
    manager: Manager, viewer: Session, schema: Schema
) -> None:
    operator = manager.open_session("olga", "netconf", "operator")
    manager.edit(operator, "candidate", hostname(schema, "pending"))
    with pytest.raises(AccessDenied):
        manager.commit(viewer)
    assert manager.get_config(viewer, "running") == {"flyos-system:system": {"hostname": "base"}}


def test_viewer_cannot_lock_discard_rollback_or_copy(manager: Manager, viewer: Session) -> None:
    with pytest.raises(AccessDenied):
        manager.lock(viewer, "running")
    with pytest.raises(AccessDenied):
        manager.discard(viewer)
    with pytest.raises(AccessDenied):
        manager.rollback(viewer, 0)
    with pytest.raises(AccessDenied):
        manager.copy(viewer, "running", "startup")


def test_viewer_can_read(manager: Manager, viewer: Session) -> None:
    assert manager.get_config(viewer, "running") == {"flyos-system:system": {"hostname": "base"}}
    assert manager.get(viewer) == {"flyos-system:system": {"hostname": "base"}}
    assert manager.history(viewer)[0]["commit-id"] == 1
    assert manager.compare(viewer, "running", "candidate") == []
    manager.validate(viewer, "running")


def test_operator_can_edit_and_commit(manager: Manager, schema: Schema) -> None:
    operator = manager.open_session("olga", "netconf", "operator")
    manager.edit(operator, "candidate", hostname(schema, "new"))
    assert manager.commit(operator).commit_id == 2


def test_operator_cannot_delete_startup(manager: Manager) -> None:
    operator = manager.open_session("olga", "netconf", "operator")
    with pytest.raises(AccessDenied):
        manager.delete(operator, "startup")


def test_unknown_group_is_refused(manager: Manager) -> None:
    with pytest.raises(InvalidValue):
        manager.open_session("mallory", "rest", "root")
