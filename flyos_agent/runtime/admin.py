"""Administration verbs of the Manager: lock, unlock, copy, delete, rollback, reconcile.

A verb that replaces a whole datastore is checked against NACM for every node
that differs between the old and the new content (the diff is only computed
for sessions NACM restricts); delete-config, denied unless a rule grants it,
is checked as an operation only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.datastore.store import Candidate, Datastore
from flyos_agent.datastore.validate import validate_tree
from flyos_agent.errors import OperationNotSupported, raise_all
from flyos_agent.runtime.audit import audit_event

if TYPE_CHECKING:
    from immutables import Map

    from flyos_agent.backends.base import Backend
    from flyos_agent.datastore.journal import Journal
    from flyos_agent.datastore.store import Datastores
    from flyos_agent.runtime.commit_result import CommitResult
    from flyos_agent.runtime.confirmed import PendingConfirm
    from flyos_agent.runtime.locking import MutationLock
    from flyos_agent.runtime.sessions import Session
    from flyos_agent.schema import Schema

T = TypeVar("T")


class DatastoreAdmin:
    """Mixed into Manager: the verbs that lock, replace or delete whole datastores."""

    schema: Schema
    stores: Datastores
    journal: Journal
    backend: Backend
    _lock: MutationLock
    _pending: PendingConfirm | None

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

        def _commit_id_back(self, index: int) -> int: ...

        def _tree_at(self, commit_id: int) -> Map[str, Any]: ...

    def reconcile(self, session: Session, *, apply: bool = True) -> dict[str, Any]:
        """Compare what the kernel holds of the agent's own objects with running
        and, with `apply`, converge the kernel to running (foreign objects stay).

        Returns the backend's drift report; runs under the commit lock so no
        transaction interleaves with the convergence.
        """
        self._check(session, "reconcile" if apply else "reconcile-check")
        with self._lock:
            report = self.backend.reconcile(self.stores.running, apply)
        audit_event(
            "reconcile", user=session.user, channel=session.channel, apply=apply, report=report
        )
        return report

    def run_locked(self, func: Callable[[Map[str, Any]], T]) -> T:
        """`func(running)` under the commit lock, so no transaction is half applied while it
        reads the kernel (background checks such as drift detection; no session, no NACM)."""
        with self._lock:
            return func(self.stores.running)

    def lock(self, session: Session, target: str) -> None:
        """Lock `target` for this session (RFC 6241 7.5)."""
        self._check(session, "lock")
        with self._lock:
            store = Datastore.parse(target)
            if store is Datastore.CANDIDATE and session.id in self.stores.private:
                raise OperationNotSupported("a private candidate needs no lock")
            self.stores.lock(store, session.id, confirm_pending=self._pending is not None)

    def unlock(self, session: Session, target: str) -> None:
        """Release this session's lock on `target`."""
        self._check(session, "unlock")
        with self._lock:
            self.stores.unlock(Datastore.parse(target), session.id)

    def copy(
        self,
        session: Session,
        source: str,
        target: str,
        *,
        config: dict[str, Any] | None = None,
    ) -> CommitResult | None:
        """copy-config: `source` (a datastore, or `config` inline) onto `target`."""
        self._check(session, "copy-config")
        with self._lock:
            tree = (
                trees.tree_from_plain(self.schema, config)
                if config is not None
                else self.stores.tree(Datastore.parse(source), session.id)
            )
            store = Datastore.parse(target)
            self.stores.check_writable(store, session.id)
            if store is Datastore.RUNNING:
                self._check_may_change_running(session)
                scratch = Candidate(tree, -1, unit_paths(self.schema))
                return self._commit_candidate(
                    session, scratch, comment=f"copy {source} to running", operation="copy-config"
                )
            self._authorize_change(
                session, self.stores.tree(store, session.id), tree, None, "copy-config"
            )
            if store is Datastore.STARTUP:
                raise_all(validate_tree(self.schema, tree))
                self.journal.save_startup(tree)
                self.stores.startup = tree
                return None
            self.stores.load_candidate(session.id, tree)
            return None

    def delete(self, session: Session, target: str) -> None:
        """delete-config: only startup can be deleted."""
        self._check(session, "delete-config")
        with self._lock:
            store = Datastore.parse(target)
            if store is not Datastore.STARTUP:
                raise OperationNotSupported(f"the {store} datastore cannot be deleted")
            self.stores.check_writable(store, session.id)
            self.journal.save_startup(trees.EMPTY)
            self.stores.startup = trees.EMPTY

    def rollback(self, session: Session, index: int = 1, *, commit_id: int | None = None) -> None:
        """Load an earlier configuration into the candidate (Junos `rollback N`).

        `index` counts commits back from running (0 = running itself);
        `commit_id` names a commit instead. Commit it to make it running.
        """
        self._check(session, "rollback")
        with self._lock:
            target_id = commit_id if commit_id is not None else self._commit_id_back(index)
            tree = self._tree_at(target_id)
            current = self.stores.candidate_of(session.id).tree
            self._authorize_change(session, current, tree, None, "rollback")
            self.stores.load_candidate(session.id, tree)
        audit_event("rollback", user=session.user, channel=session.channel, to=target_id)


def unit_paths(schema: Schema) -> set[InstancePath]:
    """Touch-all marker: every top-level container (a candidate marked so replaces
    the whole of running; also used by the confirmed-commit revert)."""
    return {((name, None),) for name in schema.roots}
