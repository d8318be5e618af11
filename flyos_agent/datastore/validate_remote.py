"""Must and when expressions that read other parts of the tree.

An expression with an absolute location path can be broken by a change far
from the node it constrains. For each such expression (found once per schema)
whose absolute targets overlap a changed schema path, every instance of its
node is re-checked.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pyang import xpath_parser

from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.validate_context import (
    ValidationContext,
    check_must,
    expression_holds,
    when_error,
)
from flyos_agent.datastore.validate_refs import instances
from flyos_agent.schema import Kind, Must, Schema, SchemaNode


def check_remote_expressions(ctx: ValidationContext, changes: list[Change]) -> None:
    """Re-check must/when expressions elsewhere that read a changed part of the tree."""
    changed = {_local_schema_path(path) for path in {change.node.path for change in changes}}
    for node, must, when in _remote_expressions(ctx.schema):
        expression = must.expression if must is not None else when
        assert expression is not None
        reads = _absolute_targets(expression)
        if not any(_overlaps(target, path) for target in reads for path in changed):
            continue
        for path, value in instances(ctx.schema, ctx.tree, node):
            if must is None:
                if not expression_holds(ctx, expression, path):
                    ctx.errors.append(when_error(ctx, node, path))
            elif node.kind is Kind.LEAF_LIST:
                for item in value:
                    check_must(ctx, must, (*path[:-1], (node.name, (item,))))
            else:
                check_must(ctx, must, path)


def _local_schema_path(path: str) -> str:
    """/flyos-routing:routing/static -> /routing/static."""
    return "/" + path.lstrip("/").partition(":")[2]


def _overlaps(target: str, changed: str) -> bool:
    return target.startswith(changed) or changed.startswith(target)


@cache
def _remote_expressions(schema: Schema) -> tuple[tuple[SchemaNode, Must | None, str | None], ...]:
    """(node, must, when) for every must/when that reads the tree by absolute path."""
    found: list[tuple[SchemaNode, Must | None, str | None]] = []
    for node in schema.walk():
        if not node.config:
            continue
        found.extend((node, must, None) for must in node.must if _absolute_targets(must.expression))
        if node.when and _absolute_targets(node.when):
            found.append((node, None, node.when))
    return tuple(found)


@cache
def _absolute_targets(expression: str) -> tuple[str, ...]:
    """Schema paths (module-qualified top) that absolute location paths in `expression` read."""
    found: list[str] = []
    _collect_absolute(xpath_parser.parse(expression), found)
    return tuple(found)


def _collect_absolute(ast: Any, found: list[str]) -> None:
    if isinstance(ast, tuple):
        if ast and ast[0] == "absolute":
            names = []
            for step in ast[1]:
                test = step[2]
                if test[0] != "name":
                    break
                names.append(test[2])
            if names:
                found.append("/" + "/".join(names))
        for item in ast:
            _collect_absolute(item, found)
    elif isinstance(ast, list):
        for item in ast:
            _collect_absolute(item, found)
