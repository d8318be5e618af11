"""The CLI's side of one agent session: requests over IPC, login, and what the prompt shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cli.ipc_client import IpcClient
from flyos_agent.errors import AccessDenied, FlyosError
from flyos_agent.schema import Schema

CLI_PERSIST_ID = "flyos-cli"
"""persist-id of `commit confirmed`: the confirmation may come from a later `flyos` run."""
LOGIN_ATTEMPTS = 3

Prompter = Callable[[str, bool], str]
"""Asks the person something: (question, hide the answer) -> answer."""


class AgentSession:
    """An IPC connection seen as a CLI session, with the caches that completion reads.

    `call` sends a request; a plain `commit` also confirms a pending `commit
    confirmed` of the CLI. The candidate configuration is fetched at most once
    between commands, for completing existing names.
    """

    def __init__(self, client: IpcClient, schema: Schema) -> None:
        self.client = client
        self.schema = schema
        self._me: dict[str, Any] | None = None
        self._candidate: dict[str, Any] | None = None

    def call(self, command: str, args: dict[str, Any] | list[str] | None = None) -> Any:
        """The result of one request; the agent's error is raised as a FlyosError."""
        self._candidate = None
        try:
            return self.client.call(command, args)
        except FlyosError as error:
            retry = command == "commit" and isinstance(args, dict) and "persist-id" not in args
            if not retry or error.app_tag != "missing-persist-id":
                raise
        assert isinstance(args, dict)
        return self.client.call(command, {**args, "persist-id": CLI_PERSIST_ID})

    def whoami(self) -> dict[str, Any]:
        """This session: user, group, session-id, private, peer (cached until login/private)."""
        if self._me is None:
            self._me = dict(self.client.call("whoami"))
        return self._me

    def forget_identity(self) -> None:
        """Drop the cached whoami (after login or `configure private`)."""
        self._me = None

    def login(self, user: str, password: str) -> dict[str, Any]:
        """Log in as a configured user; the new identity."""
        self._me = dict(self.client.call("login", {"user": user, "password": password}))
        return self._me

    def ensure_login(self, prompter: Prompter, user: str | None = None) -> None:
        """Log in when asked to (`user`) or when the agent does not know the peer.

        Local root and members of the agent's group are admitted by their
        socket credentials; anyone else answers a user name and password
        prompt, at most LOGIN_ATTEMPTS times.
        """
        if user is None:
            try:
                self.whoami()
                return
            except AccessDenied:
                pass
        for attempt in range(LOGIN_ATTEMPTS):
            name = user or prompter("login: ", False)
            password = prompter(f"Password for {name}: ", True)
            try:
                self.login(name, password)
                return
            except AccessDenied:
                if attempt == LOGIN_ATTEMPTS - 1:
                    raise

    def dirty(self) -> bool:
        """True when the candidate differs from running (uncommitted changes)."""
        try:
            return bool(self.client.call("compare", {"source": "running", "target": "candidate"}))
        except FlyosError:
            return False

    def existing(self, schema_path: str) -> list[str]:
        """Values the candidate holds at a leaf's schema path (interface names for `dev`)."""
        if self._candidate is None:
            try:
                self._candidate = dict(self.client.call("get-config", {"source": "candidate"}))
            except FlyosError:
                self._candidate = {}
        steps = [step.rpartition(":")[2] for step in schema_path.strip("/").split("/")]
        top = {member.rpartition(":")[2]: value for member, value in self._candidate.items()}
        return [str(value) for value in _values_at(top, steps)]


def _values_at(data: Any, steps: list[str]) -> Iterator[Any]:
    if not steps:
        if isinstance(data, list):
            yield from data
        elif data is not None:
            yield data
        return
    if isinstance(data, list):
        for item in data:
            yield from _values_at(item, steps)
    elif isinstance(data, Mapping):
        yield from _values_at(data.get(steps[0]), steps[1:])
