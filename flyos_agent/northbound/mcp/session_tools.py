"""The fixed MCP tools of a session: read, diff, validate, commit and its guardrails.

`get_config`, `get_state`, `compare`, `validate`, `commit`, `confirm`,
`cancel_commit`, `discard`, `rollback` and `history`, each a thin call into
the session's `Operations` (commit, confirm and cancel through the
guardrails of `ToolSession`).
"""

from __future__ import annotations

from typing import Any

from flyos_agent.errors import BadElement
from flyos_agent.northbound.ipc.protocol import Args
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.spec import ToolSpec
from flyos_agent.runtime.queries import WITH_DEFAULTS

MAX_SECONDS = 2**32 - 1
SOURCE: dict[str, Any] = {
    "type": "string",
    "pattern": "^(running|candidate|startup|commit:[0-9]{1,9}|rollback:[0-9]{1,9})$",
    "description": "a datastore (running, candidate = this session's private candidate, "
    "startup) or an earlier configuration: commit:<id> or rollback:<n commits back>",
}
WITH_DEFAULTS_ARG: dict[str, Any] = {
    "type": "string",
    "enum": list(WITH_DEFAULTS),
    "default": "explicit",
    "description": "how default values are reported (RFC 6243)",
}
PATH: dict[str, Any] = {
    "type": "string",
    "description": "an instance path selecting one subtree, "
    "e.g. /routing/static[prefix='10.0.0.0/24']",
}
XPATH: dict[str, Any] = {"type": "string", "description": "an XPath 1.0 filter"}
PERSIST_ID: dict[str, Any] = {
    "type": "string",
    "description": "the persist-id of a persistent confirmed commit "
    "(not needed from the session that made it)",
}


