"""The ASGI app mounted at /mcp on the REST listener: MCP and the FlyOS JSON-RPC.

Every request is authenticated first, exactly as REST does it (HTTP Basic
against the configured users, or a bearer token, by `rest.auth.Authenticator`):
without valid credentials the answer is 401 with the same challenge, before
the body is read and before anything runs. Then:

- a POST whose body is a FlyOS JSON-RPC request (`route.add` ...) or a
  batch goes to `jsonrpc.FlyosJsonRpc`: HTTP 200 with the JSON-RPC reply (an
  empty body when there is nothing to answer); a body that is not JSON is
  answered with -32700;
- everything else (the MCP methods, DELETE ending a session) goes to the
  official SDK's streamable-HTTP session manager, serving the tools of
  server.py. GET is answered 405: the server sends no messages of its own,
  so it offers no event stream (and no idle connection holds up a stop).

MCP sessions are the SDK's, one Manager session each (sessions.py); a
session answers only the user that opened it. A request in the 2026-07-28
per-request protocol, which has no sessions, is refused with -32022 naming
the handshake versions, and clients fall back to the initialize handshake:
the session is what holds the private candidate and the confirmed commit.

Limits: at most `mcp_max_sessions` sessions at once (an initialize beyond
is answered 503 with a JSON-RPC error saying so); bodies nested at most
`max_nesting_depth` deep (-32700 naming the bound); a caller backing off
after failed logins gets 401 with Retry-After.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types import UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from flyos_agent.config import AgentConfig
from flyos_agent.errors import MalformedMessage, ResourceDenied
from flyos_agent.northbound.backoff import LoginThrottled
from flyos_agent.northbound.jsonsafe import load_json
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.jsonrpc import (
    FLYOS_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    FlyosJsonRpc,
    error_reply,
    is_mcp_message,
)
from flyos_agent.northbound.mcp.operations import CHANNEL
from flyos_agent.northbound.mcp.server import Context, build_server
from flyos_agent.northbound.mcp.sessions import IDLE_TIMEOUT, McpSessions
from flyos_agent.northbound.mcp.tools import build_tools
from flyos_agent.northbound.rest.auth import CHALLENGE, Authenticator, Principal
from flyos_agent.northbound.tokens import TokenStore
from flyos_agent.runtime.manager import Manager

SWEEP_SECONDS = 60


class McpHttpApp:
    """/mcp: authentication, the FlyOS JSON-RPC, and the SDK's streamable HTTP."""

    def __init__(self, manager: Manager, config: AgentConfig) -> None:
        self._authenticator = Authenticator(config, TokenStore(manager.journal, config))
        self.sessions = McpSessions(manager, confirm_timeout=config.mcp_confirm_timeout)
        tools = build_tools(manager.schema, confirm_timeout=config.mcp_confirm_timeout)
        self._sdk = StreamableHTTPSessionManager(
            app=build_server(tools, manager.schema, self._tool_session),
            json_response=True,
            session_idle_timeout=IDLE_TIMEOUT,
            max_request_body_size=config.rest_max_body_bytes,
        )
        self._jsonrpc = FlyosJsonRpc(manager)
        self._max_body = config.rest_max_body_bytes
        self._max_depth = config.max_nesting_depth
        self._max_sessions = config.mcp_max_sessions
        self._opening = 0  # initialize requests in progress

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the SDK's session manager and the idle sweep; end every session at exit."""
        async with self._sdk.run():
            try:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._sweep)
                    yield
                    tasks.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.sessions.close_all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request under /mcp."""
        if scope["type"] != "http":
            await WebSocketClose()(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            caller = await anyio.to_thread.run_sync(self._authenticate, request)
        except LoginThrottled as throttled:
            reply = error_reply(None, INVALID_REQUEST, throttled.message, throttled.to_dict())
            headers = {"WWW-Authenticate": CHALLENGE, "Retry-After": str(throttled.retry_after)}
            await JSONResponse(reply, 401, headers)(scope, receive, send)
            return
        if caller is None:
            reply = error_reply(
                None, INVALID_REQUEST, "authentication required: HTTP Basic or a bearer token"
            )
            await JSONResponse(reply, 401, {"WWW-Authenticate": CHALLENGE})(scope, receive, send)
            return
        if request.method == "GET":  # no server-initiated messages: no event stream to offer
            reply = error_reply(None, INVALID_REQUEST, "this server offers no event stream")
            await JSONResponse(reply, 405, {"Allow": "POST, DELETE"})(scope, receive, send)
            return
        if request.method != "POST":
            await self._to_sdk(scope, receive, send, caller)
            return
        body = await _read_body(receive, self._max_body)
        if body is None:
            reply = error_reply(None, INVALID_REQUEST, f"the body exceeds {self._max_body} bytes")
            await JSONResponse(reply, 413)(scope, receive, send)
            return
        try:
            payload = load_json(body, self._max_depth)
        except MalformedMessage as exc:
            reply = error_reply(None, PARSE_ERROR, f"parse error: {exc.message}")
            await JSONResponse(reply, 200)(scope, receive, send)
            return
        if not isinstance(payload, list) and is_mcp_message(payload):
            initialize = payload if payload.get("method") == "initialize" else None
            await self._to_sdk(scope, _replay(body, receive), send, caller, initialize)
            return
        reply = await anyio.to_thread.run_sync(self._jsonrpc.handle, payload, caller)
        response = Response(status_code=200) if reply is None else JSONResponse(reply, 200)
        await response(scope, receive, send)

    async def _to_sdk(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        caller: Principal,
        initialize: dict[str, Any] | None = None,
    ) -> None:
        """Pass a request to the SDK, keeping the session registry in step with it
        (`initialize`: the request, if it is one: it opens a session if there is room)."""
        headers = Request(scope).headers
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            data = {"supported": list(HANDSHAKE_PROTOCOL_VERSIONS), "requested": version}
            text = "this server keeps MCP sessions: use the initialize handshake"
            reply = error_reply(None, UNSUPPORTED_PROTOCOL_VERSION, text, data)
            await JSONResponse(reply, 400)(scope, receive, send)
            return
        session_id = headers.get(MCP_SESSION_ID_HEADER)
        owner = self.sessions.owner(session_id) if session_id is not None else None
        if owner is not None and owner.user != caller.user:
            reply = error_reply(None, INVALID_REQUEST, "Session not found")
            await JSONResponse(reply, 404)(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                opened = _header(message, MCP_SESSION_ID_HEADER)
                if session_id is None and opened is not None and status < 400:
                    self.sessions.register(opened, caller)
            await send(message)

        if session_id is None:
            await self._open_or_pass(scope, receive, watch, initialize)
            return
        if scope["method"] == "DELETE" and owner is not None:
            # end the Manager session (and revert) before the client hears the session is gone
            await anyio.to_thread.run_sync(self.sessions.close, session_id)
        self.sessions.begin(session_id)
        try:
            await self._sdk.handle_request(scope, receive, watch)
        finally:
            self.sessions.end(session_id)
            if status == 404:  # the SDK no longer knows the session (idle timeout, crash)
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.sessions.close, session_id)

    async def _open_or_pass(
        self, scope: Scope, receive: Receive, send: Send, initialize: dict[str, Any] | None
    ) -> None:
        """A request without a session to the SDK; an initialize only while there is room."""
        if initialize is None:
            await self._sdk.handle_request(scope, receive, send)
            return
        if len(self.sessions) + self._opening >= self._max_sessions:
            error = ResourceDenied(
                f"too many MCP sessions (limit {self._max_sessions}); "
                "end one (HTTP DELETE) or wait for an idle one to expire"
            )
            request_id = initialize.get("id")
            reply = error_reply(request_id, FLYOS_ERROR, error.message, error.to_dict())
            await JSONResponse(reply, 503)(scope, receive, send)
            return
        self._opening += 1
        try:
            await self._sdk.handle_request(scope, receive, send)
        finally:
            self._opening -= 1

    def _authenticate(self, request: Request) -> Principal | None:
        """The caller (None: refused, and audited), like REST (blocks: scrypt)."""
        peer = request.client.host if request.client is not None else None
        header = request.headers.get("authorization")
        return self._authenticator.authenticate(header, channel=CHANNEL, peer=peer)

    def _tool_session(self, ctx: Context) -> ToolSession:
        """The session of the MCP request being served (called in a worker thread)."""
        request = ctx.request
        session_id = (
            request.headers.get(MCP_SESSION_ID_HEADER) if isinstance(request, Request) else None
        )
        return self.sessions.tool_session(session_id)

    async def _sweep(self) -> None:
        """End the sessions idle for longer than the SDK keeps them."""
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            for session_id in self.sessions.idle():
                await anyio.to_thread.run_sync(self.sessions.close, session_id)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the already-read body, then the client's own events."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _header(message: Message, name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    found: Any = next(
        (value for key, value in message.get("headers", []) if key.lower() == wanted), None
    )
    return found.decode("latin-1") if found is not None else None
