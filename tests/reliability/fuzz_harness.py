"""The fuzz harness: the case contract (`FuzzTarget`), a Manager on backend none for the
channels to serve, the attacks every channel must refuse, and the NETCONF fake transport.

The targets themselves, one per parser, are in fuzz_targets.py.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from flyos_agent.backends.base import NoneBackend
from flyos_agent.config import AgentConfig, User
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema, load_schema

T = TypeVar("T")
MAX_CASE_SECONDS = 1.0
MAX_CASE_KB = 64 * 1024
MAX_INPUT = 32 * 1024  # generated inputs
CHANNEL_CAP = 1024 * 1024  # the channels' message caps: above any input, attacks included
PASSWORD = "fuzz"
BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"
DEEP = 10_000


class Crash(AssertionError):
    """The channel misbehaved on one input: the message says how."""


# ---------------------------------------------------------------------- the agent under test


def cheap_hash(password: str) -> str:
    """A password hash in the agent's format with the cheapest scrypt parameters (fast cases)."""
    salt = b"fuzz-salt-16byte"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"$scrypt$n=2,r=1,p=1${encoded[0]}${encoded[1]}"


def agent_config(state_dir: Path) -> AgentConfig:
    """The configuration the targets serve under: one admin, default limits, small caps."""
    admin = User("admin", cheap_hash(PASSWORD), "admin")
    return AgentConfig(
        state_dir=state_dir,
        backend="none",
        users=(admin,),
        max_message_bytes=CHANNEL_CAP,
        rest_max_body_bytes=CHANNEL_CAP,
        netconf_max_message_bytes=CHANNEL_CAP,
    )


@functools.cache
def schema() -> Schema:
    """The compiled schema (compiled once per process)."""
    return load_schema()


def new_manager(state_dir: Path, generation: int) -> Manager:
    """A started Manager with backend none over a fresh journal."""
    path = state_dir / f"flyos-{generation}.db"
    manager = Manager(schema(), Journal(path, schema()), NoneBackend())
    manager.start()
    return manager


class LoopThread:
    """An asyncio loop in a thread of its own, for targets whose entry point is async."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Awaitable[T], timeout: float = 10.0) -> T:
        """Run `coroutine` on the loop; Crash if it has not finished after `timeout` s."""
        future = asyncio.run_coroutine_threadsafe(_awaited(coroutine), self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise Crash(f"no answer within {timeout} s") from None

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


class ErrorTrap(logging.Handler):
    """Collects what shows an unexpected exception: records with a traceback, or from asyncio."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        unexpected = record.exc_info is not None and record.exc_info[0] is not None
        if unexpected or (record.name == "asyncio" and record.levelno >= logging.ERROR):
            self.records.append(f"{record.name}: {record.getMessage()[:300]}")

    def take(self) -> list[str]:
        """The records since the last call."""
        taken, self.records = self.records, []
        return taken


# ---------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Attack:
    """An input that must be refused, and the words the refusal must contain."""

    name: str
    data: bytes
    expect: str


class FuzzTarget:
    """One parser's entry point: `run(data)` -> the answer the client got (for assertions)."""

    name: ClassVar[str]
    seeds: ClassVar[list[bytes]]
    tokens: ClassVar[list[bytes]]

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.config = agent_config(state_dir)
        self.generation = 0

    def open(self) -> None:
        """Start what the target needs (called once before the first case)."""

    def close(self) -> None:
        """Stop it all."""

    def reset(self) -> None:
        """A fresh Manager (and whatever hangs on it)."""
        self.close()
        self.generation += 1
        self.open()

    def attacks(self) -> list[Attack]:
        """The explicit hostile inputs of this channel."""
        return []

    def answer(self, data: bytes) -> str:
        """Feed one input; the answer (Crash if the channel broke a promise)."""
        raise NotImplementedError


XXE = b'<!DOCTYPE rpc [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    b'<!DOCTYPE rpc [<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(
        b'<!ENTITY %c "%s">' % (ord("a") + i, b"&%c;" % (ord("a") + i - 1) * 10)
        for i in range(1, 10)
    )
    + b"]>"
)
DOCTYPE_REFUSED = "DOCTYPE and entity declarations are not allowed"
XML_TOO_DEEP = "XML nested deeper than 128 elements"
JSON_TOO_DEEP = "JSON nested deeper than 128 levels"
UNICODE_DIGITS = ["²".encode(), "٣".encode(), b"%C2%B2"]  # str.isdigit() is true for them
XML_TOKENS = [
    b"<", b">", b"</", b"/>", b"<!DOCTYPE x [", b"<!ENTITY e 'x'>", b"&e;", b"&amp;", b"&#0;",
    b"&#x110000;", b"<![CDATA[", b"]]>", b"<?xml version='1.0'?>", b"xmlns=", b'xmlns:a="urn:x"',
    b"a:", b'operation="delete"', b'operation="replace"', b"<config>", b"<filter>", b"<running/>",
    b"<candidate/>", b"<startup/>", b"]]>]]>", b"\n#", b"\n##\n", b"\n#4294967295\n", b"\x00",
    b"\xff\xfe", b"\xc3\x28", b"-1", b"4294967296", b"10.0.0.0/33", b"::/0", "é".encode(),
    *UNICODE_DIGITS,
]  # fmt: skip
JSON_TOKENS = [
    b"{", b"}", b"[", b"]", b'"', b":", b",", b"null", b"true", b"1e999", b"-0", b"NaN",
    b"Infinity", b"18446744073709551616", b'"\\ud800"', b'"\\u0000"', b"\\", b"\x00", b"\xff",
    *UNICODE_DIGITS,
    b'"jsonrpc":"2.0"', b'"id":', b'"method":', b'"params":', b'"arguments":', b"[[[[[[[[",
    b'{"a":{"a":{"a":', b'"prefix":"10.0.0.0/24"', b'"via":"10.0.0.2"',
]  # fmt: skip


def deep_json(key: bytes = b"") -> bytes:
    """An array nested DEEP levels (optionally as the value of member `key`)."""
    deep = b"[" * DEEP + b"]" * DEEP
    return b'{"%s":%s}' % (key, deep) if key else deep


def _rpc(body: str, message_id: int = 1) -> bytes:
    return f'<rpc xmlns="{BASE}" message-id="{message_id}">{body}</rpc>'.encode()


def _hello(*versions: str) -> bytes:
    caps = "".join(f"<capability>urn:ietf:params:netconf:base:{v}</capability>" for v in versions)
    return f'<hello xmlns="{BASE}"><capabilities>{caps}</capabilities></hello>]]>]]>'.encode()


class _Transport:
    """What a NetconfSession writes to, instead of an SSH channel (a fake)."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.closed = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.output += data

    def close(self) -> None:
        self.closed.set()

    def pause_reading(self) -> None:
        """Nothing to pause: all input is fed at once."""

    def resume_reading(self) -> None:
        """Nothing to resume."""
