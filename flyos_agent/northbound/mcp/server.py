"""The MCP server (the official SDK's low-level `Server`) over the generated tools.

The tools are data generated from YANG, not Python functions, so the server
is the SDK's low-level `mcp.server.lowlevel.Server` with explicit list/call
handlers (`MCPServer` derives each tool's input schema from a function
signature). Both transports use it: streamable HTTP at /mcp (http.py) and
stdio (`flyos mcp`, cli/mcp_bridge.py). Each serves sessions of its own: a
`SessionLookup` gives the `ToolSession` of the request being served.

A tool runs in a worker thread (the Manager and the IPC client block);
a `FlyosError` becomes an MCP tool error (`isError`) whose text names the
error-tag, the YANG path and the reason, so the model can correct itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from flyos_agent.errors import FlyosError
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.resources import list_resources, read_resource
from flyos_agent.northbound.mcp.spec import ToolSpec
from flyos_agent.schema import Schema

log = logging.getLogger(__name__)

SERVER_NAME = "flyos-agent"
Context = ServerRequestContext[Any, Any]
SessionLookup = Callable[[Context], ToolSession]
INSTRUCTIONS = (
    "FlyOS agent: a Linux router/firewall configured through YANG models. Edit with the "
    "<module>_add/_set/_delete/_sync tools (route_, nic_, acl_, nat_, tunnel_, vrf_, "
    "system_ ...): edits go to this session's private candidate. Review with compare, "
    "check with validate or commit(dry_run=true) (diff and kernel plan, nothing applied), "
    "then commit: a confirmed commit that reverts unless you call confirm in time. "
    "Errors name the YANG path and the reason."
)


def build_server(tools: Mapping[str, ToolSpec], schema: Schema, lookup: SessionLookup) -> Server:
    """An MCP server offering `tools` and the resources of `schema`, for the sessions
    `lookup` finds."""
    listed = [
        types.Tool(
            name=spec.name,
            description=spec.description,
            input_schema=spec.input_schema,
            annotations=types.ToolAnnotations(read_only_hint=spec.read_only, open_world_hint=False),
        )
        for spec in tools.values()
    ]
    resources = [
        types.Resource(
            uri=info.uri, name=info.name, description=info.description, mime_type=info.mime_type
        )
        for info in list_resources(schema)
    ]

    async def on_list_tools(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(
        ctx: Context, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        spec = tools.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool '{params.name}'")
        arguments = params.arguments or {}
        return await anyio.to_thread.run_sync(lambda: call_tool(spec, lookup(ctx), arguments))

    async def on_list_resources(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=resources)

    async def on_read_resource(
        ctx: Context, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)

        def read() -> tuple[str, str]:
            session = lookup(ctx)
            with session.lock:
                return read_resource(session, uri)

        try:
            text, mime_type = await anyio.to_thread.run_sync(read)
        except FlyosError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc), exc.to_dict()) from None
        contents = types.TextResourceContents(uri=uri, text=text, mime_type=mime_type)
        return types.ReadResourceResult(contents=[contents])

    return Server(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_read_resource=on_read_resource,
    )


def call_tool(
    spec: ToolSpec, session: ToolSession, arguments: dict[str, Any]
) -> types.CallToolResult:
    """Run one tool call for `session` (one at a time per session) and render its result."""
    try:
        with session.lock:
            result = spec.run(session, arguments)
    except FlyosError as exc:
        return tool_error(exc)
    except Exception:
        log.exception("MCP tool %s failed", spec.name)
        return _text_result("operation-failed: internal error; the agent log has the details", True)
    return _text_result(json.dumps(result, indent=1, ensure_ascii=False), False)


def tool_error(error: FlyosError) -> types.CallToolResult:
    """An MCP tool error: the error-tag, path and reason in words, then as JSON."""
    detail = json.dumps({"error": error.to_dict()}, indent=1, ensure_ascii=False)
    return _text_result(f"{error.tag}: {error}\n{detail}", True)


def _text_result(text: str, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=is_error)


async def serve_stdio(server: Server) -> None:
    """Serve one MCP client on this process's stdin and stdout until it hangs up."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
