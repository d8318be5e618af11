"""Plain helpers shared by the runtime unit tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import InstancePath, parse_path
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema


def make_manager(
    path: Path,
    schema: Schema,
    backend: MemoryBackend,
    *,
    base: dict[str, Any] | None = None,
    confirm_timeout: int | None = None,
    **journal: Any,
) -> Manager:
    """A started Manager over a journal at `path`; `base`, if given, is copied into running.

    `confirm_timeout` is passed to the Manager only when given; `journal` goes to the Journal.
    """
    options: dict[str, Any] = (
        {} if confirm_timeout is None else {"confirm_timeout": confirm_timeout}
    )
    mgr = Manager(schema, Journal(path, schema, **journal), backend, **options)
    mgr.start()
    if base is not None:
        setup = mgr.open_session("setup", "test")
        mgr.copy(setup, "running", "running", config=base)
        mgr.close_session(setup)
    return mgr


def route_path(schema: Schema, prefix: str) -> InstancePath:
    return parse_path(schema, f"/routing/static[prefix='{prefix}']")


def static_routes(manager: Manager, session: Session, source: str) -> dict[str, dict[str, Any]]:
    """The static routes in `source`, by prefix."""
    config = manager.get_config(session, source)
    entries = config.get("flyos-routing:routing", {}).get("static", [])
    return {entry["prefix"]: entry for entry in entries}


def hostname_edit(schema: Schema, name: str) -> Edit:
    return Edit("merge", parse_path(schema, "/system/hostname"), name)
