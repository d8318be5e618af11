"""Fuzz targets: one per parser, each feeding bytes to the entry point its channel really uses.

- netconf: a `NetconfSession` (hello, RFC 6242 framing, XML parse, RPC dispatch) over a
  fake transport (there is no SSH channel here), on a Manager with backend none;
- rest: the Flask app of the REST channel (/restconf and /api/v1) through its WSGI test
  client, HTTP Basic included;
- mcp: the ASGI app mounted at /mcp (`McpHttpApp`: FlyOS JSON-RPC and the MCP SDK's
  streamable HTTP) driven with raw ASGI messages, inside its lifespan;
- ipc: a real `IpcServer` on a Unix socket, one request line per connection;
- dsl: the DSL parser as the agent runs it (`parse_edits`), the REPL's statement parser,
  its continuation test and its completion.

A case passes when the channel answers as it promises: a reply or a precise error for
the client, never an unexpected exception (nor a `log.exception` of one), within
`MAX_CASE_SECONDS` and `MAX_CASE_KB` of peak memory (VmHWM, reset per case, so libxml2's
allocations count too). Inputs are seeds (valid messages) mutated by `fuzz_input`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from .fuzz_harness import (
    BASE,
    CHANNEL_CAP,
    DEEP,
    DOCTYPE_REFUSED,
    JSON_TOKENS,
    JSON_TOO_DEEP,
    LAUGHS,
    PASSWORD,
    UNICODE_DIGITS,
    XML_TOKENS,
    XML_TOO_DEEP,
    XXE,
    Attack,
    Crash,
    FuzzTarget,
    LoopThread,
    _hello,
    _rpc,
    _Transport,
    deep_json,
    new_manager,
    schema,
)

RT = 'xmlns="urn:flyos:yang:flyos-routing"'
OPS = 'xmlns="urn:flyos:yang:flyos-agent-ops"'
NC_ROUTE = (
    f"<routing {RT}><static><prefix>10.1.0.0/24</prefix><via>10.0.0.2</via></static></routing>"
)


class NetconfTarget(FuzzTarget):
    """First byte: 0 = one message framed 1.0, 1 = framed 1.1 (chunked), else raw wire bytes
    after a base:1.1 hello. Each case is a whole session: hello, input, end of input."""

    name = "netconf"
    seeds: ClassVar[list[bytes]] = [
        mode + _rpc(body)
        for mode in (b"\x00", b"\x01")
        for body in (
            "<get-config><source><running/></source></get-config>",
            f'<get-config><source><candidate/></source><filter type="subtree"><routing {RT}/>'
            "</filter></get-config>",
            '<get><filter type="xpath" xmlns:rt="urn:flyos:yang:flyos-routing" '
            "select=\"/rt:routing/rt:static[rt:prefix='10.1.0.0/24']\"/></get>",
            f"<edit-config><target><candidate/></target><config>{NC_ROUTE}</config></edit-config>",
            "<edit-config><target><candidate/></target><default-operation>none"
            "</default-operation><error-option>continue-on-error</error-option><config>"
            f'<routing {RT}><static xmlns:nc="{BASE}" nc:operation="delete"><prefix>10.1.0.0/24'
            "</prefix></static></routing></config></edit-config>",
            '<edit-config><target><candidate/></target><config><interfaces xmlns="urn:flyos:'
            'yang:flyos-interfaces"><interface><name>eth0</name><type>ethernet</type><mtu>1500'
            "</mtu><ipv4><address><ip>10.0.0.1</ip><prefix-length>24</prefix-length></address>"
            "</ipv4></interface></interfaces></config></edit-config>",
            "<validate><source><candidate/></source></validate>",
            "<commit/>",
            "<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>",
            "<discard-changes/>",
            "<lock><target><candidate/></target></lock>",
            "<unlock><target><running/></target></unlock>",
            "<copy-config><target><startup/></target><source><running/></source></copy-config>",
            '<get-schema xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring">'
            "<identifier>flyos-routing</identifier></get-schema>",
            f"<rollback {OPS}><index>1</index></rollback>",
            f"<compare {OPS}><source>running</source><target>candidate</target></compare>",
            f"<history {OPS}><limit>3</limit></history>",
            "<kill-session><session-id>99999</session-id></kill-session>",
            '<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>',
            "<close-session/>",
        )
    ] + [b"\x02\n#20\n" + _rpc("<get/>")[:20] + b"\n##\n", b"\x02\n#3\nabc\n#1\n\n\n##\n"]
    tokens = XML_TOKENS

    def open(self) -> None:
        from flyos_agent.northbound.netconf import NetconfServer  # noqa: F401 - registers ops
        from flyos_agent.northbound.netconf.library import Library
        from flyos_agent.northbound.netconf.notifications import NotificationHub
        from flyos_agent.northbound.netconf.session import Options, ServerState
        from flyos_agent.northbound.netconf.xmldata import XmlCodec

        self.loop = LoopThread()
        self.manager = new_manager(self.state_dir, self.generation)
        codec = XmlCodec(schema())
        hub = NotificationHub(codec, self.loop.loop)
        self.manager.subscribe(hub.on_commit)
        options = Options(max_message=CHANNEL_CAP, hello_timeout=2.0, idle_timeout=2.0)
        self.state = ServerState(self.manager, codec, Library(schema()), hub, options)

    def close(self) -> None:
        self.loop.close()
        self.manager.close()

    def attacks(self) -> list[Attack]:
        get = b"<get-config><source><running/></source></get-config>"
        deep = b"<a>" * DEEP + b"</a>" * DEEP
        return [
            Attack("xxe", b"\x01" + XXE + _rpc("&x;"), DOCTYPE_REFUSED),
            Attack("billion laughs", b"\x01" + LAUGHS + _rpc("&j;"), DOCTYPE_REFUSED),
            Attack("laughs in utf-16", b"\x01" + (LAUGHS + _rpc("&j;")).decode().encode("utf-16"),
                   "not well-formed XML"),
            Attack("deep nesting", b"\x01" + _rpc(deep.decode()), XML_TOO_DEEP),
            Attack("deep filter", b"\x01" + _rpc(get.decode().replace("</source>",
                   "</source><filter>" + "<a>" * 200 + "</a>" * 200 + "</filter>")), XML_TOO_DEEP),
            Attack("unicode digit", b"\x01" + _rpc("<commit><confirmed/><confirm-timeout>\u00b2"
                   "</confirm-timeout></commit>").decode().encode(), "is not a number of seconds"),
        ]  # fmt: skip

    def answer(self, data: bytes) -> str:
        mode, body = data[:1], data[1:]
        if mode == b"\x00":
            wire = _hello("1.0") + body + b"]]>]]>"
        elif mode == b"\x01":
            body = body or b" "
            wire = _hello("1.0", "1.1") + b"\n#%d\n%s\n##\n" % (len(body), body)
        else:
            wire = _hello("1.0", "1.1") + body
        output = self.loop.call(self._session(wire))
        if b"internal error" in output:
            raise Crash(f"internal error: {output[-400:]!r}")
        if mode in (b"\x00", b"\x01") and b"<rpc-reply" not in output:
            raise Crash(f"a framed message got no reply: {output[-400:]!r}")
        return output.decode("utf-8", "replace")

    async def _session(self, wire: bytes) -> bytes:
        from flyos_agent.northbound.netconf.session import NetconfSession

        transport = _Transport()
        session = NetconfSession(self.state, transport, "admin", "admin", "fuzz")
        await session.start()
        session.data_received(wire)
        session.eof_received()
        try:
            await asyncio.wait_for(transport.closed.wait(), 5)
        finally:
            await session.closed()
        hello_end = transport.output.find(b"]]>]]>") + 6
        return bytes(transport.output[hello_end:])


ROUTING = "/restconf/data/flyos-routing:routing"
YANG_JSON = b"application/yang-data+json"
YANG_XML = b"application/yang-data+xml"
ROUTE_JSON = b'{"flyos-routing:static":[{"prefix":"10.2.0.0/24","via":"10.0.0.2"}]}'


def _http(method: str, path: str, ctype: bytes, body: bytes) -> bytes:
    return b"%s %s\n%s\n%s" % (method.encode(), path.encode(), ctype, body)


class RestTarget(FuzzTarget):
    """Input: `METHOD PATH\\nCONTENT-TYPE\\nBODY`, sent as admin through the WSGI test client."""

    name = "rest"
    seeds: ClassVar[list[bytes]] = [
        _http("POST", ROUTING, YANG_JSON, ROUTE_JSON),
        _http("PUT", f"{ROUTING}/static=10.3.0.0%2F24", YANG_JSON,
              b'{"flyos-routing:static":[{"prefix":"10.3.0.0/24","type":"blackhole"}]}'),
        _http("PATCH", ROUTING, YANG_JSON, b'{"flyos-routing:routing":{"static":[]}}'),
        _http("PUT", f"{ROUTING}/static=10.4.0.0%2F24", YANG_XML,
              b'<static xmlns="urn:flyos:yang:flyos-routing"><prefix>10.4.0.0/24</prefix>'
              b"<via>10.0.0.2</via></static>"),
        _http("PATCH", ROUTING, b"application/yang-patch+json",
              b'{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"1","operation"'
              b':"merge","target":"/static=10.5.0.0%2F24","value":{"flyos-routing:static":'
              b'[{"prefix":"10.5.0.0/24","via":"10.0.0.2"}]}}]}}'),
        _http("GET", f"{ROUTING}?depth=2&content=config&with-defaults=report-all", b"", b""),
        _http("DELETE", f"{ROUTING}/static=10.2.0.0%2F24", b"", b""),
        _http("POST", "/restconf/operations/ietf-netconf:commit", YANG_JSON,
              b'{"ietf-netconf:input":{"confirmed":[null],"confirm-timeout":1}}'),
        _http("POST", "/api/v1/route/add", b"application/json",
              b'{"prefix":"10.6.0.0/24","via":"10.0.0.2"}'),
        _http("POST", "/api/v1/rollback", b"application/json", b'{"index":1}'),
        _http("GET", "/api/v1/compare", b"", b""),
        _http("GET", "/restconf/data?fields=flyos-routing:routing/static(prefix)", b"", b""),
    ]  # fmt: skip
    tokens: ClassVar[list[bytes]] = [
        *JSON_TOKENS,
        *XML_TOKENS[:12],
        b"%2F",
        b"%00",
        b"=",
        b"?",
        b"&",
        b"/",
        b":",
    ]
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def open(self) -> None:
        from flyos_agent.northbound.rest.app import create_app

        self.manager = new_manager(self.state_dir, self.generation)
        app = create_app(self.manager, self.config, max_body_bytes=CHANNEL_CAP)
        self.client = app.test_client()
        token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        self.auth = f"Basic {token}"

    def close(self) -> None:
        self.manager.close()

    def attacks(self) -> list[Attack]:
        put = f"PUT {ROUTING}\n".encode()
        return [
            Attack("deep json", put + YANG_JSON + b"\n" + deep_json(b"flyos-routing:routing"),
                   JSON_TOO_DEEP),
            Attack("xxe", put + YANG_XML + b"\n" + XXE + b"<routing>&x;</routing>",
                   DOCTYPE_REFUSED),
            Attack("billion laughs", put + YANG_XML + b"\n" + LAUGHS + b"<routing>&j;</routing>",
                   DOCTYPE_REFUSED),
            Attack("deep xml", put + YANG_XML + b"\n" + b"<a>" * DEEP + b"</a>" * DEEP,
                   XML_TOO_DEEP),
            Attack("unicode digit", b"POST " + ROUTING.encode() + b"\n" + YANG_JSON + b"\n"
                   + ROUTE_JSON.replace(b'"10.0.0.2"', '"10.0.0.2","metric":"\u00b2"'.encode()),
                   "is not an integer"),
        ]  # fmt: skip

    def answer(self, data: bytes) -> str:
        head, _, rest = data.partition(b"\n")
        ctype, _, body = rest.partition(b"\n")
        raw_method, _, raw_path = head.partition(b" ")
        method = raw_method.decode("latin-1")
        method = method if method in self.methods else "POST"
        path = "/" + quote(raw_path.lstrip(b"/"), safe="/:=[]'?&%,@+;*$!()~-._")
        headers = {"Authorization": self.auth}
        ctype_text = "".join(c for c in ctype.decode("latin-1") if c.isprintable()).strip()
        if ctype_text:  # an HTTP client sends no control characters in a header
            headers["Content-Type"] = ctype_text
        response = self.client.open(path, method=method, data=body, headers=headers)
        text = response.get_data()
        if response.status_code == 500 and b"internal error" in text:
            raise Crash(f"{method} {path}: 500 {text[:300]!r}")
        if response.status_code >= 400 and method != "HEAD" and b"error-message" not in text:
            raise Crash(f"{method} {path}: {response.status_code} without an error: {text[:300]!r}")
        return f"{response.status_code} {text.decode('utf-8', 'replace')}"


def _jsonrpc(method: str, params: Any = None, request_id: Any = 1) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


INITIALIZE = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "fuzz", "version": "1"},
}
ROUTE = {"static": {"prefix": "10.7.0.0/24", "via": "10.0.0.2"}}


class McpTarget(FuzzTarget):
    """First byte: even = in the established MCP session, odd = without one; the rest is
    the POST body (JSON-RPC), answered by the ASGI app in its lifespan."""

    name = "mcp"
    seeds: ClassVar[list[bytes]] = [
        mode + body
        for mode in (b"\x00", b"\x01")
        for body in (
            _jsonrpc("tools/list"),
            _jsonrpc("tools/call", {"name": "route_add", "arguments": ROUTE}),
            _jsonrpc("tools/call", {"name": "get_config", "arguments": {"source": "candidate"}}),
            _jsonrpc("tools/call", {"name": "commit", "arguments": {"confirmed": True}}),
            _jsonrpc("tools/call", {"name": "discard", "arguments": {}}),
            _jsonrpc("resources/list"),
            _jsonrpc("ping"),
            _jsonrpc("initialize", INITIALIZE),
            _jsonrpc("notifications/initialized", request_id=None),
            _jsonrpc("route.add", {"prefix": "10.8.0.0/24", "via": "10.0.0.2"}),
            _jsonrpc("route.delete", ["prefix=10.8.0.0/24"], "x"),
            b"[" + _jsonrpc("route.get") + b"," + _jsonrpc("nic.add.interface", {}) + b"]",
        )
    ]
    tokens: ClassVar[list[bytes]] = [
        *JSON_TOKENS,
        b'"tools/call"',
        b'"name":"route_add"',
        b'"_meta":{}',
    ]

    def open(self) -> None:
        from flyos_agent.northbound.mcp import McpHttpApp

        self.loop = LoopThread()
        self.manager = new_manager(self.state_dir, self.generation)
        self.app = McpHttpApp(self.manager, self.config)
        self._stop = asyncio.Event()
        ready = threading.Event()
        self._lifespan = asyncio.run_coroutine_threadsafe(self._serve(ready), self.loop.loop)
        assert ready.wait(30), "the MCP app did not start"
        status, headers, _ = self._post(_jsonrpc("initialize", INITIALIZE), None)
        self.session_id = headers.get("mcp-session-id")
        assert status == 200 and self.session_id, "the fuzz MCP session did not open"
        self._post(_jsonrpc("notifications/initialized", request_id=None), self.session_id)

    async def _serve(self, ready: threading.Event) -> None:
        """The app's lifespan, entered and left by one task (anyio insists)."""
        async with self.app.lifespan():
            ready.set()
            await self._stop.wait()

    def close(self) -> None:
        self.loop.loop.call_soon_threadsafe(self._stop.set)
        self._lifespan.result(30)
        self.loop.close()
        self.manager.close()

    def attacks(self) -> list[Attack]:
        call = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"route_add",'
        return [
            Attack("deep json", b"\x00" + deep_json(), JSON_TOO_DEEP),
            Attack("deep arguments", b"\x00" + call + b'"arguments":' + deep_json() + b"}}",
                   JSON_TOO_DEEP),
            Attack("deep batch", b"\x01" + b"[" + deep_json(b"params") + b"]", JSON_TOO_DEEP),
            Attack("unicode digit", b"\x01" + _jsonrpc("route.add", {"prefix": "10.0.0.0/8",
                   "type": "blackhole", "metric": "\u00b2"}), "is not an integer"),
        ]  # fmt: skip

    def answer(self, data: bytes) -> str:
        in_session = not data[:1] or data[0] % 2 == 0
        status, headers, body = self._post(data[1:], self.session_id if in_session else None)
        opened = headers.get("mcp-session-id")
        if opened is not None and opened != self.session_id:
            self.loop.call(_asgi(self.app, "DELETE", b"", self._headers(opened)))
        if status >= 500 and status != 503:
            raise Crash(f"HTTP {status}: {body[:300]!r}")
        if body:
            try:
                json.loads(body)
            except ValueError:
                raise Crash(f"HTTP {status} with a body that is not JSON: {body[:300]!r}") from None
        return f"{status} {body.decode('utf-8', 'replace')}"

    def _headers(self, session_id: str | None) -> list[tuple[bytes, bytes]]:
        token = base64.b64encode(f"admin:{PASSWORD}".encode())
        headers = [
            (b"authorization", b"Basic " + token),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json, text/event-stream"),
        ]
        if session_id is not None:
            headers += [(b"mcp-session-id", session_id.encode()),
                        (b"mcp-protocol-version", b"2025-06-18")]  # fmt: skip
        return headers

    def _post(self, body: bytes, session_id: str | None) -> tuple[int, dict[str, str], bytes]:
        return self.loop.call(_asgi(self.app, "POST", body, self._headers(session_id)))


