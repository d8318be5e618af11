"""The HTTP listener: uvicorn (ASGI) running a small Starlette router in the daemon's loop.

The router sends `/` to the Flask app (WSGI, run in a2wsgi's thread pool,
so a slow commit never blocks the loop) and lets other channels mount ASGI
apps beside it with `mount_asgi` (MCP's streamable HTTP at /mcp): one
listener, one TLS configuration, one port. uvicorn runs as a task of the
daemon's asyncio loop; the daemon owns the signals and stops it with
`close()`, which lets requests in flight finish. At most `rest_max_requests`
requests are in progress at once (so memory stays bounded by it times the
body cap); one beyond is answered 503 with Retry-After and an RFC 8040 error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, cast

import uvicorn
from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from flyos_agent.config import AgentConfig, Listen
from flyos_agent.errors import ResourceDenied
from flyos_agent.northbound.rest.app import create_app
from flyos_agent.northbound.rest.errors import errors_document
from flyos_agent.northbound.rest.media import YANG_JSON
from flyos_agent.northbound.tokens import TokenStore
from flyos_agent.runtime.manager import Manager

log = logging.getLogger(__name__)

WSGI_WORKERS = 8
SHUTDOWN_GRACE_SECONDS = 10
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RestListenError(Exception):
    """The listener cannot start; the message is the one line to print."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGTERM/SIGINT to the daemon's loop."""
        yield


def _terminated(app: WsgiApp) -> WsgiApp:
    """Mark the input stream as ending with the body (a2wsgi's does), so Werkzeug reads
    chunked bodies and applies the size cap to them too."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input_terminated"] = True
        return app(environ, start_response)

    return wrapped


class RestServer:
    """REST, RESTCONF and the docs on `config.rest_listen`, plus mounted ASGI apps."""

    def __init__(
        self, manager: Manager, config: AgentConfig, tokens: TokenStore | None = None
    ) -> None:
        assert config.rest_listen is not None
        self.listen: Listen = config.rest_listen
        self._config = config
        flask_app = create_app(
            manager, config, tokens=tokens, max_body_bytes=config.rest_max_body_bytes
        )
        wsgi_app = cast(Any, _terminated(flask_app.wsgi_app))
        self._wsgi = WSGIMiddleware(wsgi_app, workers=WSGI_WORKERS)
        self._mounts: list[BaseRoute] = []
        self._exact_paths: set[str] = set()
        self._contexts: list[Callable[[], AbstractAsyncContextManager[Any]]] = []
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    def mount_asgi(
        self,
        path: str,
        app: ASGIApp,
        *,
        lifespan: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        """Serve `app` under `path` (e.g. "/mcp") on this listener, with the same TLS.

        Call before `start()`. `lifespan`, if given, is entered when the listener
        starts and left when it stops (Starlette does not run a mounted app's own
        lifespan). The mounted app authenticates its requests itself (see
        `northbound.rest.auth.Authenticator`).
        """
        if self._task is not None:
            raise RuntimeError("mount_asgi() must be called before start()")
        self._mounts.append(Mount(path, app=app))
        self._exact_paths.add(path.rstrip("/"))
        if lifespan is not None:
            self._contexts.append(lifespan)

    @property
    def address(self) -> str:
        """HOST:PORT actually listened on (the real port when 0 was asked for)."""
        if self._socket is None:
            return str(self.listen)
        port = self._socket.getsockname()[1]
        return str(Listen(self.listen.host, port))

    async def start(self) -> None:
        """Bind, load TLS, and serve in the background; RestListenError if that fails."""
        self._socket = _bind(self.listen)
        flask_asgi = cast(ASGIApp, self._wsgi)
        router = Starlette(
            routes=[*self._mounts, Mount("/", app=flask_asgi)], lifespan=self._lifespan
        )
        app = _exact_mount_paths(router, frozenset(self._exact_paths))
        config = uvicorn.Config(
            _request_cap(app, self._config.rest_max_requests),
            log_config=None,
            access_log=False,
            lifespan="on",
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            ssl_certfile=self._config.rest_tls_cert,
            ssl_keyfile=self._config.rest_tls_key,
        )
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        try:
            config.load()
        except (OSError, ssl.SSLError) as exc:
            self._socket.close()
            raise RestListenError(f"rest TLS certificate/key: {exc}") from None
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
            raise RestListenError(f"the REST listener on {self.address} stopped at once")

    async def close(self) -> None:
        """Stop accepting, let requests in flight finish, stop the worker threads."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._wsgi.executor.shutdown(wait=False)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for context in self._contexts:
                await stack.enter_async_context(context())
            yield


def _bind(listen: Listen) -> socket.socket:
    """A listening TCP socket on `listen`; RestListenError with the reason otherwise."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise RestListenError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise RestListenError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return sock


def _exact_mount_paths(app: ASGIApp, paths: frozenset[str]) -> ASGIApp:
    """Let a mount answer its exact path too: a Starlette Mount at /mcp only
    matches /mcp/..., so a request for /mcp itself is passed on as /mcp/."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in paths:
            path = scope["path"] + "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return route


def _request_cap(app: ASGIApp, limit: int) -> ASGIApp:
    """`app` with at most `limit` HTTP requests in progress; 503 (Retry-After: 1) beyond.

    One log line per burst of refusals, not one per refused request.
    """
    in_progress = 0
    refusing = False
    error = ResourceDenied(f"too many requests in progress (limit {limit}); retry later")
    body = json.dumps(errors_document(error), indent=1).encode()
    headers = [
        (b"content-type", YANG_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]

    async def capped(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_progress, refusing
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if in_progress >= limit:
            if not refusing:
                log.warning("REST: refusing requests: %s", error)
            refusing = True
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        in_progress += 1
        refusing = False
        try:
            await app(scope, receive, send)
        finally:
            in_progress -= 1

    return capped
