"""One validation run's state, and how it evaluates must and when.

Expressions are evaluated compiled (xpath_compiled closures over Items) where
possible and by the full XPath evaluator otherwise; an expression that cannot
be evaluated is an error and counts as true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from immutables import Map

from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.datastore.xpath import XPathError, evaluate_boolean
from flyos_agent.datastore.xpath_compiled import Item, Unsupported, compile_expression, holds
from flyos_agent.errors import FlyosError, OperationFailed
from flyos_agent.schema import Kind, Must, Schema, SchemaNode


@dataclass
class ValidationContext:
    """One validation run: the tree being checked, the errors found so far, and
    the caches sibling units share (checked units, ancestor Items, leafref
    target existence)."""

    schema: Schema
    tree: Map[str, Any]
    errors: list[FlyosError] = field(default_factory=list)
    checked: set[InstancePath] = field(default_factory=set)
    items: dict[InstancePath, Item] = field(default_factory=dict)
    targets: dict[tuple[str, Any], bool] = field(default_factory=dict)

    def where(self, path: InstancePath) -> str:
        """`path` as XPath text, for error messages."""
        return format_path(self.schema, path)


def _item_at(ctx: ValidationContext, path: InstancePath) -> Item:
    """The Item chain for the node at `path` (value None where absent).

    Ancestors are cached per validation run: sibling units share them.
    """
    cached = ctx.items.get(path)
    if cached is not None:
        return cached
    name, key = path[-1]
    if len(path) == 1:
        node, parent_value, parent = ctx.schema.roots[name], ctx.tree, None
    else:
        parent = _item_at(ctx, path[:-1])
        node, parent_value = parent.node.children[name], parent.value
    value = parent_value.get(name) if isinstance(parent_value, Map) else None
    if key is not None and value is not None:
        value = value.get(key) if node.kind is Kind.LIST else key[0]
    item = Item(node, value, parent)
    if key is None:
        ctx.items[path] = item
    return item


def expression_holds(ctx: ValidationContext, expression: str, path: InstancePath) -> bool:
    """The boolean value of `expression` at `path`: compiled if possible, else interpreted."""
    compiled = compile_expression(expression)
    if compiled is not None:
        try:
            return holds(compiled, _item_at(ctx, path))
        except Unsupported:
            pass
    try:
        return evaluate_boolean(ctx.schema, ctx.tree, expression, path)
    except XPathError as exc:
        ctx.errors.append(
            OperationFailed(f"cannot evaluate '{expression}': {exc}", path=ctx.where(path))
        )
        return True


def check_must(ctx: ValidationContext, must: Must, path: InstancePath) -> None:
    """Record an error unless `must` holds at `path`."""
    if not expression_holds(ctx, must.expression, path):
        ctx.errors.append(
            OperationFailed(
                must.error_message or f"must condition not satisfied: {must.expression}",
                path=ctx.where(path),
                app_tag=must.error_app_tag or "must-violation",
            )
        )


def when_error(ctx: ValidationContext, node: SchemaNode, path: InstancePath) -> FlyosError:
    """The error for `node` existing at `path` while its `when` is false."""
    return OperationFailed(
        f"'{node.name}' is not allowed here: when condition '{node.when}' is false",
        path=ctx.where(path),
        app_tag="when-violation",
    )
