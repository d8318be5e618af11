"""`flyos` with no arguments: the interactive CLI (prompt_toolkit) over the IPC socket.

Statements are typed at `user@host# ` (a `*` after the host while the
candidate holds uncommitted changes; `>` instead of `#` for a viewer). An
open `{`, `[` or string continues on the next line until it is closed. Tab
completes and `?` explains what may come next, both from the YANG schema and
the existing configuration; Ctrl-C drops the line, Ctrl-D leaves. History is
kept per user in ~/.flyos_history.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import print_formatted_text

from cli.ipc_client import IpcClient
from cli.repl_commands import Commands, ExitRequested, UsageError
from cli.repl_help import ReplHelp
from cli.repl_output import RED, RESET
from cli.repl_session import AgentSession
from flyos_agent.errors import FlyosError
from flyos_agent.northbound.dsl import DslError, needs_more, parse
from flyos_agent.northbound.dsl.lexer import inside_string
from flyos_agent.schema import default_schema

HISTORY_FILE = ".flyos_history"

Writer = Callable[[str], None]


class ReplCompleter(Completer):
    """Tab completion from `ReplHelp`, with each candidate's description alongside."""

    def __init__(self, help_engine: ReplHelp) -> None:
        self.help = help_engine

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """Candidates for the word under the cursor."""
        place = self.help.at(document.text_before_cursor)
        for suggestion in place.matching():
            yield Completion(
                suggestion.text,
                start_position=-len(place.prefix),
                display_meta=suggestion.description,
            )


class Repl:
    """The read-eval-print loop over one agent session."""

    def __init__(
        self,
        commands: Commands,
        *,
        history: History | None = None,
        input: Input | None = None,
        output: Output | None = None,
        write: Writer | None = None,
    ) -> None:
        self.commands = commands
        self.session: AgentSession = commands.session
        self.write: Writer = write or _print_ansi
        self.host = socket.gethostname().split(".")[0]
        self._input, self._output = input, output
        self.prompter: PromptSession[str] = PromptSession(
            history=history or InMemoryHistory(),
            completer=ReplCompleter(commands.help),
            complete_while_typing=False,
            multiline=True,
            key_bindings=self._key_bindings(),
            prompt_continuation=lambda width, line, soft: "." * (width - 1) + " ",
            input=input,
            output=output,
        )

    def ask(self, question: str, hide: bool) -> str:
        """One answer from the person at the terminal (login name, password)."""
        asker: PromptSession[str] = PromptSession(input=self._input, output=self._output)
        return asker.prompt(question, is_password=hide)

    def prompt(self) -> str:
        """`user@host# `, with `*` for uncommitted changes and `>` for a viewer."""
        me = self.session.whoami()
        changed = "*" if self.session.dirty() else ""
        mark = ">" if me["group"] == "viewer" else "#"
        return f"{me['user']}@{self.host}{changed}{mark} "

    def banner(self) -> str:
        """The greeting: who, where, and how to get help."""
        me = self.session.whoami()
        candidate = "a private" if me.get("private") else "the shared"
        return (
            f"FlyOS agent CLI: {me['user']} ({me['group']}) on {self.host}, "
            f"session {me['session-id']}, editing {candidate} candidate.\n"
            "Type 'help' for commands, '?' for what may come next, Tab to complete, "
            "Ctrl-D to leave."
        )

    def run(self) -> int:
        """Read and run statements until `exit` or Ctrl-D; the exit status."""
        self.write(self.banner())
        while True:
            try:
                text = self.prompter.prompt(self.prompt())
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            try:
                self.execute(text)
            except ExitRequested:
                return 0

    def execute(self, text: str) -> None:
        """Run every statement of one input; stop at the first error and show it."""
        try:
            statements = parse(text)
        except DslError as error:
            self.write(_error_text(error, text))
            return
        for statement in statements:
            try:
                reply = self.commands.run(statement)
            except (FlyosError, UsageError) as error:
                self.write(_error_text(error, text))
                return
            if reply.text:
                self.write(reply.text)

    def _key_bindings(self) -> KeyBindings:
        bindings = KeyBindings()

        @bindings.add("enter")
        def _enter(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            if needs_more(buffer.text):
                buffer.insert_text("\n")
            else:
                buffer.validate_and_handle()

        @bindings.add("?")
        def _question(event: KeyPressEvent) -> None:
            before = event.current_buffer.document.text_before_cursor
            if inside_string(before):
                event.current_buffer.insert_text("?")
                return
            text = self.commands.help.question(before)
            run_in_terminal(lambda: self.write(text))

        return bindings


def _error_text(error: Exception, source: str) -> str:
    """`error: ...` in red; a DSL error on a one-line input also points at the column."""
    lines = [f"{RED}error: {error}{RESET}"]
    if isinstance(error, DslError) and "\n" not in source.strip():
        lines += [f"  {source.strip()}", "  " + " " * (error.column - 1 - _indent(source)) + "^"]
    return "\n".join(lines)


def _indent(source: str) -> int:
    return len(source) - len(source.lstrip())


def _print_ansi(text: str) -> None:
    print_formatted_text(ANSI(text))


def history_for_user() -> History:
    """~/.flyos_history of the local user, or a history in memory when home is not writable."""
    path = Path.home() / HISTORY_FILE
    if os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK)):
        return FileHistory(str(path))
    return InMemoryHistory()


def run_repl(client: IpcClient, *, user: str | None = None) -> int:
    """The interactive CLI on `client`'s session; logs in first when needed."""
    session = AgentSession(client, default_schema())
    history_file = str(Path.home() / HISTORY_FILE)
    commands = Commands(session, color=True, history_file=history_file, interactive=True)
    repl = Repl(commands, history=history_for_user())
    session.ensure_login(repl.ask, user)
    return repl.run()
