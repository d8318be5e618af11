"""The nftables backend: ACL and NAT configuration into the owned table, one batch per commit.

`NftBackend(schema, netns)` registers one handler per ACL/NAT unit path
(priority 60, after everything the rules may name). The engine calls each
handler's prepare for its own changes; all of a commit's calls feed one
`NftTransaction`, whose single Step sends one nft batch: the first call
returns the Step, later calls of the same commit add to its plan (a dry run
shows the complete batch) and return nothing. The Step is marked `last`: the
engine applies it after every netlink step, so a failing netlink step never
has to undo it and the ruleset of a failed commit stays byte-identical (the
batch itself is atomic: refused, it changes nothing). A call belongs to a new
commit when its tree differs or its (path, phase) was seen already; `begin()`
closes the current one.

Undo is the inverse batch: the same planner, from the view left by the
applied batch back to the tree before the commit (rebuilt from the changes'
old values, known at prepare). It runs only when something fails after the
batch (the journal write): what it re-adds gets new handles (the kernel
allocates them, a client cannot choose them), content and rule order are as
before. Rollback is an ordinary commit and behaves the same way
(docs/backends.md).

Composing it (LinuxBackend): construct `NftBackend(schema, netns)`, and from
the composite's register / begin / state / close call the same methods here
(state: its two top-level members join the netlink ones); start-up and
on-demand reconcile call `reconcile(running, apply)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Backend, Registry, Step
from flyos_agent.backends.linux.nft_apply import BatchFailed, execute
from flyos_agent.backends.linux.nft_batch import Batch
from flyos_agent.backends.linux.nft_compile import Compiler
from flyos_agent.backends.linux.nft_gc import collector_paused
from flyos_agent.backends.linux.nft_model import (
    FAMILY,
    NAT_CHAINS,
    TABLE,
    Unit,
    UnitKind,
    acl_chain,
)
from flyos_agent.backends.linux.nft_plan import Dirty, Fragments, Planner
from flyos_agent.backends.linux.nft_runner import Runner, open_runner
from flyos_agent.backends.linux.nft_state import rule_counters
from flyos_agent.backends.linux.nft_view import (
    TableView,
    compiled_snapshot,
    drift,
    listing_snapshot,
)
from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.errors import FlyosError, InvalidValue, OperationFailed
from flyos_agent.schema import Schema

PRIORITY = 60
ACLS = "/flyos-acl:acls"
ADDRESS_SET = ACLS + "/address-set"
ACL = ACLS + "/acl"
ACL_RULE = ACL + "/rule"
INTERFACE = ACLS + "/interface"
NAT = "/flyos-nat:nat"
NAT_RULE = NAT + "/rule"
PATHS = (ACLS, ADDRESS_SET, ACL, ACL_RULE, INTERFACE, NAT, NAT_RULE)


class NftBackend(Backend):
    """ACL and NAT on nftables in network namespace `netns` (None: the agent's own)."""

    name = "nftables"

    def __init__(self, schema: Schema, netns: str | None = None, *, runner: Runner | None = None):
        self.schema = schema
        self.netns = netns
        self.runner = runner or open_runner(netns)
        self._view: TableView | None = None
        self._pending: NftTransaction | None = None
        self._compiler: Compiler | None = None

    # ------------------------------------------------------------------ Backend

    def register(self, registry: Registry) -> None:
        """One handler per ACL/NAT unit path, all feeding the commit's one batch."""
        for path in PATHS:
            registry.add(path, PRIORITY, _PathHandler(self, path), "nftables")

    def begin(self) -> None:
        """The commit's steps are about to run: its batch is complete (and the compiled
        rules, now in the batch, need not be kept)."""
        self._pending = None
        self._compiler = None

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        """Per-rule packet and byte counters of ACL and NAT rules (RFC 7951 JSON)."""
        return rule_counters(self.runner.list_table(), running)

    def close(self) -> None:
        """Stop the namespace thread."""
        self.runner.close()

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, running: Map[str, Any], apply: bool = True) -> dict[str, Any]:
        """Compare the owned table with what `running` compiles to; with `apply`, replace
        it atomically when they differ. Other tables are never read or touched."""
        objects = self.runner.list_table()
        want = self.compiler(running)
        with collector_paused():
            wanted = compiled_snapshot(want) if want.table_needed() else None
            differences = drift(wanted, listing_snapshot(objects) if objects else None)
        self._view = TableView.from_listing(objects)
        self._pending = None
        report: dict[str, Any] = {
            "table": f"{FAMILY} {TABLE}",
            "in-sync": not differences,
            "drift": differences,
            "applied": False,
        }
        if differences and apply:
            self.execute(self.planner(want, want).rebuild())
            report["applied"] = True
        return report

    # ------------------------------------------------------------------ internals

    def compiler(self, tree: Map[str, Any]) -> Compiler:
        """The (memoising) compiler of `tree`, shared by validate and prepare."""
        if self._compiler is None or self._compiler.tree is not tree:
            self._compiler = Compiler(self.schema, tree)
        return self._compiler

    def view(self) -> TableView:
        """What the kernel holds of the table (read once, then kept by each batch)."""
        if self._view is None:
            self._view = TableView.from_listing(self.runner.list_table())
        return self._view

    def planner(
        self, want: Compiler, have: Compiler, fragments: Fragments | None = None
    ) -> Planner:
        """A planner from the current view (reading bucket counters from the kernel)."""
        return Planner(self.view(), want, have, self._counters, fragments)

    def _counters(self, chain: str) -> dict[int, tuple[int, int]]:
        return {
            rule.handle: rule.counter
            for rule in self.runner.dump_chain(chain)
            if rule.counter is not None
        }

    def transaction(
        self, phase: tuple[str, bool], tree: Map[str, Any]
    ) -> tuple[NftTransaction, bool]:
        """The commit a prepare call belongs to, and whether the call opened it."""
        pending = self._pending
        if pending is None or pending.tree is not tree or phase in pending.phases:
            self._pending = NftTransaction(self, tree)
            return self._pending, True
        return pending, False

    def execute(self, batch: Batch) -> None:
        """Apply a batch and update the view; OperationFailed (nothing applied) on refusal."""
        view = self.view()
        try:
            with collector_paused():
                applied = execute(self.runner, batch, view.next_handle)
        except BatchFailed as exc:
            view.next_handle = None
            path = batch.items[exc.index].path if exc.index is not None else ()
            hint = ""
            if "No such file or directory" in exc.message:
                hint = " (the table changed behind the agent's back: reconcile repairs it)"
            raise OperationFailed(
                f"nftables refused the change: {exc.message}{hint}",
                path=format_path(self.schema, path) if path else None,
                info={"nft-command": batch.commands[exc.index]} if exc.index is not None else {},
            ) from exc
        if applied.handles is None:  # only if the kernel lost rules right after the batch
            self._view = TableView.from_listing(self.runner.list_table())
            return
        batch.apply_to(view, applied.handles)
        view.next_handle = applied.next_handle


