"""What a backend is: handlers registered per YANG path that turn changes into steps.

The transaction engine calls, per handler and in dependency order:
`validate(changes, tree)` (may refuse with errors, touching nothing), then
`prepare(changes, tree)` returning the exact steps (each with its undo). Work
that can fail belongs in prepare; a failure there aborts with nothing touched.
The engine then applies the steps and, if one fails, undoes the applied ones in
reverse order. Steps marked `last` go after all others: an atomic batch that no
other step depends on (the nftables batch), so a failing step never has to undo it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from immutables import Map

from flyos_agent.datastore.diff import Change
from flyos_agent.errors import FlyosError


@dataclass
class Step:
    """One kernel operation and its undo; `plan` describes it for a dry run; `last`:
    applied after every step that is not (kept in order among themselves)."""

    plan: dict[str, Any]
    apply: Callable[[], None]
    undo: Callable[[], None]
    path: str | None = None
    last: bool = False


class PathHandler(Protocol):
    """Turns the changes of one YANG path into steps."""

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Backend-specific refusals (no side effects)."""
        ...

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """The exact steps for these changes (no side effects)."""
        ...


@dataclass(frozen=True)
class Registration:
    """A handler registered for a schema path, with its dependency priority.

    Lower priorities are created first and deleted last (vrf < interfaces <
    tunnels < addresses < routes/rules < acl/nat).
    """

    schema_path: str
    priority: int
    handler: PathHandler
    name: str = ""


@dataclass
class Registry:
    """Handlers by schema path (FRR northbound style)."""

    registrations: dict[str, list[Registration]] = field(default_factory=dict)

    def add(self, schema_path: str, priority: int, handler: PathHandler, name: str = "") -> None:
        """Register `handler` for the units at `schema_path`."""
        reg = Registration(schema_path, priority, handler, name or type(handler).__name__)
        self.registrations.setdefault(schema_path, []).append(reg)

    def for_path(self, schema_path: str) -> list[Registration]:
        """Handlers registered for `schema_path` (empty if none)."""
        return self.registrations.get(schema_path, [])


class Backend(ABC):
    """A kernel-side component: registers handlers and reports operational state."""

    name: str = "backend"

    @abstractmethod
    def register(self, registry: Registry) -> None:
        """Register this backend's path handlers."""

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """Operational (config false) data as RFC 7951 JSON; empty by default."""
        return {}

    def begin(self) -> None:  # noqa: B027 - optional hook
        """A transaction's steps are about to be applied (batches start here)."""

    def reconcile(self, running: Map[str, Any], apply: bool) -> dict[str, Any]:
        """Drift between `running` and what the kernel holds of this backend's own
        objects; with `apply`, converge the kernel. Nothing to compare by default."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (sockets, threads)."""


class NoneBackend(Backend):
    """Datastore only: commits touch no kernel."""

    name = "none"

    def register(self, registry: Registry) -> None:
        """Nothing to register."""
