"""The datastores: running, startup, the shared candidate, private candidates, locks.

This module holds state and enforces the RFC 6241 lock rules; it does not commit
(the transaction engine in runtime/ does) and is not thread-safe by itself:
the Manager serialises every mutation.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import Edit, EditResult, apply_edits
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.errors import InUse, InvalidValue, LockDenied, OperationFailed
from flyos_agent.schema import Schema


class Datastore(enum.StrEnum):
    """The NETCONF configuration datastores."""

    RUNNING = "running"
    CANDIDATE = "candidate"
    STARTUP = "startup"

    @classmethod
    def parse(cls, name: str) -> Datastore:
        """The datastore called `name`; InvalidValue for anything else."""
        try:
            return cls(name)
        except ValueError:
            raise InvalidValue(
                f"unknown datastore '{name}' (running, candidate or startup)"
            ) from None


@dataclass
class Candidate:
    """A candidate configuration: the running version it started from plus edits.

    While `touched` is empty the candidate has no changes of its own and reads
    through to running.
    """

    tree: Map[str, Any]
    base_version: int
    touched: set[InstancePath] = field(default_factory=set)

    @property
    def modified(self) -> bool:
        """True if the candidate holds edits not yet committed or discarded."""
        return bool(self.touched)


class Datastores:
    """running/startup trees, candidates and locks, with NETCONF's rules."""

    def __init__(self, schema: Schema, running: Map[str, Any], version: int) -> None:
        self.schema = schema
        self.running = running
        self.version = version
        self.startup: Map[str, Any] | None = None
        self.shared = Candidate(running, version)
        self.private: dict[int, Candidate] = {}
        self.locks: dict[Datastore, int] = {}

    # ----------------------------------------------------------------- reading

    def candidate_of(self, session_id: int) -> Candidate:
        """The session's private candidate if it has one, else the shared one.

        If running moved on, the candidate is first rebased onto it (its own edited
        units laid over the new running), so that edits apply to what it reads as.
        """
        candidate = self.private.get(session_id, self.shared)
        if candidate.base_version != self.version:
            candidate.tree, candidate.base_version = self.committed_tree(candidate), self.version
        return candidate

    def tree(self, source: Datastore, session_id: int) -> Map[str, Any]:
        """The tree of `source` as seen by session `session_id`.

        The candidate reads as what committing it would make running: its
        own edits laid over the current running (see `committed_tree`).
        """
        if source is Datastore.RUNNING:
            return self.running
        if source is Datastore.CANDIDATE:
            return self.committed_tree(self.candidate_of(session_id))
        return self.startup if self.startup is not None else trees.EMPTY

    # ----------------------------------------------------------------- locks

    def check_writable(self, target: Datastore, session_id: int) -> None:
        """InUse if another session holds the lock on `target`."""
        holder = self.locks.get(target)
        if holder is not None and holder != session_id:
            raise InUse(
                f"the {target} datastore is locked by session {holder}",
                info={"session-id": holder},
            )

    def lock(self, target: Datastore, session_id: int, *, confirm_pending: bool = False) -> None:
        """Take the lock on `target` for `session_id` (RFC 6241 7.5 rules)."""
        holder = self.locks.get(target)
        if holder is not None:
            raise LockDenied(
                f"the {target} datastore is already locked by session {holder}",
                info={"session-id": holder},
            )
        if target is Datastore.CANDIDATE and self.shared.modified:
            raise LockDenied(
                "the candidate has uncommitted changes; commit or discard them first",
                info={"session-id": 0},
            )
        if target is Datastore.RUNNING and confirm_pending:
            raise LockDenied(
                "a confirmed commit is pending on the running datastore",
                info={"session-id": 0},
            )
        self.locks[target] = session_id

    def unlock(self, target: Datastore, session_id: int) -> None:
        """Release `session_id`'s lock on `target`."""
        holder = self.locks.get(target)
        if holder is None:
            raise OperationFailed(f"the {target} datastore is not locked")
        if holder != session_id:
            raise OperationFailed(
                f"the {target} datastore is locked by session {holder}, not by this session",
                info={"session-id": holder},
            )
        del self.locks[target]

    def release_session(self, session_id: int) -> None:
        """Drop a finished session's locks and private candidate.

        A session that held the candidate lock takes its uncommitted candidate
        changes with it (they could only be its own).
        """
        for target, holder in list(self.locks.items()):
            if holder == session_id:
                del self.locks[target]
                if target is Datastore.CANDIDATE:
                    self.discard(session_id)
        self.private.pop(session_id, None)

    # ----------------------------------------------------------------- editing

    def open_private(self, session_id: int) -> None:
        """Give `session_id` a private candidate (like Junos `configure private`).

        A session that already has one keeps it, with its edits.
        """
        if session_id in self.private:
            return
        if self.shared.modified:
            raise InUse("the shared candidate has uncommitted changes")
        self.private[session_id] = Candidate(self.running, self.version)

    def edit_candidate(
        self,
        session_id: int,
        edits: list[Edit],
        default_operation: str,
        error_option: str,
        *,
        check: Callable[[Map[str, Any], Map[str, Any], set[InstancePath]], None] | None = None,
    ) -> EditResult:
        """Apply edits to the session's candidate; returns the edit result.

        `check(old, new, touched)` runs before the edited tree is installed; if it
        raises, the candidate stays as it was (the Manager's access check).
        """
        candidate = self.candidate_of(session_id)
        if candidate is self.shared:
            self.check_writable(Datastore.CANDIDATE, session_id)
        result = apply_edits(
            self.schema,
            candidate.tree,
            edits,
            default_operation=default_operation,
            error_option=error_option,
        )
        if result.tree is not candidate.tree:
            if check is not None:
                check(candidate.tree, result.tree, result.touched)
            candidate.tree = result.tree
            candidate.touched |= result.touched
        return result

    def load_candidate(self, session_id: int, tree: Map[str, Any]) -> None:
        """Replace the session's candidate with `tree` (rollback, copy-config)."""
        candidate = self.candidate_of(session_id)
        if candidate is self.shared:
            self.check_writable(Datastore.CANDIDATE, session_id)
        candidate.tree = tree
        candidate.touched = {((name, None),) for name in self.schema.roots}

    def discard(self, session_id: int) -> None:
        """Drop the session's candidate edits: the candidate equals running again."""
        candidate = self.candidate_of(session_id)
        candidate.tree, candidate.base_version = self.running, self.version
        candidate.touched = set()

    def committed_tree(self, candidate: Candidate) -> Map[str, Any]:
        """What running becomes when `candidate` commits.

        If running moved on since the candidate was taken, the candidate's
        touched subtrees are laid over the new running (its edits win there).
        """
        if candidate.base_version == self.version:
            return candidate.tree
        result = self.running
        for path in sorted(candidate.touched, key=len):
            value = trees.get(candidate.tree, path)
            if value is None:
                result = trees.delete_at(result, path, self.schema)
            else:
                result = trees.set_at(result, path, value, self.schema)
        return result

    def publish(self, tree: Map[str, Any], version: int) -> None:
        """Install a committed tree as running; unmodified candidates follow it."""
        self.running, self.version = tree, version
        for candidate in (self.shared, *self.private.values()):
            if not candidate.modified:
                candidate.tree, candidate.base_version = tree, version
