"""`flyos`: the operator's client of the agent over the IPC socket.

`flyos -c "LINE"` runs one command, `flyos -f FILE` a script of lines (one
session for the whole script); with no argument it would start the REPL,
which is not built yet. Errors print one line `error: <path>: <message>` and
exit with status 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cli.ipc_client import ClientError, IpcClient, default_socket
from flyos_agent.errors import FlyosError

CLI_PERSIST_ID = "flyos-cli"
"""persist-id of `commit confirmed`: the confirmation may come from a later `flyos` run."""

Output = Callable[[Any], str]


class UsageError(Exception):
    """A line the CLI cannot parse; the message is one line."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flyos` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command is None and args.file is None:
        print(
            "flyos: the interactive REPL is not built yet; use -c LINE or -f FILE", file=sys.stderr
        )
        return 2
    try:
        lines = [args.command] if args.command is not None else _script_lines(args.file)
        with IpcClient(args.socket) as client:
            if args.user is not None:
                _login(client, args.user)
            return run_lines(client, lines, as_json=args.json, keep_going=args.keep_going)
    except (ClientError, FlyosError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flyos", description="FlyOS agent client.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-c", dest="command", metavar="LINE", help="run one command")
    source.add_argument("-f", dest="file", metavar="FILE", help="run a script ('-' = stdin)")
    parser.add_argument(
        "--continue",
        dest="keep_going",
        action="store_true",
        help="with -f, go on after an error (exit status 1 at the end)",
    )
    parser.add_argument(
        "--socket",
        default=default_socket(),
        help="agent socket (default $FLYOS_SOCKET or /run/flyos/agent.sock)",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--user", help="log in as this configured user (password from $FLYOS_PASSWORD or prompted)"
    )
    return parser


def _script_lines(name: str) -> list[str]:
    if name == "-":
        return sys.stdin.read().splitlines()
    with open(name, encoding="utf-8") as handle:
        return handle.read().splitlines()


def _login(client: IpcClient, user: str) -> None:
    password = os.environ.get("FLYOS_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {user}: ")
    client.call("login", {"user": user, "password": password})


def run_lines(client: IpcClient, lines: Iterable[str], *, as_json: bool, keep_going: bool) -> int:
    """Run each non-blank, non-comment line; 1 after the first error (or at the end)."""
    status = 0
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            command, args, output = parse_line(line)
            result = _call(client, command, args)
        except (UsageError, FlyosError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            if not keep_going:
                break
            continue
        text = json.dumps(result, indent=2) if as_json else output(result)
        if text:
            print(text)
    return status


def _call(client: IpcClient, command: str, args: dict[str, Any] | list[str]) -> Any:
    """Send one request; a plain `commit` also confirms a pending CLI `commit confirmed`."""
    try:
        return client.call(command, args)
    except FlyosError as error:
        retry = command == "commit" and isinstance(args, dict) and "persist-id" not in args
        if not retry or error.app_tag != "missing-persist-id":
            raise
    assert isinstance(args, dict)
    return client.call(command, {**args, "persist-id": CLI_PERSIST_ID})


# ---------------------------------------------------------------------- lines


def parse_line(line: str) -> tuple[str, dict[str, Any] | list[str], Output]:
    """One CLI line -> (IPC command, its args, how to print the result)."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse line: {exc}") from None
    verb, rest = words[0], words[1:]
    if verb == "show":
        return _show(rest)
    if verb == "commit":
        return _commit(rest)
    if verb in ("confirm", "rollback", "discard", "validate", "lock", "unlock", "copy"):
        return _simple(verb, rest)
    if len(words) >= 2 and "=" not in words[1]:
        return _module_verb(words)
    raise UsageError(f"unknown command '{verb}'")


def _show(words: list[str]) -> tuple[str, dict[str, Any], Output]:
    what = words[0] if words else ""
    if what in ("running", "candidate", "startup") and words[1:] in ([], ["json"]):
        printer = _json if words[1:] else _braces
        return "get-config", {"source": what}, printer
    if what == "compare" and (len(words) == 1 or (len(words) == 3 and words[1] == "rollback")):
        source = f"rollback:{_number(words[2])}" if len(words) == 3 else "running"
        return "compare", {"source": source, "target": "candidate"}, _compare
    if words == ["history"]:
        return "history", {}, _history
    raise UsageError(
        "show running|candidate|startup [json], show compare [rollback N], show history"
    )


def _commit(words: list[str]) -> tuple[str, dict[str, Any], Output]:
    args: dict[str, Any] = {}
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if word == "comment" and position < len(words):
            args["comment"] = words[position]
            position += 1
        elif word == "confirmed":
            args.update(confirmed=True, persist=CLI_PERSIST_ID)
            if position < len(words) and words[position].isdigit():
                args["timeout"] = int(words[position]) * 60
                position += 1
        elif word == "check":
            args["check"] = True
        else:
            raise UsageError('commit [comment "TEXT"] [confirmed [MINUTES]] [check]')
    return "commit", args, _commit_done


def _simple(verb: str, words: list[str]) -> tuple[str, dict[str, Any], Output]:
    if verb == "confirm" and len(words) <= 1:
        return "confirm", {"persist-id": words[0] if words else CLI_PERSIST_ID}, _commit_done
    if verb == "rollback" and len(words) <= 1:
        index = _number(words[0]) if words else 1
        return "rollback", {"index": index}, lambda _: f"loaded rollback {index} into the candidate"
    if verb in ("discard", "validate") and not words:
        return verb, {}, lambda _: "ok"
    if verb in ("lock", "unlock") and len(words) <= 1 and words[:1] != ["startup"]:
        return verb, {"target": words[0] if words else "candidate"}, lambda _: "ok"
    if verb == "copy" and len(words) == 2:
        return "copy", {"source": words[0], "target": words[1]}, lambda _: "ok"
    usage = {
        "confirm": "confirm [PERSIST-ID]",
        "rollback": "rollback [N]",
        "lock": "lock [candidate|running]",
        "unlock": "unlock [candidate|running]",
        "copy": "copy SOURCE TARGET (e.g. copy running startup)",
    }
    raise UsageError(usage.get(verb, verb))


def _module_verb(words: list[str]) -> tuple[str, list[str], Output]:
    module, verb, rest = words[0], words[1], words[2:]
    command = f"{module} {verb}"
    if rest and "=" not in rest[0]:
        command, rest = f"{command} {rest[0]}", rest[1:]
    bad = [word for word in rest if "=" not in word]
    if bad:
        raise UsageError(f"'{bad[0]}' is not key=value (the {{ ... }} form is not built yet)")
    return command, rest, _commit_done


def _number(word: str) -> int:
    if not word.isdigit():
        raise UsageError(f"'{word}' is not a number")
    return int(word)


# ---------------------------------------------------------------------- output


def _json(result: Any) -> str:
    return json.dumps(result, indent=2)


def _braces(config: Any, indent: str = "") -> str:
    """RFC 7951 JSON as a Junos-like brace text (module prefixes dropped)."""
    lines: list[str] = []
    for member, value in config.items():
        name = member.rpartition(":")[2]
        if isinstance(value, dict):
            lines += [f"{indent}{name} {{", _braces(value, indent + "    "), f"{indent}}}"]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                lines += [f"{indent}{name} {{", _braces(entry, indent + "    "), f"{indent}}}"]
        elif isinstance(value, list):
            lines.append(f"{indent}{name} [ {' '.join(_word(v) for v in value)} ];")
        else:
            lines.append(f"{indent}{name} {_word(value)};")
    return "\n".join(line for line in lines if line)


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' ;{}[]"#') else text


def _compare(changes: Any) -> str:
    lines = []
    for change in changes:
        sign = {"create": "+", "delete": "-"}.get(change["operation"], "~")
        lines.append(f"{sign} {change['target']}")
        for leaf, values in change.get("leaves", {}).items():
            lines.append(f"    {leaf}: {_word(values['old'])} -> {_word(values['new'])}")
    return "\n".join(lines) if lines else "no differences"


def _history(records: Any) -> str:
    lines = [f"{'#':>3}  {'commit':>6}  {'time':24}  {'user':12}  {'channel':8}  comment"]
    for r in records:
        lines.append(
            f"{r['rollback']:>3}  {r['commit-id']:>6}  {r['time']:24}  {r['user']:12}  "
            f"{r['channel']:8}  {r['comment'] or ''}"
        )
    return "\n".join(lines)


def _commit_done(result: Any) -> str:
    if result is None:
        return "ok (candidate changed; commit to apply)"
    if "plan" in result:
        return f"configuration check succeeds ({_changes(result)})"
    if not result["changed"]:
        done = "commit complete: no changes"
    else:
        done = f"commit {result['commit-id']} complete ({_changes(result)})"
    if "confirm-timeout" in result:
        done += f"; rolls back in {result['confirm-timeout']} s unless confirmed (flyos -c confirm)"
    return done


def _changes(result: Any) -> str:
    count = len(result["changes"])
    return f"{count} change" if count == 1 else f"{count} changes"
