"""Many entries of one list checked at once: a fast filter in front of the per-unit checks.

A commit that creates 100k routes checks 100k entries of one list node, and
their constraints are local: the node's musts over the entry's own leaves,
leafrefs naming the key of a list, optional children. For such a node one
generated function reads each entry once: whether its musts hold and no
child is there (or missing) that needs the per-unit checks, and the values of
its leafrefs, whose targets are then looked up once per distinct value. An
entry cleared that way needs nothing more; the rest go through validate's
per-unit checks, which find and word the errors exactly as for one entry,
in the order of the changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from operator import attrgetter
from typing import Any

from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.validate_context import ValidationContext
from flyos_agent.datastore.validate_plan import check_plan
from flyos_agent.datastore.validate_refs import is_keyed_leafref, keyed_target_exists
from flyos_agent.datastore.xpath_codegen import compile_lambda, local_source
from flyos_agent.schema import Kind, Schema, SchemaNode

MIN_BATCH = 32
_node_of = attrgetter("node")


@dataclass(frozen=True)
class _Batch:
    """One list node's scan: entry Map -> (clear so far, value of each leafref)."""

    scan: Callable[[Any], tuple[Any, ...]]
    leafrefs: tuple[SchemaNode, ...]


@cache
def _batch(schema: Schema, node: SchemaNode) -> _Batch | None:
    """The scan of list `node`; None when its entries need the per-unit checks."""
    if node.kind is not Kind.LIST or node.when:
        return None
    plan = check_plan(node)
    if any(child.min_elements or child.max_elements is not None for child in plan.lists):
        return None
    clear = [local_source(node, must.expression) for must in node.must]
    leafrefs = []
    for child in plan.present:
        plain_leaf = child.kind is Kind.LEAF and not child.when and not child.must
        if plain_leaf and is_keyed_leafref(schema, child):
            leafrefs.append(child)
        elif not plain_leaf or _checks_leafref(child):
            clear.append(f"{child.name!r} not in local")
    clear += [f"{child.name!r} in local" for child in plan.absent]
    if any(part is None for part in clear):
        return None
    fetch = "".join(f", local.get({child.name!r})" for child in leafrefs)
    body = f"({' and '.join(f'({part})' for part in clear) or 'True'}{fetch},)"
    return _Batch(compile_lambda(body, f"bulk checks of {node.path}"), tuple(leafrefs))


def _checks_leafref(node: SchemaNode) -> bool:
    """A leafref with require-instance (whose check needs the per-unit path)."""
    return node.type is not None and node.type.base == "leafref" and node.type.require_instance


def runs(
    ctx: ValidationContext, changes: list[Change]
) -> Iterator[tuple[list[Change], list[bool]]]:
    """The changes in runs of one node, each with what the bulk checks cleared:
    for each change, True if its unit certainly passes the per-unit checks.

    Runs of at least MIN_BATCH changes of one list node with new content are
    checked in bulk; in the others nothing is cleared.
    """
    for node, run in groupby(changes, key=_node_of):
        group = list(run)
        values = [change.new for change in group]
        batch = _batch(ctx.schema, node) if len(group) >= MIN_BATCH else None
        if batch is None or None in values:
            yield group, [False] * len(group)
        else:
            yield group, _clear(ctx, batch, values)


def _clear(ctx: ValidationContext, batch: _Batch, values: list[Any]) -> list[bool]:
    """Which of the entry Maps `values` pass every check of `batch`."""
    columns = list(zip(*map(batch.scan, values), strict=True))
    ok: list[bool] = list(columns[0])
    for child, column in zip(batch.leafrefs, columns[1:], strict=True):
        missing = {
            value
            for value in set(column)
            if value is not None and not keyed_target_exists(ctx, child, value)
        }
        if missing:
            ok = [good and value not in missing for good, value in zip(ok, column, strict=True)]
    return ok
