"""What the MCP tools need from the agent, and its in-process implementation.

The tool layer (tools.py, guardrails.py) is written against `Operations`, a
small protocol with one implementation per transport: `ManagerOperations`
calls the Manager in-process for the streamable-HTTP endpoint at /mcp;
`cli.mcp_bridge.IpcOperations` calls the agent over the IPC socket for
`flyos mcp` (stdio). Both act for one agent session that edits a private
candidate, and both raise the agent's own `FlyosError`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flyos_agent.datastore.edit import Edit
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema

CHANNEL = "mcp"


class Operations(Protocol):
    """One agent session with a private candidate, as the MCP tools use it."""

    @property
    def schema(self) -> Schema:
        """The compiled schema the tools are generated from."""

    def edit_candidate(self, edits: Sequence[Edit]) -> None:
        """Apply `edits` to this session's private candidate."""

    def get_config(
        self, source: str, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """A datastore's configuration as RFC 7951 JSON, optionally filtered."""

    def get_state(
        self, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """Running configuration plus operational state."""

    def compare(self, source: str, target: str) -> list[dict[str, Any]]:
        """The changes from `source` to `target`."""

    def validate(self, source: str) -> None:
        """Check every constraint of `source`."""

    def commit(
        self,
        *,
        confirmed: bool = False,
        timeout: int | None = None,
        persist: str | None = None,
        persist_id: str | None = None,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Commit the candidate (or, with `dry_run`, return its changes and plan)."""

    def confirm(self, persist_id: str | None) -> dict[str, Any]:
        """Confirm the pending confirmed commit."""

    def cancel_commit(self, persist_id: str | None) -> None:
        """Revert the pending confirmed commit now."""

    def discard(self) -> None:
        """Drop the candidate's uncommitted edits."""

    def rollback(self, index: int, commit_id: int | None) -> None:
        """Load an earlier configuration into the candidate."""

    def history(self, limit: int | None) -> list[dict[str, Any]]:
        """Commit history, newest first."""

    def close(self) -> None:
        """End the agent session (its unconfirmed, non-persistent commit reverts)."""


class ManagerOperations:
    """`Operations` on the in-process Manager, for one caller with a private candidate."""

    def __init__(self, manager: Manager, user: str, group: str) -> None:
        self._manager = manager
        self.session = manager.open_session(user, CHANNEL, group)
        try:
            manager.enter_private(self.session)
        except BaseException:
            manager.close_session(self.session)
            raise

    @property
    def schema(self) -> Schema:
        """The Manager's compiled schema."""
        return self._manager.schema

    def edit_candidate(self, edits: Sequence[Edit]) -> None:
        """Apply `edits` to the private candidate."""
        self._manager.edit(self.session, "candidate", edits)

    def get_config(
        self, source: str, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """See `Operations.get_config`."""
        return self._manager.get_config(
            self.session, source, path=path, xpath=xpath, with_defaults=with_defaults
        )

    def get_state(
        self, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """See `Operations.get_state`."""
        return self._manager.get(self.session, path=path, xpath=xpath, with_defaults=with_defaults)

    def compare(self, source: str, target: str) -> list[dict[str, Any]]:
        """See `Operations.compare`."""
        return self._manager.compare(self.session, source, target)

    def validate(self, source: str) -> None:
        """See `Operations.validate`."""
        self._manager.validate(self.session, source)

    def commit(
        self,
        *,
        confirmed: bool = False,
        timeout: int | None = None,
        persist: str | None = None,
        persist_id: str | None = None,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """See `Operations.commit`."""
        return self._manager.commit(
            self.session,
            confirmed=confirmed,
            timeout=timeout,
            persist=persist,
            persist_id=persist_id,
            comment=comment,
            dry_run=dry_run,
        ).to_dict()

    def confirm(self, persist_id: str | None) -> dict[str, Any]:
        """See `Operations.confirm`."""
        return self._manager.confirm(self.session, persist_id).to_dict()

    def cancel_commit(self, persist_id: str | None) -> None:
        """See `Operations.cancel_commit`."""
        self._manager.cancel_commit(self.session, persist_id)

    def discard(self) -> None:
        """See `Operations.discard`."""
        self._manager.discard(self.session)

    def rollback(self, index: int, commit_id: int | None) -> None:
        """See `Operations.rollback`."""
        self._manager.rollback(self.session, index, commit_id=commit_id)

    def history(self, limit: int | None) -> list[dict[str, Any]]:
        """See `Operations.history`."""
        return self._manager.history(self.session, limit)

    def close(self) -> None:
        """See `Operations.close`."""
        self._manager.close_session(self.session)
