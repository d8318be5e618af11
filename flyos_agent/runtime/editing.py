"""Editing verbs of the Manager: edit-config, discard-changes, validate, private candidates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.edit import Edit, ErrorOption, apply_edits
from flyos_agent.datastore.store import Candidate, Datastore
from flyos_agent.datastore.validate import validate_tree
from flyos_agent.errors import OperationNotSupported, raise_all
from flyos_agent.runtime.edit_options import parse_edit_options
from flyos_agent.runtime.transaction import Transaction

if TYPE_CHECKING:
    from immutables import Map

    from flyos_agent.backends.base import Registry
    from flyos_agent.datastore.paths import InstancePath
    from flyos_agent.datastore.store import Datastores
    from flyos_agent.runtime.commit_result import CommitResult
    from flyos_agent.runtime.locking import MutationLock
    from flyos_agent.runtime.nacm import AccessControl
    from flyos_agent.runtime.sessions import Session, SessionTable
    from flyos_agent.schema import Schema


class Editing:
    """Mixed into Manager: the verbs that change a candidate (or running, one-shot)."""

    schema: Schema
    stores: Datastores
    registry: Registry
    sessions: SessionTable
    nacm: AccessControl
    _lock: MutationLock

    if TYPE_CHECKING:  # provided by Manager and its other mixins

        def _check(self, session: Session, operation: str) -> None: ...

        def _check_may_change_running(self, session: Session) -> None: ...

        def _authorize_change(
            self,
            session: Session,
            old: Map[str, Any],
            new: Map[str, Any],
            touched: set[InstancePath] | None,
            operation: str,
        ) -> None: ...

        def _commit_candidate(
            self, session: Session, candidate: Candidate, *, comment: str | None, operation: str
        ) -> CommitResult: ...

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
        Every node the edits create, change or delete is checked against
        NACM first: access-denied and nothing changed if one may not be written.
        """
        self._check(session, "edit-config")
        store = Datastore.parse(target)
        option = parse_edit_options(default_operation, error_option, test_option)
        test_only = test_option == "test-only"
        with self._lock:
            if store is Datastore.STARTUP:
                raise OperationNotSupported("edit the candidate or running, then copy to startup")
            self.stores.check_writable(store, session.id)
            if store is Datastore.RUNNING and not test_only:
                self._check_may_change_running(session)
            if store is Datastore.CANDIDATE and not test_only:
                result = self.stores.edit_candidate(
                    session.id,
                    list(edits),
                    default_operation,
                    option,
                    check=lambda old, new, touched: self._authorize_change(
                        session, old, new, touched, "edit-config"
                    ),
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
            if test_only:
                self._authorize_change(
                    session, scratch.tree, result.tree, result.touched, "edit-config"
                )
            scratch.tree = result.tree
            scratch.touched |= result.touched
            if test_only:
                self._check_candidate(scratch)
                raise_all(result.errors)
                return None
            commit = self._commit_candidate(session, scratch, comment=None, operation="edit-config")
            raise_all(result.errors)
            return commit

    def discard(self, session: Session) -> None:
        """Drop the session's candidate edits (discard-changes)."""
        self._check(session, "discard-changes")
        with self._lock:
            candidate = self.stores.candidate_of(session.id)
            if candidate is self.stores.shared:
                self.stores.check_writable(Datastore.CANDIDATE, session.id)
            self.stores.discard(session.id)

    def validate(self, session: Session, source: str = "candidate") -> None:
        """Check every constraint of `source`; raises the errors found."""
        self._check(session, "validate")
        tree = self.stores.tree(Datastore.parse(source), session.id)
        raise_all(validate_tree(self.schema, tree))

    def enter_private(self, session: Session) -> None:
        """Give `session` a private candidate (Junos `configure private`)."""
        self.sessions.check_open(session)
        with self._lock:
            self.stores.open_private(session.id)

    def _check_candidate(self, candidate: Candidate) -> None:
        """Validate what committing `candidate` would change (test-only edits)."""
        old = self.stores.running
        new = self.stores.committed_tree(candidate)
        changes = diff_trees(self.schema, old, new, candidate.touched)
        Transaction(self.schema, self.registry, old, new, changes).validate()
        self.nacm.validate(changes, new)
