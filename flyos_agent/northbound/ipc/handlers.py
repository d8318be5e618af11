"""One handler per IPC command, registered by name; each is a thin call into the Manager.

Handlers run in a worker thread (the Manager may block on a commit); they get
the connection's `Context` and the request's checked `Args`, and return a
JSON-ready result or raise a FlyosError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flyos_agent.config import AgentConfig
from flyos_agent.datastore.edit import Edit, ErrorOption, Operation
from flyos_agent.datastore.paths import parse_path
from flyos_agent.errors import AccessDenied, BadElement, InvalidValue, OperationNotSupported
from flyos_agent.northbound.backoff import LoginBackoff, LoginThrottled
from flyos_agent.northbound.dsl import parse_edits
from flyos_agent.northbound.ipc.protocol import Args, Request
from flyos_agent.northbound.tokens import TokenStore
from flyos_agent.northbound.verbs import MODULE_ALIASES, VERBS, parse_arg_list, verb_edits
from flyos_agent.runtime.audit import auth_failed
from flyos_agent.runtime.manager import CommitResult, Manager
from flyos_agent.runtime.sessions import Session

CHANNEL = "ipc"
TEST_OPTIONS = ("test-then-set", "set", "test-only")


@dataclass(frozen=True)
class Peer:
    """The local process at the other end of the socket (from SO_PEERCRED)."""

    pid: int
    uid: int
    name: str
    trusted: bool


@dataclass
class Context:
    """Per-connection state: the Manager, who the peer is, and its session
    (`backoff` is the server's, shared by every connection)."""

    manager: Manager
    config: AgentConfig
    peer: Peer
    backoff: LoginBackoff
    session: Session | None = None
    private: bool = False
    failed_logins: int = 0

    @property
    def active(self) -> Session:
        """The logged-in session (handlers that need one are only called with one)."""
        assert self.session is not None
        return self.session


Handler = Callable[[Context, Args], Any]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Command:
    """A registered command: its handler, the arguments it takes, and if it needs a login."""

    handler: Handler
    arguments: tuple[str, ...] = ()
    anonymous: bool = False


COMMANDS: dict[str, Command] = {}


def command(name: str, *arguments: str, anonymous: bool = False) -> Callable[[H], H]:
    """Register the decorated function as the handler of command `name`."""

    def register(handler: H) -> H:
        COMMANDS[name] = Command(handler, arguments, anonymous)
        return handler

    return register


def dispatch(ctx: Context, request: Request) -> Any:
    """Run `request` for the connection `ctx` and return its JSON-ready result."""
    found = COMMANDS.get(request.command)
    if found is None and not _is_module_verb(ctx, request.command):
        raise OperationNotSupported(f"unknown command '{request.command}'")
    if ctx.session is None and (found is None or not found.anonymous):
        raise AccessDenied(f"'{request.command}' refused: log in first (command 'login')")
    if ctx.session is not None and ctx.session.closed:
        raise AccessDenied(f"session {ctx.session.id} was killed; connection closing")
    if found is None:
        return module_verb(ctx, request)
    if isinstance(request.args, list):
        raise BadElement(f"'{request.command}' takes its arguments as an object")
    return found.handler(ctx, Args(request.command, request.args, found.arguments))


def _is_module_verb(ctx: Context, name: str) -> bool:
    words = name.split()
    return (
        len(words) in (2, 3)
        and words[1] in VERBS
        and (words[0] in MODULE_ALIASES or words[0] in ctx.manager.schema.roots)
    )


def module_verb(ctx: Context, request: Request) -> dict[str, Any] | None:
    """`<module> <verb> [kind]` with key=value strings or an object, as one edit.

    The edit goes to running as one transaction, or to the candidate when the
    session entered `private` or the arguments say `target: candidate`.
    """
    words = request.command.split()
    if isinstance(request.args, list):
        values: dict[str, Any] = parse_arg_list(request.args)
    else:
        values = dict(request.args)
    kind = values.pop("kind", None)
    if len(words) == 3:
        if kind is not None and kind != words[2]:
            raise InvalidValue(f"kind given twice: '{words[2]}' and '{kind}'")
        kind = words[2]
    target = values.pop("target", "candidate" if ctx.private else "running")
    if not isinstance(target, str) or not isinstance(kind, str | None):
        raise BadElement("'target' and 'kind' must be strings")
    edits = verb_edits(ctx.manager.schema, words[0], words[1], kind, values)
    return _commit_result(ctx.manager.edit(ctx.active, target, edits))


def _commit_result(result: CommitResult | None) -> dict[str, Any] | None:
    return None if result is None else result.to_dict()


def _edit_from_json(ctx: Context, item: Any) -> Edit:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise BadElement("each edit must be an object with a string 'path'")
    unknown = sorted(set(item) - {"operation", "path", "value"})
    if unknown:
        raise BadElement(f"an edit takes no member '{unknown[0]}' (operation, path, value)")
    operation = item.get("operation")
    if operation is not None and operation not in tuple(Operation):
        raise BadElement(f"unknown edit operation {operation!r}", info={"bad-element": "operation"})
    return Edit(operation, parse_path(ctx.manager.schema, item["path"]), item.get("value"))


# ---------------------------------------------------------------------- sessions


@command("ping", anonymous=True)
def ping(ctx: Context, args: Args) -> dict[str, Any]:
    """Liveness check; needs no login."""
    return {"pong": True}


@command("login", "user", "password", anonymous=True)
def login(ctx: Context, args: Args) -> dict[str, Any]:
    """Start a session as a configured user (replacing any current session)."""
    name = args.required("user")
    password = args.required("password")
    source, peer = f"uid={ctx.peer.uid}", f"pid={ctx.peer.pid} uid={ctx.peer.uid}"
    try:
        ctx.backoff.check(source, name)
    except LoginThrottled:
        ctx.failed_logins += 1
        auth_failed(name, CHANNEL, peer, "backing off")
        raise
    user = ctx.config.authenticate(name, password)
    if user is None:
        ctx.failed_logins += 1
        ctx.backoff.failed(source, name)
        auth_failed(name, CHANNEL, peer, "wrong password")
        raise AccessDenied("login failed: unknown user or wrong password")
    ctx.backoff.succeeded(source, name)
    if ctx.session is not None:
        ctx.manager.close_session(ctx.session)
    ctx.session = ctx.manager.open_session(user.name, CHANNEL, user.group)
    ctx.private = False
    return whoami(ctx, args)


@command("whoami")
def whoami(ctx: Context, args: Args) -> dict[str, Any]:
    """This connection's session and the local peer behind it."""
    out = dict(ctx.active.describe())
    out["private"] = ctx.private
    out["peer"] = {"pid": ctx.peer.pid, "uid": ctx.peer.uid, "user": ctx.peer.name}
    return out


@command("sessions")
def sessions(ctx: Context, args: Args) -> list[dict[str, Any]]:
    """Every open session."""
    return [{**s.describe(), "current": s.id == ctx.active.id} for s in ctx.manager.sessions]


@command("kill-session", "session-id")
def kill_session(ctx: Context, args: Args) -> None:
    """End another session (its locks go, its unconfirmed commit reverts)."""
    target = args.integer("session-id")
    if target is None:
        raise BadElement("'kill-session' needs argument 'session-id'")
    ctx.manager.kill_session(ctx.active, target)


@command("private")
def private(ctx: Context, args: Args) -> None:
    """Give this session a private candidate; module verbs then edit it."""
    ctx.manager.enter_private(ctx.active)
    ctx.private = True


# ---------------------------------------------------------------------- reading


@command("get-config", "source", "path", "xpath", "with-defaults")
def get_config(ctx: Context, args: Args) -> dict[str, Any]:
    """A datastore's configuration as RFC 7951 JSON, optionally filtered."""
    return ctx.manager.get_config(
        ctx.active,
        args.text("source", "running") or "running",
        path=args.text("path"),
        xpath=args.text("xpath"),
        with_defaults=args.text("with-defaults", "explicit") or "explicit",
    )


@command("get", "path", "xpath", "with-defaults")
def get(ctx: Context, args: Args) -> dict[str, Any]:
    """Running configuration plus operational state."""
    return ctx.manager.get(
        ctx.active,
        path=args.text("path"),
        xpath=args.text("xpath"),
        with_defaults=args.text("with-defaults", "explicit") or "explicit",
    )


@command("compare", "source", "target")
def compare(ctx: Context, args: Args) -> list[dict[str, Any]]:
    """The changes from `source` (default running) to `target` (default candidate)."""
    return ctx.manager.compare(
        ctx.active,
        args.text("source", "running") or "running",
        args.text("target", "candidate") or "candidate",
    )


@command("history", "limit")
def history(ctx: Context, args: Args) -> list[dict[str, Any]]:
    """Commit history, newest first."""
    return ctx.manager.history(ctx.active, args.integer("limit"))


@command("reconcile", "check")
def reconcile(ctx: Context, args: Args) -> dict[str, Any]:
    """Drift between running and the kernel's agent-owned objects; converged
    unless `check` is true (then only reported)."""
    return ctx.manager.reconcile(ctx.active, apply=not args.flag("check"))


@command("validate", "source")
def validate(ctx: Context, args: Args) -> None:
    """Check every constraint of `source` (default candidate)."""
    ctx.manager.validate(ctx.active, args.text("source", "candidate") or "candidate")


# ---------------------------------------------------------------------- changing


@command("edit", "target", "edits", "default-operation", "error-option", "test-option")
def edit(ctx: Context, args: Args) -> dict[str, Any] | None:
    """Apply edits to the candidate (result null) or to running as one commit."""
    items = args.values.get("edits")
    if not isinstance(items, list):
        raise BadElement("'edit' needs argument 'edits', a list", info={"bad-element": "edits"})
    return _commit_result(
        ctx.manager.edit(
            ctx.active,
            args.text("target", "candidate") or "candidate",
            [_edit_from_json(ctx, item) for item in items],
            default_operation=args.choice("default-operation", tuple(Operation), "merge"),
            error_option=args.choice("error-option", tuple(ErrorOption), "stop-on-error"),
            test_option=args.choice("test-option", TEST_OPTIONS, "test-then-set"),
        )
    )


@command("dsl", "text", "target")
def dsl(ctx: Context, args: Args) -> dict[str, Any] | None:
    """DSL statements (docs/dsl.md) as one edit of the candidate, or of running as one commit."""
    statements = parse_edits(ctx.manager.schema, args.required("text"))
    edits = [edit for statement in statements for edit in statement.edits]
    target = args.text("target", "candidate") or "candidate"
    return _commit_result(ctx.manager.edit(ctx.active, target, edits))


@command("commit", "confirmed", "timeout", "persist", "persist-id", "comment", "check")
def commit(ctx: Context, args: Args) -> dict[str, Any]:
    """Commit the candidate; `check` only validates and returns the plan."""
    return ctx.manager.commit(
        ctx.active,
        confirmed=args.flag("confirmed"),
        timeout=args.integer("timeout"),
        persist=args.text("persist"),
        persist_id=args.text("persist-id"),
        comment=args.text("comment"),
        dry_run=args.flag("check"),
    ).to_dict()


@command("confirm", "persist-id")
def confirm(ctx: Context, args: Args) -> dict[str, Any]:
    """Confirm the pending confirmed commit."""
    return ctx.manager.confirm(ctx.active, args.text("persist-id")).to_dict()


@command("cancel-commit", "persist-id")
def cancel_commit(ctx: Context, args: Args) -> None:
    """Revert the pending confirmed commit now."""
    ctx.manager.cancel_commit(ctx.active, args.text("persist-id"))


@command("discard")
def discard(ctx: Context, args: Args) -> None:
    """Drop the candidate's uncommitted edits."""
    ctx.manager.discard(ctx.active)


@command("lock", "target")
def lock(ctx: Context, args: Args) -> None:
    """Lock a datastore (default candidate) for this session."""
    ctx.manager.lock(ctx.active, args.text("target", "candidate") or "candidate")


@command("unlock", "target")
def unlock(ctx: Context, args: Args) -> None:
    """Release this session's lock on a datastore (default candidate)."""
    ctx.manager.unlock(ctx.active, args.text("target", "candidate") or "candidate")


@command("copy", "source", "target", "config")
def copy(ctx: Context, args: Args) -> dict[str, Any] | None:
    """copy-config: a datastore, or an inline RFC 7951 `config`, onto `target`."""
    config = args.values.get("config")
    if config is not None and not isinstance(config, dict):
        raise BadElement("argument 'config' of 'copy' must be an object")
    source = args.text("source", "inline config") if config is not None else args.required("source")
    assert source is not None
    return _commit_result(
        ctx.manager.copy(ctx.active, source, args.required("target"), config=config)
    )


@command("delete", "target")
def delete(ctx: Context, args: Args) -> None:
    """delete-config (only startup can be deleted)."""
    ctx.manager.delete(ctx.active, args.required("target"))


@command("rollback", "index", "commit-id")
def rollback(ctx: Context, args: Args) -> None:
    """Load an earlier configuration into the candidate (commit it to apply)."""
    index, commit_id = args.integer("index"), args.integer("commit-id")
    if index is not None and commit_id is not None:
        raise BadElement("'rollback' takes 'index' or 'commit-id', not both")
    ctx.manager.rollback(ctx.active, 1 if index is None else index, commit_id=commit_id)


# ---------------------------------------------------------------------- bearer tokens


def _tokens(ctx: Context, owner: str | None) -> TokenStore:
    """The token table, if this session may manage `owner`'s tokens (admins: anyone's)."""
    session = ctx.active
    if owner is not None and owner != session.user and session.group != "admin":
        raise AccessDenied(f"only admins manage the tokens of other users ('{owner}')")
    return TokenStore(ctx.manager.journal, ctx.config)


@command("token-create", "user", "lifetime", "description")
def token_create(ctx: Context, args: Args) -> dict[str, Any]:
    """Issue a bearer token for the HTTP channels; the token text is shown only here."""
    user = args.text("user", ctx.active.user) or ctx.active.user
    token, info = _tokens(ctx, user).issue(
        user, lifetime=args.integer("lifetime"), description=args.text("description", "") or ""
    )
    return {"token": token, **info.describe()}


@command("token-revoke", "id")
def token_revoke(ctx: Context, args: Args) -> None:
    """Revoke a bearer token by its id."""
    token_id = args.required("id")
    store = _tokens(ctx, None)
    owner = next((t.user for t in store.entries() if t.id == token_id), None)
    _tokens(ctx, owner).revoke(token_id)


@command("token-list")
def token_list(ctx: Context, args: Args) -> list[dict[str, Any]]:
    """The bearer tokens (admins: all; others: their own), never their secrets."""
    mine = None if ctx.active.group == "admin" else ctx.active.user
    return [info.describe() for info in _tokens(ctx, mine).entries(mine)]
