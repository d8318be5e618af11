"""RFC 8040 section 7: error-tag -> HTTP status, and the `errors` body in JSON or XML.

Every failure of the REST channel is a FlyosError (the one error model of the
agent); `HttpError` adds the status a particular situation needs where the
section 7 table offers a choice (404 for a missing resource, 405, 406, 412,
415, 401).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from flyos_agent.errors import FlyosError
from flyos_agent.northbound.rest.xml_codec import RESTCONF_NS, element

STATUS_BY_TAG: Mapping[str, int] = {
    "in-use": 409,
    "invalid-value": 400,
    "too-big": 413,
    "missing-attribute": 400,
    "bad-attribute": 400,
    "unknown-attribute": 400,
    "missing-element": 400,
    "bad-element": 400,
    "unknown-element": 400,
    "unknown-namespace": 400,
    "access-denied": 403,
    "lock-denied": 409,
    "resource-denied": 409,
    "rollback-failed": 500,
    "data-exists": 409,
    "data-missing": 409,
    "operation-not-supported": 501,
    "operation-failed": 500,
    "partial-operation": 500,
    "malformed-message": 400,
}


class HttpError(Exception):
    """A FlyosError answered with a specific HTTP status (and extra headers)."""

    def __init__(
        self, status: int, error: FlyosError, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error
        self.headers = dict(headers or {})


def status_of(error: FlyosError) -> int:
    """The HTTP status RFC 8040 section 7 gives the error's tag (the first one's, for a list).

    operation-failed may be 412 or 500: a failed model constraint (it names itself
    with an error-app-tag: must-violation, when-violation, data-not-unique,
    too-many-elements, ...) is the client's data failing a precondition, 412;
    anything else is a real failure of the agent, 500.
    """
    first = error.errors[0]
    if first.tag == "operation-failed" and first.app_tag:
        return 412
    return STATUS_BY_TAG.get(first.tag, 500)


def error_entries(error: FlyosError) -> list[dict[str, Any]]:
    """The members of `ietf-restconf:errors/error`, one per error."""
    out = []
    for item in error.errors:
        entry: dict[str, Any] = {"error-type": item.error_type, "error-tag": item.tag}
        if item.app_tag:
            entry["error-app-tag"] = item.app_tag
        if item.path:
            entry["error-path"] = item.path
        entry["error-message"] = item.message
        if item.info:
            entry["error-info"] = item.info
        out.append(entry)
    return out


def errors_document(error: FlyosError) -> dict[str, Any]:
    """The RFC 8040 errors body as RFC 7951 JSON."""
    return {"ietf-restconf:errors": {"error": error_entries(error)}}


def errors_xml(error: FlyosError) -> bytes:
    """The RFC 8040 errors body as XML."""
    root = element(RESTCONF_NS, "errors")
    for entry in error_entries(error):
        item = etree.SubElement(root, f"{{{RESTCONF_NS}}}error")
        for name, value in entry.items():
            child = etree.SubElement(item, f"{{{RESTCONF_NS}}}{name}")
            if isinstance(value, Mapping):
                for key, info in value.items():
                    etree.SubElement(child, f"{{{RESTCONF_NS}}}{key}").text = str(info)
            else:
                child.text = str(value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
