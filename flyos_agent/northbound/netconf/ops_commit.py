"""Candidate operations: commit (confirmed, persist, dry-run), cancel-commit, discard."""

from __future__ import annotations

import json

from lxml import etree

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.netconf.namespaces import BASE, FLYOS_NETCONF, new_element, sub
from flyos_agent.northbound.netconf.rpc import REGISTRY, Params, Reply, RpcContext, base_params

COMMIT_PARAMS = {
    **base_params("confirmed", "confirm-timeout", "persist", "persist-id"),
    "dry-run": FLYOS_NETCONF,
}


def _timeout(params: Params) -> int | None:
    text = params.text("confirm-timeout")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**32:
        raise InvalidValue(
            f"confirm-timeout '{text}' is not a number of seconds (1..4294967295)",
            info={"bad-element": "confirm-timeout"},
        )
    return int(text)


@REGISTRY.rpc(BASE, "commit")
async def commit(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Commit the candidate; with <confirmed/> it reverts unless confirmed in time."""
    params = Params(operation, COMMIT_PARAMS)
    dry_run = params.flag("dry-run")
    result = await ctx.call(
        ctx.manager.commit,
        ctx.session,
        confirmed=params.flag("confirmed"),
        timeout=_timeout(params),
        persist=params.text("persist"),
        persist_id=params.text("persist-id"),
        dry_run=dry_run,
    )
    if not dry_run:
        return None
    out: list[etree._Element] = []
    for change in result.changes:
        element = new_element(FLYOS_NETCONF, "change")
        sub(element, FLYOS_NETCONF, "operation", str(change.get("operation")))
        sub(element, FLYOS_NETCONF, "target", str(change.get("target", change.get("count"))))
        out.append(element)
    for step in result.plan or []:
        element = new_element(FLYOS_NETCONF, "plan")
        element.text = json.dumps(step, sort_keys=True, default=str)
        out.append(element)
    return out


@REGISTRY.rpc(BASE, "cancel-commit")
async def cancel_commit(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Revert the pending confirmed commit now."""
    params = Params(operation, base_params("persist-id"))
    await ctx.call(ctx.manager.cancel_commit, ctx.session, params.text("persist-id"))
    return None


@REGISTRY.rpc(BASE, "discard-changes")
async def discard_changes(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Drop the candidate's uncommitted edits."""
    Params(operation, {})
    await ctx.call(ctx.manager.discard, ctx.session)
    return None
