"""What every REST view needs: the app-wide state, the caller's Manager session, replies.

Each HTTP request is its own Manager session (opened on first use, closed
when the request ends), so REST keeps no state between requests: locks
and private candidates never outlive a request, and a confirmed commit made
over REST is always given a persist-id so it survives its request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g

from flyos_agent.northbound.rest.auth import Authenticator, Principal
from flyos_agent.northbound.rest.etag import Versions
from flyos_agent.northbound.rest.media import YANG_JSON, YANG_XML, wants_xml
from flyos_agent.northbound.rest.xml_codec import document_to_xml
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

CHANNEL = "rest"
EXTENSION = "flyos"


@dataclass
class RestState:
    """Everything the REST app shares between requests."""

    manager: Manager
    authenticator: Authenticator
    versions: Versions
    openapi: dict[str, Any] | None = None

    @property
    def schema(self) -> Schema:
        """The compiled schema."""
        return self.manager.schema


def state() -> RestState:
    """The app-wide state of the running app."""
    found: RestState = current_app.extensions[EXTENSION]
    return found


def principal() -> Principal:
    """The authenticated caller of this request."""
    found: Principal = g.principal
    return found


def session() -> Session:
    """This request's Manager session (opened on first use)."""
    existing: Session | None = g.get("session")
    if existing is None:
        caller = principal()
        existing = state().manager.open_session(caller.user, CHANNEL, caller.group)
        g.session = existing
    return existing


def close_session() -> None:
    """End this request's Manager session, if it opened one."""
    existing: Session | None = g.pop("session", None)
    if existing is not None:
        state().manager.close_session(existing)


def json_reply(
    document: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A plain `application/json` reply (the /api/v1 routes)."""
    body = json.dumps(document, ensure_ascii=False, indent=1)
    return Response(body, status, headers=dict(headers or {}), mimetype="application/json")


def yang_reply(
    document: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A RESTCONF reply: yang-data JSON or XML as the client's Accept asks (Werkzeug
    drops the body of a HEAD reply and keeps its Content-Length)."""
    if wants_xml():
        body = document_to_xml(state().schema, document)
        mimetype = YANG_XML
    else:
        body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        mimetype = YANG_JSON
    response = Response(body, status, headers=dict(headers or {}))
    response.mimetype = mimetype
    return response


def no_content(headers: Mapping[str, str] | None = None, status: int = 204) -> Response:
    """A reply without a body (204 No Content, or 201 Created with `status`)."""
    response = Response(status=status, headers=dict(headers or {}))
    del response.headers["Content-Type"]
    return response