async def _asgi(
    app: Any, method: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to an ASGI app: (status, headers, body)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0
    reply_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            reply_headers.update((k.decode(), v.decode()) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return status, reply_headers, b"".join(chunks)


def _ipc(command: str, args: Any = None) -> bytes:
    return json.dumps({"id": 1, "command": command, "args": args or {}}).encode()


class IpcTarget(FuzzTarget):
    """One request line per connection to a real IpcServer (we are root: an admin session)."""

    name = "ipc"
    seeds: ClassVar[list[bytes]] = [
        _ipc("ping"),
        _ipc("whoami"),
        _ipc("get-config", {"source": "running", "path": "/routing"}),
        _ipc("get", {"xpath": "/routing/static[prefix='10.9.0.0/24']"}),
        _ipc("edit", {"target": "candidate", "edits": [{"operation": "merge",
             "path": "/routing/static[prefix='10.9.0.0/24']", "value": {"via": "10.0.0.2"}}]}),
        _ipc("dsl", {"text": "route add static { prefix 10.9.1.0/24; via 10.0.0.2 }"}),
        _ipc("route add", ["prefix=10.9.2.0/24", "via=10.0.0.2"]),
        _ipc("commit", {"confirmed": True, "timeout": 1}),
        _ipc("compare", {"source": "running", "target": "candidate"}),
        _ipc("history", {"limit": 2}),
        _ipc("rollback", {"index": 1}),
        _ipc("lock", {"target": "candidate"}),
        _ipc("login", {"user": "admin", "password": "nope"}),
        _ipc("private"),
        _ipc("sessions"),
    ]  # fmt: skip
    tokens: ClassVar[list[bytes]] = [
        *JSON_TOKENS,
        b'"command":',
        b'"args":',
        b"/routing/static",
        b"[prefix='",
        b"\n",
    ]

    def open(self) -> None:
        from flyos_agent.northbound.ipc import IpcServer, bind_socket

        self.loop = LoopThread()
        self.manager = new_manager(self.state_dir, self.generation)
        self.path = self.state_dir / f"fuzz-{self.generation}.sock"
        sock = bind_socket(self.path, "flyos-fuzz-no-such-group")
        self.server = IpcServer(self.manager, self.config, sock)
        self.loop.call(self.server.start())

    def close(self) -> None:
        self.loop.call(self.server.close(), 30)
        self.loop.close()
        self.manager.close()

    def attacks(self) -> list[Attack]:
        return [
            Attack("deep json", deep_json(), JSON_TOO_DEEP),
            Attack("deep args", b'{"id":1,"command":"edit","args":' + deep_json(b"edits") + b"}",
                   JSON_TOO_DEEP),
            Attack("unicode digit", _ipc("history", {"limit": "\u00b2"}),
                   "must be a non-negative integer"),
        ]  # fmt: skip

    def answer(self, data: bytes) -> str:
        line = data.replace(b"\n", b" ") + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.path))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(line)  # the agent may close early (a line over the cap)
            sock.shutdown(socket.SHUT_WR)
            replies = sock.makefile("rb").read().splitlines()
        if not line.strip():
            if replies:
                raise Crash(f"a blank line was answered: {replies!r}")
            return ""
        if len(replies) != 1:
            raise Crash(f"{len(replies)} replies to one request: {replies!r:.400}")
        reply = json.loads(replies[0])
        if not reply["ok"] and "internal error" in reply["error"]["message"]:
            raise Crash(f"internal error: {reply['error']}")
        return replies[0].decode()


