"""The original FlyOS JSON-RPC on /mcp: jsonrpclib-pelix and plain HTTP, errors, batches."""

from __future__ import annotations

import json
from typing import Any

import jsonrpclib
import pytest
import requests
from jsonrpclib.history import History
from mcp_helpers import ADMIN, MCP_PATH, PASSWORDS, STATIC, RestAgent, commit_count, routes

ORIGINAL = (
    b'{"jsonrpc":"2.0","method":"route.add",'
    b'"params":{"prefix":"10.0.0.0/24","via":"192.168.1.1"},"id":1}'
)


def post(agent: RestAgent, body: bytes | Any) -> requests.Response:
    """POST a JSON-RPC body (bytes as they are, anything else as JSON) as admin."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return requests.post(agent.base + MCP_PATH, data=data, headers=headers, auth=ADMIN, timeout=30)


def call(method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
    """A JSON-RPC request object (a notification when `request_id` is None)."""
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        request["params"] = params
    if request_id is not None:
        request["id"] = request_id
    return request


def test_original_request_verbatim_over_plain_http(mcp_agent: RestAgent) -> None:
    response = post(mcp_agent, ORIGINAL)
    assert response.status_code == 200
    reply = response.json()
    assert reply["jsonrpc"] == "2.0" and reply["id"] == 1
    target = f"{STATIC}[prefix='10.0.0.0/24']"
    assert {"operation": "create", "target": target} in reply["result"]["changes"]
    assert reply["result"]["changed"] is True
    assert routes(mcp_agent.socket)["10.0.0.0/24"]["via"] == "192.168.1.1"
    deleted = post(mcp_agent, call("route.delete", {"prefix": "10.0.0.0/24"})).json()
    assert deleted["result"]["changes"] == [{"operation": "delete", "target": target}]
    assert "10.0.0.0/24" not in routes(mcp_agent.socket)


def test_original_request_via_jsonrpclib(mcp_agent: RestAgent) -> None:
    history = History()
    host = mcp_agent.base.removeprefix("http://")
    url = f"http://admin:{PASSWORDS['admin']}@{host}{MCP_PATH}"
    server = jsonrpclib.ServerProxy(url, history=history)
    result = server.route.add(prefix="10.0.0.0/24", via="192.168.1.1")
    sent = json.loads(history.request)
    assert {**sent, "id": 1} == json.loads(ORIGINAL)
    assert result["changed"] is True and result["commit-id"] > 0
    assert routes(mcp_agent.socket)["10.0.0.0/24"]["via"] == "192.168.1.1"
    with pytest.raises(jsonrpclib.ProtocolError) as exists:
        server.route.add(prefix="10.0.0.0/24", via="192.168.1.1")
    assert exists.value.args[0][0] == -32000 and "exists" in exists.value.args[0][1]
    with pytest.raises(jsonrpclib.ProtocolError) as unknown:
        server.route.fly(prefix="10.0.0.0/24")
    assert unknown.value.args[0][0] == -32601
    batch = jsonrpclib.MultiCall(server)
    batch.route.delete(prefix="10.0.0.0/24")
    batch.route.nosuch()
    results = batch()
    assert results[0]["changes"][0]["operation"] == "delete"
    with pytest.raises(jsonrpclib.ProtocolError):
        results[1]
    assert "10.0.0.0/24" not in routes(mcp_agent.socket)


def test_json_rpc_errors(mcp_agent: RestAgent) -> None:
    commits = commit_count(mcp_agent.socket)
    unknown = post(mcp_agent, call("route.fly", {"prefix": "10.0.0.0/24"})).json()
    assert unknown["error"]["code"] == -32601 and unknown["id"] == 1
    assert post(mcp_agent, call("bgp.add", {})).json()["error"]["code"] == -32601
    bad = post(mcp_agent, call("route.add", {"prefix": "10.0.0.300/24", "via": "192.168.1.1"}))
    error = bad.json()["error"]
    assert bad.status_code == 200 and error["code"] == -32602
    assert error["data"]["tag"] == "invalid-value" and error["data"]["path"]
    assert "prefix" in error["message"]
    unknown_leaf = post(mcp_agent, call("route.add", {"prefix": "10.0.0.0/24", "gateway": "x"}))
    assert unknown_leaf.json()["error"]["code"] == -32602
    missing_key = post(mcp_agent, call("route.add", ["via=192.168.1.1"])).json()
    assert missing_key["error"]["code"] == -32602
    parse = post(mcp_agent, b'{"jsonrpc":"2.0","method":"route.add",')
    assert parse.status_code == 200
    assert parse.json()["id"] is None and parse.json()["error"]["code"] == -32700
    for invalid in ({"jsonrpc": "1.0", "method": "route.add", "id": 7}, {"id": 8}, 42):
        assert post(mcp_agent, invalid).json()["error"]["code"] == -32600
    assert post(mcp_agent, []).json()["error"]["code"] == -32600
    assert commit_count(mcp_agent.socket) == commits


def test_batch_of_calls_and_notifications(mcp_agent: RestAgent) -> None:
    batch = [
        call("route.add", {"prefix": "10.1.0.0/24", "via": "192.168.1.1"}, "a"),
        call("route.add", ["prefix=10.0.0.300/24", "via=192.168.1.1"], "b"),
        call("route.fly", {}, "c"),
        call("route.add", {"prefix": "10.2.0.0/24", "via": "192.168.1.2"}, None),
        {"jsonrpc": "2.0"},
    ]
    replies = post(mcp_agent, batch).json()
    assert [reply["id"] for reply in replies] == ["a", "b", "c", None]
    assert replies[0]["result"]["changed"] is True
    assert [reply["error"]["code"] for reply in replies[1:]] == [-32602, -32601, -32600]
    assert {"10.1.0.0/24", "10.2.0.0/24"} <= set(routes(mcp_agent.socket))
    cleanup = [
        call("route.delete", {"prefix": "10.1.0.0/24"}, None),
        call("route.delete", {"prefix": "10.2.0.0/24"}),
    ]
    assert [reply["id"] for reply in post(mcp_agent, cleanup).json()] == [1]
    silent = post(mcp_agent, call("route.add", {"prefix": "10.3.0.0/24"}, None))
    assert silent.status_code == 200 and silent.content == b""
    assert not {"10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24"} & set(routes(mcp_agent.socket))
