"""Our own operations (module flyos-agent-ops): rollback, compare, history, reconcile."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.netconf.namespaces import FLYOS_OPS, new_element, sub
from flyos_agent.northbound.netconf.rpc import REGISTRY, Params, Reply, RpcContext


def _number(params: Params, name: str) -> int | None:
    text = params.text(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise InvalidValue(f"{name} '{text}' is not a number", info={"bad-element": name})
    return int(text)


def _element(name: str) -> etree._Element:
    return new_element(FLYOS_OPS, name)


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


@REGISTRY.rpc(FLYOS_OPS, "rollback")
async def rollback(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Load an earlier configuration into the candidate."""
    params = Params(operation, dict.fromkeys(("index", "commit-id"), FLYOS_OPS))
    index, commit_id = _number(params, "index"), _number(params, "commit-id")
    if index is not None and commit_id is not None:
        raise InvalidValue("give index or commit-id, not both", info={"bad-element": "commit-id"})
    await ctx.call(
        ctx.manager.rollback, ctx.session, 1 if index is None else index, commit_id=commit_id
    )
    return None


@REGISTRY.rpc(FLYOS_OPS, "compare")
async def compare(ctx: RpcContext, operation: etree._Element) -> Reply:
    """The difference between two configurations, unit by unit."""
    params = Params(operation, dict.fromkeys(("source", "target"), FLYOS_OPS))
    changes = await ctx.call(
        ctx.manager.compare,
        ctx.session,
        params.text("source", "running") or "running",
        params.text("target", "candidate") or "candidate",
    )
    out: list[etree._Element] = []
    for change in changes:
        element = _element("change")
        sub(element, FLYOS_OPS, "operation", change["operation"])
        sub(element, FLYOS_OPS, "target", change["target"])
        if "value" in change:
            sub(element, FLYOS_OPS, "value", _json(change["value"]))
        for name, values in change.get("leaves", {}).items():
            leaf = sub(element, FLYOS_OPS, "leaf")
            sub(leaf, FLYOS_OPS, "name", name)
            for side in ("old", "new"):
                if values.get(side) is not None:
                    sub(leaf, FLYOS_OPS, side, _json(values[side]))
        out.append(element)
    return out


@REGISTRY.rpc(FLYOS_OPS, "history")
async def history(ctx: RpcContext, operation: etree._Element) -> Reply:
    """The commit history, newest first."""
    params = Params(operation, {"limit": FLYOS_OPS})
    limit = _number(params, "limit")
    records = await ctx.call(ctx.manager.history, ctx.session, limit)
    out: list[etree._Element] = []
    for record in records:
        element = _element("commit")
        for name in ("rollback", "commit-id", "time", "user", "channel", "comment", "changes"):
            if record.get(name) is not None:
                sub(element, FLYOS_OPS, name, str(record[name]))
        out.append(element)
    return out


@REGISTRY.rpc(FLYOS_OPS, "reconcile")
async def reconcile(ctx: RpcContext, operation: etree._Element) -> Reply:
    """The kernel's drift from running, converged unless `check` is given."""
    check = operation.find(f"{{{FLYOS_OPS}}}check") is not None
    report = await ctx.call(ctx.manager.reconcile, ctx.session, apply=not check)
    element = _element("report")
    element.text = _json(report)
    return [element]
