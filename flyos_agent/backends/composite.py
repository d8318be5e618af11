"""Several backends acting as one: the Linux backend is netlink plus nftables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, Registry
from flyos_agent.datastore.edit import merge_children
from flyos_agent.datastore.tree import tree_from_plain, tree_to_plain
from flyos_agent.schema import Schema


class CompositeBackend(Backend):
    """Registers every part's handlers; begin, state, reconcile and close fan out."""

    def __init__(self, schema: Schema, parts: Sequence[Backend], name: str) -> None:
        self.schema = schema
        self.parts = list(parts)
        self.name = name

    def register(self, registry: Registry) -> None:
        """Every part registers its own handlers."""
        for part in self.parts:
            part.register(registry)

    def begin(self) -> None:
        """Tell every part a transaction's steps are about to be applied."""
        for part in self.parts:
            part.begin()

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """The parts' operational data merged into one RFC 7951 tree."""
        merged: Map[str, Any] = Map()
        for part in self.parts:
            plain = part.state(running)
            if plain:
                tree = tree_from_plain(self.schema, plain, config_only=False)
                merged = merge_children(self.schema.roots, merged, tree)
        return tree_to_plain(self.schema, merged) if len(merged) else {}

    def reconcile(self, running: Map[str, Any], apply: bool) -> dict[str, Any]:
        """Each part's drift report, by part name."""
        return {part.name: part.reconcile(running, apply) for part in self.parts}

    def close(self) -> None:
        """Close every part, the last registered first."""
        for part in reversed(self.parts):
            part.close()
