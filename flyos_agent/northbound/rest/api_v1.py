"""The original FlyOS routes: `POST /api/v1/<module>/<verb>` and the commit flow.

`curl -X POST http://localhost:8080/api/v1/route/add -H "Content-Type:
application/json" -d '{"prefix":"10.0.0.0/24","via":"192.168.1.1"}'` means
the DSL statement `route add static {...}` (northbound.verbs): by default one
transaction on running (edit, validate, commit; the reply carries the commit
id); `?target=candidate` edits the candidate, which `POST /api/v1/commit`
then commits.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from flyos_agent.errors import BadElement, InvalidValue
from flyos_agent.northbound.ipc.protocol import Args
from flyos_agent.northbound.rest import flow
from flyos_agent.northbound.rest.context import json_reply, no_content, session, state
from flyos_agent.northbound.rest.media import JSON_TYPES, body_bytes, json_body, require_type
from flyos_agent.northbound.verbs import module_root, verb_edits

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")

TARGETS = ("running", "candidate")


def _query(*accepted: str) -> Args:
    """The query string as checked arguments (400 for an unknown or repeated one)."""
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise BadElement(f"query parameter '{name}' is repeated", info={"bad-element": name})
    return Args(request.path, request.args.to_dict(), accepted)


def _body(*accepted: str) -> Args:
    """The optional JSON object body as checked arguments."""
    data = None
    if body_bytes().strip():
        require_type(JSON_TYPES)
        data = json_body()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidValue("the body must be a JSON object")
    return Args(request.path, data, accepted)


@api_v1.post("/<module>/<verb>")
def module_verb(module: str, verb: str) -> Response:
    """`<module> <verb>` with a JSON object body: one edit, on running or the candidate."""
    query = _query("target", "kind")
    target = query.choice("target", TARGETS, "running")
    require_type(JSON_TYPES)
    values = json_body()
    if not isinstance(values, dict):
        raise InvalidValue(f"the body of {module} {verb} must be a JSON object")
    kind = values.pop("kind", None) or query.text("kind")
    if not isinstance(kind, str | None):
        raise BadElement("'kind' must be a string", info={"bad-element": "kind"})
    edits = verb_edits(state().schema, module, verb, kind, values)
    result = state().manager.edit(session(), target, edits)
    out: dict[str, Any] = {"target": target}
    if result is not None:
        out.update(result.to_dict())
    return json_reply(out)


@api_v1.get("/<module>")
def module_config(module: str) -> Response:
    """The module's configuration (RFC 7951 JSON) in `source` (default running)."""
    root = module_root(state().schema, module)
    source = flow.source(_query("source"), "source", "running")
    config = state().manager.get_config(session(), source, path=f"/{root.name}")
    return json_reply(config)


@api_v1.post("/commit")
def commit() -> Response:
    """Commit the candidate (optionally confirmed, or only checked)."""
    _query()
    return json_reply(flow.commit(_body(*flow.COMMIT_ARGS)))


@api_v1.post("/confirm")
def confirm() -> Response:
    """Confirm the pending confirmed commit."""
    _query()
    return json_reply(flow.confirm(_body(*flow.CONFIRM_ARGS)))


@api_v1.post("/cancel-commit")
def cancel_commit() -> Response:
    """Revert the pending confirmed commit now."""
    _query()
    flow.cancel_commit(_body(*flow.CONFIRM_ARGS))
    return no_content()


@api_v1.post("/rollback")
def rollback() -> Response:
    """Load commit `index` back (default 1) or `commit-id` into the candidate; the reply
    is the diff that a commit would now apply."""
    _query()
    flow.rollback(_body(*flow.ROLLBACK_ARGS))
    changes = state().manager.compare(session(), "running", "candidate")
    return json_reply({"target": "candidate", "changes": changes})


@api_v1.post("/discard")
def discard() -> Response:
    """Drop the candidate's uncommitted changes."""
    _query()
    flow.discard(_body())
    return no_content()


@api_v1.post("/validate")
def validate() -> Response:
    """Check every constraint of `source` (default candidate)."""
    _query()
    flow.validate(_body(*flow.VALIDATE_ARGS))
    return no_content()


@api_v1.get("/compare")
def compare() -> Response:
    """The changes from `source` (default running) to `target` (default candidate)."""
    return json_reply(flow.compare(_query(*flow.COMPARE_ARGS)))


@api_v1.get("/history")
def history() -> Response:
    """Commit history, newest first (at most `limit` entries)."""
    limit = flow.bounded(_query("limit"), "limit", 0, flow.MAX_COUNT)
    return json_reply(flow.history(limit))
