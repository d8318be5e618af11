"""Fault injection against the real backends: make the Nth step of the next commit fail.

A test facility (the daemon never builds one). `FaultInjector(backend)` is a Backend
that registers the wrapped backend's handlers unchanged, except that every step they
prepare passes through it. `arm(Fault(step, mode))` makes the `step`-th step the next
transaction applies (1-based, in apply order) fail once:

- `FaultMode.REFUSE` (fail instead of applying): the step raises before touching the
  kernel; the engine undoes the steps applied before it, newest first.
- `FaultMode.AFTER_APPLY` (apply, then fail): the step's real apply runs, then its real
  undo (a step that fails part-way leaves nothing behind), then it raises; the engine
  undoes the earlier steps.

Either way the commit fails with `InjectedFault` (operation-failed) naming the step's
YANG path, and every undo that runs is the backend's own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, PathHandler, Registry, Step
from flyos_agent.datastore.diff import Change
from flyos_agent.errors import FlyosError, OperationFailed


class FaultMode(enum.Enum):
    """When an armed step fails."""

    REFUSE = "fail instead of applying"
    AFTER_APPLY = "apply, then fail"


@dataclass(frozen=True)
class Fault:
    """Fail the `step`-th applied step (1-based) of the next transaction, in `mode`."""

    step: int
    mode: FaultMode


class InjectedFault(OperationFailed):
    """The error an armed step raises."""


class FaultInjector(Backend):
    """`backend` with a fault that can be armed for the next transaction."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.name = backend.name
        self.fault: Fault | None = None
        self.applied = 0

    def arm(self, fault: Fault | None) -> None:
        """Make the next transaction fail as `fault` says (None: disarm)."""
        self.fault = fault

    def register(self, registry: Registry) -> None:
        """The wrapped backend's registrations, each handler routed through the injector."""
        own = Registry()
        self.backend.register(own)
        for registrations in own.registrations.values():
            for reg in registrations:
                handler = _Handler(self, reg.handler)
                registry.add(reg.schema_path, reg.priority, handler, reg.name)

    def begin(self) -> None:
        """A transaction's steps are about to be applied: count them from one."""
        self.applied = 0
        self.backend.begin()

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """The wrapped backend's operational state."""
        return self.backend.state(running)

    def reconcile(self, running: Map[str, Any], apply: bool) -> dict[str, Any]:
        """The wrapped backend's drift report."""
        return self.backend.reconcile(running, apply)

    def close(self) -> None:
        """Close the wrapped backend."""
        self.backend.close()

    def wrap(self, step: Step) -> Step:
        """`step` applied through the injector (same plan, same undo)."""
        return Step(step.plan, lambda: self._apply(step), step.undo, step.path, last=step.last)

    def _apply(self, step: Step) -> None:
        self.applied += 1
        fault = self.fault
        if fault is None or fault.step != self.applied:
            step.apply()
            return
        self.fault = None
        if fault.mode is FaultMode.AFTER_APPLY:
            step.apply()
            step.undo()
        raise InjectedFault(
            f"injected fault ({fault.mode.value}) at step {fault.step}: "
            f"{step.plan.get('op', 'step')}",
            path=step.path,
        )


class _Handler:
    """A registered handler whose steps go through the injector."""

    def __init__(self, injector: FaultInjector, handler: PathHandler) -> None:
        self.injector = injector
        self.handler = handler

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """The wrapped handler's refusals."""
        return self.handler.validate(changes, tree)

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """The wrapped handler's steps, applied through the injector."""
        return [self.injector.wrap(step) for step in self.handler.prepare(changes, tree)]
