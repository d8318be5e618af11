"""One NETCONF session: hello, framing, in-order RPCs, notifications, timeouts.

`NetconfSession` is the protocol engine behind one SSH `netconf` subsystem
channel; it only needs a `Transport` to write to and close, so tests can
drive it without SSH. Bytes go into the frame decoder as they arrive; one
worker task takes whole messages out in order, answers each <rpc> through
the handler registry, and switches to chunked framing right after the hello
exchange when both sides speak base:1.1. Reading pauses while a message
larger than the cap would otherwise pile up, and the next RPC waits while the
client is not reading replies. A framing error, a message over the cap, a
missing hello or an idle session closes the session with one log line; the
session's Manager session is closed with it (locks released, an unconfirmed
confirmed commit of this session reverted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from lxml import etree

from flyos_agent.errors import (
    BadElement,
    FlyosError,
    InUse,
    MalformedMessage,
    MissingAttribute,
    MissingElement,
    OperationFailed,
    OperationNotSupported,
)
from flyos_agent.northbound.netconf import monitoring, replies, subtree
from flyos_agent.northbound.netconf.framing import (
    DEFAULT_MAX_MESSAGE,
    FrameDecoder,
    FramingError,
    encode,
)
from flyos_agent.northbound.netconf.library import Library
from flyos_agent.northbound.netconf.monitoring import SessionRecord, Statistics
from flyos_agent.northbound.netconf.namespaces import (
    BASE,
    BASE_1_0,
    BASE_1_1,
    new_element,
    qname,
    split,
    sub,
)
from flyos_agent.northbound.netconf.notifications import NotificationHub
from flyos_agent.northbound.netconf.rpc import REGISTRY, Registry
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.northbound.netconf.xmlsafe import MAX_DEPTH, parse_message
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL = "netconf"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Transport(Protocol):
    """Where a session's bytes go (an SSH channel)."""

    def write(self, data: bytes) -> None:
        """Send bytes to the client."""

    def close(self) -> None:
        """End the channel."""

    def pause_reading(self) -> None:
        """Stop delivering client bytes for now."""

    def resume_reading(self) -> None:
        """Deliver client bytes again."""


@dataclass
class Options:
    """Limits of every session."""

    max_message: int = DEFAULT_MAX_MESSAGE
    max_depth: int = MAX_DEPTH
    hello_timeout: float = 60.0
    idle_timeout: float = 3600.0


@dataclass
class ServerState:
    """What every session of one NETCONF server shares."""

    manager: Manager
    codec: XmlCodec
    library: Library
    hub: NotificationHub
    options: Options = field(default_factory=Options)
    statistics: Statistics = field(default_factory=Statistics)
    registry: Registry = REGISTRY
    sessions: dict[int, NetconfSession] = field(default_factory=dict)


