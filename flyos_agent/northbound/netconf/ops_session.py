"""Session operations: close-session, kill-session, create-subscription (RFC 5277)."""

from __future__ import annotations

from lxml import etree

from flyos_agent.errors import InvalidValue, OperationNotSupported
from flyos_agent.northbound.netconf.monitoring import STREAM
from flyos_agent.northbound.netconf.namespaces import BASE, NOTIFICATION
from flyos_agent.northbound.netconf.rpc import REGISTRY, Params, Reply, RpcContext, base_params


@REGISTRY.rpc(BASE, "close-session")
async def close_session(ctx: RpcContext, operation: etree._Element) -> Reply:
    """End this session gracefully: its locks are released (and the rest of what
    ending a session does) before the <ok/>, the channel closes after it."""
    Params(operation, {})
    await ctx.call(ctx.manager.close_session, ctx.session)
    ctx.close_after_reply()
    return None


@REGISTRY.rpc(BASE, "kill-session")
async def kill_session(ctx: RpcContext, operation: etree._Element) -> Reply:
    """End another session: its locks are released, its confirmed commit reverted."""
    params = Params(operation, base_params("session-id"))
    params.required("session-id")
    text = params.text("session-id") or ""
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise InvalidValue(
            f"session-id '{text}' is not a session id", info={"bad-element": "session-id"}
        )
    await ctx.kill(int(text))
    return None


@REGISTRY.rpc(NOTIFICATION, "create-subscription")
async def create_subscription(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Send this session the NETCONF stream's notifications (no replay)."""
    accepted: dict[str, str | tuple[str, ...]] = {
        **dict.fromkeys(("stream", "startTime", "stopTime"), NOTIFICATION),
        "filter": (NOTIFICATION, BASE),  # RFC 5277 puts it in its own namespace; many send base
    }
    params = Params(operation, accepted)
    stream = params.text("stream", STREAM)
    if stream != STREAM:
        raise InvalidValue(f"no stream '{stream}' (only {STREAM})", info={"bad-element": "stream"})
    if params.get("startTime") is not None or params.get("stopTime") is not None:
        raise OperationNotSupported(
            "replay is not supported (no startTime/stopTime)",
            info={
                "bad-element": "startTime" if params.get("startTime") is not None else "stopTime"
            },
        )
    ctx.subscribe(params.get("filter"))
    return None
