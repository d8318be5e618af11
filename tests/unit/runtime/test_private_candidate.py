"""Private candidates (Junos `configure private`): isolation, and merge over a moved-on running."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_helpers import hostname_edit, route_path, static_routes

from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import InUse, OperationNotSupported
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

BASE = {
    "system": {"hostname": "base"},
    "routing": {"static": [{"prefix": "10.0.0.0/8", "via": "192.0.2.1"}]},
}


@pytest.fixture
def base_config() -> dict[str, Any]:
    return BASE


@pytest.fixture
def alice(manager: Manager) -> Session:
    """Alice works in a private candidate."""
    session = manager.open_session("alice", "dsl")
    manager.enter_private(session)
    return session


@pytest.fixture
def bob(manager: Manager) -> Session:
    """Bob works in the shared candidate."""
    return manager.open_session("bob", "netconf")


def add_route(schema: Schema, prefix: str, via: str = "192.0.2.1") -> list[Edit]:
    return [Edit("merge", route_path(schema, prefix), {"via": via})]


def routes(manager: Manager, session: Session, source: str) -> dict[str, Any]:
    return {
        prefix: entry["via"] for prefix, entry in static_routes(manager, session, source).items()
    }


def test_private_edits_are_invisible_to_the_shared_candidate_and_running(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    assert "10.1.0.0/16" in routes(manager, alice, "candidate")
    assert "10.1.0.0/16" not in routes(manager, bob, "candidate")
    assert "10.1.0.0/16" not in routes(manager, bob, "running")


def test_shared_candidate_edits_are_invisible_to_a_private_candidate(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", add_route(schema, "10.2.0.0/16"))
    assert "10.2.0.0/16" not in routes(manager, alice, "candidate")


def test_two_private_candidates_are_isolated(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    carol = manager.open_session("carol", "rest")
    manager.enter_private(carol)
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.edit(carol, "candidate", add_route(schema, "10.3.0.0/16"))
    assert set(routes(manager, alice, "candidate")) == {"10.0.0.0/8", "10.1.0.0/16"}
    assert set(routes(manager, carol, "candidate")) == {"10.0.0.0/8", "10.3.0.0/16"}


def test_committing_a_private_candidate_commits_only_its_own_edits(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", add_route(schema, "10.2.0.0/16"))
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.commit(alice)
    assert set(routes(manager, bob, "running")) == {"10.0.0.0/8", "10.1.0.0/16"}
    manager.commit(bob)
    assert set(routes(manager, bob, "running")) == {"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"}


def test_private_commit_merges_its_edits_over_a_running_that_moved_on(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.edit(alice, "candidate", add_route(schema, "10.0.0.0/8", via="192.0.2.8"))
    manager.edit(bob, "running", add_route(schema, "10.2.0.0/16"))
    manager.edit(bob, "running", [hostname_edit(schema, "moved-on")])
    manager.commit(alice)
    assert routes(manager, bob, "running") == {
        "10.0.0.0/8": "192.0.2.8",
        "10.1.0.0/16": "192.0.2.1",
        "10.2.0.0/16": "192.0.2.1",
    }
    assert manager.get_config(bob, "running")["flyos-system:system"] == {"hostname": "moved-on"}


def test_private_delete_applies_over_a_running_that_moved_on(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(
        alice,
        "candidate",
        [Edit("delete", parse_path(schema, "/routing/static[prefix='10.0.0.0/8']"))],
    )
    manager.edit(bob, "running", add_route(schema, "10.2.0.0/16"))
    manager.commit(alice)
    assert set(routes(manager, bob, "running")) == {"10.2.0.0/16"}


def test_an_untouched_private_candidate_follows_running(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "running", add_route(schema, "10.2.0.0/16"))
    assert routes(manager, alice, "candidate") == routes(manager, bob, "running")


def test_private_candidate_needs_no_lock(manager: Manager, alice: Session) -> None:
    with pytest.raises(OperationNotSupported):
        manager.lock(alice, "candidate")


def test_entering_private_is_refused_while_the_shared_candidate_is_modified(
    manager: Manager, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", add_route(schema, "10.2.0.0/16"))
    carol = manager.open_session("carol", "rest")
    with pytest.raises(InUse):
        manager.enter_private(carol)


def test_entering_private_again_keeps_the_private_edits(
    manager: Manager, alice: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.enter_private(alice)
    assert "10.1.0.0/16" in routes(manager, alice, "candidate")


def test_discard_drops_only_the_private_edits(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(bob, "candidate", add_route(schema, "10.2.0.0/16"))
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.discard(alice)
    assert "10.1.0.0/16" not in routes(manager, alice, "candidate")
    assert "10.2.0.0/16" in routes(manager, bob, "candidate")


def test_closing_the_session_drops_its_private_candidate(
    manager: Manager, alice: Session, bob: Session, schema: Schema
) -> None:
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.close_session(alice)
    assert alice.id not in manager.stores.private
    assert "10.1.0.0/16" not in routes(manager, bob, "candidate")


def test_compare_shows_only_the_private_edits_after_running_moved_on(
    manager: Manager, schema: Schema, alice: Session, bob: Session
) -> None:
    manager.edit(alice, "candidate", add_route(schema, "10.1.0.0/16"))
    manager.edit(bob, "running", add_route(schema, "10.2.0.0/16"))
    changes = manager.compare(alice, "running", "candidate")
    assert [(c["operation"], c["target"]) for c in changes] == [
        ("create", "/flyos-routing:routing/static[prefix='10.1.0.0/16']")
    ]
    assert {"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"} == set(routes(manager, alice, "candidate"))
