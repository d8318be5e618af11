"""The limits of a hardened agent, each met by a real client of a real `flyos-agent`.

One agent (backend none, NETCONF, REST with MCP, IPC) runs with small limits: nesting
depth 16, two NETCONF connections and sessions, two REST requests in progress, two MCP
sessions, three IPC connections, a 2 s login timeout, back-off after one failed login.
Each test drives a client over one limit, checks the refusal it gets names the limit,
and that the agent serves the next client as usual.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import asyncssh
import pytest
import requests

from flyos_agent.config import ConfigError, load_config
from flyos_agent.northbound.backoff import LoginBackoff, LoginThrottled
from flyos_agent.northbound.netconf.client import NetconfClient

from .agent_harness import ADMIN, PASSWORD, VIEWER, AgentProcess, free_port, make_agent

LIMITS = {
    "max_nesting_depth": 16,
    "netconf_max_sessions": 2,
    "rest_max_requests": 2,
    "mcp_max_sessions": 2,
    "ipc_max_connections": 3,
    "login_timeout": 2,
    "login_backoff_after": 1,
    "login_backoff_max": 8,
}
BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"
MCP_ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "limits", "version": "1"},
    },
}


@dataclass
class LimitedAgent(AgentProcess):
    """An AgentProcess on backend none, with REST (and MCP) on `rest_port`."""

    rest_port: int = 0

    def argv(self) -> list[str]:
        args = super().argv()
        del args[args.index("--netns") : args.index("--netns") + 2]
        args[args.index("--rest-listen") + 1] = f"127.0.0.1:{self.rest_port}"
        return args

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


@pytest.fixture(scope="module")
def agent() -> Iterator[LimitedAgent]:
    base = Path(tempfile.mkdtemp(prefix="flyh4-"))
    made = make_agent(base, "-", LIMITS)
    base.chmod(0o711)  # `nobody` reaches the socket (made 0666 below), nothing else
    limited = LimitedAgent(
        made.base, made.netns, made.port, made.key_file, made.config, "none", rest_port=free_port()
    )
    limited.start()
    limited.socket_path.chmod(0o666)
    yield limited
    limited.kill()
    shutil.rmtree(base, ignore_errors=True)


def ipc_line(sock: socket.socket, request: dict[str, Any]) -> dict[str, Any]:
    sock.sendall(json.dumps(request).encode() + b"\n")
    return read_reply(sock)


def read_reply(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    reply: dict[str, Any] = json.loads(data)
    return reply


def ipc_connect(agent: LimitedAgent) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.connect(str(agent.socket_path))
    return sock


def nested(depth: int) -> Any:
    """An array nested `depth` levels."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def as_nobody(agent: LimitedAgent, script: str) -> list[Any]:
    """Run `script` (Python, socket path in argv[1]) as uid nobody; its JSON lines."""
    done = subprocess.run(
        ["/usr/bin/python3", "-c", script, str(agent.socket_path)],
        preexec_fn=_become_nobody, capture_output=True, text=True, timeout=60, check=True, cwd="/",
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


def _become_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


NOBODY_CLIENT = r"""
import json, socket, sys, time
sock = socket.socket(socket.AF_UNIX); sock.settimeout(20); sock.connect(sys.argv[1])
stream = sock.makefile("rb")
def call(command, **args):
    sock.sendall(json.dumps({"id": 1, "command": command, "args": args}).encode() + b"\n")
    print(json.dumps(json.loads(stream.readline() or b"null")), flush=True)
"""


# ---------------------------------------------------------------------- nesting depth


def test_every_channel_refuses_nesting_beyond_the_bound(agent: LimitedAgent) -> None:
    with ipc_connect(agent) as sock:
        at_bound = ipc_line(sock, {"id": 1, "command": "ping", "args": {"a": nested(14)}})
        assert "takes no argument 'a'" in at_bound["error"]["message"]
        beyond = ipc_line(sock, {"id": 2, "command": "ping", "args": {"a": nested(15)}})
        assert beyond["error"] == {
            "tag": "malformed-message",
            "type": "rpc",
            "message": "JSON nested deeper than 16 levels",
        }
        assert ipc_line(sock, {"id": 3, "command": "ping"})["ok"]

    auth = basic(ADMIN, PASSWORD)
    routing = f"{agent.url}/restconf/data/flyos-routing:routing"
    deep_json = {"flyos-routing:routing": {"static": nested(15)}}
    reply = requests.put(routing, json=deep_json, headers=auth, timeout=30)
    assert reply.status_code == 400
    error = reply.json()["ietf-restconf:errors"]["error"][0]
    assert error["error-message"] == "the request body: JSON nested deeper than 16 levels"
    deep_xml = '<routing xmlns="urn:flyos:yang:flyos-routing">' + "<a>" * 16 + "</a>" * 16
    xml_headers = {**auth, "Content-Type": "application/yang-data+xml"}
    reply = requests.put(routing, data=deep_xml + "</routing>", headers=xml_headers, timeout=30)
    assert reply.status_code == 400 and "XML nested deeper than 16 elements" in reply.text
    xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><routing>&x;</routing>'
    reply = requests.put(routing, data=xxe, headers=xml_headers, timeout=30)
    assert reply.status_code == 400 and "DOCTYPE and entity declarations" in reply.text
    assert "root:" not in reply.text
    assert requests.get(f"{agent.url}/restconf", headers=auth, timeout=30).status_code == 200

    call: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "route.add",
        "params": {"a": nested(15)},
    }
    reply = requests.post(f"{agent.url}/mcp", json=call, headers=auth, timeout=30)
    assert reply.json()["error"] == {
        "code": -32700,
        "message": "parse error: JSON nested deeper than 16 levels",
    }
    asyncio.run(_netconf_depth(agent))


