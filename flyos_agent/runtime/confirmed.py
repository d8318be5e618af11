"""Confirmed commit (RFC 6241 :confirmed-commit:1.1): who may confirm, the timer,
and the Manager's revert of a confirmed commit that was not confirmed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyos_agent.datastore.store import Candidate
from flyos_agent.errors import InvalidValue, OperationFailed
from flyos_agent.runtime.admin import unit_paths
from flyos_agent.runtime.audit import audit_event

if TYPE_CHECKING:
    from flyos_agent.datastore.journal import Journal
    from flyos_agent.runtime.commit_result import CommitResult
    from flyos_agent.runtime.sessions import Session
    from flyos_agent.schema import Schema

DEFAULT_TIMEOUT = 600


@dataclass
class PendingConfirm:
    """A confirmed commit waiting for its confirmation.

    `rollback_id` is the commit that running returns to on timeout or cancel:
    the running configuration before the first confirmed commit of the series.
    """

    rollback_id: int
    session_id: int
    persist: str | None
    deadline: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, persisted so a restart can revert."""
        return {
            "rollback_id": self.rollback_id,
            "session_id": self.session_id,
            "persist": self.persist,
            "deadline": self.deadline,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingConfirm:
        """Inverse of to_dict."""
        return cls(
            rollback_id=int(data["rollback_id"]),
            session_id=int(data["session_id"]),
            persist=data.get("persist"),
            deadline=float(data["deadline"]),
        )

    def check_may_act(self, session_id: int, persist_id: str | None, action: str) -> None:
        """Refuse a confirm/extend/cancel that this session may not issue.

        With persist, any session may act by giving the matching persist-id;
        without, only the session that issued the confirmed commit may.
        """
        if self.persist is not None:
            if persist_id is None:
                raise InvalidValue(
                    f"a persistent confirmed commit is pending; {action} needs its persist-id",
                    app_tag="missing-persist-id",
                )
            if persist_id != self.persist:
                raise InvalidValue(
                    f"persist-id '{persist_id}' does not match the pending confirmed commit",
                    app_tag="bad-persist-id",
                )
        elif persist_id is not None:
            raise InvalidValue(
                "persist-id given, but the pending confirmed commit was not made with persist"
            )
        elif session_id != self.session_id:
            raise OperationFailed(
                f"only session {self.session_id}, which issued the confirmed commit, "
                f"may {action} it"
            )


class ConfirmTimer:
    """Runs `on_timeout(token)` once a deadline passes; restart() supersedes the old one."""

    def __init__(self, on_timeout: Callable[[int], None]) -> None:
        self._on_timeout = on_timeout
        self._timer: threading.Timer | None = None
        self._token = 0

    @property
    def token(self) -> int:
        """Identifies the current arming; a firing with an older token is stale."""
        return self._token

    def restart(self, deadline: float) -> None:
        """(Re)arm for `deadline` (time.time() seconds)."""
        self.cancel()
        self._token += 1
        token = self._token
        self._timer = threading.Timer(max(0.0, deadline - time.time()), self._on_timeout, (token,))
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        """Disarm."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._token += 1


class ConfirmedCommits:
    """Mixed into Manager: who may change running while a confirmed commit is
    pending, and reverting or forgetting that commit (all with the lock held)."""

    schema: Schema
    journal: Journal
    _pending: PendingConfirm | None
    _timer: ConfirmTimer
    _system: Session

    if TYPE_CHECKING:  # provided by Manager

        def _commit_candidate(
            self, session: Session, candidate: Candidate, *, comment: str | None, operation: str
        ) -> CommitResult: ...

    def _check_may_change_running(self, session: Session) -> None:
        """A one-shot change of running while a confirmed commit is pending is allowed
        only to whoever may confirm it: anyone else's change would be silently undone
        by the revert."""
        if self._pending is not None:
            self._pending.check_may_act(
                session.id, None, "change running before confirming or cancelling"
            )

    def _revert_confirmed(self, reason: str) -> None:
        """Commit the configuration from before the confirmed commit (lock held)."""
        pending = self._pending
        assert pending is not None
        tree = self.journal.tree_at(pending.rollback_id)
        scratch = Candidate(tree, -1, unit_paths(self.schema))
        result = self._commit_candidate(
            self._system,
            scratch,
            comment=f"confirmed commit reverted: {reason}",
            operation="commit",
        )
        self._clear_pending()
        audit_event(
            "confirmed-commit-reverted",
            level=logging.WARNING,
            id=result.commit_id,
            user=self._system.user,
            channel=self._system.channel,
            to=pending.rollback_id,
            reason=reason,
        )

    def _clear_pending(self) -> None:
        self._pending = None
        self._timer.cancel()
        self.journal.clear_pending_confirm()
