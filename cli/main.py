"""`flyos`: the operator's client of the agent over the IPC socket.

With no argument it is the interactive CLI (cli/repl.py) when standard input
is a terminal, else it runs standard input as a script. `flyos -c "LINE"`
runs one line, `flyos -f FILE` a script of DSL statements and commands (one
session for the whole script; see cli/repl_script.py). Errors print one line
`error: <path>: <message>` and exit with status 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence

from cli.ipc_client import ClientError, IpcClient, default_socket
from cli.repl_commands import Commands
from cli.repl_script import run_script
from cli.repl_session import AgentSession
from flyos_agent.errors import FlyosError
from flyos_agent.schema import default_schema


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flyos` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        with IpcClient(args.socket) as client:
            if args.subcommand == "token":
                return _token(client, args)
            if args.subcommand == "mcp":
                from cli.mcp_bridge import serve  # the MCP SDK only for `flyos mcp`

                if args.user is not None:
                    _login(client, args.user)
                return serve(client, confirm_timeout=args.confirm_timeout)
            if args.command is None and args.file is None and sys.stdin.isatty():
                from cli.repl import run_repl  # prompt_toolkit only for the interactive CLI

                return run_repl(client, user=args.user)
            if args.user is not None:
                _login(client, args.user)
            text = args.command if args.command is not None else _script(args.file or "-")
            commands = Commands(AgentSession(client, default_schema()), color=sys.stdout.isatty())
            return run_script(
                commands, text, keep_going=args.keep_going, as_json=args.json, err=_stderr
            )
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
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    token = commands.add_parser("token", help="bearer tokens for REST, RESTCONF and MCP")
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="issue a token (printed once)")
    create.add_argument("owner", nargs="?", help="configured user it acts for (default: you)")
    create.add_argument("--lifetime", type=int, metavar="SECONDS", help="expire after this")
    create.add_argument("--description", default="", help="what the token is for")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")
    actions.add_parser("list", help="list tokens (never their secrets)")
    mcp = commands.add_parser("mcp", help="serve MCP on stdin/stdout for AI clients")
    mcp.add_argument(
        "--confirm-timeout",
        type=int,
        default=120,
        metavar="SECONDS",
        help="default time a commit waits for its confirm (default 120)",
    )
    return parser


def _script(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    with open(name, "rb") as handle:
        return handle.read()


def _login(client: IpcClient, user: str) -> None:
    password = os.environ.get("FLYOS_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {user}: ")
    client.call("login", {"user": user, "password": password})


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def _token(client: IpcClient, args: argparse.Namespace) -> int:
    """`flyos token create|revoke|list` over IPC."""
    if args.user is not None:
        _login(client, args.user)
    if args.action == "create":
        request: dict[str, object] = {"description": args.description}
        if args.owner is not None:
            request["user"] = args.owner
        if args.lifetime is not None:
            request["lifetime"] = args.lifetime
        result = client.call("token-create", request)
        print(json.dumps(result, indent=2) if args.json else result["token"])
    elif args.action == "revoke":
        client.call("token-revoke", {"id": args.id})
    else:
        tokens = client.call("token-list", {})
        if args.json:
            print(json.dumps(tokens, indent=2))
        for item in [] if args.json else tokens:
            expires = item["expires"] or "never"
            print(
                f"{item['id']}  {item['user']:<12} created {item['created']}  "
                f"expires {expires}  {item['description']}"
            )
    return 0