async def _netconf_depth(agent: LimitedAgent) -> None:
    client = await NetconfClient.connect(
        "127.0.0.1", agent.port, ADMIN, client_keys=[str(agent.key_file)]
    )
    async with client:
        deep = "<a>" * 13 + "</a>" * 13  # + rpc, get, filter = 16 levels
        reply = await client.rpc(f"<get><filter>{deep}</filter></get>")
        assert b"nested deeper" not in reply
        reply = await client.rpc(f"<get><filter><b>{deep}</b></filter></get>")
        assert b"<error-message" in reply and b"XML nested deeper than 16 elements" in reply
        assert b"<data" in await client.rpc("<get-config><source><running/></source></get-config>")


# ---------------------------------------------------------------------- session caps


def test_netconf_connections_and_sessions_are_capped(agent: LimitedAgent) -> None:
    asyncio.run(_netconf_caps(agent))


async def _ssh(agent: LimitedAgent) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1", agent.port, username=ADMIN, client_keys=[str(agent.key_file)],
        known_hosts=None, agent_path=None,
    )  # fmt: skip


async def _netconf_caps(agent: LimitedAgent) -> None:
    first = await _ssh(agent)
    async with first:
        channels = [await first.open_session(subsystem="netconf", encoding=None) for _ in "ab"]
        with pytest.raises(asyncssh.ChannelOpenError) as refused:
            await first.open_session(subsystem="netconf", encoding=None)
        assert refused.value.reason == "too many NETCONF sessions (limit 2)"
        second = await _ssh(agent)
        async with second:
            with pytest.raises(asyncssh.DisconnectError) as disconnected:
                async with await _ssh(agent):
                    pass
            assert disconnected.value.code == asyncssh.DISC_TOO_MANY_CONNECTIONS
            assert "too many NETCONF connections (limit 2)" in disconnected.value.reason
        channels[0][0].close()
        await asyncio.sleep(0.5)
        _writer, reader, _ = await first.open_session(subsystem="netconf", encoding=None)
        assert b"<session-id>" in await reader.readuntil(b"]]>]]>")
    client = await NetconfClient.connect(
        "127.0.0.1", agent.port, ADMIN, client_keys=[str(agent.key_file)]
    )
    async with client:
        assert b"<data" in await client.rpc("<get-config><source><running/></source></get-config>")


