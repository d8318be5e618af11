"""RESTCONF operation resources (RFC 8040 section 3.6): the commit flow as RPCs.

The operations are those of yang/flyos-agent-ops.yang and the ietf-netconf
RPCs it augments: `ietf-netconf:commit` (confirmed, confirm-timeout,
persist, persist-id and `flyos-agent-ops:dry-run`; a commit with the
persist-id is the confirm), `ietf-netconf:cancel-commit`,
`ietf-netconf:discard-changes`, `flyos-agent-ops:rollback`, `:compare` and
`:history`. `POST /restconf/operations/flyos-agent-ops:compare` with an
optional `{"flyos-agent-ops:input": {...}}` answers
`{"flyos-agent-ops:output": {...}}`, or 204 when the RPC has no output.
The compiled schema holds data nodes only, so the input and output shapes
follow the YANG by hand here and in openapi_common.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.ipc.protocol import Args
from flyos_agent.northbound.rest import flow
from flyos_agent.northbound.rest.context import no_content, state, yang_reply
from flyos_agent.northbound.rest.errors import HttpError
from flyos_agent.northbound.rest.media import (
    DATA_TYPES,
    body_bytes,
    is_xml,
    json_body,
    require_type,
    xml_body,
)
from flyos_agent.northbound.rest.xml_codec import local_name, namespace_of, plain_children

restconf_ops = Blueprint("restconf_ops", __name__, url_prefix="/restconf/operations")

OPS = "flyos-agent-ops"
NETCONF = "ietf-netconf"
EMPTY_ARGUMENTS = ("confirmed", "dry-run")


@dataclass(frozen=True)
class OperationSpec:
    """One operation: its qualified name, arguments (local names), and what runs it
    (None: no output)."""

    name: str
    description: str
    arguments: tuple[str, ...]
    run: Callable[[Args], dict[str, Any] | None]
    output: str | None = None

    @property
    def module(self) -> str:
        """The module that defines the operation."""
        return self.name.partition(":")[0]


def _commit(args: Args) -> dict[str, Any] | None:
    """ietf-netconf:commit: its arguments onto the flow's commit."""
    values = {
        "confirmed": args.flag("confirmed"),
        "timeout": args.integer("confirm-timeout"),
        "persist": args.text("persist"),
        "persist-id": args.text("persist-id"),
        "check": args.flag("dry-run"),
    }
    given = {name: value for name, value in values.items() if value not in (None, False)}
    result = flow.commit(Args("commit", given, flow.COMMIT_ARGS))
    if not values["check"]:
        return None
    plan = [json.dumps(step, sort_keys=True, default=str) for step in result.get("plan", [])]
    return {f"{OPS}:change": result["changes"], f"{OPS}:plan": plan}


def _compare(args: Args) -> dict[str, Any]:
    """flyos-agent-ops:compare output: changes with values and leaves as JSON text."""
    changes = []
    for change in flow.compare(args):
        item = {"operation": change["operation"], "target": change["target"]}
        if "value" in change:
            item["value"] = json.dumps(change["value"], sort_keys=True, default=str)
        leaves = [
            {"name": name, **{k: _text(v) for k, v in values.items() if v is not None}}
            for name, values in change.get("leaves", {}).items()
        ]
        if leaves:
            item["leaf"] = leaves
        changes.append(item)
    return {"change": changes}


def _history(args: Args) -> dict[str, Any]:
    """flyos-agent-ops:history output (uint64 commit ids as strings, RFC 7951)."""
    commits = []
    for record in flow.history(flow.bounded(args, "limit", 1, flow.MAX_COUNT)):
        entry = {k: v for k, v in record.items() if v is not None}
        entry["commit-id"] = str(entry["commit-id"])
        commits.append(entry)
    return {"commit": commits}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _none(run: Callable[[Args], Any]) -> Callable[[Args], None]:
    def wrapped(args: Args) -> None:
        run(args)

    return wrapped


OPERATIONS: Mapping[str, OperationSpec] = {
    spec.name: spec
    for spec in (
        OperationSpec(
            f"{NETCONF}:commit",
            "Commit the candidate. confirmed: revert after confirm-timeout seconds unless "
            "confirmed by another commit (with persist-id when persist was given); "
            "flyos-agent-ops:dry-run: validate and return the changes and plan only.",
            ("confirmed", "confirm-timeout", "persist", "persist-id", "dry-run"),
            _commit,
            "commit-output",
        ),
        OperationSpec(
            f"{NETCONF}:cancel-commit",
            "Revert the pending confirmed commit now.",
            flow.CONFIRM_ARGS,
            _none(flow.cancel_commit),
        ),
        OperationSpec(
            f"{NETCONF}:discard-changes",
            "Drop the candidate's uncommitted changes.",
            (),
            _none(flow.discard),
        ),
        OperationSpec(
            f"{OPS}:rollback",
            "Load commit `index` back (default 1) or `commit-id` into the candidate.",
            flow.ROLLBACK_ARGS,
            _none(flow.rollback),
        ),
        OperationSpec(
            f"{OPS}:compare",
            "The changes from `source` (default running) to `target` (default candidate).",
            flow.COMPARE_ARGS,
            _compare,
            "compare-output",
        ),
        OperationSpec(
            f"{OPS}:history",
            "The commit history, newest first.",
            ("limit",),
            _history,
            "history-output",
        ),
    )
}


@restconf_ops.get("")
def operations() -> Response:
    """The operation resources this server offers."""
    return yang_reply({"ietf-restconf:operations": {name: [None] for name in OPERATIONS}})


@restconf_ops.post("/<string:name>")
def invoke(name: str) -> Response:
    """Run one operation with its input; 204 when it has no output."""
    spec = OPERATIONS.get(name)
    if spec is None:
        raise HttpError(404, InvalidValue(f"no operation '{name}'"))
    result = spec.run(Args(name, _input(spec), spec.arguments))
    if result is None:
        return no_content()
    return yang_reply({f"{spec.module}:output": result})


def _input(spec: OperationSpec) -> dict[str, Any]:
    """The operation's arguments from an optional JSON or XML input (empty leaves: true)."""
    if not body_bytes().strip():
        return {}
    mimetype = require_type(DATA_TYPES)
    member = f"{spec.module}:input"
    if is_xml(mimetype):
        element = xml_body()
        namespace = namespace_of(state().schema, spec.module)
        if local_name(element) != (namespace, "input"):
            raise InvalidValue(f'the body must be <input xmlns="{namespace}">')
        values = plain_children(element)
    else:
        document = json_body()
        if not isinstance(document, dict) or set(document) - {member}:
            raise InvalidValue(f'the body must be {{"{member}": {{...}}}}')
        values = document.get(member, {})
        if not isinstance(values, dict):
            raise InvalidValue(f"'{member}' must be an object")
    out = {key.rpartition(":")[2]: value for key, value in values.items()}
    for name in EMPTY_ARGUMENTS:
        if name in out and out[name] in ([None], "", True):
            out[name] = True
    return out
