"""Validation at commit: leafrefs both ways, must, when, unique, mandatory; `validate`."""

from __future__ import annotations

from typing import Any

import pytest

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import DataMissing, FlyosError
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

BASE = {
    "interfaces": {
        "interface": [{"name": "eth0", "type": "ethernet"}, {"name": "eth1", "type": "ethernet"}]
    },
    "vrfs": {"vrf": [{"name": "red", "table": 100}]},
    "routing": {"static": [{"prefix": "10.0.0.0/8", "via": "192.0.2.1", "dev": "eth0"}]},
}
ROUTE_XPATH = "/flyos-routing:routing/static[prefix='10.0.0.0/8']"
ETH0_XPATH = "/flyos-interfaces:interfaces/interface[name='eth0']"


@pytest.fixture
def base_config() -> dict[str, Any]:
    return BASE


def edit(schema: Schema, operation: str, path: str, value: Any = None) -> Edit:
    return Edit(operation, parse_path(schema, path), value)


def refused(manager: Manager, session: Session, *edits: Edit) -> FlyosError:
    """Put `edits` into the candidate, commit, and return the refusal (running unchanged)."""
    before = manager.get_config(session, "running")
    commits = len(manager.history(session))
    manager.edit(session, "candidate", list(edits))
    with pytest.raises(FlyosError) as caught:
        manager.commit(session)
    assert manager.get_config(session, "running") == before
    assert len(manager.history(session)) == commits
    return caught.value


def everything_said(error: FlyosError) -> str:
    """Message, paths and info of every error in `error`, as one text."""
    return " ".join(
        f"{e.message} {e.path} {' '.join(str(v) for v in e.info.values())}" for e in error.errors
    )


# ---------------------------------------------------------------- leafrefs


def test_dangling_leafref_is_refused_naming_the_route(
    manager: Manager, session: Session, schema: Schema
) -> None:
    error = refused(
        manager,
        session,
        edit(schema, "create", "/routing/static[prefix='10.1.0.0/16']", {"dev": "eth9"}),
    )
    assert isinstance(error, DataMissing)
    assert error.app_tag == "instance-required"
    assert error.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']/dev"


def test_dangling_leafref_is_refused_on_running_too(
    manager: Manager, session: Session, schema: Schema, backend: MemoryBackend
) -> None:
    kernel = backend.snapshot()
    with pytest.raises(DataMissing) as caught:
        manager.edit(
            session,
            "running",
            [edit(schema, "create", "/routing/static[prefix='10.1.0.0/16']", {"dev": "eth9"})],
        )
    assert caught.value.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']/dev"
    assert backend.kernel == kernel


def test_deleting_an_interface_a_route_uses_is_refused_and_running_is_unchanged(
    manager: Manager, session: Session, schema: Schema, backend: MemoryBackend
) -> None:
    kernel = backend.snapshot()
    error = refused(manager, session, edit(schema, "delete", "/interfaces/interface[name='eth0']"))
    assert isinstance(error, DataMissing)
    assert ROUTE_XPATH in everything_said(error)
    assert backend.kernel == kernel


def test_deleting_an_interface_a_route_uses_names_both_the_interface_and_the_route(
    manager: Manager, session: Session, schema: Schema
) -> None:
    """The refusal names the referring route AND the interface instance being deleted."""
    error = refused(manager, session, edit(schema, "delete", "/interfaces/interface[name='eth0']"))
    said = everything_said(error)
    assert ROUTE_XPATH in said
    assert ETH0_XPATH in said


def test_deleting_an_interface_nothing_uses_is_accepted(
    manager: Manager, session: Session, schema: Schema
) -> None:
    manager.edit(
        session, "candidate", [edit(schema, "delete", "/interfaces/interface[name='eth1']")]
    )
    assert manager.commit(session).changed


def test_edit_below_a_missing_interface_validates_the_interface_it_creates(
    manager: Manager, session: Session, schema: Schema
) -> None:
    """Merging an address under a new interface creates the interface, without its
    mandatory type: the commit must check that entry too, not only the address."""
    error = refused(
        manager,
        session,
        edit(
            schema,
            "merge",
            "/interfaces/interface[name='eth2']/ipv4/address[ip='10.1.1.1']",
            {"prefix-length": 24},
        ),
    )
    assert isinstance(error, DataMissing)
    assert error.path == "/flyos-interfaces:interfaces/interface[name='eth2']/type"


# ---------------------------------------------------------------- must / when / unique / mandatory


def test_must_violation_is_refused_with_its_error_message(
    manager: Manager, session: Session, schema: Schema
) -> None:
    error = refused(
        manager,
        session,
        edit(
            schema,
            "create",
            "/routing/static[prefix='10.1.0.0/16']",
            {"type": "blackhole", "via": "192.0.2.1"},
        ),
    )
    assert error.tag == "operation-failed"
    assert error.app_tag == "must-violation"
    assert error.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']"
    assert "takes no via, dev or nexthop" in error.message


