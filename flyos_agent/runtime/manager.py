"""The Manager: the one API every channel calls, with NETCONF's semantics.

Every configuration change goes through `edit` (into a candidate, or into
running as a one-shot transaction) and `commit`; rollback, confirmed-commit
revert and copy to running are ordinary commits through the same engine.
Mutations are serialised by one lock; reads work on immutable snapshots.

Every verb is authorized here, never in a channel: NACM (runtime/nacm.py)
checks the protocol operation first, every node a write creates, changes or
deletes before anything is applied, and filters what a read returns.

Here: sessions, commit and confirmed commit, and the commit engine. Mixins
add the editing verbs (editing.Editing), the read verbs
(queries.ConfigQueries), the datastore administration verbs
(admin.DatastoreAdmin) and the confirmed-commit revert
(confirmed.ConfirmedCommits).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, NoneBackend, Registry
from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.datastore.store import Candidate, Datastore, Datastores
from flyos_agent.errors import FlyosError, InvalidValue, OperationFailed
from flyos_agent.runtime.admin import DatastoreAdmin, unit_paths
from flyos_agent.runtime.audit import audit_event
from flyos_agent.runtime.commit_result import SUMMARY_LIMIT, CommitResult, change_summary
from flyos_agent.runtime.confirmed import (
    DEFAULT_TIMEOUT,
    ConfirmedCommits,
    ConfirmTimer,
    PendingConfirm,
)
from flyos_agent.runtime.edit_options import DEFAULT_OPERATIONS, TEST_OPTIONS
from flyos_agent.runtime.editing import Editing
from flyos_agent.runtime.locking import MutationLock
from flyos_agent.runtime.nacm import AccessControl
from flyos_agent.runtime.queries import ConfigQueries
from flyos_agent.runtime.sessions import Session, SessionTable
from flyos_agent.runtime.transaction import Transaction
from flyos_agent.schema import Schema

log = logging.getLogger(__name__)

SYSTEM_USER = "system"

__all__ = [
    "DEFAULT_OPERATIONS",
    "SUMMARY_LIMIT",
    "SYSTEM_USER",
    "TEST_OPTIONS",
    "CommitResult",
    "Manager",
    "change_summary",
    "unit_paths",
]


class Manager(Editing, DatastoreAdmin, ConfirmedCommits, ConfigQueries):
    """running/candidate/startup with commit, confirmed commit, rollback and locks."""

    def __init__(
        self,
        schema: Schema,
        journal: Journal,
        backend: Backend | None = None,
        *,
        confirm_timeout: int = DEFAULT_TIMEOUT,
    ) -> None:
        self.schema = schema
        self.journal = journal
        self.backend = backend or NoneBackend()
        self.registry = Registry()
        self.backend.register(self.registry)
        self.confirm_timeout = confirm_timeout
        self.sessions = SessionTable()
        self.nacm = AccessControl(schema)
        self._lock = MutationLock()
        running, version = journal.load_running()
        self.stores = Datastores(schema, running, version)
        self.stores.startup = journal.load_startup()
        self._pending: PendingConfirm | None = None
        self._timer = ConfirmTimer(self._on_confirm_timeout)
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._event_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._system = self.sessions.open(SYSTEM_USER, "system", "admin")

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Finish start-up: revert a confirmed commit left pending by a stop or crash."""
        stored = self.journal.pending_confirm()
        if stored is not None:
            pending = PendingConfirm.from_dict(stored)
            log.warning(
                "confirmed commit pending at start-up: reverting to commit %s", pending.rollback_id
            )
            with self._lock:
                self._pending = pending
                self._revert_confirmed("agent restarted before the confirmed commit was confirmed")

    def close(self) -> None:
        """Stop timers and close the journal and backend (a pending confirm stays pending)."""
        self._timer.cancel()
        self.backend.close()
        self.journal.close()

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call `listener(event)` after every commit (netconf-config-change), unfiltered:
        a channel hands each event to a session only through `notification_view`."""
        self._listeners.append(listener)

    def subscribe_events(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call `listener(name, event)` for every other agent event (e.g. 'drift-change'),
        unfiltered like `subscribe`."""
        self._event_listeners.append(listener)

    def notification_view(
        self, session: Session, name: str, event: dict[str, Any]
    ) -> dict[str, Any] | None:
        """`event` (notification `name`, 'netconf-config-change' for a commit) as NACM lets
        subscribed `session` receive it: pruned to what it may read, or None (RFC 8341
        3.4.6; counted in /nacm/denied-notifications)."""
        return self.nacm.notification_view(session, self.stores.running, name, event)

    def emit(self, name: str, event: dict[str, Any]) -> None:
        """Hand event `name` to every event listener (any thread; a failing one is logged)."""
        for listener in list(self._event_listeners):
            try:
                listener(name, event)
            except Exception:
                log.exception("event listener failed for %s", name)

    # ------------------------------------------------------------------ sessions

    def open_session(self, user: str, channel: str, group: str = "admin") -> Session:
        """A new session for `user` on `channel`."""
        session = self.sessions.open(user, channel, group)
        audit_event("session-open", id=session.id, user=user, channel=channel, group=group)
        return session

    def close_session(self, session: Session) -> None:
        """End `session`: release its locks and private candidate; revert its
        non-persistent confirmed commit."""
        with self._lock:
            if self.sessions.close(session.id) is None:
                return
            self.stores.release_session(session.id)
            pending = self._pending
            if pending is not None and pending.persist is None and pending.session_id == session.id:
                self._revert_confirmed(f"session {session.id} ended before confirming")
        audit_event("session-close", id=session.id, user=session.user, channel=session.channel)

    def kill_session(self, session: Session, target_id: int) -> None:
        """End another session (RFC 6241 kill-session)."""
        self._check(session, "kill-session")
        if target_id == session.id:
            raise InvalidValue("a session cannot kill itself; use close-session")
        target = self.sessions.get(target_id)
        self.close_session(target)

    # ------------------------------------------------------------------ commit

    def commit(
        self,
        session: Session,
        *,
        confirmed: bool = False,
        timeout: int | None = None,
        persist: str | None = None,
        persist_id: str | None = None,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> CommitResult:
        """Commit the session's candidate to running.

        With `confirmed`, running reverts after `timeout` seconds unless a
        confirming commit follows; a pending confirmed commit is confirmed by a
        plain commit (from its session, or from any session with its persist-id).
        With `dry_run`, nothing is applied and the result carries the plan.
        """
        self._check(session, "commit")
        with self._lock:
            self.stores.check_writable(Datastore.RUNNING, session.id)
            candidate = self.stores.candidate_of(session.id)
            if candidate is self.stores.shared:
                # the shared candidate holds the lock holder's edits, not ours to commit
                self.stores.check_writable(Datastore.CANDIDATE, session.id)
            pending = self._pending
            if pending is not None and not dry_run:
                pending.check_may_act(session.id, persist_id, "extend" if confirmed else "confirm")
            elif persist_id is not None and not dry_run:
                raise InvalidValue("persist-id given, but no confirmed commit is pending")
            if dry_run:
                return self._dry_run(session, candidate)
            rollback_id = pending.rollback_id if pending else self.stores.version
            result = self._commit_candidate(session, candidate, comment=comment)
            if confirmed:
                seconds = timeout if timeout is not None else self.confirm_timeout
                self._pending = PendingConfirm(
                    rollback_id=rollback_id,
                    session_id=session.id if persist is None else 0,
                    persist=persist,
                    deadline=time.time() + seconds,
                )
                self.journal.set_pending_confirm(self._pending.to_dict())
                self._timer.restart(self._pending.deadline)
                audit_event(
                    "confirmed-commit",
                    id=result.commit_id,
                    user=session.user,
                    channel=session.channel,
                    timeout=seconds,
                    rollback_to=rollback_id,
                )
                return CommitResult(
                    result.commit_id, result.changes, confirm_deadline=self._pending.deadline
                )
            if pending is not None:
                self._clear_pending()
                audit_event(
                    "confirmed-commit-confirmed",
                    id=result.commit_id,
                    user=session.user,
                    channel=session.channel,
                )
            return result

    def confirm(self, session: Session, persist_id: str | None = None) -> CommitResult:
        """Confirm the pending confirmed commit (a commit with nothing new to apply)."""
        with self._lock:  # a revert must not slip in between the check and the commit
            if self._pending is None:
                raise OperationFailed("no confirmed commit is pending")
            return self.commit(session, persist_id=persist_id)

    def cancel_commit(self, session: Session, persist_id: str | None = None) -> None:
        """Revert the pending confirmed commit now (RFC 6241 cancel-commit)."""
        self._check(session, "cancel-commit")
        with self._lock:
            pending = self._pending
            if pending is None:
                raise OperationFailed("no confirmed commit is pending")
            pending.check_may_act(session.id, persist_id, "cancel")
            self._revert_confirmed(f"cancelled by {session.user} (session {session.id})")

    def confirm_pending(self) -> dict[str, Any] | None:
        """The pending confirmed commit, if any (for show commands)."""
        pending = self._pending
        if pending is None:
            return None
        return {
            "rollback-to": pending.rollback_id,
            "session-id": pending.session_id,
            "persist": pending.persist is not None,
            "seconds-left": max(0, round(pending.deadline - time.time())),
        }

    def last_commit(self) -> tuple[int, str] | None:
        """(id, time) of the newest commit, or None before the first: a version stamp
        (REST entity tags) that reveals no configuration, so it needs no access right."""
        newest = self.journal.history(1)
        return (newest[0].id, newest[0].time) if newest else None

    # ------------------------------------------------------------------ internals

    def _commit_candidate(
        self,
        session: Session,
        candidate: Candidate,
        *,
        comment: str | None,
        operation: str = "commit",
    ) -> CommitResult:
        """Run one transaction from running to what `candidate` commits to
        (`operation` names the protocol operation in an access-denied audit line)."""
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        self.nacm.check_writes(session, old, lambda: changes, operation)
        if not changes:
            self._reset(candidate)
            return CommitResult(None)
        transaction = Transaction(self.schema, self.registry, old, new, changes)
        transaction.validate()
        self.nacm.validate(changes, new)
        transaction.prepare()
        self.backend.begin()
        transaction.apply()
        try:
            record = self.journal.append(
                user=session.user,
                channel=session.channel,
                comment=comment,
                changes=changes,
                tree=new,
                snapshot_inline=False,
            )
        except Exception as exc:
            log.exception("journal write failed; reverting the kernel")
            transaction.revert()
            if isinstance(exc, FlyosError):
                raise
            raise OperationFailed(f"commit not recorded, nothing changed: {exc}") from exc
        self.stores.publish(new, record.id)
        self._reset(candidate)
        if self.journal.needs_snapshot():
            self.journal.snapshot_in_background(record.id, new)
        summary = change_summary(self.schema, changes)
        audit_event(
            "commit", id=record.id, user=session.user, channel=session.channel, changes=len(changes)
        )
        self._notify(session, record.id, summary)
        return CommitResult(record.id, summary)

    def _reset(self, candidate: Candidate) -> None:
        candidate.tree, candidate.base_version = self.stores.running, self.stores.version
        candidate.touched = set()

    def _dry_run(self, session: Session, candidate: Candidate) -> CommitResult:
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        self.nacm.check_writes(session, old, lambda: changes, "commit")
        transaction = Transaction(self.schema, self.registry, old, new, changes)
        transaction.validate()
        self.nacm.validate(changes, new)
        steps = transaction.prepare()
        return CommitResult(
            None, change_summary(self.schema, changes), plan=[step.plan for step in steps]
        )

    def _on_confirm_timeout(self, token: int) -> None:
        with self._lock:
            if token != self._timer.token or self._pending is None:
                return
            try:
                self._revert_confirmed("confirm timeout expired")
            except FlyosError:
                log.exception("reverting the confirmed commit failed")

    def _notify(self, session: Session, commit_id: int, summary: list[dict[str, Any]]) -> None:
        event = {
            "commit-id": commit_id,
            "user": session.user,
            "session-id": session.id,
            "channel": session.channel,
            "changes": summary,
        }
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("commit listener failed")

    def _check(self, session: Session, operation: str) -> None:
        """AccessDenied unless `session` is open and may execute `operation`."""
        self.sessions.check_open(session)
        self.nacm.check_exec(session, self.stores.running, operation)

    def _authorize_change(
        self,
        session: Session,
        old: Map[str, Any],
        new: Map[str, Any],
        touched: set[InstancePath] | None,
        operation: str,
    ) -> None:
        """AccessDenied if `session` may not write a node that differs from `old` to
        `new` (the diff is computed only when NACM restricts the session)."""
        self.nacm.check_writes(
            session,
            self.stores.running,
            lambda: diff_trees(self.schema, old, new, touched),
            operation,
        )
