"""NACM on every channel: the generated (user, operation, path) matrix of nacm_matrix.py
performed through IPC, NETCONF (ncclient), RESTCONF (requests) and MCP (the official
client for tools and reads, its JSON-RPC for module verbs), each outcome compared with
the RFC 8341 oracle; and no channel serves a request before authentication.

One agent serves every channel; each user keeps one session per channel. Before
each write case an admin (root on the IPC socket) puts the target in the state
the case needs (present with its baseline value, or absent).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx2
import ncclient.transport.session
import pytest
import requests
from lxml import etree
from mcp.client.client import Client as McpClient
from mcp.client.streamable_http import streamable_http_client
from nacm_matrix import BASE, PASSWORD, TARGETS, USERS, Case, cases, expected
from nacm_requests import api_path, json_edit, jsonrpc_verb, last_name, netconf_xml
from ncclient import manager as ncmanager
from ncclient.operations.rpc import RPCError
from ncclient.transport.errors import AuthenticationError

from flyos_agent.config import hash_password
from flyos_agent.northbound.ipc.handlers import COMMANDS

ncclient.transport.session.TICK = 0.001  # type: ignore[attr-defined]
OPS_NS = "urn:flyos:yang:flyos-agent-ops"
CASES = list(cases())
Outcome = bool | None  # permitted / denied / not expressible on this channel


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def agent(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """An agent serving IPC, NETCONF and REST/MCP, with the matrix's users and rules."""
    plugin = request.config.pluginmanager.get_plugin(str(Path(__file__).with_name("conftest.py")))
    base = tmp_path_factory.mktemp("nacm")
    secret = hash_password(PASSWORD)
    users = "".join(
        f'[[user]]\nname = "{name}"\npassword_hash = "{secret}"\ngroup = "{group}"\n'
        for name, group in USERS.items()
    )
    (base / "agent.toml").write_text(users, encoding="utf-8")
    ports = _free_port(), _free_port()
    started = plugin.Agent(
        base / "state", Path(f"/tmp/nacm-{os.getpid()}.sock"),
        "--netconf-listen", f"127.0.0.1:{ports[0]}", "--rest-listen", f"127.0.0.1:{ports[1]}",
        config=base / "agent.toml",
    ).start()  # fmt: skip
    started.ports = ports
    with started.client() as root:
        root.ok("copy", {"source": "inline", "target": "running", "config": BASE})
    yield started
    started.stop()