def test_must_violation_reading_another_module_is_refused(
    manager: Manager, session: Session, schema: Schema
) -> None:
    """An interface cannot take the name of a VRF (must with an absolute path)."""
    error = refused(
        manager,
        session,
        edit(schema, "create", "/interfaces/interface[name='red']", {"type": "dummy"}),
    )
    assert error.app_tag == "must-violation"
    assert "already used by a VRF" in error.message


def test_when_violation_is_refused(manager: Manager, session: Session, schema: Schema) -> None:
    error = refused(
        manager,
        session,
        edit(
            schema,
            "merge",
            "/interfaces/interface[name='eth1']",
            {"vlan": {"parent": "eth0", "id": 10}},
        ),
    )
    assert error.app_tag == "when-violation"
    assert error.path == "/flyos-interfaces:interfaces/interface[name='eth1']/vlan"


def test_unique_violation_is_refused_naming_both_entries(
    manager: Manager, session: Session, schema: Schema
) -> None:
    error = refused(
        manager, session, edit(schema, "create", "/vrfs/vrf[name='blue']", {"table": 100})
    )
    assert error.app_tag == "data-not-unique"
    said = everything_said(error)
    assert "/flyos-vrf:vrfs/vrf[name='blue']" in said
    assert "/flyos-vrf:vrfs/vrf[name='red']" in said


def test_unique_over_two_leaves_is_refused(
    manager: Manager, session: Session, schema: Schema
) -> None:
    vlan = {"type": "vlan", "vlan": {"parent": "eth0", "id": 10}}
    error = refused(
        manager,
        session,
        edit(schema, "create", "/interfaces/interface[name='v1']", vlan),
        edit(schema, "create", "/interfaces/interface[name='v2']", vlan),
    )
    assert error.app_tag == "data-not-unique"


def test_missing_mandatory_leaf_is_refused(
    manager: Manager, session: Session, schema: Schema
) -> None:
    error = refused(manager, session, edit(schema, "create", "/vrfs/vrf[name='blue']", {}))
    assert isinstance(error, DataMissing)
    assert error.path == "/flyos-vrf:vrfs/vrf[name='blue']/table"


def test_a_refused_commit_keeps_the_candidate_for_fixing(
    manager: Manager, session: Session, schema: Schema
) -> None:
    refused(manager, session, edit(schema, "create", "/vrfs/vrf[name='blue']", {}))
    manager.edit(session, "candidate", [edit(schema, "merge", "/vrfs/vrf[name='blue']/table", 7)])
    assert manager.commit(session).changed
    vrfs = manager.get_config(session, "running")["flyos-vrf:vrfs"]["vrf"]
    assert {"name": "blue", "table": 7} in vrfs


# ---------------------------------------------------------------- validate


def test_validate_reports_candidate_errors_without_committing(
    manager: Manager, session: Session, schema: Schema
) -> None:
    running = manager.get_config(session, "running")
    commits = len(manager.history(session))
    manager.edit(
        session,
        "candidate",
        [edit(schema, "create", "/routing/static[prefix='10.1.0.0/16']", {"dev": "eth9"})],
    )
    candidate = manager.get_config(session, "candidate")
    with pytest.raises(DataMissing) as caught:
        manager.validate(session, "candidate")
    assert caught.value.path == "/flyos-routing:routing/static[prefix='10.1.0.0/16']/dev"
    assert manager.get_config(session, "running") == running
    assert manager.get_config(session, "candidate") == candidate
    assert len(manager.history(session)) == commits


def test_validate_reports_every_error_at_once(
    manager: Manager, session: Session, schema: Schema
) -> None:
    manager.edit(
        session,
        "candidate",
        [
            edit(schema, "create", "/routing/static[prefix='10.1.0.0/16']", {"dev": "eth9"}),
            edit(schema, "create", "/vrfs/vrf[name='blue']", {}),
        ],
    )
    with pytest.raises(FlyosError) as caught:
        manager.validate(session, "candidate")
    paths = {e.path for e in caught.value.errors}
    assert paths == {
        "/flyos-routing:routing/static[prefix='10.1.0.0/16']/dev",
        "/flyos-vrf:vrfs/vrf[name='blue']/table",
    }


def test_validate_of_a_valid_candidate_passes(
    manager: Manager, session: Session, schema: Schema
) -> None:
    manager.edit(
        session,
        "candidate",
        [edit(schema, "create", "/routing/static[prefix='10.1.0.0/16']", {"dev": "eth1"})],
    )
    manager.validate(session, "candidate")
