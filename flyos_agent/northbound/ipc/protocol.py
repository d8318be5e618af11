"""The IPC wire format: newline-delimited JSON, one object per line (docs/ipc.md).

A request is `{"id": any, "command": str, "args": object | [str]}`; a reply is
`{"id": same, "ok": true, "result": ...}` or
`{"id": same, "ok": false, "error": {"tag", "type", "message", "path"?, "info"?}}`.
`Args` checks a request's arguments against what its command takes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flyos_agent.errors import BadElement, FlyosError, MalformedMessage
from flyos_agent.northbound.jsonsafe import DEFAULT_MAX_DEPTH, load_json


@dataclass(frozen=True)
class Request:
    """One parsed request; `args` is an object or a list of `key=value` strings."""

    id: Any
    command: str
    args: dict[str, Any] | list[str] = field(default_factory=dict)


class BadRequest(Exception):
    """A request line that cannot be served: the id to answer (if known) and why."""

    def __init__(self, request_id: Any, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.error = MalformedMessage(message)


def parse_request(line: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Request:
    """Decode one request line (JSON nested at most `max_depth` deep); BadRequest
    (a malformed-message error) otherwise."""
    try:
        message = load_json(line, max_depth)
    except MalformedMessage as exc:
        raise BadRequest(None, exc.message) from None
    if not isinstance(message, dict):
        raise BadRequest(None, "a request must be a JSON object")
    request_id = message.get("id")
    command = message.get("command")
    if not isinstance(command, str) or not command.strip():
        raise BadRequest(request_id, "'command' must be a non-empty string")
    args = message.get("args", {})
    if args is None:
        args = {}
    valid_list = isinstance(args, list) and all(isinstance(a, str) for a in args)
    if not isinstance(args, dict) and not valid_list:
        raise BadRequest(request_id, "'args' must be an object or a list of strings")
    unknown = sorted(set(message) - {"id", "command", "args"})
    if unknown:
        raise BadRequest(request_id, f"unknown request member '{unknown[0]}'")
    return Request(request_id, " ".join(command.split()), args)


def ok_reply(request_id: Any, result: Any) -> bytes:
    """The encoded success reply line."""
    return _encode({"id": request_id, "ok": True, "result": result})


def error_reply(request_id: Any, error: FlyosError) -> bytes:
    """The encoded error reply line."""
    return _encode({"id": request_id, "ok": False, "error": error.to_dict()})


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class Args:
    """A request's arguments, checked against the names its command accepts.

    Names are matched with `_` and `-` alike; every accessor raises a
    bad-element error naming the argument when the value has the wrong type.
    """

    def __init__(self, command: str, raw: Mapping[str, Any], accepted: tuple[str, ...]) -> None:
        self.command = command
        self.values = {name.replace("_", "-"): value for name, value in raw.items()}
        unknown = sorted(set(self.values) - set(accepted))
        if unknown:
            known = ", ".join(accepted) or "none"
            raise BadElement(
                f"'{command}' takes no argument '{unknown[0]}' (arguments: {known})",
                info={"bad-element": unknown[0]},
            )

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string argument, or `default` when absent."""
        value = self.values.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value

    def required(self, name: str) -> str:
        """A string argument that must be given."""
        value = self.text(name)
        if value is None:
            raise BadElement(
                f"'{self.command}' needs argument '{name}'", info={"bad-element": name}
            )
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        """A string argument from a fixed set of words."""
        value = self.text(name, default)
        if value not in choices:
            raise self._bad(name, f"one of {', '.join(choices)}")
        return value

    def integer(self, name: str) -> int | None:
        """A non-negative integer argument (a JSON number or a digit string), or None."""
        value = self.values.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        raise self._bad(name, "a non-negative integer")

    def flag(self, name: str) -> bool:
        """A boolean argument; absent is false."""
        value = self.values.get(name, False)
        if not isinstance(value, bool):
            raise self._bad(name, "true or false")
        return value

    def _bad(self, name: str, what: str) -> BadElement:
        return BadElement(
            f"argument '{name}' of '{self.command}' must be {what}", info={"bad-element": name}
        )