DSL_SEEDS = [
    b"route add static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }",
    b"route sync {\n static { prefix 10.0.0.0/24; via 192.168.1.1 }\n"
    b" bgp { prefix 172.16.0.0/16; local_pref 200; community [ 65001:100 ] }\n}",
    b"nic add interface { name eth0; type ethernet; mtu 9000\n"
    b"    ipv4 { address { ip 192.0.2.1; prefix-length 24 } } }",
    b"acl add acl { name web; rule { sequence 10; action accept; protocol tcp\n"
    b"    destination { port [ 80 443 ] } } }",
    b'system set { hostname r1; description "edge \\"router\\"" } # done',
    b"system delete { description }\nacl set global { input web }",
    b"tunnel add vxlan { name vx0; vni 10; remote 10.0.0.2 } // c",
]


class DslTarget(FuzzTarget):
    """First byte picks the entry point: 0 = the DSL as the agent parses it (`parse_edits`,
    DslError expected); as the REPL reads a line: 1 = statements (DslError expected),
    2 = does the line need more, 3 = completion (no error at all)."""

    name = "dsl"
    seeds: ClassVar[list[bytes]] = [bytes([mode]) + seed for mode in range(4) for seed in DSL_SEEDS]
    tokens: ClassVar[list[bytes]] = [
        b"{", b"}", b"[", b"]", b";", b"\n", b'"', b"'", b"\\", b"#", b"//", b"/*", b"=", b"add",
        b"set", b"delete", b"sync", b"static", b"prefix", b"route", b"\\u12", b"\x00", b"\xed\xa0",
        b"{ " * 50, b"[ " * 50, *UNICODE_DIGITS,
    ]  # fmt: skip

    def open(self) -> None:
        from flyos_agent.northbound.dsl.complete import SchemaHelp

        self.help = SchemaHelp(schema(), existing=lambda path: ["eth0"])

    def attacks(self) -> list[Attack]:
        deep = b"route add static " + b"{ " * DEEP + b"}" * DEEP
        lists = b"route add bgp { prefix 10.0.0.0/8; community " + b"[ " * DEEP + b"] " * DEEP
        return [
            Attack(f"{what} ({mode})", bytes([mode]) + data, "line 1")
            for what, data in (("deep blocks", deep), ("deep lists", lists))
            for mode in (0, 1)
        ]

    def answer(self, data: bytes) -> str:
        from flyos_agent.northbound.dsl import DslError, needs_more, parse, parse_edits

        mode, source = data[:1], data[1:]
        text = source.decode("utf-8", "replace")
        try:
            if mode == b"\x00":
                return f"{len(parse_edits(schema(), source))} statements"
            if mode == b"\x01":
                return f"{len(parse(text))} statements"
        except DslError as error:
            return str(error)
        if mode == b"\x02":
            return f"needs more: {needs_more(text)}"
        return repr(self.help.at(text))[:200]


TARGETS: dict[str, type[FuzzTarget]] = {
    target.name: target for target in (NetconfTarget, RestTarget, McpTarget, IpcTarget, DslTarget)
}


@contextlib.contextmanager
def opened(name: str, state_dir: Path) -> Iterator[FuzzTarget]:
    """Target `name`, open, serving from `state_dir`; closed on exit."""
    target = TARGETS[name](state_dir)
    target.open()
    try:
        yield target
    finally:
        target.close()