class NftTransaction:
    """One commit's ACL/NAT changes, its batch (one Step) and that batch's undo."""

    def __init__(self, backend: NftBackend, tree: Map[str, Any]) -> None:
        self.backend = backend
        self.tree = tree
        self.old = tree
        self.phases: set[tuple[str, bool]] = set()
        self.dirty = Dirty()
        self.batch = Batch()
        self._fragments: Fragments = {}
        self.applied = False
        self._reverted: set[InstancePath] = set()
        self.step = Step(
            plan={"op": "nft", "table": f"{FAMILY} {TABLE}", "commands": []},
            apply=self.apply,
            undo=self.undo,
            last=True,
        )

    def add(self, phase: tuple[str, bool], changes: Sequence[Change]) -> None:
        """Take in one prepare call's changes and re-plan the batch."""
        with collector_paused():
            self._add(phase, changes)

    def _add(self, phase: tuple[str, bool], changes: Sequence[Change]) -> None:
        self.phases.add(phase)
        want = self.backend.compiler(self.tree)
        for change in changes:
            self._revert(change)
            mark_dirty(self.dirty, change, want)
        if self.step.path is None and changes:
            top = changes[0].path[:1]
            self.step.path = format_path(self.backend.schema, top)
        have = Compiler(self.backend.schema, self.old)
        self.batch = self.backend.planner(want, have, self._fragments).plan(self.dirty)
        self.step.plan["commands"] = self.batch.commands

    def apply(self) -> None:
        """Send the batch."""
        self.backend.execute(self.batch)
        self.applied = True

    def undo(self) -> None:
        """Send the inverse batch: back to the configuration before the commit."""
        if not self.applied:
            return
        backend = self.backend
        want = Compiler(backend.schema, self.old)
        backend.execute(backend.planner(want, backend.compiler(self.tree)).plan(self.dirty))
        self.applied = False

    def _revert(self, change: Change) -> None:
        """Put the unit's old value into `self.old` (skipped under a reverted ancestor)."""
        path = change.path
        if any(path[:depth] in self._reverted for depth in range(1, len(path))):
            return
        self._reverted.add(path)
        schema = self.backend.schema
        if change.old is None:
            self.old = trees.delete_at(self.old, path, schema)
        else:
            self.old = trees.set_at(self.old, path, change.old, schema)