def test_ipc_connections_are_capped(agent: LimitedAgent) -> None:
    held = [ipc_connect(agent) for _ in range(3)]
    try:
        for sock in held:
            assert ipc_line(sock, {"id": 1, "command": "ping"})["ok"]
        with ipc_connect(agent) as extra:
            refused = read_reply(extra)
            assert refused["error"]["tag"] == "resource-denied"
            assert refused["error"]["message"] == (
                "too many IPC connections (limit 3); try again later"
            )
            assert extra.recv(1) == b""
    finally:
        held.pop().close()
    time.sleep(0.3)
    try:
        with ipc_connect(agent) as again:
            assert ipc_line(again, {"id": 1, "command": "ping"})["ok"]
    finally:
        for sock in held:
            sock.close()


def test_rest_requests_in_progress_are_capped(agent: LimitedAgent) -> None:
    auth = basic(ADMIN, PASSWORD)["Authorization"]
    stalled = []
    for _ in range(2):  # two uploads that never finish: two requests in progress
        sock = socket.create_connection(("127.0.0.1", agent.rest_port), timeout=15)
        head = (
            f"POST /api/v1/route/add HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        sock.sendall(head.encode())
        stalled.append(sock)
    time.sleep(1.0)
    try:
        busy = requests.get(f"{agent.url}/api/v1/history", headers=basic(ADMIN, PASSWORD))
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        error = busy.json()["ietf-restconf:errors"]["error"][0]
        assert error["error-tag"] == "resource-denied"
        assert error["error-message"] == "too many requests in progress (limit 2); retry later"
    finally:
        for sock in stalled:
            sock.close()
    time.sleep(1.0)
    history = requests.get(f"{agent.url}/api/v1/history", headers=basic(ADMIN, PASSWORD))
    assert history.status_code == 200


def test_mcp_sessions_are_capped(agent: LimitedAgent) -> None:
    url, headers = f"{agent.url}/mcp", {**basic(ADMIN, PASSWORD), **MCP_ACCEPT}
    opened = []
    for _ in range(2):
        reply = requests.post(url, json=INITIALIZE, headers=headers, timeout=30)
        assert reply.status_code == 200
        opened.append(reply.headers["mcp-session-id"])
    refused = requests.post(url, json=INITIALIZE, headers=headers, timeout=30)
    assert refused.status_code == 503
    assert refused.json()["error"]["message"] == (
        "too many MCP sessions (limit 2); end one (HTTP DELETE) or wait for an idle one to expire"
    )
    for session_id in opened:
        ended = requests.delete(url, headers={**headers, "mcp-session-id": session_id}, timeout=30)
        assert ended.status_code == 200
    assert requests.post(url, json=INITIALIZE, headers=headers, timeout=30).status_code == 200


# ---------------------------------------------------------------------- logins


def test_netconf_login_times_out(agent: LimitedAgent) -> None:
    with socket.create_connection(("127.0.0.1", agent.port), timeout=15) as sock:
        start = time.monotonic()
        assert sock.recv(256).startswith(b"SSH-2.0-")
        while sock.recv(65536):  # key exchange offers; we never authenticate
            pass
        waited = time.monotonic() - start
    assert 1.5 < waited < 10


def test_ipc_login_times_out(agent: LimitedAgent) -> None:
    script = NOBODY_CLIENT + (
        "start = time.monotonic()\n"
        "print(stream.readline().decode().strip(), flush=True)\n"
        "print(json.dumps(time.monotonic() - start))\n"
    )
    reply, waited = as_nobody(agent, script)
    assert reply["error"]["tag"] == "access-denied"
    assert reply["error"]["message"] == "no login within 2 s; closing the connection"
    assert 1.5 < waited < 10


def test_failed_logins_back_off_per_source_and_user(agent: LimitedAgent) -> None:
    """After a free failure, the second one makes (source, user) wait 1 s: the next
    attempt is refused unchecked, even with the right password; others are not held up."""
    restconf, wrong = f"{agent.url}/restconf", basic(VIEWER, "wrong")
    for _ in range(2):
        assert requests.get(restconf, headers=wrong, timeout=30).status_code == 401
    held = requests.get(restconf, headers=basic(VIEWER, PASSWORD), timeout=30)
    assert held.status_code == 401 and held.headers["Retry-After"] == "1"
    message = held.json()["ietf-restconf:errors"]["error"][0]["error-message"]
    assert message == "too many failed logins for 'viewer' from 127.0.0.1; retry in 1 s"
    assert requests.get(restconf, headers=basic(ADMIN, PASSWORD), timeout=30).status_code == 200
    time.sleep(1.2)
    assert requests.get(restconf, headers=basic(VIEWER, PASSWORD), timeout=30).status_code == 200

    mcp = f"{agent.url}/mcp"
    ping: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "route.get"}
    for _ in range(2):
        assert requests.post(mcp, json=ping, headers=wrong, timeout=30).status_code == 401
    held = requests.post(mcp, json=ping, headers=basic(VIEWER, PASSWORD), timeout=30)
    assert held.status_code == 401 and held.headers["Retry-After"] == "1"
    assert "too many failed logins for 'viewer'" in held.json()["error"]["message"]

    asyncio.run(_netconf_backoff(agent))

    script = NOBODY_CLIENT + (
        "call('login', user='viewer', password='wrong')\n"
        "call('login', user='viewer', password='wrong')\n"
        "call('login', user='viewer', password='campaign-pass')\n"
    )
    first, second, held_ipc = as_nobody(agent, script)
    for refused in (first, second):
        assert refused["error"]["message"] == "login failed: unknown user or wrong password"
    assert held_ipc["error"]["message"] == (
        "too many failed logins for 'viewer' from uid=65534; retry in 1 s"
    )


