"""Small accessors for diff changes shared by the handlers."""

from __future__ import annotations

from typing import Any

from immutables import Map

from flyos_agent.datastore.diff import Change


def entry_of(change: Change) -> Map[str, Any]:
    """The unit's entry after the change, or before it for a deletion."""
    entry = change.new if change.new is not None else change.old
    assert entry is not None
    return entry


def ancestor_key(change: Change, steps_up: int) -> Any:
    """The first key value of the list entry `steps_up` steps above the changed unit
    (1: its parent step), e.g. the interface name of an address change is 3 steps up."""
    key = change.path[-1 - steps_up][1]
    assert key is not None
    return key[0]
