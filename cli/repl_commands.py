"""What each CLI statement does: DSL edits go to the candidate, commands map to IPC requests.

One `Commands` object serves the REPL, `flyos -c` and `flyos -f`, so a line
means the same everywhere. Each statement returns a `Reply`: text for a
person and the data behind it for `--json`.
"""

from __future__ import annotations

import difflib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from cli.repl_help import COMMANDS, DATASTORES, FORMATS, ReplHelp
from cli.repl_output import (
    commit_message,
    history_table,
    state_tables,
    table,
    to_xml,
    unified_diff,
)
from cli.repl_session import CLI_PERSIST_ID, AgentSession
from flyos_agent.northbound.dsl import Statement, Word, render_dsl, render_set
from flyos_agent.northbound.dsl.binder import bind, kind_nodes, module_words, resolve_module
from flyos_agent.northbound.dsl.complete import first_sentence
from flyos_agent.northbound.dsl.render import module_word

MINUTE = 60


class UsageError(Exception):
    """A command line the CLI cannot run as written; the message is one line."""


class ExitRequested(Exception):
    """`exit` / `quit`: leave the CLI."""


@dataclass(frozen=True)
class Reply:
    """What a statement printed (`text`) and the data behind it (`data`, for --json)."""

    text: str = ""
    data: Any = None


Handler = Callable[["Commands", list[str]], Reply]