class _BannerClient(asyncssh.SSHClient):
    banners: ClassVar[list[str]] = []

    def auth_banner_received(self, msg: str, lang: str) -> None:
        self.banners.append(msg)


async def _netconf_backoff(agent: LimitedAgent) -> None:
    async def login(password: str) -> None:
        connection = await asyncssh.connect(
            "127.0.0.1", agent.port, username=VIEWER, password=password, known_hosts=None,
            agent_path=None, client_keys=None, client_factory=_BannerClient,
        )  # fmt: skip
        connection.close()

    for _ in range(2):
        with pytest.raises(asyncssh.PermissionDenied):
            await login("wrong")
    with pytest.raises(asyncssh.PermissionDenied):
        await login(PASSWORD)
    assert _BannerClient.banners[-1].startswith("too many failed logins for 'viewer' from 127.")
    await asyncio.sleep(1.2)
    await login(PASSWORD)


# ---------------------------------------------------------------------- the parts


def test_backoff_doubles_caps_and_forgets() -> None:
    now = [0.0]
    backoff = LoginBackoff(2, 8, clock=lambda: now[0])
    waits = []
    for _ in range(7):
        backoff.check("10.0.0.1", "alice")
        backoff.failed("10.0.0.1", "alice")
        try:
            backoff.check("10.0.0.1", "alice")
        except LoginThrottled as throttled:
            waits.append(throttled.retry_after)
            now[0] += throttled.retry_after
        else:
            waits.append(0)
    assert waits == [0, 0, 1, 2, 4, 8, 8]
    backoff.failed("10.0.0.1", "alice")
    backoff.check("10.0.0.2", "alice")  # other source
    backoff.check("10.0.0.1", "bob")  # other user
    with pytest.raises(LoginThrottled):
        backoff.check("10.0.0.1", "alice")
    now[0] += 8 + 8 + 0.1  # the wait, then quiet for login_backoff_max
    backoff.check("10.0.0.1", "alice")
    backoff.failed("10.0.0.1", "alice")
    backoff.check("10.0.0.1", "alice")  # forgotten: a free failure again


def test_limit_keys_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("[agent]\nmax_nesting_depth = 300\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_nesting_depth: at most 256"):
        load_config(path)
    path.write_text("[agent]\nnetconf_max_sessions = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="netconf_max_sessions: expected a positive integer"):
        load_config(path)
    path.write_text("[agent]\nlogin_timeout = 5\nmcp_max_sessions = 3\n", encoding="utf-8")
    config = load_config(path)
    assert (config.login_timeout, config.mcp_max_sessions) == (5, 3)
