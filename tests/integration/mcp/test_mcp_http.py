"""MCP over streamable HTTP at /mcp with the official client: tools, guardrails, resources."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import requests
from mcp_helpers import (
    ADMIN,
    CONFIRM_TIMEOUT,
    MCP_PATH,
    OPERATOR,
    STATIC,
    RestAgent,
    check_schemas,
    commit_count,
    http_client,
    payload,
    route,
    routes,
    tool_error,
)

MODULE_VERBS = ("add", "set", "delete", "sync", "get")
MODULE_WORDS = ("route", "nic", "acl", "nat", "tunnel", "vrf", "system")
SESSION_TOOLS = (
    "get_config",
    "get_state",
    "compare",
    "validate",
    "commit",
    "confirm",
    "cancel_commit",
    "rollback",
    "history",
)


def test_tools_are_generated_per_module_with_valid_json_schemas(mcp_agent: RestAgent) -> None:
    async def main() -> Any:
        async with http_client(mcp_agent.base) as client:
            assert client.server_info is not None and client.server_info.name == "flyos-agent"
            assert client.protocol_version == "2025-11-25"  # a session: the handshake era
            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            assert {"flyos://config/running", "flyos://history", "flyos://yang/flyos-routing"} <= (
                resources
            )
            return (await client.list_tools()).tools

    tools = anyio.run(main)
    names = {tool.name for tool in tools}
    assert {f"{w}_{v}" for w in MODULE_WORDS for v in MODULE_VERBS} <= names
    assert set(SESSION_TOOLS) <= names
    check_schemas(tools)
    add = next(tool for tool in tools if tool.name == "route_add").input_schema
    static = add["properties"]["static"]
    assert static["required"] == ["prefix"]
    prefix = static["properties"]["prefix"]
    assert "destination prefix" in prefix["description"]
    assert all("pattern" in member for member in prefix["anyOf"])
    kind = static["properties"]["type"]
    assert kind["enum"][0] == "unicast"


def test_add_route_review_diff_commit_confirm(mcp_agent: RestAgent) -> None:
    prefix = "10.10.0.0/24"

    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with http_client(mcp_agent.base, "operator") as client:
            added = payload(await client.call_tool("route_add", route(prefix)))
            assert added["candidate"] == [
                {"operation": "create", "path": f"{STATIC}[prefix='{prefix}']"}
            ]
            seen["diff"] = payload(await client.call_tool("compare", {}))
            seen["running-before-commit"] = routes(mcp_agent.socket)
            committed = payload(await client.call_tool("commit", {"timeout": 60}))
            seen["commit"] = committed
            seen["running-after-commit"] = routes(mcp_agent.socket)
            seen["confirm"] = payload(await client.call_tool("confirm", {}))
            running = await client.read_resource("flyos://config/running")
            seen["resource"] = running.contents[0].text  # type: ignore[union-attr]
            yang = await client.read_resource("flyos://yang/flyos-routing")
            seen["yang"] = yang.contents[0].text  # type: ignore[union-attr]
            history = await client.read_resource("flyos://history")
            seen["history"] = json.loads(history.contents[0].text)  # type: ignore[union-attr]
            payload(await client.call_tool("route_delete", {"static": {"prefix": prefix}}))
            payload(await client.call_tool("commit", {"confirmed": False}))
        return seen

    seen = anyio.run(main)
    create = {"operation": "create", "target": f"{STATIC}[prefix='{prefix}']"}
    entry = next(d for d in seen["diff"] if d["target"] == create["target"])
    assert entry == {**create, "value": {"prefix": prefix, "via": "192.168.1.1"}}
    assert prefix not in seen["running-before-commit"]
    commit = seen["commit"]
    assert commit["changed"] and create in commit["changes"] and commit["diff"] == seen["diff"]
    assert 0 < commit["confirm-timeout"] <= 60 and "confirm within" in commit["next"]
    assert seen["running-after-commit"][prefix]["via"] == "192.168.1.1"
    assert seen["confirm"]["changed"] is False
    assert f'"prefix": "{prefix}"' in seen["resource"]
    assert seen["yang"].startswith("module flyos-routing")
    assert seen["history"][0]["commit-id"] == commit["commit-id"]
    assert seen["history"][0]["channel"] == "mcp" and seen["history"][0]["user"] == "operator"
    assert prefix not in routes(mcp_agent.socket)


def test_invalid_prefix_is_a_tool_error_naming_the_path(mcp_agent: RestAgent) -> None:
    commits = commit_count(mcp_agent.socket)

    async def main() -> list[Any]:
        async with http_client(mcp_agent.base) as client:
            bad_key = await client.call_tool("route_add", route("10.0.0.300/24"))
            bad_via = await client.call_tool("route_add", route("10.60.0.0/24", via="1.2.3.999"))
            bad_kind = await client.call_tool("route_add", {"statics": {"prefix": "10.0.0.0/8"}})
            diff = payload(await client.call_tool("compare", {}))
            return [tool_error(bad_key), tool_error(bad_via), tool_error(bad_kind), diff]

    bad_key, bad_via, bad_kind, diff = anyio.run(main)
    assert bad_key["tag"] == "invalid-value"
    assert bad_key["path"] == "/flyos-routing:routing/static/prefix"
    assert "invalid key 'prefix'" in bad_key["message"] and "10.0.0.300/24" in bad_key["message"]
    assert bad_key["line"] == f"invalid-value: {bad_key['path']}: {bad_key['message']}"
    assert bad_via["path"] == f"{STATIC}[prefix='10.60.0.0/24']/via"
    assert "1.2.3.999" in bad_via["message"]
    assert bad_kind["tag"] == "bad-element" and "static, pbr, bgp, ospf" in bad_kind["message"]
    assert diff == []
    assert commit_count(mcp_agent.socket) == commits


def test_unconfirmed_commit_reverts_after_the_configured_timeout(mcp_agent: RestAgent) -> None:
    prefix = "10.20.0.0/24"

    async def main() -> dict[str, Any]:
        async with http_client(mcp_agent.base) as client:
            payload(await client.call_tool("route_add", route(prefix)))
            committed: dict[str, Any] = payload(await client.call_tool("commit", {}))
            assert prefix in routes(mcp_agent.socket)
            deadline = time.monotonic() + CONFIRM_TIMEOUT + 10
            while prefix in routes(mcp_agent.socket) and time.monotonic() < deadline:
                await anyio.sleep(0.2)
            return committed

    committed = anyio.run(main)
    assert committed["confirm-timeout"] <= CONFIRM_TIMEOUT
    assert prefix not in routes(mcp_agent.socket)


def test_dry_run_returns_the_diff_and_the_kernel_plan_without_applying(
    mcp_agent: RestAgent,
) -> None:
    prefix = "10.30.0.0/24"
    commits = commit_count(mcp_agent.socket)

    async def main() -> Any:
        async with http_client(mcp_agent.base) as client:
            payload(await client.call_tool("route_add", route(prefix)))
            result = payload(await client.call_tool("commit", {"dry_run": True}))
            payload(await client.call_tool("discard", {}))
            return result

    result = anyio.run(main)
    target = f"{STATIC}[prefix='{prefix}']"
    assert result["dry-run"] is True
    assert {"operation": "create", "target": target} in result["changes"]
    assert target in [d["target"] for d in result["diff"]]
    assert {"op": "create", "object": target} in result["plan"]
    assert prefix not in routes(mcp_agent.socket)
    assert commit_count(mcp_agent.socket) == commits


def test_ending_the_session_reverts_unless_persist(mcp_agent: RestAgent) -> None:
    plain, kept = "10.40.0.0/24", "10.41.0.0/24"

    async def main() -> str:
        async with http_client(mcp_agent.base) as client:
            payload(await client.call_tool("route_add", route(plain)))
            payload(await client.call_tool("commit", {"timeout": 60}))
            assert plain in routes(mcp_agent.socket)
        assert plain not in routes(mcp_agent.socket)  # DELETE ended the session: reverted
        async with http_client(mcp_agent.base) as client:
            payload(await client.call_tool("route_add", route(kept)))
            result = payload(await client.call_tool("commit", {"timeout": 60, "persist": True}))
        assert kept in routes(mcp_agent.socket)  # persistent: survives its session
        async with http_client(mcp_agent.base) as client:
            payload(await client.call_tool("confirm", {"persist_id": result["persist-id"]}))
            payload(await client.call_tool("route_delete", {"static": {"prefix": kept}}))
            payload(await client.call_tool("commit", {"confirmed": False}))
        persist_id: str = result["persist-id"]
        return persist_id

    assert anyio.run(main)
    assert plain not in routes(mcp_agent.socket) and kept not in routes(mcp_agent.socket)


def test_unauthenticated_requests_are_refused_before_any_tool_runs(
    mcp_agent: RestAgent,
) -> None:
    url = mcp_agent.base + MCP_PATH
    commits = commit_count(mcp_agent.socket)
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "route_add", "arguments": route("10.50.0.0/24")},
    }
    add = {"jsonrpc": "2.0", "id": 2, "method": "route.add", "params": {"prefix": "10.50.0.0/24"}}
    for auth in (None, ("admin", "wrong"), ("nobody", "x")):
        for body in (call, add):
            response = requests.post(url, json=body, auth=auth, timeout=30)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic")
    bearer = {"Authorization": "Bearer flyos_000000000000_forged"}
    assert requests.post(url, json=add, headers=bearer, timeout=30).status_code == 401
    assert requests.get(url, timeout=30).status_code == 401
    assert commit_count(mcp_agent.socket) == commits
    assert "10.50.0.0/24" not in routes(mcp_agent.socket)


def test_a_session_answers_only_its_owner(mcp_agent: RestAgent) -> None:
    url = mcp_agent.base + MCP_PATH
    accept = {"Accept": "application/json, text/event-stream"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "curl", "version": "1"},
        },
    }
    opened = requests.post(url, json=initialize, auth=OPERATOR, headers=accept, timeout=30)
    assert opened.status_code == 200, opened.text
    session = {**accept, "Mcp-Session-Id": opened.headers["Mcp-Session-Id"]}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    other = requests.post(url, json=listing, auth=ADMIN, headers=session, timeout=30)
    assert other.status_code == 404
    own = requests.post(url, json=listing, auth=OPERATOR, headers=session, timeout=30)
    assert own.status_code == 200 and own.json()["result"]["tools"]
    assert requests.get(url, auth=OPERATOR, headers=session, timeout=30).status_code == 405
    assert requests.delete(url, auth=OPERATOR, headers=session, timeout=30).status_code == 200


def test_exact_mcp_path(mcp_agent: RestAgent) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "route.fly"}
    response = requests.post(mcp_agent.base + "/mcp", json=body, auth=ADMIN, timeout=30)
    assert response.json()["error"]["code"] == -32601
