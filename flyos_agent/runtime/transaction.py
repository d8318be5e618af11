"""The transaction engine: validate -> prepare -> apply, revert in reverse on failure.

Changes are grouped per registered YANG path and ordered by dependency:
deletions first, highest priority (most dependent) first and deepest first;
then creations and modifications, lowest priority first and shallowest first.
Steps marked `last` (the atomic nftables batch) are applied after all others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Registration, Registry, Step
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.validate import validate_changes
from flyos_agent.errors import FlyosError, OperationFailed, RollbackFailed, raise_all
from flyos_agent.schema import Schema

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """The changes of one registration, in one phase (delete, or create/modify)."""

    registration: Registration
    changes: list[Change]
    deleting: bool


@dataclass
class Transaction:
    """One commit's way from the old running tree to the new one."""

    schema: Schema
    registry: Registry
    old: Map[str, Any]
    new: Map[str, Any]
    changes: Sequence[Change]
    steps: list[Step] = field(default_factory=list)
    applied: int = 0
    _batches: list[Batch] | None = None

    def validate(self) -> None:
        """YANG constraints on what changed, then backend checks; raises on errors."""
        raise_all(validate_changes(self.schema, self.old, self.new, self.changes))
        errors: list[FlyosError] = []
        for batch in self.batches():
            errors.extend(batch.registration.handler.validate(batch.changes, self.new))
        raise_all(errors)

    def prepare(self) -> list[Step]:
        """Build every step of the plan; nothing is applied yet."""
        self.steps = []
        for batch in self.batches():
            try:
                self.steps.extend(batch.registration.handler.prepare(batch.changes, self.new))
            except FlyosError:
                raise
            except Exception as exc:  # a backend bug must not leak a traceback
                log.exception("prepare failed in %s", batch.registration.name)
                raise OperationFailed(f"{batch.registration.name}: {exc}") from exc
        self.steps.sort(key=lambda step: step.last)  # stable: each group keeps its order
        return self.steps

    def apply(self) -> None:
        """Apply the steps in order; on failure undo the applied ones in reverse and raise."""
        self.applied = 0
        for step in self.steps:
            try:
                step.apply()
            except Exception as exc:
                error = _as_error(exc, step)
                self.revert()
                raise error from exc
            self.applied += 1

    def revert(self) -> None:
        """Undo the applied steps, newest first; RollbackFailed if an undo fails."""
        failures = []
        for step in reversed(self.steps[: self.applied]):
            try:
                step.undo()
            except Exception as exc:  # keep undoing: leave as little behind as possible
                log.exception("undo failed for %s", step.plan)
                failures.append(f"{step.plan}: {exc}")
        self.applied = 0
        if failures:
            raise RollbackFailed("could not undo every step: " + "; ".join(failures))

    def batches(self) -> list[Batch]:
        """The change groups per registration in dependency order (computed once)."""
        if self._batches is None:
            self._batches = self._group()
        return self._batches

    def _group(self) -> list[Batch]:
        deletes: dict[tuple[str, int], Batch] = {}
        writes: dict[tuple[str, int], Batch] = {}
        # the diff reports the entries of one list together: group runs, not changes
        for node, run in groupby(self.changes, key=_node_of):
            registrations = self.registry.for_path(node.path)
            if not registrations:
                continue
            changes = list(run)
            deleted = [change for change in changes if change.op is ChangeOp.DELETE]
            written = [c for c in changes if c.op is not ChangeOp.DELETE] if deleted else changes
            for deleting, part in ((True, deleted), (False, written)):
                if not part:
                    continue
                table = deletes if deleting else writes
                for reg in registrations:
                    key = (reg.schema_path, id(reg))
                    batch = table.get(key)
                    if batch is None:
                        batch = table[key] = Batch(reg, [], deleting)
                    batch.changes.extend(part)
        ordered_deletes = sorted(
            deletes.values(), key=lambda b: (-b.registration.priority, -_depth(b))
        )
        ordered_writes = sorted(writes.values(), key=lambda b: (b.registration.priority, _depth(b)))
        return ordered_deletes + ordered_writes


_node_of = attrgetter("node")


def _depth(batch: Batch) -> int:
    return batch.registration.schema_path.count("/")


def _as_error(exc: Exception, step: Step) -> FlyosError:
    if isinstance(exc, FlyosError):
        if exc.path is None:
            exc.path = step.path
        return exc
    return OperationFailed(f"{step.plan.get('op', 'step')} failed: {exc}", path=step.path)