def _schema(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _with(source_default: str, text: str) -> dict[str, Any]:
    return {**SOURCE, "default": source_default, "description": f"{text}: {SOURCE['description']}"}


def _flag(args: Args, name: str, default: bool) -> bool:
    value = args.values.get(name, default)
    if not isinstance(value, bool):
        raise BadElement(f"argument '{name}' of '{args.command}' must be true or false")
    return value


def _get_config(session: ToolSession, arguments: dict[str, Any]) -> Any:
    args = Args("get_config", arguments, ("source", "path", "xpath", "with-defaults"))
    return session.ops.get_config(
        args.text("source", "running") or "running",
        path=args.text("path"),
        xpath=args.text("xpath"),
        with_defaults=args.text("with-defaults", "explicit") or "explicit",
    )


def _get_state(session: ToolSession, arguments: dict[str, Any]) -> Any:
    args = Args("get_state", arguments, ("path", "xpath", "with-defaults"))
    return session.ops.get_state(
        path=args.text("path"),
        xpath=args.text("xpath"),
        with_defaults=args.text("with-defaults", "explicit") or "explicit",
    )


def _compare(session: ToolSession, arguments: dict[str, Any]) -> Any:
    args = Args("compare", arguments, ("source", "target"))
    source = args.text("source", "running") or "running"
    return session.ops.compare(source, args.text("target", "candidate") or "candidate")


def _validate(session: ToolSession, arguments: dict[str, Any]) -> Any:
    source = Args("validate", arguments, ("source",)).text("source", "candidate") or "candidate"
    session.ops.validate(source)
    return {"valid": True, "source": source}


def _commit(session: ToolSession, arguments: dict[str, Any]) -> Any:
    args = Args("commit", arguments, ("confirmed", "timeout", "persist", "comment", "dry-run"))
    timeout = args.integer("timeout")
    if timeout == 0:
        raise BadElement("argument 'timeout' of 'commit' must be at least 1 second")
    return session.commit(
        confirmed=_flag(args, "confirmed", True),
        timeout=timeout,
        persist=_flag(args, "persist", False),
        comment=args.text("comment"),
        dry_run=_flag(args, "dry-run", False),
    )


def _confirm(session: ToolSession, arguments: dict[str, Any]) -> Any:
    return session.confirm(Args("confirm", arguments, ("persist-id",)).text("persist-id"))


def _cancel_commit(session: ToolSession, arguments: dict[str, Any]) -> Any:
    return session.cancel(Args("cancel_commit", arguments, ("persist-id",)).text("persist-id"))


def _discard(session: ToolSession, arguments: dict[str, Any]) -> Any:
    Args("discard", arguments, ())
    session.ops.discard()
    return {"discarded": True, "candidate": "equals running again"}


def _rollback(session: ToolSession, arguments: dict[str, Any]) -> Any:
    args = Args("rollback", arguments, ("index", "commit-id"))
    index, commit_id = args.integer("index"), args.integer("commit-id")
    if index is not None and commit_id is not None:
        raise BadElement("'rollback' takes 'index' or 'commit_id', not both")
    session.ops.rollback(1 if index is None else index, commit_id)
    return {
        "candidate": "holds the earlier configuration; commit applies it",
        "diff": session.ops.compare("running", "candidate"),
    }


def _history(session: ToolSession, arguments: dict[str, Any]) -> Any:
    limit = Args("history", arguments, ("limit",)).integer("limit")
    return session.ops.history(10 if limit is None else limit)


def session_tools(confirm_timeout: int) -> list[ToolSpec]:
    """The fixed tools; `confirm_timeout` is the default of `commit`'s timeout."""
    seconds = {"type": "integer", "minimum": 1, "maximum": MAX_SECONDS}
    return [
        ToolSpec(
            "get_config",
            "The configuration of a datastore as RFC 7951 JSON, whole or filtered by an "
            "instance path or XPath.",
            _schema(
                source=_with("running", "default running"),
                path=PATH,
                xpath=XPATH,
                with_defaults=WITH_DEFAULTS_ARG,
            ),
            _get_config,
            read_only=True,
        ),
        ToolSpec(
            "get_state",
            "The running configuration together with operational state from the kernel.",
            _schema(path=PATH, xpath=XPATH, with_defaults=WITH_DEFAULTS_ARG),
            _get_state,
            read_only=True,
        ),
        ToolSpec(
            "compare",
            "The diff between two configurations (default: running -> this session's "
            "candidate, i.e. what commit would change), one entry per changed list entry or "
            "container, with the leaves that change.",
            _schema(
                source=_with("running", "from (default running)"),
                target=_with("candidate", "to (default candidate)"),
            ),
            _compare,
            read_only=True,
        ),
        ToolSpec(
            "validate",
            "Check every YANG constraint (types, ranges, patterns, references, must) of a "
            "datastore, default this session's candidate; errors name the path.",
            _schema(source=_with("candidate", "default candidate")),
            _validate,
            read_only=True,
        ),
        ToolSpec(
            "commit",
            "Apply this session's candidate to running and return the diff it applied. By "
            f"default a confirmed commit: running reverts after `timeout` (default "
            f"{confirm_timeout} s) unless `confirm` follows, and also when this MCP session "
            "ends (unless `persist`: then a persist-id is returned and any session may "
            "confirm with it). `confirmed: false` applies for good at once (and confirms a "
            "pending confirmed commit). `dry_run: true` applies nothing and returns the diff "
            "and the exact kernel plan.",
            _schema(
                confirmed={"type": "boolean", "default": True},
                timeout={**seconds, "default": confirm_timeout, "description": "seconds"},
                persist={"type": "boolean", "default": False},
                comment={"type": "string", "description": "kept with the commit in history"},
                dry_run={"type": "boolean", "default": False},
            ),
            _commit,
        ),
        ToolSpec(
            "confirm",
            "Confirm the pending confirmed commit: its changes stay in running for good.",
            _schema(persist_id=PERSIST_ID),
            _confirm,
        ),
        ToolSpec(
            "cancel_commit",
            "Revert the pending confirmed commit now (running returns to the configuration "
            "before it).",
            _schema(persist_id=PERSIST_ID),
            _cancel_commit,
        ),
        ToolSpec(
            "discard",
            "Drop every uncommitted edit of this session's candidate.",
            _schema(),
            _discard,
        ),
        ToolSpec(
            "rollback",
            "Load an earlier configuration into this session's candidate (index commits "
            "back, default 1, or a commit id) and return the diff; commit applies it.",
            _schema(
                index={"type": "integer", "minimum": 0, "default": 1},
                commit_id={"type": "integer", "minimum": 0},
            ),
            _rollback,
        ),
        ToolSpec(
            "history",
            "The commit history, newest first: id, time, user, channel, comment, changes, "
            "and the rollback index of each commit.",
            _schema(limit={"type": "integer", "minimum": 0, "default": 10}),
            _history,
            read_only=True,
        ),
    ]
