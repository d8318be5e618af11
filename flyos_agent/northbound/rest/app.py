"""The Flask application of the REST channel: /api/v1, /restconf, /openapi.json, /docs.

Before anything else, every request is authenticated (401 with a
WWW-Authenticate challenge otherwise, plus Retry-After while the caller backs
off after failed logins); only then is the body read, capped at
`max_body_bytes` (413) and parsed nested at most `max_nesting_depth` deep.
What the caller may read, change or run is decided by the Manager (NACM)
like on every channel: a refusal is a 403. Every failure is answered with an
RFC 8040 `errors` body in JSON or XML; an unexpected exception is logged and
answered 500 without a traceback.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from flyos_agent.config import AgentConfig
from flyos_agent.errors import (
    AccessDenied,
    FlyosError,
    InvalidValue,
    MalformedMessage,
    OperationFailed,
    OperationNotSupported,
    TooBig,
)
from flyos_agent.northbound.backoff import LoginThrottled
from flyos_agent.northbound.rest.api_v1 import api_v1
from flyos_agent.northbound.rest.auth import CHALLENGE, Authenticator
from flyos_agent.northbound.rest.context import (
    CHANNEL,
    EXTENSION,
    RestState,
    close_session,
    state,
)
from flyos_agent.northbound.rest.docs import TOKEN_ENDPOINTS, TOKEN_PARAMETER, docs
from flyos_agent.northbound.rest.errors import HttpError, errors_document, errors_xml, status_of
from flyos_agent.northbound.rest.etag import Versions
from flyos_agent.northbound.rest.media import DEPTH_SETTING, YANG_JSON, YANG_XML, wants_xml
from flyos_agent.northbound.rest.restconf_data import restconf_data
from flyos_agent.northbound.rest.restconf_meta import restconf_meta
from flyos_agent.northbound.rest.restconf_ops import restconf_ops
from flyos_agent.northbound.tokens import TokenStore
from flyos_agent.runtime.manager import Manager

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


def create_app(
    manager: Manager,
    config: AgentConfig,
    *,
    tokens: TokenStore | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Flask:
    """The REST channel's WSGI application over `manager`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.config[DEPTH_SETTING] = config.max_nesting_depth
    tokens = tokens or TokenStore(manager.journal, config)
    app.extensions[EXTENSION] = RestState(
        manager=manager,
        authenticator=Authenticator(config, tokens),
        versions=Versions(manager, manager.journal),
    )
    for blueprint in (api_v1, restconf_data, restconf_ops, restconf_meta, docs):
        app.register_blueprint(blueprint)
    app.before_request(_authenticate)
    app.teardown_request(lambda _exc: close_session())
    app.register_error_handler(HttpError, _http_error)
    app.register_error_handler(FlyosError, _flyos_error)
    app.register_error_handler(HTTPException, _werkzeug_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _authenticate() -> None:
    """Who is calling (401 if nobody)."""
    access_token = None
    if request.method in ("GET", "HEAD") and request.endpoint in TOKEN_ENDPOINTS:
        access_token = request.args.get(TOKEN_PARAMETER)
    try:
        caller = state().authenticator.authenticate(
            request.headers.get("Authorization"),
            access_token,
            channel=CHANNEL,
            peer=request.remote_addr,
        )
    except LoginThrottled as throttled:
        headers = {"WWW-Authenticate": CHALLENGE, "Retry-After": str(throttled.retry_after)}
        raise HttpError(401, throttled, headers) from None
    if caller is None:
        error = AccessDenied("authentication required: HTTP Basic or a bearer token")
        raise HttpError(401, error, {"WWW-Authenticate": CHALLENGE})
    g.principal = caller


def _render(error: FlyosError, status: int, headers: dict[str, str] | None = None) -> Response:
    try:
        xml = wants_xml()
    except HttpError:
        xml = False
    if xml:
        return Response(errors_xml(error), status, headers=headers, mimetype=YANG_XML)
    body = json.dumps(errors_document(error), ensure_ascii=False, indent=1)
    return Response(body, status, headers=headers, mimetype=YANG_JSON)


def _http_error(exc: HttpError) -> Response:
    return _render(exc.error, exc.status, exc.headers)


def _flyos_error(exc: FlyosError) -> Response:
    status = status_of(exc)
    if status >= 500:
        log.error("REST %s %s failed: %s", request.method, request.path, exc)
    return _render(exc, status)


def _werkzeug_error(exc: HTTPException) -> Response:
    """Werkzeug's own refusals (routing, body size, malformed requests) as RFC 8040 errors."""
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    error: FlyosError
    if status == 404:
        error = InvalidValue(f"no resource at {request.path}")
    elif status == 405:
        error = OperationNotSupported(f"{request.method} is not supported on {request.path}")
    elif status == 413:
        limit = request.max_content_length
        error = TooBig(f"the request body exceeds the limit of {limit} bytes")
    elif status < 500:
        error = MalformedMessage(exc.description or "bad request")
    else:
        error = OperationFailed(exc.description or "internal error")
    return _render(error, status, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("REST %s %s: unexpected failure", request.method, request.path)
    return _render(OperationFailed("internal error; the agent log has the details"), 500)
