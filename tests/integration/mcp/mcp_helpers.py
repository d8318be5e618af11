"""Helpers of the MCP tests: the official MCP client on the agent, results, running routes.

The agent is started by the REST tests' helpers (tests/integration/rest/rest_helpers.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from cli.ipc_client import IpcClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rest"))
from rest_helpers import PASSWORDS, RestAgent, start_agent, stop_agent

__all__ = ["PASSWORDS", "RestAgent", "start_agent", "stop_agent"]

ADMIN = ("admin", PASSWORDS["admin"])  # Basic credentials for requests
OPERATOR = ("operator", PASSWORDS["operator"])

CONFIRM_TIMEOUT = 3  # the agent's mcp_confirm_timeout, seconds
# RestServer.mount_asgi routes only the paths below /mcp/ to the mounted app
# (the exact path /mcp falls through to the REST app): see test_exact_mcp_path.
MCP_PATH = "/mcp"
STATIC = "/flyos-routing:routing/static"


@asynccontextmanager
async def http_client(base: str, user: str = "admin") -> AsyncIterator[Client]:
    """An MCP session over streamable HTTP as `user` (the official client)."""
    auth = httpx2.BasicAuth(user, PASSWORDS[user])
    async with (
        httpx2.AsyncClient(auth=auth, timeout=30) as http,
        Client(streamable_http_client(base + MCP_PATH, http_client=http)) as client,
    ):
        yield client


def payload(result: CallToolResult) -> Any:
    """The JSON result of a successful tool call."""
    assert not result.is_error, result.content
    text: str = result.content[0].text  # type: ignore[union-attr]
    return json.loads(text)


def tool_error(result: CallToolResult) -> dict[str, Any]:
    """The FlyOS error (tag, path, message) of a failed tool call, and its first line."""
    assert result.is_error, result.content
    text: str = result.content[0].text  # type: ignore[union-attr]
    first, _, detail = text.partition("\n")
    error: dict[str, Any] = json.loads(detail)["error"]
    error["line"] = first
    return error


def check_schemas(tools: list[Any]) -> None:
    """Every tool's input schema is a valid JSON Schema (Draft 2020-12) of an object."""
    for tool in tools:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object", tool.name


def routes(socket: Any, source: str = "running") -> dict[str, dict[str, Any]]:
    """The static routes of `source`, by prefix (read over IPC as root)."""
    with IpcClient(str(socket), timeout=30) as ipc:
        config = ipc.call("get-config", {"source": source, "path": "/routing"})
    entries = config.get("flyos-routing:routing", {}).get("static", [])
    return {entry["prefix"]: entry for entry in entries}


def commit_count(socket: Any) -> int:
    """How many commits the journal holds."""
    with IpcClient(str(socket), timeout=30) as ipc:
        return len(ipc.call("history", {}))


def route(prefix: str, via: str = "192.168.1.1") -> dict[str, Any]:
    """route_add's arguments for a static route."""
    return {"static": {"prefix": prefix, "via": via}}
