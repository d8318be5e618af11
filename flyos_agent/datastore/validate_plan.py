"""What each schema node's children need checked, worked out once per node.

validate walks units with these plans; validate_batch uses them to clear
many entries of one list at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flyos_agent.datastore.xpath_codegen import LocalCheck, compile_local
from flyos_agent.schema import Kind, Must, SchemaNode


@dataclass(frozen=True)
class CheckPlan:
    """Which children of a node need which checks (computed once per node), and
    the generated local checks for the node's own musts and its children's
    musts and whens (None where the expression is not local)."""

    lists: tuple[SchemaNode, ...]
    present: tuple[SchemaNode, ...]
    absent: tuple[SchemaNode, ...]
    own_musts: tuple[tuple[Must, LocalCheck | None], ...]
    child_musts: dict[str, tuple[tuple[Must, LocalCheck | None], ...]]
    child_whens: dict[str, LocalCheck | None]


@cache
def check_plan(node: SchemaNode) -> CheckPlan:
    """The CheckPlan of `node`'s children."""
    lists, present, absent = [], [], []
    for child in node.children.values():
        if not child.config:
            continue
        if child.kind is Kind.LIST:
            lists.append(child)
            continue
        leaf_type = child.type
        is_leafref = leaf_type is not None and leaf_type.base == "leafref"
        counted = child.kind is Kind.LEAF_LIST and (child.min_elements or child.max_elements)
        nested = child.kind is Kind.CONTAINER and (
            check_plan(child).lists or check_plan(child).present or check_plan(child).absent
        )
        if child.when or child.must or is_leafref or counted or nested:
            present.append(child)
        if (
            (child.kind is Kind.LEAF and child.mandatory)
            or (child.kind is Kind.LEAF_LIST and child.min_elements)
            or (child.kind is Kind.CONTAINER and not child.presence and check_plan(child).absent)
            or (child.kind is Kind.CONTAINER and not child.presence and check_plan(child).lists)
        ):
            absent.append(child)
    return CheckPlan(
        tuple(lists),
        tuple(present),
        tuple(absent),
        own_musts=tuple(
            (m, compile_local(node, m.expression, from_child=False)) for m in node.must
        ),
        child_musts={
            c.name: tuple((m, compile_local(node, m.expression, from_child=True)) for m in c.must)
            for c in node.children.values()
            if c.must and c.kind is Kind.LEAF
        },
        child_whens={
            c.name: compile_local(node, c.when, from_child=True)
            for c in node.children.values()
            if c.when
        },
    )