class Channels:
    """Per-user sessions on every channel, and the case runners."""

    def __init__(self, agent: Any, stack: ExitStack) -> None:
        self.agent = agent
        self.root = stack.enter_context(agent.client())
        self.base = f"http://127.0.0.1:{agent.ports[1]}"
        self.ipc = {u: self._ipc_login(stack, u) for u in USERS}
        self.nc = {u: stack.enter_context(self.connect_netconf(u)) for u in USERS}
        self.http = {u: self._http(u) for u in USERS}
        self.portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
        self.mcp = {
            u: stack.enter_context(self.portal.wrap_async_context_manager(self._mcp(u)))
            for u in USERS
        }

    def _ipc_login(self, stack: ExitStack, user: str) -> Any:
        client = stack.enter_context(self.agent.client())
        client.ok("login", {"user": user, "password": PASSWORD})
        return client

    def connect_netconf(self, user: str, password: str = PASSWORD) -> Any:
        return ncmanager.connect(
            host="127.0.0.1", port=self.agent.ports[0], username=user, password=password,
            hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=30,
        )  # fmt: skip

    def _http(self, user: str) -> requests.Session:
        session = requests.Session()
        session.auth = (user, PASSWORD)
        return session

    @asynccontextmanager
    async def _mcp(self, user: str) -> AsyncIterator[McpClient]:
        auth = httpx2.BasicAuth(user, PASSWORD)
        async with (
            httpx2.AsyncClient(auth=auth, timeout=30) as http,
            McpClient(streamable_http_client(self.base + "/mcp", http_client=http)) as client,
        ):
            yield client

    # ------------------------------------------------------------------ preconditions

    def prepare(self, case: Case) -> None:
        """Put the case's target where the case needs it (admin, over IPC)."""
        target = case.target
        if target is None or target.read_only:
            return
        if case.access == "create":
            edit = {"operation": "remove", "path": target.xpath()}
        else:
            value = target.entry_value() if target.is_entry else target.content[""]
            edit = {"operation": "replace", "path": target.xpath(), "value": value}
        self.root.ok("edit", {"target": "running", "edits": [edit]})

    # ------------------------------------------------------------------ IPC

    def run_ipc(self, case: Case) -> Outcome:
        client, target = self.ipc[case.user], case.target
        if target is None:
            return self._ipc_exec(client, case.operation)
        if case.access == "read":
            return bool(client.ok("get-config", {"path": target.xpath()}))
        return _tag_ok(client.call("edit", {"target": "running", "edits": [json_edit(case)]}))

    def _ipc_exec(self, client: Any, operation: str) -> Outcome:
        args: dict[str, Any] = {
            "lock": {"target": "candidate"}, "unlock": {"target": "candidate"},
            "kill-session": {"session-id": 999999}, "delete-config": {"target": "startup"},
            "validate": {"source": "running"},
        }.get(operation, {})  # fmt: skip
        command = {"discard-changes": "discard", "delete-config": "delete"}.get(
            operation, operation
        )
        permitted = _tag_ok(client.call(command, args))
        if permitted and operation == "lock":
            client.ok("unlock", {"target": "candidate"})
        return permitted

    # ------------------------------------------------------------------ NETCONF

    def run_netconf(self, case: Case) -> Outcome:
        nc, target = self.nc[case.user], case.target
        try:
            if target is None:
                self._nc_exec(nc, case.operation)
            elif case.access == "read":
                reply = nc.get_config(
                    "running", filter=("subtree", netconf_xml(target, None, select=True))
                )
                return bool(
                    reply.data_ele.xpath(
                        "//t:" + last_name(target), namespaces={"t": target.namespace}
                    )
                )
            else:
                nc.edit_config(
                    target="running", config=netconf_xml(target, case.access, select=False)
                )
        except RPCError as error:
            if error.tag == "access-denied":
                return False
            if target is not None or error.tag == "lock-denied":
                raise
        return True

    def _nc_exec(self, nc: Any, operation: str) -> None:
        if operation in ("compare", "history"):
            nc.dispatch(etree.Element(f"{{{OPS_NS}}}{operation}"))
            return
        calls: dict[str, Callable[[], Any]] = {
            "lock": lambda: nc.lock("candidate"), "unlock": lambda: nc.unlock("candidate"),
            "commit": nc.commit, "discard-changes": nc.discard_changes,
            "kill-session": lambda: nc.kill_session("999999"),
            "delete-config": lambda: nc.delete_config("startup"),
            "validate": lambda: nc.validate("running"),
            "get-config": lambda: nc.get_config("running"),
        }  # fmt: skip
        calls[operation]()
        if operation == "lock":
            nc.unlock("candidate")

    # ------------------------------------------------------------------ RESTCONF

    def run_rest(self, case: Case) -> Outcome:
        http, target = self.http[case.user], case.target
        if target is None:
            names = {
                "commit": "ietf-netconf:commit",
                "discard-changes": "ietf-netconf:discard-changes",
            }
            names.update({op: f"flyos-agent-ops:{op}" for op in ("compare", "history")})
            if case.operation not in names:
                return None
            return _status_ok(http.post(f"{self.base}/restconf/operations/{names[case.operation]}"))
        url = self.base + "/restconf/data/" + api_path(target)
        if case.access == "read":
            response = http.get(url)
            assert response.status_code in (200, 404), response.text
            return response.status_code == 200
        if case.access == "delete":
            return _status_ok(http.delete(url))
        if case.access == "update":
            leaf = target.update[0]
            member = f"{target.module}:{leaf or target.steps[-1][0]}"
            return _status_ok(
                http.put(url + (f"/{leaf}" if leaf else ""), json={member: target.update[1]})
            )
        parent = self.base + "/restconf/data/" + api_path(target, drop_last=True)
        name = f"{target.module}:{target.steps[-1][0]}"
        body = {name: [target.entry_value()]} if target.is_entry else {name: target.content[""]}
        return _status_ok(http.post(parent, json=body))

    # ------------------------------------------------------------------ MCP

    def run_mcp(self, case: Case) -> Outcome:
        target = case.target
        if target is None:
            tools = {"commit": ("commit", {"dry_run": True}), "discard-changes": ("discard", {})}
            tools.update({op: (op, {}) for op in ("compare", "history")})
            tools["validate"] = ("validate", {"source": "running"})
            tools["get-config"] = ("get_config", {})
            if case.operation not in tools:
                return None
            return self._tool(case.user, *tools[case.operation]) is not False
        if case.access == "read":
            found = self._tool(case.user, "get_config", {"path": target.xpath()})
            return bool(found)
        method, params = jsonrpc_verb(case)
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        auth = (case.user, PASSWORD)
        reply = requests.post(self.base + "/mcp", json=request, auth=auth, timeout=30).json()
        if "error" in reply:
            assert reply["error"]["data"]["tag"] == "access-denied", reply
            return False
        return True

    def _tool(self, user: str, name: str, arguments: dict[str, Any]) -> Any:
        result = self.portal.call(self.mcp[user].call_tool, name, arguments)
        text = result.content[0].text
        if result.is_error:
            error = json.loads(text.partition("\n")[2])["error"]
            assert error["tag"] == "access-denied", text
            return False
        return json.loads(text)


