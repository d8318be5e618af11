"""A kernel step failing anywhere in a commit leaves running, kernel and journal as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import hostname_edit

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal, JournalError
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import FlyosError, OperationFailed
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

FULL = json.loads((Path(__file__).resolve().parents[3] / "examples" / "full.json").read_text())
SMALL = {
    "flyos-system:system": {"hostname": "small"},
    "flyos-vrf:vrfs": {"vrf": [{"name": "red", "table": 100}, {"name": "old", "table": 7}]},
    "flyos-interfaces:interfaces": {
        "interface": [
            {"name": "eth0", "type": "ethernet", "mtu": 9000},
            {"name": "eth9", "type": "ethernet"},
        ]
    },
}


@pytest.fixture
def alice(manager: Manager) -> Session:
    session = manager.open_session("alice", "netconf")
    manager.copy(session, "running", "running", config=SMALL)
    return session


def state(manager: Manager, session: Session, backend: MemoryBackend) -> tuple[Any, ...]:
    """Everything a failed commit must leave alone."""
    return manager.get_config(session, "running"), backend.snapshot(), manager.history(session)


def arm_failure(backend: MemoryBackend, step: int) -> None:
    """Fail step `step` of the next commit (steps count from each commit's start)."""
    backend.fail_next_commit_at(step)


def test_full_config_over_a_small_one_is_dozens_of_steps(manager: Manager, alice: Session) -> None:
    manager.copy(alice, "running", "candidate", config=FULL)
    plan = manager.commit(alice, dry_run=True).plan
    assert plan is not None and len(plan) >= 24
    assert {step["op"] for step in plan} == {"create", "modify", "delete"}


def test_failure_at_every_step_leaves_running_kernel_and_journal_unchanged(
    manager: Manager, alice: Session, backend: MemoryBackend
) -> None:
    manager.copy(alice, "running", "candidate", config=FULL)
    plan = manager.commit(alice, dry_run=True).plan
    assert plan is not None
    before = state(manager, alice, backend)
    for step in range(1, len(plan) + 1):
        arm_failure(backend, step)
        with pytest.raises(FlyosError) as caught:
            manager.commit(alice)
        failing = plan[step - 1]["object"]
        assert caught.value.path == failing, f"step {step}"
        assert f"step {step}" in caught.value.message
        assert state(manager, alice, backend) == before, f"step {step}"
    backend.fail_next_commit_at(None)
    result = manager.commit(alice)
    assert result.commit_id == 2
    assert len(result.changes) == len(plan)
    assert manager.get_config(alice, "running") == manager.get_config(alice, "candidate")


def test_commit_after_failures_puts_exactly_the_new_config_in_the_kernel(
    manager: Manager, alice: Session, backend: MemoryBackend, schema: Schema, tmp_path: Path
) -> None:
    for step in (1, 5, 17):
        manager.copy(alice, "running", "candidate", config=FULL)
        arm_failure(backend, step)
        with pytest.raises(FlyosError):
            manager.commit(alice)
    backend.fail_next_commit_at(None)
    manager.commit(alice)
    fresh = MemoryBackend(schema)
    clean = Manager(schema, Journal(tmp_path / "clean.db", schema), fresh)
    try:
        clean.copy(clean.open_session("bob", "test"), "running", "running", config=FULL)
        assert backend.kernel == fresh.kernel
    finally:
        clean.close()


def test_failed_commit_keeps_the_candidate(
    manager: Manager, alice: Session, backend: MemoryBackend
) -> None:
    manager.copy(alice, "running", "candidate", config=FULL)
    candidate = manager.get_config(alice, "candidate")
    arm_failure(backend, 3)
    with pytest.raises(FlyosError):
        manager.commit(alice)
    assert manager.get_config(alice, "candidate") == candidate


def test_failure_on_a_one_shot_edit_of_running(
    manager: Manager, alice: Session, backend: MemoryBackend, schema: Schema
) -> None:
    before = state(manager, alice, backend)
    arm_failure(backend, 2)
    edits = [
        hostname_edit(schema, "big"),
        Edit("delete", parse_path(schema, "/interfaces/interface[name='eth9']")),
    ]
    with pytest.raises(OperationFailed):
        manager.edit(alice, "running", edits)
    assert state(manager, alice, backend) == before


def test_failure_step_counts_from_the_start_of_the_next_commit(
    manager: Manager, alice: Session, backend: MemoryBackend
) -> None:
    """fail_next_commit_at(1) makes the first step of the next commit fail,
    however many steps earlier commits applied."""
    manager.copy(alice, "running", "candidate", config=FULL)
    backend.fail_next_commit_at(1)
    with pytest.raises(OperationFailed):
        manager.commit(alice)


def test_journal_write_failure_reverts_the_kernel_and_keeps_running(
    manager: Manager, alice: Session, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager.copy(alice, "running", "candidate", config=FULL)
    running, kernel = manager.get_config(alice, "running"), backend.snapshot()

    def broken_append(**_: Any) -> None:
        raise JournalError("journal append failed: disk I/O error")

    monkeypatch.setattr(manager.journal, "append", broken_append)
    with pytest.raises(OperationFailed) as caught:
        manager.commit(alice)
    assert "disk I/O error" in caught.value.message
    assert manager.get_config(alice, "running") == running
    assert backend.kernel == kernel
