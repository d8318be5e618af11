"""Helpers shared by plain RESTCONF edits and YANG Patch: the raw request path,
finding a target in a reply document, checking a body against its target, and
committing edits to running under the request's preconditions."""

from __future__ import annotations

from typing import Any

from flask import request

from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import canonical_path
from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.rest.api_path import DATA_PREFIX, Target, child_path
from flyos_agent.northbound.rest.context import session, state
from flyos_agent.northbound.rest.etag import check_preconditions
from flyos_agent.runtime.manager import CommitResult
from flyos_agent.schema import Kind


def raw_api_path() -> str:
    """The still percent-encoded path after /restconf/data (from the ASGI scope)."""
    scope = request.environ.get("asgi.scope") or {}
    raw = scope.get("raw_path")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else request.environ["PATH_INFO"]
    text = text.partition("?")[0]
    return text[len(DATA_PREFIX) :] if text.startswith(DATA_PREFIX) else ""


def locate(document: dict[str, Any], target: Target) -> Any:
    """The target's value in a document filtered down to the target's path.

    A list entry or leaf-list value comes back as a one-item array, as
    RFC 8040 replies carry it; None if the target does not exist.
    """
    value: Any = document
    for index, (name, _key) in enumerate(target.path):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        member = name if index else f"{state().schema.roots[name].module}:{name}"
        value = value.get(member)
        if value is None:
            return None
    return None if value == [] else value


def exists(target: Target) -> bool:
    """True if the target is in running."""
    where = target.xpath(state().schema)
    document = state().manager.get_config(session(), "running", path=where)
    return locate(document, target) is not None


def target_value(target: Target, value: Any) -> Any:
    """The Edit value for the target from the JSON value of a body that names it
    (an entry's keys must be those of the URI)."""
    node = target.node
    assert node is not None
    if not target.is_entry:
        return value
    if not isinstance(value, list) or len(value) != 1:
        raise InvalidValue(f"the body must hold exactly one '{node.name}' entry")
    item = value[0]
    path = canonical_path(state().schema, child_path(target.path[:-1], node, item))
    if path[-1][1] != target.path[-1][1]:
        raise InvalidValue(
            "the key values in the body differ from those in the URI",
            path=target.xpath(state().schema),
        )
    return None if node.kind is Kind.LEAF_LIST else item


def commit_edits(edits: list[Edit]) -> tuple[CommitResult | None, dict[str, str]]:
    """Check the preconditions, run `edits` as one transaction on running; the result
    and the new ETag / Last-Modified headers."""
    versions = state().versions
    check_preconditions(versions.current())
    result = state().manager.edit(session(), "running", edits)
    return result, versions.current().headers()
