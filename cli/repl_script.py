"""`flyos -c LINE` and `flyos -f FILE`: a script of DSL statements and commands, in one session.

The whole script is parsed, and every DSL statement checked against the
schema, before anything runs: a typo on the last line changes nothing. Then
the statements run in order; the first error stops the script (exit status
1) unless `keep_going`, in which case it goes on and exits with 1 at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from cli.repl_commands import Commands, ExitRequested, UsageError
from flyos_agent.errors import FlyosError
from flyos_agent.northbound.dsl import DslError, bind, parse
from flyos_agent.northbound.dsl.binder import resolve_module

Printer = Callable[[str], None]


def run_script(
    commands: Commands,
    text: str | bytes,
    *,
    keep_going: bool = False,
    as_json: bool = False,
    out: Printer = print,
    err: Printer = print,
) -> int:
    """Run every statement of `text`; 0 if all succeeded, else 1."""
    try:
        statements = parse(text)
        for statement in statements:
            if statement.block is not None and resolve_module(
                commands.schema, statement.keyword.text
            ):
                bind(commands.schema, statement)
    except DslError as error:
        err(f"error: {error}")
        return 1
    status = 0
    for statement in statements:
        try:
            reply = commands.run(statement)
        except ExitRequested:
            break
        except (FlyosError, UsageError) as error:
            err(f"error: {error}")
            status = 1
            if not keep_going:
                break
            continue
        shown = (
            json.dumps(reply.data, indent=2) if as_json and reply.data is not None else reply.text
        )
        if shown:
            out(shown)
    return status