class NetconfSession:
    """The NETCONF protocol on one channel, for one authenticated user."""

    def __init__(
        self, state: ServerState, transport: Transport, user: str, group: str, source_host: str
    ) -> None:
        self.state = state
        self.manager = state.manager
        self.codec = state.codec
        self.library = state.library
        self.transport = transport
        self.user, self.group, self.source_host = user, group, source_host
        self.decoder = FrameDecoder(state.options.max_message)
        self._session: Session | None = None
        self.record: SessionRecord | None = None
        self._data = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._eof = False
        self._paused = False
        self._closed = False
        self._close_requested = False
        self._filter: etree._Element | None = None
        self._subscribed = False
        self._worker: asyncio.Task[None] | None = None

    @property
    def session(self) -> Session:
        """The Manager session (open once start() has run)."""
        assert self._session is not None, "session not started"
        return self._session

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Open the Manager session (its id is the session-id) and send our hello."""
        self._session = await asyncio.to_thread(
            self.manager.open_session, self.user, CHANNEL, self.group
        )
        if self._closed:  # the channel went away while the session was opening
            await asyncio.to_thread(self.manager.close_session, self._session)
            return
        self.record = SessionRecord(self.session.id, self.user, self.source_host)
        self.state.sessions[self.session.id] = self
        self.state.statistics.in_sessions += 1
        hello = new_element(BASE, "hello")
        capabilities = sub(hello, BASE, "capabilities")
        for uri in self.library.capabilities():
            sub(capabilities, BASE, "capability", uri)
        sub(hello, BASE, "session-id", str(self.session.id))
        self._send(hello)
        self._worker = asyncio.create_task(self._run(), name=f"netconf-{self.session.id}")

    def data_received(self, data: bytes) -> None:
        """Bytes from the client."""
        self.decoder.feed(data)
        self._data.set()
        if self.decoder.pending > self.state.options.max_message and not self._paused:
            self._paused = True
            self.transport.pause_reading()

    def eof_received(self) -> None:
        """The client will send nothing more."""
        self._eof = True
        self._data.set()

    def pause_writing(self) -> None:
        """The client is not reading: hold further replies."""
        self._writable.clear()

    def resume_writing(self) -> None:
        """The client reads again."""
        self._writable.set()

    def terminate(self) -> None:
        """Close the channel now (kill-session, shutdown)."""
        self.transport.close()

    async def closed(self) -> None:
        """The channel is gone: stop the worker and close the Manager session."""
        if self._closed:
            return
        self._closed = True
        self.state.hub.remove(self._notify)
        if self._worker is not None:
            self._worker.cancel()
        if self.record is None:
            return
        self.state.sessions.pop(self.session.id, None)
        if not self._close_requested:
            self.state.statistics.dropped_sessions += 1
        await asyncio.to_thread(self.manager.close_session, self.session)

    # ------------------------------------------------------------------ RpcContext

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking Manager call in a worker thread."""
        return await asyncio.to_thread(function, *args, **kwargs)

    def state_data(self) -> list[etree._Element]:
        """netconf-state, yang-library (and modules-state) and the stream list."""
        records = [s.record for s in self.state.sessions.values() if s.record is not None]
        return [
            monitoring.netconf_state(self.library, records, self.state.statistics),
            *self.library.yang_library(),
            monitoring.streams(),
        ]

    async def kill(self, session_id: int) -> None:
        """kill-session: end the Manager session, then its channel if it is ours."""
        await asyncio.to_thread(self.manager.kill_session, self.session, session_id)
        target = self.state.sessions.get(session_id)
        if target is not None:
            target.terminate()

    def subscribe(self, filter_element: etree._Element | None) -> None:
        """create-subscription: notifications from now on, as NACM lets this session
        read them, through `filter_element`."""
        if self._subscribed:
            raise InUse("this session already has a subscription")
        if filter_element is not None and filter_element.get("type", "subtree") != "subtree":
            raise OperationNotSupported("notification filters must be subtree filters")
        self._filter = filter_element
        self._subscribed = True
        self.state.hub.add(self._notify, partial(self.manager.notification_view, self.session))

    def close_after_reply(self) -> None:
        """close-session: end after this reply."""
        self._close_requested = True

    # ------------------------------------------------------------------ the worker

    async def _run(self) -> None:
        try:
            hello = await self._next(self.state.options.hello_timeout)
            if hello is None:
                log.warning("netconf session %s: no hello received; closing", self.session.id)
                return
            if not self._accept_hello(hello):
                self.state.statistics.in_bad_hellos += 1
                return
            while not self._close_requested:
                timeout = None if self._subscribed else self.state.options.idle_timeout
                message = await self._next(timeout)
                if message is None:
                    if not self._eof:
                        log.info("netconf session %s: idle; closing", self.session.id)
                    return
                await self._writable.wait()
                await self._answer(message)
        except FramingError as exc:
            log.warning("netconf session %s: %s; closing the session", self.session.id, exc)
        finally:
            self.transport.close()

    async def _next(self, timeout: float | None) -> bytes | None:
        """The next whole message; None at end of input or after `timeout` seconds idle."""
        while True:
            message = self.decoder.next_message()
            if message is not None:
                return message
            if self._eof:
                return None
            if self._paused:
                self._paused = False
                self.transport.resume_reading()
            self._data.clear()
            try:
                await asyncio.wait_for(self._data.wait(), timeout)
            except TimeoutError:
                return None

    def _accept_hello(self, message: bytes) -> bool:
        try:
            root = parse_message(message, self.state.options.max_depth)
        except MalformedMessage as exc:
            log.warning("netconf session %s: bad hello: %s", self.session.id, exc)
            return False
        if root.tag != qname(BASE, "hello"):
            log.warning("netconf session %s: expected <hello>, got %s", self.session.id, root.tag)
            return False
        if root.find(qname(BASE, "session-id")) is not None:
            log.warning("netconf session %s: client hello has a session-id", self.session.id)
            return False
        offered = {(c.text or "").strip() for c in root.iter(qname(BASE, "capability"))}
        if BASE_1_1 in offered:
            self.decoder.chunked = True
        elif BASE_1_0 not in offered:
            log.warning("netconf session %s: client offers no common base", self.session.id)
            return False
        return True

    async def _answer(self, message: bytes) -> None:
        record = self.record
        assert record is not None
        attributes: dict[str, str] = {}
        _count(record, self.state.statistics, "in_rpcs")
        try:
            root = parse_message(message, self.state.options.max_depth)
            attributes = {str(k): str(v) for k, v in root.attrib.items()}
            operation = self._operation(root)
            handler = self.state.registry.handler(operation)
            content = await handler(self, operation)
        except FlyosError as error:
            if error.tag in ("malformed-message", "missing-attribute", "unknown-namespace"):
                _count(record, self.state.statistics, "in_bad_rpcs")
            _count(record, self.state.statistics, "out_rpc_errors")
            self._send(replies.errors(attributes, self._for_client(error), self.codec.xml_path))
            return
        except Exception as exc:
            log.exception("netconf session %s: RPC failed", self.session.id)
            _count(record, self.state.statistics, "out_rpc_errors")
            internal = OperationFailed(f"internal error: {type(exc).__name__}")
            self._send(replies.errors(attributes, internal))
            return
        if content is None:
            self._send(replies.ok(attributes))
        else:
            reply = replies.reply(attributes)
            reply.extend(content)
            self._send(reply)

    @staticmethod
    def _operation(root: etree._Element) -> etree._Element:
        """The one operation element of an <rpc>; RFC 6241 errors for anything else."""
        namespace, name = split(str(root.tag))
        if (namespace, name) != (BASE, "rpc"):
            raise MalformedMessage(f"expected an <rpc> in the base namespace, got <{name}>")
        if root.get("message-id") is None:
            raise MissingAttribute(
                "<rpc> has no message-id",
                error_type="rpc",
                info={"bad-attribute": "message-id", "bad-element": "rpc"},
            )
        operations = [c for c in root if isinstance(c.tag, str)]
        if not operations:
            raise MissingElement(
                "<rpc> names no operation", error_type="rpc", info={"bad-element": "rpc"}
            )
        if len(operations) > 1:
            extra = split(str(operations[1].tag))[1]
            raise BadElement(
                "<rpc> holds more than one operation",
                error_type="rpc",
                info={"bad-element": extra},
            )
        return operations[0]

    def _for_client(self, error: FlyosError) -> FlyosError:
        """malformed-message is new in base:1.1: base:1.0 clients get operation-failed."""
        if error.tag == "malformed-message" and not self.decoder.chunked:
            return OperationFailed(error.message, error_type="rpc")
        return error

    def _notify(self, notification: etree._Element) -> None:
        if self._closed or self.record is None:
            return
        if self._filter is not None:
            event = list(notification)[1:]
            nodes = [n for n in self._filter if isinstance(n.tag, str)]
            if not subtree.apply(nodes, event, lambda _element: frozenset()):
                return
        _count(self.record, self.state.statistics, "out_notifications")
        self._send(notification)

    def _send(self, element: etree._Element) -> None:
        if self._closed:
            return
        body = XML_DECLARATION + etree.tostring(element, encoding="UTF-8", xml_declaration=False)
        self.transport.write(encode(body, self.decoder.chunked))


def _count(record: SessionRecord, statistics: Statistics, name: str) -> None:
    setattr(record.counters, name, getattr(record.counters, name) + 1)
    setattr(statistics.totals, name, getattr(statistics.totals, name) + 1)