class Commands:
    """Runs parsed statements against one agent session."""

    def __init__(
        self,
        session: AgentSession,
        *,
        color: bool = False,
        history_file: str = "",
        interactive: bool = False,
    ) -> None:
        self.session = session
        self.schema = session.schema
        self.color = color
        self.history_file = history_file
        self.interactive = interactive
        self.help = ReplHelp(self.schema, session.existing)

    def run(self, statement: Statement) -> Reply:
        """Run one statement; FlyosError (from the agent or the DSL) or UsageError on failure."""
        word = statement.keyword.text
        if resolve_module(self.schema, word) is not None:
            return self._module(statement)
        handler = HANDLERS.get(word)
        if handler is None:
            choices = [*COMMANDS, *module_words(self.schema)]
            close = difflib.get_close_matches(word, choices, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UsageError(f"unknown command '{word}'{hint}")
        if statement.block is not None or any(not isinstance(v, Word) for v in statement.values):
            raise UsageError(f"usage: {COMMANDS[word].usage}")
        return handler(self, statement.words[1:])

    def _module(self, statement: Statement) -> Reply:
        """A DSL statement goes to the candidate. `route add key=value...` is the original
        IPC module verb: in scripts it keeps its IPC meaning (one transaction on running
        unless `target=candidate`); interactively it edits the candidate too."""
        words = statement.words[1:]
        if statement.block is None and any("=" in w for w in words):
            head = [w for w in words if "=" not in w]
            command = " ".join([statement.keyword.text, *head])
            pairs = [w for w in words if "=" in w]
            if self.interactive and not any(w.startswith("target=") for w in pairs):
                pairs.append("target=candidate")
            result = self.session.call(command, pairs)
            return Reply(commit_message(result, CLI_PERSIST_HINT), result)
        bind(self.schema, statement)
        self.session.call("dsl", {"text": statement.source})
        return Reply()

    # ------------------------------------------------------------------ show

    def show(self, words: list[str]) -> Reply:
        """`show ...`: configuration, compare, history, state or sessions."""
        main, bar, rest = " ".join(words).partition("|")
        what, fmt = main.split(), rest.strip()
        if what[-1:] == ["json"] and not bar:
            what, fmt = what[:-1], "json"
        if bar and fmt not in FORMATS:
            raise UsageError(f"unknown output format '{fmt}' (one of {', '.join(FORMATS)})")
        if not what:
            raise UsageError(f"usage: {COMMANDS['show'].usage}")
        if what[0] in DATASTORES:
            return self._show_config(what[0], what[1:], fmt or "dsl")
        if what[0] == "compare" and (what[1:] == [] or what[1:2] == ["rollback"]):
            return self._compare(f"rollback:{_number(what[2:])}" if what[1:] else "running")
        if what == ["history"]:
            records = self.session.call("history")
            return Reply(history_table(records), records)
        if what[0] == "state":
            data = self.session.call("get", self._path_args(what[1:]))
            return Reply(_json(data) if fmt == "json" else state_tables(self.schema, data), data)
        if what == ["sessions"]:
            found = self.session.call("sessions")
            columns = ("session-id", "user", "group", "channel", "login-time", "current")
            return Reply(table(columns, [[s[c] for c in columns] for s in found]), found)
        raise UsageError(f"usage: {COMMANDS['show'].usage}")

    def _path_args(self, modules: list[str]) -> dict[str, Any]:
        if not modules:
            return {}
        if len(modules) > 1:
            raise UsageError("name one module, or none for all")
        root = resolve_module(self.schema, modules[0])
        if root is None:
            raise UsageError(f"unknown module '{modules[0]}' ('list' shows the modules)")
        return {"path": f"/{root.name}"}

    def _show_config(self, source: str, modules: list[str], fmt: str) -> Reply:
        data = self.session.call("get-config", {"source": source, **self._path_args(modules)})
        if fmt == "json":
            return Reply(_json(data), data)
        if fmt == "xml":
            return Reply(to_xml(self.schema, data), data)
        render = render_set if fmt == "set" else render_dsl
        return Reply(render(self.schema, data), data)

    def _compare(self, source: str) -> Reply:
        old = self.session.call("get-config", {"source": source})
        new = self.session.call("get-config", {"source": "candidate"})
        name = source.replace(":", " ")
        diff = unified_diff(
            render_dsl(self.schema, old), render_dsl(self.schema, new), name, "candidate",
            color=self.color,
        )  # fmt: skip
        changes = self.session.call("compare", {"source": source, "target": "candidate"})
        return Reply(diff, changes)

    # ------------------------------------------------------------------ changing

    def commit(self, words: list[str]) -> Reply:
        """`commit [comment "TEXT"] [confirmed [MINUTES]] [check]`."""
        args: dict[str, Any] = {}
        rest = list(words)
        while rest:
            word = rest.pop(0)
            if word == "comment" and rest:
                args["comment"] = rest.pop(0)
            elif word == "confirmed":
                args.update(confirmed=True, persist=CLI_PERSIST_ID)
                if rest and rest[0].isascii() and rest[0].isdigit():
                    args["timeout"] = int(rest.pop(0)) * MINUTE
            elif word == "check":
                args["check"] = True
            else:
                raise UsageError(f"usage: {COMMANDS['commit'].usage}")
        result = self.session.call("commit", args)
        return Reply(commit_message(result, CLI_PERSIST_HINT), result)

    def confirm(self, words: list[str]) -> Reply:
        """`confirm [PERSIST-ID]`: confirm the pending `commit confirmed`."""
        if len(words) > 1:
            raise UsageError(f"usage: {COMMANDS['confirm'].usage}")
        result = self.session.call("confirm", {"persist-id": words[0] if words else CLI_PERSIST_ID})
        return Reply("commit confirmed: it stays", result)

    def rollback(self, words: list[str]) -> Reply:
        """`rollback [N]`: that configuration into the candidate."""
        index = _number(words) if words else 1
        self.session.call("rollback", {"index": index})
        return Reply(f"loaded rollback {index} into the candidate")

    def simple(self, words: list[str], *, name: str) -> Reply:
        """discard, validate, lock, unlock and copy: one request, `ok` on success."""
        if name in ("discard", "validate"):
            _no_more(words, name)
            self.session.call(name)
        elif name == "copy":
            if len(words) != 2:
                raise UsageError(f"usage: {COMMANDS['copy'].usage}")
            self.session.call("copy", {"source": words[0], "target": words[1]})
        else:
            if len(words) > 1:
                raise UsageError(f"usage: {COMMANDS[name].usage}")
            self.session.call(name, {"target": words[0] if words else "candidate"})
        return Reply("ok")

    def reconcile(self, words: list[str]) -> Reply:
        """`reconcile [check]`: the kernel's drift from running, converged unless `check`."""
        if words not in ([], ["check"]):
            raise UsageError(f"usage: {COMMANDS['reconcile'].usage}")
        report = self.session.call("reconcile", {"check": words == ["check"]})
        return Reply(_json(report), report)

    def configure(self, words: list[str]) -> Reply:
        """`configure private`: a candidate of this session's own."""
        if words != ["private"]:
            raise UsageError(f"usage: {COMMANDS['configure'].usage}")
        self.session.call("private")
        self.session.forget_identity()
        return Reply("editing a private candidate: only this session sees it until 'commit'")

    # ------------------------------------------------------------------ built-ins

    def list_modules(self, words: list[str]) -> Reply:
        """`list`: the modules, their kinds and what they are."""
        _no_more(words, "list")
        rows = [
            (module_word(root), " ".join(kind_nodes(root)) or "-", first_sentence(root.description))
            for root in self.schema.roots.values()
        ]
        return Reply(table(("module", "kinds", "description"), rows))

    def help_topic(self, words: list[str]) -> Reply:
        """`help [TOPIC]`: the overview, or help on a command, module or keyword."""
        return Reply(self.help.help(" ".join(words)))

    def env(self, words: list[str]) -> Reply:
        """`env`: who and where this session is."""
        _no_more(words, "env")
        me = self.session.whoami()
        facts = {
            "user": me["user"],
            "group": me["group"],
            "session": me["session-id"],
            "host": socket.gethostname(),
            "socket": self.session.client.path,
            "candidate": "private" if me.get("private") else "shared",
            "history": self.history_file or "-",
            "login-time": me["login-time"],
            "local-user": me.get("peer", {}).get("user", os.environ.get("USER", "-")),
        }
        return Reply("\n".join(f"{k:11} {v}" for k, v in facts.items()), facts)


CLI_PERSIST_HINT = "'confirm' or a plain 'commit'"


def _number(words: list[str]) -> int:
    if len(words) != 1 or not (words[0].isascii() and words[0].isdigit()):
        raise UsageError(f"expected one number, got '{' '.join(words)}'")
    return int(words[0])


def _no_more(words: list[str], name: str) -> None:
    if words:
        raise UsageError(f"usage: {COMMANDS[name].usage}")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2)


def _exit(commands: Commands, words: list[str]) -> Reply:
    raise ExitRequested


HANDLERS: dict[str, Handler] = {
    "show": Commands.show,
    "commit": Commands.commit,
    "confirm": Commands.confirm,
    "rollback": Commands.rollback,
    "reconcile": Commands.reconcile,
    "configure": Commands.configure,
    "list": Commands.list_modules,
    "env": Commands.env,
    "help": Commands.help_topic,
    "exit": _exit,
    "quit": _exit,
    **{
        name: partial(Commands.simple, name=name)
        for name in ("discard", "validate", "lock", "unlock", "copy")
    },
}
