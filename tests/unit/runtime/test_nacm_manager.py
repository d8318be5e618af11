"""NACM enforced by the Manager: every verb, every datastore, the recovery session,
NACM configured through the datastore itself, and the audit log."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import AccessDenied, InvalidValue
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
BASE: dict[str, Any] = {
    "system": {"hostname": "base"},
    "interfaces": {
        "interface": [{"name": "eth0", "type": "ethernet"}, {"name": "wg0", "type": "wireguard"}]
    },
    "tunnels": {"wireguard": [{"name": "wg0", "private-key": KEY}]},
    "routing": {"static": [{"prefix": "10.1.0.0/24", "via": "192.0.2.1"}]},
    "nacm": {
        "groups": {"group": [{"name": "netops", "user-name": ["nina"]}]},
        "rule-list": [
            {
                "name": "10-netops",
                "group": ["netops"],
                "rule": [
                    {
                        "name": "10-routes",
                        "path": "/flyos-routing:routing/static",
                        "access-operations": "*",
                        "action": "permit",
                    },
                    {"name": "20-commit", "rpc-name": "commit", "action": "permit"},
                ],
            }
        ],
    },
}


@pytest.fixture
def base_config() -> dict[str, Any]:
    return BASE


@pytest.fixture
def admin(manager: Manager) -> Session:
    return manager.open_session("alice", "netconf", "admin")


@pytest.fixture
def operator(manager: Manager) -> Session:
    return manager.open_session("olga", "netconf", "operator")


@pytest.fixture
def viewer(manager: Manager) -> Session:
    return manager.open_session("vera", "rest", "viewer")


@pytest.fixture
def nina(manager: Manager) -> Session:
    """A viewer the NACM group netops lets change static routes and commit."""
    return manager.open_session("nina", "ipc", "viewer")


def merge(schema: Schema, path: str, value: Any) -> list[Edit]:
    return [Edit("merge", parse_path(schema, path), value)]


def denied(call: Any, *args: Any, **kwargs: Any) -> AccessDenied:
    with pytest.raises(AccessDenied) as caught:
        call(*args, **kwargs)
    return caught.value


# ---------------------------------------------------------------------- built-in groups


def test_viewers_read_but_change_nothing(manager: Manager, viewer: Session, schema: Schema) -> None:
    for target in ("candidate", "running"):
        error = denied(manager.edit, viewer, target, merge(schema, "/system/hostname", "x"))
        assert error.path == "/flyos-system:system/hostname"
    for call, args in [
        (manager.lock, ("running",)),
        (manager.commit, ()),
        (manager.discard, ()),
        (manager.copy, ("running", "startup")),
    ]:
        denied(call, viewer, *args)
    assert manager.get_config(viewer, "candidate")["flyos-system:system"] == {"hostname": "base"}
    assert manager.history(viewer)[0]["commit-id"] == 1
    manager.validate(viewer, "running")


def test_operators_configure_but_neither_see_nor_touch_access_control(
    manager: Manager, operator: Session, schema: Schema
) -> None:
    manager.edit(operator, "candidate", merge(schema, "/system/hostname", "new"))
    assert manager.commit(operator).commit_id == 2
    assert "ietf-netconf-acm:nacm" not in manager.get_config(operator)
    assert "ietf-netconf-acm:nacm" not in manager.get(operator, with_defaults="report-all")
    error = denied(manager.edit, operator, "running", merge(schema, "/nacm/enable-nacm", False))
    assert error.path == "/ietf-netconf-acm:nacm/enable-nacm"
    wireguard = manager.get_config(operator)["flyos-tunnel:tunnels"]["wireguard"]
    assert wireguard == [{"name": "wg0"}]  # nacm:default-deny-all on private-key


def test_kill_session_and_delete_config_need_a_rule(
    manager: Manager, operator: Session, viewer: Session, admin: Session, schema: Schema
) -> None:
    denied(manager.kill_session, operator, viewer.id)
    denied(manager.delete, operator, "startup")
    rule = {
        "name": "kill",
        "group": ["operator"],
        "rule": [{"name": "1", "rpc-name": "kill-session", "action": "permit"}],
    }
    manager.edit(
        admin, "running", [Edit("merge", parse_path(schema, "/nacm"), {"rule-list": [rule]})]
    )
    manager.kill_session(operator, viewer.id)
    assert viewer.closed


# ---------------------------------------------------------------------- the recovery session


def test_admins_cannot_be_locked_out(manager: Manager, admin: Session, schema: Schema) -> None:
    lockout = {
        "read-default": "deny",
        "exec-default": "deny",
        "rule-list": [{"name": "0-all", "group": ["*"], "rule": [{"name": "1", "action": "deny"}]}],
    }
    manager.edit(admin, "running", [Edit("merge", parse_path(schema, "/nacm"), lockout)])
    manager.lock(admin, "running")
    manager.unlock(admin, "running")
    assert manager.get_config(admin)["ietf-netconf-acm:nacm"]["read-default"] == "deny"
    manager.edit(
        admin,
        "running",
        [Edit("remove", parse_path(schema, "/nacm/rule-list[name='0-all']"), None)],
    )


def test_the_agent_reverts_a_confirmed_commit_whatever_the_rules(
    manager: Manager, nina: Session, admin: Session, schema: Schema
) -> None:
    no_delete = {
        "name": "05-no-delete",
        "path": "/routing/static",
        "access-operations": "delete",
        "action": "deny",
    }
    manager.edit(
        admin, "running", merge(schema, "/nacm/rule-list[name='10-netops']", {"rule": [no_delete]})
    )
    route = "/routing/static[prefix='10.9.0.0/24']"
    manager.edit(nina, "candidate", merge(schema, f"{route}/via", "192.0.2.9"))
    manager.commit(nina, confirmed=True, timeout=60)
    denied(manager.edit, nina, "running", [Edit("delete", parse_path(schema, route), None)])
    manager.close_session(nina)  # the revert deletes the route: the agent's own session may
    routes = manager.get_config(admin)["flyos-routing:routing"]["static"]
    assert [r["prefix"] for r in routes] == ["10.1.0.0/24"]


def test_nacm_disabled_checks_nobody(
    manager: Manager, admin: Session, viewer: Session, schema: Schema
) -> None:
    manager.edit(admin, "running", merge(schema, "/nacm/enable-nacm", False))
    manager.edit(viewer, "running", merge(schema, "/system/hostname", "anyone"))
    assert "ietf-netconf-acm:nacm" in manager.get_config(viewer)


# ---------------------------------------------------------------------- NACM groups and rules


def test_a_nacm_group_extends_a_viewer(manager: Manager, nina: Session, schema: Schema) -> None:
    result = manager.edit(
        nina, "running", merge(schema, "/routing/static[prefix='10.1.0.0/24']/via", "192.0.2.7")
    )
    assert result is not None and result.commit_id == 2
    error = denied(manager.edit, nina, "running", merge(schema, "/system/hostname", "x"))
    assert error.path == "/flyos-system:system/hostname"
    manager.edit(
        nina, "candidate", merge(schema, "/routing/static[prefix='10.2.0.0/24']/via", "192.0.2.2")
    )
    assert manager.commit(nina).commit_id == 3
    denied(manager.lock, nina, "candidate")  # still a viewer for what netops does not grant


def test_a_denied_candidate_edit_leaves_the_candidate_alone(
    manager: Manager, nina: Session, schema: Schema
) -> None:
    edits = [
        *merge(schema, "/routing/static[prefix='10.2.0.0/24']/via", "192.0.2.2"),
        *merge(schema, "/system/hostname", "sneaky"),
    ]
    denied(manager.edit, nina, "candidate", edits)
    assert manager.compare(nina, "running", "candidate") == []


def test_committing_what_someone_else_left_needs_rights_to_all_of_it(
    manager: Manager, nina: Session, operator: Session, schema: Schema
) -> None:
    manager.edit(operator, "candidate", merge(schema, "/system/hostname", "theirs"))
    error = denied(manager.commit, nina)
    assert error.path == "/flyos-system:system/hostname"
    assert manager.get_config(operator)["flyos-system:system"] == {"hostname": "base"}


def test_rollback_and_copy_check_every_node_they_change(
    manager: Manager, admin: Session, nina: Session, operator: Session, schema: Schema
) -> None:
    manager.copy(admin, "running", "startup")
    manager.edit(admin, "running", merge(schema, "/system/hostname", "second"))
    denied(manager.rollback, nina, 1)  # would change the hostname back
    manager.rollback(operator, 1)
    manager.discard(operator)
    assert denied(manager.copy, nina, "running", "startup").path == "/flyos-system:system/hostname"
    manager.copy(operator, "running", "startup")
    manager.edit(admin, "running", merge(schema, "/nacm/write-default", "deny"))
    error = denied(manager.copy, operator, "running", "startup")  # startup's NACM would change
    assert error.path == "/ietf-netconf-acm:nacm/write-default"


def test_reads_and_filters_never_see_hidden_nodes(
    manager: Manager, admin: Session, operator: Session
) -> None:
    probe = f"/tunnels/wireguard[private-key='{KEY}']"
    assert manager.get_config(admin, xpath=probe) != {}
    assert manager.get_config(operator, xpath=probe) == {}
    assert manager.get_config(operator, path="/nacm") == {}
    created = {c["target"]: c for c in manager.compare(operator, "rollback:1", "running")}
    assert "/ietf-netconf-acm:nacm" not in created
    assert created["/flyos-tunnel:tunnels/wireguard[name='wg0']"]["value"] == {"name": "wg0"}


def test_a_rule_that_does_not_resolve_is_refused_at_commit(
    manager: Manager, admin: Session, schema: Schema
) -> None:
    bad = {
        "name": "bad",
        "group": ["*"],
        "rule": [{"name": "1", "path": "/routing/nope", "action": "deny"}],
    }
    with pytest.raises(InvalidValue) as caught:
        manager.edit(
            admin, "running", [Edit("merge", parse_path(schema, "/nacm"), {"rule-list": [bad]})]
        )
    assert caught.value.path == "/ietf-netconf-acm:nacm/rule-list[name='bad']/rule[name='1']/path"
    assert "bad" not in str(manager.get_config(admin, path="/nacm"))


# ---------------------------------------------------------------------- audit and counters


def audit_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.audit for r in caplog.records if r.name == "flyos.audit"]  # type: ignore[attr-defined]


def test_denials_are_audited_and_counted(
    manager: Manager,
    viewer: Session,
    admin: Session,
    schema: Schema,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="flyos.audit")
    denied(manager.lock, viewer, "running")
    denied(manager.edit, viewer, "running", merge(schema, "/system/hostname", "x"))
    lines = [r for r in audit_records(caplog) if r["event"] == "access-denied"]
    assert lines == [
        {
            "event": "access-denied",
            "user": "vera",
            "channel": "rest",
            "session-id": viewer.id,
            "operation": "lock",
        },
        {
            "event": "access-denied",
            "user": "vera",
            "channel": "rest",
            "session-id": viewer.id,
            "operation": "edit-config",
            "access": "update",
            "path": "/flyos-system:system/hostname",
        },
    ]
    counters = manager.get(admin)["ietf-netconf-acm:nacm"]
    assert (counters["denied-operations"], counters["denied-data-writes"]) == (1, 1)


def test_sessions_commits_rollbacks_and_reverts_are_audited(
    manager: Manager, admin: Session, schema: Schema, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flyos.audit")
    manager.edit(admin, "candidate", merge(schema, "/system/hostname", "trial"))
    manager.commit(admin, confirmed=True, timeout=60)
    manager.cancel_commit(admin)
    manager.rollback(admin, 1)
    manager.close_session(admin)
    events = {r["event"]: r for r in audit_records(caplog)}
    assert events["confirmed-commit"] == {
        "event": "confirmed-commit",
        "id": 2,
        "user": "alice",
        "channel": "netconf",
        "timeout": 60,
        "rollback-to": 1,
    }
    assert events["confirmed-commit-reverted"]["id"] == 3
    assert events["confirmed-commit-reverted"]["to"] == 1
    assert events["rollback"] == {
        "event": "rollback",
        "user": "alice",
        "channel": "netconf",
        "to": 2,
    }
    assert events["session-close"]["user"] == "alice"
    assert {"commit", "session-close"} <= set(events)
