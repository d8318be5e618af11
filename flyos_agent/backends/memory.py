"""A simulated kernel for proving the transaction engine: no real kernel is touched.

`MemoryBackend` keeps one "kernel object" per configured unit (list entry or
top container) in a dict and can be told to fail at step N of the next commit,
so tests show that every failure leaves running and the kernel as they were.
It is named a fake on purpose: it stands in for the Linux backend only where
the engine itself is under test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, Registry, Step
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import format_path
from flyos_agent.datastore.tree import entry_to_plain
from flyos_agent.errors import FlyosError, OperationFailed
from flyos_agent.schema import Kind, Schema, SchemaNode


class MemoryBackend(Backend):
    """A dict standing in for the kernel, with fault injection at step N."""

    name = "memory"

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.kernel: dict[str, str] = {}
        self.fail_at: int | None = None
        self.steps_applied = 0

    def register(self, registry: Registry) -> None:
        """One handler for every unit path (list nodes and top containers)."""
        for node in self.schema.walk():
            if node.config and (node.kind is Kind.LIST or node.parent_path is None):
                registry.add(node.path, _depth(node), _UnitHandler(self), "memory")

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """No operational data."""
        return {}

    def snapshot(self) -> dict[str, str]:
        """A copy of the simulated kernel state."""
        return dict(self.kernel)

    def fail_next_commit_at(self, step: int | None) -> None:
        """Make the step numbered `step` (1-based) of each following commit fail."""
        self.fail_at = step

    def begin(self) -> None:
        """Steps are counted from the start of each transaction."""
        self.steps_applied = 0

    def _apply(self, key: str, value: str | None) -> None:
        self.steps_applied += 1
        if self.fail_at is not None and self.steps_applied == self.fail_at:
            raise OperationFailed(f"injected failure at step {self.steps_applied}", path=key)
        self._set(key, value)

    def _set(self, key: str, value: str | None) -> None:
        if value is None:
            self.kernel.pop(key, None)
        else:
            self.kernel[key] = value


class _UnitHandler:
    """Mirrors each unit into the simulated kernel as its own JSON text."""

    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        return [self._step(change) for change in changes]

    def _step(self, change: Change) -> Step:
        backend = self.backend
        key = format_path(backend.schema, change.path)
        before = backend.kernel.get(key)
        after = None if change.op is ChangeOp.DELETE else _local_json(change.node, change.new)
        return Step(
            plan={"op": change.op.value, "object": key},
            apply=lambda: backend._apply(key, after),
            undo=lambda: backend._set(key, before),
            path=key,
        )


def _local_json(node: SchemaNode, value: Map[str, Any] | None) -> str:
    """The unit's own content (nested lists are units of their own) as JSON text."""
    assert value is not None
    local = Map({k: v for k, v in value.items() if node.children[k].kind is not Kind.LIST})
    return json.dumps(entry_to_plain(node, local), sort_keys=True)


def _depth(node: SchemaNode) -> int:
    return node.path.count("/")
