"""One nft transaction: its commands in dependency order, and the view it leaves behind.

Commands are collected per phase and sent in phase order: rule deletions and
flushes; the table and new chains; sets and elements; rules into buckets;
jumps into list heads; rules of the filter base chains (they jump to list
heads); chain deletions (base chains, then heads, then buckets: a chain goes
after the rules that jump to it); set deletions. The kernel applies the whole
batch or none of it.

Each command records how many handles the kernel allocates for it (a chain, a
set, a rule and every anonymous set of a rule take one each, in command
order) and, for a rule whose handle the view keeps, where that handle goes:
the handles of new rules can then be predicted instead of read back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flyos_agent.backends.linux.nft_model import (
    RuleSpec,
    chain_path,
    named_ref,
    rule_ref,
    table_body,
)
from flyos_agent.backends.linux.nft_view import ListView, TableView
from flyos_agent.datastore.paths import InstancePath


class Phase(enum.IntEnum):
    """Where a command goes in the batch."""

    REMOVE_RULES = 0
    ADD_CHAINS = 1
    SETS = 2
    BUCKET_RULES = 3
    JUMPS = 4
    BASE_RULES = 5
    REMOVE_BASE = 6
    REMOVE_HEADS = 7
    REMOVE_BUCKETS = 8
    REMOVE_SETS = 9


class Command(NamedTuple):
    """One nft JSON command and what it means for the view.

    `allocations`: handles the kernel gives out for it. For an added rule:
    `chain`, `ident` (its key, or the bucket a jump goes to), `comment`, and
    `slot`, the mapping and key its handle goes to in the new view.
    """

    json: dict[str, Any]
    path: InstancePath
    allocations: int = 0
    chain: str = ""
    ident: Any = None
    comment: str | None = None
    slot: tuple[dict[Any, int], Any] | None = None


@dataclass
class Outcome:
    """The view after the batch, for what the batch touches (`reset`: the table was
    deleted first, forget all the view knew)."""

    reset: bool = False
    exists: bool | None = None
    chains_added: set[str] = field(default_factory=set)
    chains_removed: set[str] = field(default_factory=set)
    lists: dict[str, ListView | None] = field(default_factory=dict)
    sets: dict[str, frozenset[str] | None] = field(default_factory=dict)


@dataclass
class Batch:
    """The commands of one nft transaction, in order, and its outcome."""

    items: list[Command] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    creates_table: bool = False

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The nft JSON commands (the body of {"nftables": [...]})."""
        return [item.json for item in self.items]

    @property
    def allocations(self) -> int:
        """Handles the kernel gives out for this batch."""
        return sum(item.allocations for item in self.items)

    def predicted_handles(self, base: int) -> dict[int, int]:
        """The handle of each added rule (by command index) if the counter is at `base`."""
        handles: dict[int, int] = {}
        for index, item in enumerate(self.items):
            base += item.allocations
            if item.chain:
                handles[index] = base
        return handles

    def apply_to(self, view: TableView, handles: dict[int, int]) -> None:
        """Make `view` what the kernel holds after this batch (`handles` of added rules)."""
        for index, item in enumerate(self.items):
            if item.slot is not None:
                mapping, key = item.slot
                mapping[key] = handles[index]
        outcome = self.outcome
        if outcome.reset:
            view.chains.clear()
            view.lists.clear()
            view.sets.clear()
        if outcome.exists is not None:
            view.exists = outcome.exists
        view.chains = (view.chains - outcome.chains_removed) | outcome.chains_added
        for head, listing in outcome.lists.items():
            if listing is None:
                view.lists.pop(head, None)
            else:
                view.lists[head] = listing
        for name, elements in outcome.sets.items():
            if elements is None:
                view.sets.pop(name, None)
            else:
                view.sets[name] = elements


class Builder:
    """Collects commands per phase; `batch()` puts them in order."""

    def __init__(self) -> None:
        self.phases: dict[Phase, list[Command]] = {phase: [] for phase in Phase}
        self.outcome = Outcome()
        self.creates_table = False

    def batch(self) -> Batch:
        """The commands in phase order."""
        items = [command for phase in Phase for command in self.phases[phase]]
        return Batch(items, self.outcome, self.creates_table)

    def merge(self, other: Builder) -> None:
        """Take in the commands and outcome of a builder that planned one list."""
        for phase, commands in other.phases.items():
            self.phases[phase] += commands
        outcome = other.outcome
        self.outcome.chains_added |= outcome.chains_added
        self.outcome.chains_removed |= outcome.chains_removed
        self.outcome.lists.update(outcome.lists)

    def table(self, verb: str) -> None:
        """Add or delete the table."""
        phase = Phase.ADD_CHAINS if verb == "add" else Phase.REMOVE_RULES
        self.phases[phase].append(Command({verb: {"table": table_body()}}, ()))
        self.outcome.reset = self.outcome.reset or verb == "delete"
        self.outcome.exists = verb == "add"
        self.creates_table = verb == "add"

    def add_chain(self, body: dict[str, Any]) -> None:
        """Create a chain."""
        name = body["name"]
        self.phases[Phase.ADD_CHAINS].append(Command({"add": {"chain": body}}, chain_path(name), 1))
        self.outcome.chains_added.add(name)

    def remove_chain(self, name: str, phase: Phase) -> None:
        """Delete a chain (with its rules) in a chain-removal phase."""
        self.phases[phase].append(Command({"delete": {"chain": named_ref(name)}}, chain_path(name)))
        self.outcome.chains_removed.add(name)

    def flush(self, name: str) -> None:
        """Remove every rule of a chain."""
        self.phases[Phase.REMOVE_RULES].append(
            Command({"flush": {"chain": named_ref(name)}}, chain_path(name))
        )

    def delete_rule(self, chain: str, handle: int, path: InstancePath) -> None:
        """Delete one rule by handle."""
        body = {**rule_ref(chain), "handle": handle}
        self.phases[Phase.REMOVE_RULES].append(Command({"delete": {"rule": body}}, path))

    def append(
        self,
        phase: Phase,
        spec: RuleSpec,
        chain: str,
        slot: tuple[dict[Any, int], Any] | None = None,
    ) -> None:
        """Append a configured rule to `chain` (its handle kept in `slot`)."""
        command = Command(
            {"add": {"rule": spec.body(chain)}},
            spec.path,
            spec.anonymous_sets + 1,
            chain,
            spec.key,
            spec.comment,
            slot,
        )
        self.phases[phase].append(command)

    def jump(self, head: str, bucket: str, jumps: dict[str, int]) -> None:
        """Append the jump from a list head to one of its buckets."""
        body = {**rule_ref(head), "expr": [{"jump": {"target": bucket}}]}
        command = Command(
            {"add": {"rule": body}}, chain_path(head), 1, head, bucket, None, (jumps, bucket)
        )
        self.phases[Phase.JUMPS].append(command)

    def command(self, phase: Phase, command: Command) -> None:
        """Add any other command (sets and elements)."""
        self.phases[phase].append(command)
