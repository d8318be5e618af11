"""`/openapi.json` and the interactive documentation page `/docs` (Swagger UI).

Swagger UI's files come from the `swagger-ui-bundle` package and are served
by the agent itself: no CDN, nothing fetched from the internet (the online
spec validator is switched off too).

Like every path these need credentials. A browser asks for HTTP Basic and
then sends them with every request of the page. A client that cannot
answer a Basic challenge (a kiosk, headless Chromium) may open
`/docs?access_token=<bearer token>` instead (RFC 6750 section 2.3; accepted
only for GET of these read-only resources): the page then passes the token
on to its own assets in their URLs and, as an `Authorization: Bearer` header,
to its fetch of `/openapi.json` and the calls made with "Try it out". Such
replies are never cached.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.rest.context import json_reply, state
from flyos_agent.northbound.rest.errors import HttpError
from flyos_agent.northbound.rest.openapi import build_openapi

docs = Blueprint("docs", __name__)

TOKEN_PARAMETER = "access_token"
TOKEN_ENDPOINTS = frozenset({"docs.page", "docs.asset", "docs.openapi"})
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>FlyOS agent API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css{query}">
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png{query}" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js{query}"></script>
<script src="/docs/static/swagger-ui-standalone-preset.js{query}"></script>
<script>
const token = {token};
window.ui = SwaggerUIBundle({{
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  requestInterceptor: (req) => {{
    if (token && !req.headers.Authorization) {{ req.headers.Authorization = "Bearer " + token; }}
    return req;
  }},
}});
</script>
</body>
</html>
"""


def _token() -> str | None:
    token = request.args.get(TOKEN_PARAMETER)
    return token or None


def _private(response: Response) -> Response:
    if _token() is not None:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@docs.get("/docs")
def page() -> Response:
    """The Swagger UI page for this agent's OpenAPI document."""
    token = _token()
    query = f"?{TOKEN_PARAMETER}={html.escape(quote(token, safe=''))}" if token else ""
    script_token = json.dumps(token).replace("<", "\\u003c")
    body = PAGE.format(query=query, token=script_token)
    return _private(Response(body, mimetype="text/html"))


@docs.get("/docs/static/<string:name>")
def asset(name: str) -> Response:
    """One of Swagger UI's own files."""
    if name not in ASSETS:
        raise HttpError(404, InvalidValue(f"no documentation asset '{name}'"))
    return _private(send_from_directory(str(swagger_ui_path), name, max_age=3600))


@docs.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.0 document, generated from the compiled schema (once)."""
    rest = state()
    if rest.openapi is None:
        rest.openapi = build_openapi(rest.schema)
    document: dict[str, Any] = rest.openapi
    return _private(json_reply(document))
