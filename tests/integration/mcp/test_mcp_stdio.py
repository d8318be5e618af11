"""MCP over stdio: the official client launching `flyos mcp --socket ...` (tools over IPC)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp_helpers import STATIC, RestAgent, check_schemas, payload, route, routes, tool_error

FLYOS = Path(sys.executable).parent / "flyos"


def test_stdio_bridge_lists_edits_commits_and_refuses_bad_input(mcp_agent: RestAgent) -> None:
    prefix = "10.70.0.0/24"
    launch = StdioServerParameters(
        command=str(FLYOS),
        args=["--socket", str(mcp_agent.socket), "mcp", "--confirm-timeout", "60"],
    )

    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Client(launch) as client:
            seen["tools"] = (await client.list_tools()).tools
            seen["bad"] = tool_error(await client.call_tool("route_add", route("10.0.0.300/24")))
            payload(await client.call_tool("route_add", route(prefix)))
            seen["diff"] = payload(await client.call_tool("compare", {}))
            seen["dry-run"] = payload(await client.call_tool("commit", {"dry_run": True}))
            seen["commit"] = payload(await client.call_tool("commit", {}))
            seen["running"] = routes(mcp_agent.socket)
            payload(await client.call_tool("confirm", {}))
            candidate = await client.read_resource("flyos://config/candidate")
            seen["candidate"] = candidate.contents[0].text  # type: ignore[union-attr]
            payload(await client.call_tool("route_delete", {"static": {"prefix": prefix}}))
            payload(await client.call_tool("commit", {"confirmed": False}))
        return seen

    seen = anyio.run(main)
    check_schemas(seen["tools"])
    assert {"route_add", "nic_set", "system_sync", "commit", "confirm"} <= {
        tool.name for tool in seen["tools"]
    }
    assert seen["bad"]["tag"] == "invalid-value" and "prefix" in seen["bad"]["message"]
    target = f"{STATIC}[prefix='{prefix}']"
    assert target in [change["target"] for change in seen["diff"]]
    assert {"op": "create", "object": target} in seen["dry-run"]["plan"]
    assert seen["commit"]["changed"] and 0 < seen["commit"]["confirm-timeout"] <= 60
    assert seen["running"][prefix]["via"] == "192.168.1.1"
    assert f'"prefix": "{prefix}"' in seen["candidate"]
    assert prefix not in routes(mcp_agent.socket)