def _tag_ok(reply: dict[str, Any]) -> bool:
    """True unless the IPC reply is access-denied (other errors: permitted, then refused)."""
    return reply["ok"] or reply["error"]["tag"] != "access-denied"


def _status_ok(response: requests.Response) -> bool:
    assert response.status_code < 300 or response.status_code == 403, response.text
    return response.status_code != 403


@pytest.fixture(scope="module")
def channels(agent: Any) -> Iterator[Channels]:
    with ExitStack() as stack:
        yield Channels(agent, stack)


@pytest.mark.parametrize("channel", ["ipc", "netconf", "rest", "mcp"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix_outcome_matches_rfc_8341(channels: Channels, channel: str, case: Case) -> None:
    channels.prepare(case)
    outcome = getattr(channels, f"run_{channel}")(case)
    if outcome is None:
        pytest.skip(f"{case.operation} is not an operation of {channel}")
    assert outcome == expected(case)


def test_denials_are_in_the_audit_log(channels: Channels) -> None:
    sys_description = next(t for t in TARGETS if t.label == "sys-description")
    write = Case("vera", "update", sys_description)
    for channel in ("ipc", "netconf", "rest", "mcp"):
        channels.prepare(write)
        assert getattr(channels, f"run_{channel}")(write) is False
    assert channels.run_mcp(Case("vera", "exec", operation="commit")) is False
    lines = [json.loads(line) for line in channels.agent.lines if line.startswith("{")]
    denials = [line for line in lines if line.get("event") == "access-denied"]
    assert {"ipc", "netconf", "rest", "mcp", "mcp-jsonrpc"} <= {line["channel"] for line in denials}
    path = "/flyos-system:system/description"
    updates = [
        line["channel"]
        for line in denials
        if (line["user"], line.get("path"), line.get("access")) == ("vera", path, "update")
    ]
    assert {"ipc", "netconf", "rest", "mcp-jsonrpc"} <= set(updates)


PROBES = [
    ("GET", "/restconf/data"),
    ("GET", "/restconf"),
    ("POST", "/restconf/operations/ietf-netconf:commit"),
    ("PUT", "/restconf/data/flyos-system:system"),
    ("DELETE", "/restconf/data/flyos-routing:routing"),
    ("GET", "/api/v1/route"),
    ("POST", "/api/v1/route/add"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/mcp"),
    ("POST", "/mcp/"),
]
ROUTE_ADD = {"jsonrpc": "2.0", "id": 1, "method": "route.add", "params": {"prefix": "10.9.0.0/24"}}
NOBODY = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
out = []
for command in json.loads(sys.argv[2]):
    f.write(json.dumps({"id": 1, "command": command, "args": {}}).encode() + b"\n"); f.flush()
    out.append(json.loads(f.readline()))
print(json.dumps(out))
"""


def test_no_channel_serves_a_request_before_authentication(channels: Channels) -> None:
    agent, base = channels.agent, channels.base
    commits = len(channels.root.ok("history", {}))
    commands = [name for name, spec in COMMANDS.items() if not spec.anonymous] + ["route add"]
    agent.socket.chmod(0o666)
    done = subprocess.run(
        ["/usr/bin/python3", "-c", NOBODY, str(agent.socket), json.dumps(commands)],
        preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)),
        capture_output=True, text=True, timeout=30, check=True, cwd="/",
    )  # fmt: skip
    replies = json.loads(done.stdout)
    assert all(
        r["error"]["tag"] == "access-denied" and "log in first" in r["error"]["message"]
        for r in replies
    )
    with pytest.raises(AuthenticationError):
        channels.connect_netconf("olga", "wrong")
    for auth in (None, ("olga", "wrong"), ("mallory", PASSWORD)):
        for method, path in PROBES:
            response = requests.request(method, base + path, json=ROUTE_ADD, auth=auth, timeout=30)
            assert response.status_code == 401, (method, path, auth, response.status_code)
    assert len(channels.root.ok("history", {})) == commits
    failures = [json.loads(line) for line in agent.lines if '"auth-failure"' in line]
    assert {(f["channel"], f["user"]) for f in failures} >= {
        ("netconf", "olga"),
        ("rest", "olga"),
        ("rest", "mallory"),
    }