def mark_dirty(dirty: Dirty, change: Change, want: Compiler) -> None:
    """Record the units, lists, base chains and sets a change touches."""
    path = change.node.path
    key = change.path[-1][1] or ()
    if path in (ACLS, INTERFACE):
        dirty.base = True
    elif path == ADDRESS_SET:
        dirty.sets.add(key[0])
        retyped = _leaf(change.old, "family") != _leaf(change.new, "family")
        if change.op is ChangeOp.MODIFY and retyped:
            dirty.rules.update(want.referencing(key[0]))
    elif path == ACL:
        dirty.lists.add(acl_chain(key[0]))
        if _leaf(change.old, "default-action") != _leaf(change.new, "default-action"):
            dirty.base = True
    elif path == ACL_RULE:
        acl_key = change.path[-2][1] or ("",)
        dirty.rules.add(Unit(UnitKind.ACL_RULE, acl_key[0], key[0]))
    elif path == NAT:
        dirty.lists.update(NAT_CHAINS)
    elif path == NAT_RULE:
        dirty.rules.add(Unit(UnitKind.NAT_RULE, seq=key[0]))


def _leaf(entry: Map[str, Any] | None, name: str) -> Any:
    return entry.get(name) if entry is not None else None


class _PathHandler:
    """The engine's handler for one unit path; the backend does the work."""

    def __init__(self, backend: NftBackend, path: str) -> None:
        self.backend = backend
        self.path = path

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Refuse rules nft cannot express or that never match, sets of mixed families."""
        with collector_paused():
            return self._refusals(changes, tree)

    def _refusals(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        want = self.backend.compiler(tree)
        dirty = Dirty()
        for change in changes:
            if change.op is not ChangeOp.DELETE:
                mark_dirty(dirty, change, want)
        refused: list[tuple[Unit, InvalidValue]] = []
        for unit in dirty.rules:  # sorted below: only the refused ones
            try:
                want.rules(unit)
            except InvalidValue as exc:
                refused.append((unit, exc))
        errors: list[FlyosError] = [exc for _, exc in sorted(refused, key=lambda item: item[0])]
        for name in sorted(dirty.sets):
            try:
                want.set_spec(name)
            except InvalidValue as exc:
                errors.append(exc)
        return errors

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Add these changes to the commit's batch; the commit's first call returns its Step."""
        phase = (self.path, bool(changes) and changes[0].op is ChangeOp.DELETE)
        transaction, opened = self.backend.transaction(phase, tree)
        transaction.add(phase, changes)
        return [transaction.step] if opened else []
