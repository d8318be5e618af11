"""Media types: what a request body is (415 otherwise) and what the client accepts (406).

RESTCONF speaks `application/yang-data+json` and `+xml` (RFC 8040), YANG
Patch `application/yang-patch+json` and `+xml` (RFC 8072); plain
`application/json` and `application/xml` are taken as their yang-data
equivalents, so `curl -H "Content-Type: application/json"` works everywhere.
Bodies are parsed as untrusted input: no DTDs or entities in XML, and XML and
JSON nested at most `MAX_NESTING_DEPTH` (app config) levels deep.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import current_app, request
from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge

from flyos_agent.errors import InvalidValue, MalformedMessage
from flyos_agent.northbound.jsonsafe import DEFAULT_MAX_DEPTH, load_json
from flyos_agent.northbound.netconf.xmlsafe import parse_message
from flyos_agent.northbound.rest.errors import HttpError

YANG_JSON = "application/yang-data+json"
YANG_XML = "application/yang-data+xml"
PATCH_JSON = "application/yang-patch+json"
PATCH_XML = "application/yang-patch+xml"
JSON_TYPES = (YANG_JSON, "application/json")
XML_TYPES = (YANG_XML, "application/xml", "text/xml")
DATA_TYPES = (*JSON_TYPES, *XML_TYPES)
PATCH_TYPES = (PATCH_JSON, PATCH_XML)
DEPTH_SETTING = "MAX_NESTING_DEPTH"


def content_type() -> str | None:
    """The request's media type without parameters, lower case; None without a body type."""
    return request.mimetype or None


def require_type(accepted: Collection[str]) -> str:
    """The request's media type if it is one of `accepted`; 415 otherwise."""
    mimetype = content_type()
    if mimetype not in accepted:
        given = f"'{mimetype}'" if mimetype else "no Content-Type"
        raise HttpError(
            415,
            InvalidValue(f"unsupported media type: {given}; use one of {', '.join(accepted)}"),
        )
    assert mimetype is not None
    return mimetype


def is_xml(mimetype: str) -> bool:
    """True for the XML media types (yang-data or yang-patch)."""
    return mimetype in XML_TYPES or mimetype == PATCH_XML


def body_bytes() -> bytes:
    """The request body; 413 when it is over the cap.

    Werkzeug stops a chunked body at the cap without saying so, so a chunked
    body that reaches the cap counts as too big.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()
    return data


def json_body(*, optional: bool = False) -> Any:
    """The request body parsed as JSON (None for an empty optional body)."""
    data = body_bytes()
    if not data.strip():
        if optional:
            return None
        raise MalformedMessage("the request needs a body")
    try:
        return load_json(data, _max_depth())
    except MalformedMessage as exc:
        raise MalformedMessage(f"the request body: {exc.message}") from None


def xml_body() -> etree._Element:
    """The request body parsed as XML (no DTD or entities, no network, bounded depth)."""
    data = body_bytes()
    if not data.strip():
        raise MalformedMessage("the request needs a body")
    try:
        return parse_message(data, _max_depth())
    except MalformedMessage as exc:
        raise MalformedMessage(f"the request body: {exc.message}") from None


def _max_depth() -> int:
    depth: int = current_app.config.get(DEPTH_SETTING, DEFAULT_MAX_DEPTH)
    return depth


def wants_xml() -> bool:
    """True if the client prefers XML; 406 if it accepts neither JSON nor XML."""
    accept = request.accept_mimetypes
    if not accept:
        return False
    best = accept.best_match([YANG_JSON, "application/json", YANG_XML, "application/xml"])
    if best is None:
        raise HttpError(
            406, InvalidValue(f"cannot answer in any of: {accept}; use {YANG_JSON} or {YANG_XML}")
        )
    return best in XML_TYPES
