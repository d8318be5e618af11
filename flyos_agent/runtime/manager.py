"""The Manager: the one API every channel calls, with NETCONF's semantics.

Every configuration change goes through `edit` (into a candidate, or into
running as a one-shot transaction) and `commit`; rollback, confirmed-commit
revert and copy to running are ordinary commits through the same engine.
Mutations are serialised by one lock; reads work on immutable snapshots.

Here: sessions, editing, commit and confirmed commit, and the commit engine.
Mixins add the read verbs (queries.ConfigQueries), the datastore
administration verbs (admin.DatastoreAdmin) and the confirmed-commit revert
(confirmed.ConfirmedCommits).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from flyos_agent.backends.base import Backend, NoneBackend, Registry
from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.edit import Edit, ErrorOption, apply_edits
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.store import Candidate, Datastore, Datastores
from flyos_agent.datastore.validate import validate_tree
from flyos_agent.errors import (
    FlyosError,
    InvalidValue,
    OperationFailed,
    OperationNotSupported,
    raise_all,
)
from flyos_agent.runtime.admin import DatastoreAdmin, unit_paths
from flyos_agent.runtime.commit_result import SUMMARY_LIMIT, CommitResult, change_summary
from flyos_agent.runtime.confirmed import (
    DEFAULT_TIMEOUT,
    ConfirmedCommits,
    ConfirmTimer,
    PendingConfirm,
)
from flyos_agent.runtime.edit_options import DEFAULT_OPERATIONS, TEST_OPTIONS, parse_edit_options
from flyos_agent.runtime.locking import MutationLock
from flyos_agent.runtime.queries import ConfigQueries
from flyos_agent.runtime.sessions import Session, SessionTable, authorize
from flyos_agent.runtime.transaction import Transaction
from flyos_agent.schema import Schema

log = logging.getLogger(__name__)
audit = logging.getLogger("flyos.audit")

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


class Manager(DatastoreAdmin, ConfirmedCommits, ConfigQueries):
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
        self._lock = MutationLock()
        running, version = journal.load_running()
        self.stores = Datastores(schema, running, version)
        self.stores.startup = journal.load_startup()
        self._pending: PendingConfirm | None = None
        self._timer = ConfirmTimer(self._on_confirm_timeout)
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
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
        """Call `listener(event)` after every commit (netconf-config-change)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ sessions

    def open_session(self, user: str, channel: str, group: str = "admin") -> Session:
        """A new session for `user` on `channel`."""
        session = self.sessions.open(user, channel, group)
        audit.info("session-open id=%s user=%s channel=%s", session.id, user, channel)
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
        audit.info("session-close id=%s user=%s", session.id, session.user)

    def kill_session(self, session: Session, target_id: int) -> None:
        """End another session (RFC 6241 kill-session)."""
        self._check(session, "kill-session")
        if target_id == session.id:
            raise InvalidValue("a session cannot kill itself; use close-session")
        target = self.sessions.get(target_id)
        self.close_session(target)

    def enter_private(self, session: Session) -> None:
        """Give `session` a private candidate (Junos `configure private`)."""
        self.sessions.check_open(session)
        with self._lock:
            self.stores.open_private(session.id)

    # ------------------------------------------------------------------ editing

    def edit(
        self,
        session: Session,
        target: str,
        edits: Sequence[Edit],
        *,
        default_operation: str = "merge",
        error_option: str = "stop-on-error",
        test_option: str = "test-then-set",
    ) -> CommitResult | None:
        """Apply `edits` to `target` (candidate, or running as one transaction).

        On candidate, edits are type-checked and kept; constraints between
        nodes are checked by validate/commit. On running, the edits are
        validated and committed at once; with test-only nothing is applied.
        """
        self._check(session, "write")
        store = Datastore.parse(target)
        option = parse_edit_options(default_operation, error_option, test_option)
        with self._lock:
            if store is Datastore.STARTUP:
                raise OperationNotSupported("edit the candidate or running, then copy to startup")
            self.stores.check_writable(store, session.id)
            if store is Datastore.RUNNING and test_option != "test-only":
                self._check_may_change_running(session)
            if store is Datastore.CANDIDATE and test_option != "test-only":
                result = self.stores.edit_candidate(
                    session.id, list(edits), default_operation, option
                )
                raise_all(result.errors)
                return None
            base = self.stores.candidate_of(session.id) if store is Datastore.CANDIDATE else None
            scratch = Candidate(base.tree if base else self.stores.running, self.stores.version)
            if base is not None:
                scratch.touched = set(base.touched)
            result = apply_edits(
                self.schema,
                scratch.tree,
                list(edits),
                default_operation=default_operation,
                error_option=ErrorOption.ROLLBACK if option is ErrorOption.STOP else option,
            )
            if result.errors and option is not ErrorOption.CONTINUE:
                raise_all(result.errors)
            scratch.tree = result.tree
            scratch.touched |= result.touched
            if test_option == "test-only":
                self._check_candidate(scratch)
                raise_all(result.errors)
                return None
            commit = self._commit_candidate(session, scratch, comment=None)
            raise_all(result.errors)
            return commit

    def discard(self, session: Session) -> None:
        """Drop the session's candidate edits (discard-changes)."""
        self._check(session, "write")
        with self._lock:
            candidate = self.stores.candidate_of(session.id)
            if candidate is self.stores.shared:
                self.stores.check_writable(Datastore.CANDIDATE, session.id)
            self.stores.discard(session.id)

    def validate(self, session: Session, source: str = "candidate") -> None:
        """Check every constraint of `source`; raises the errors found."""
        self._check(session, "read")
        tree = self.stores.tree(Datastore.parse(source), session.id)
        raise_all(validate_tree(self.schema, tree))

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
        self._check(session, "write")
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
                return self._dry_run(candidate)
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
                audit.info(
                    "confirmed-commit user=%s timeout=%s rollback-to=%s",
                    session.user,
                    seconds,
                    rollback_id,
                )
                return CommitResult(
                    result.commit_id, result.changes, confirm_deadline=self._pending.deadline
                )
            if pending is not None:
                self._clear_pending()
                audit.info("confirmed-commit-confirmed user=%s", session.user)
            return result

    def confirm(self, session: Session, persist_id: str | None = None) -> CommitResult:
        """Confirm the pending confirmed commit (a commit with nothing new to apply)."""
        with self._lock:  # a revert must not slip in between the check and the commit
            if self._pending is None:
                raise OperationFailed("no confirmed commit is pending")
            return self.commit(session, persist_id=persist_id)

    def cancel_commit(self, session: Session, persist_id: str | None = None) -> None:
        """Revert the pending confirmed commit now (RFC 6241 cancel-commit)."""
        self._check(session, "write")
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

    # ------------------------------------------------------------------ internals

    def _commit_candidate(
        self, session: Session, candidate: Candidate, *, comment: str | None
    ) -> CommitResult:
        """Run one transaction from running to what `candidate` commits to."""
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        if not changes:
            self._reset(candidate)
            return CommitResult(None)
        transaction = Transaction(self.schema, self.registry, old, new, changes)
        transaction.validate()
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
        audit.info(
            "commit id=%s user=%s channel=%s changes=%s",
            record.id,
            session.user,
            session.channel,
            len(changes),
        )
        self._notify(session, record.id, summary)
        return CommitResult(record.id, summary)

    def _reset(self, candidate: Candidate) -> None:
        candidate.tree, candidate.base_version = self.stores.running, self.stores.version
        candidate.touched = set()

    def _dry_run(self, candidate: Candidate) -> CommitResult:
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        transaction = Transaction(self.schema, self.registry, old, new, changes)
        transaction.validate()
        steps = transaction.prepare()
        return CommitResult(
            None, change_summary(self.schema, changes), plan=[step.plan for step in steps]
        )

    def _check_candidate(self, candidate: Candidate) -> None:
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        Transaction(self.schema, self.registry, old, new, changes).validate()

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

    def _check(self, session: Session, action: str) -> None:
        self.sessions.check_open(session)
        authorize(session, action)
