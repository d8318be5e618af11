"""The candidate/commit flow shared by /api/v1 and /restconf/operations.

One function per operation, taking the checked arguments of the request
(`Args`, the same checker the IPC commands use) and returning a JSON-ready
result or None. A confirmed commit made over HTTP always carries a
persist-id (`flyos-rest` unless the client names one): HTTP requests are
sessions of their own, and a persist-less confirmed commit would be
reverted as soon as its request ended.
"""

from __future__ import annotations

from typing import Any

from flyos_agent.errors import DataMissing, InvalidValue
from flyos_agent.northbound.ipc.protocol import Args
from flyos_agent.northbound.rest.context import session, state

REST_PERSIST_ID = "flyos-rest"
MAX_TIMEOUT = 2**32 - 1
MAX_COUNT = 2**31 - 1

COMMIT_ARGS = ("confirmed", "timeout", "persist", "persist-id", "comment", "check")
CONFIRM_ARGS = ("persist-id",)
ROLLBACK_ARGS = ("index", "commit-id")
COMPARE_ARGS = ("source", "target")
VALIDATE_ARGS = ("source",)


def bounded(args: Args, name: str, low: int, high: int) -> int | None:
    """An integer argument within low..high, or None when absent."""
    value = args.integer(name)
    if value is not None and not low <= value <= high:
        raise InvalidValue(f"'{name}' must be {low}..{high}", info={"bad-element": name})
    return value


def source(args: Args, name: str, default: str) -> str:
    """A datastore name argument: running, candidate, startup, commit:<id> or rollback:<n>."""
    text = args.text(name, default) or default
    kind, sep, number = text.partition(":")
    numeric = number.isascii() and number.isdigit()
    if sep and kind in ("commit", "rollback") and numeric and int(number) <= MAX_COUNT:
        return text
    if not sep and text in ("running", "candidate", "startup"):
        return text
    raise InvalidValue(
        f"'{name}' must be running, candidate, startup, commit:<id> or rollback:<n>",
        info={"bad-element": name},
    )


def _pending_persist_id(args: Args) -> str | None:
    given = args.text("persist-id")
    if given is not None:
        return given
    pending = state().manager.confirm_pending()
    return REST_PERSIST_ID if pending is not None and pending["persist"] else None


def _require_pending() -> None:
    if state().manager.confirm_pending() is None:
        raise DataMissing("no confirmed commit is pending")


def commit(args: Args) -> dict[str, Any]:
    """Commit the candidate (confirmed: revert after `timeout` unless confirmed)."""
    confirmed = args.flag("confirmed")
    persist = args.text("persist")
    if confirmed and persist is None:
        persist = REST_PERSIST_ID
    result = state().manager.commit(
        session(),
        confirmed=confirmed,
        timeout=bounded(args, "timeout", 1, MAX_TIMEOUT),
        persist=persist,
        persist_id=_pending_persist_id(args),
        comment=args.text("comment"),
        dry_run=args.flag("check"),
    )
    out = result.to_dict()
    if confirmed:
        out["persist-id"] = persist
    return out


def confirm(args: Args) -> dict[str, Any]:
    """Confirm the pending confirmed commit."""
    _require_pending()
    return state().manager.confirm(session(), _pending_persist_id(args)).to_dict()


def cancel_commit(args: Args) -> None:
    """Revert the pending confirmed commit now."""
    _require_pending()
    state().manager.cancel_commit(session(), _pending_persist_id(args))


def discard(args: Args) -> None:
    """Drop the candidate's uncommitted changes."""
    state().manager.discard(session())


def rollback(args: Args) -> None:
    """Load an earlier configuration into the candidate (commit it to apply it)."""
    index = bounded(args, "index", 0, MAX_COUNT)
    commit_id = bounded(args, "commit-id", 0, MAX_COUNT)
    if index is not None and commit_id is not None:
        raise InvalidValue("give 'index' or 'commit-id', not both")
    state().manager.rollback(session(), 1 if index is None else index, commit_id=commit_id)


def compare(args: Args) -> list[dict[str, Any]]:
    """The changes from `source` (default running) to `target` (default candidate)."""
    return state().manager.compare(
        session(), source(args, "source", "running"), source(args, "target", "candidate")
    )


def validate(args: Args) -> None:
    """Check every constraint of `source` (default candidate)."""
    state().manager.validate(session(), source(args, "source", "candidate"))


def history(limit: int | None) -> list[dict[str, Any]]:
    """Commit history, newest first."""
    return state().manager.history(session(), limit)
