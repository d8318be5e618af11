"""MCP sessions of the HTTP endpoint: one Manager session per `Mcp-Session-Id`.

An MCP session over streamable HTTP is the SDK's session, named by the
`Mcp-Session-Id` its `initialize` reply hands out. Each gets its own Manager
session with a private candidate (opened on its first tool call or resource
read, in a worker thread), owned by the user that initialized it: requests
for the session from anyone else are refused. The Manager session ends when
the MCP session does: the client's DELETE, the SDK forgetting it (it answers
404 for it), an idle timeout, or the agent stopping. Ending it drops the
private candidate and reverts its confirmed commit unless that was made with
`persist`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flyos_agent.errors import AccessDenied
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.operations import ManagerOperations
from flyos_agent.northbound.rest.auth import Principal
from flyos_agent.runtime.manager import Manager

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 30 * 60  # seconds without a request in flight; the SDK's default too
IDLE_GRACE = 60  # we end a session only after the SDK must have


@dataclass
class _Entry:
    owner: Principal
    tool_session: ToolSession | None = None
    active: int = 0
    last_seen: float = field(default_factory=time.monotonic)
    opening: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


class McpSessions:
    """The MCP sessions of the HTTP endpoint and their Manager sessions."""

    def __init__(self, manager: Manager, *, confirm_timeout: int) -> None:
        self._manager = manager
        self._confirm_timeout = confirm_timeout
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many sessions are open."""
        return len(self._entries)

    def register(self, session_id: str, owner: Principal) -> None:
        """Record a session the SDK just opened for `owner`."""
        with self._lock:
            self._entries.setdefault(session_id, _Entry(owner))

    def owner(self, session_id: str) -> Principal | None:
        """Who opened `session_id`, or None if it is not (or no longer) known."""
        entry = self._entries.get(session_id)
        return entry.owner if entry is not None else None

    def begin(self, session_id: str) -> None:
        """A request for `session_id` started."""
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.active += 1
            entry.last_seen = time.monotonic()

    def end(self, session_id: str) -> None:
        """A request for `session_id` finished."""
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.active -= 1
            entry.last_seen = time.monotonic()

    def tool_session(self, session_id: str | None) -> ToolSession:
        """The `ToolSession` of `session_id`, opening its Manager session on first use.

        Blocks (the Manager may be committing): call it from a worker thread.
        """
        entry = self._entries.get(session_id or "")
        if entry is None:
            raise AccessDenied("no MCP session: send initialize first")
        with entry.opening:
            if entry.closed:
                raise AccessDenied("the MCP session has ended")
            if entry.tool_session is None:
                ops = ManagerOperations(self._manager, entry.owner.user, entry.owner.group)
                entry.tool_session = ToolSession(ops, confirm_timeout=self._confirm_timeout)
            return entry.tool_session

    def close(self, session_id: str) -> None:
        """End `session_id` and its Manager session (blocks: call from a worker thread)."""
        with self._lock:
            entry = self._entries.pop(session_id, None)
        if entry is None:
            return
        with entry.opening:
            entry.closed = True
            session = entry.tool_session
        if session is not None:
            log.info("MCP session %s of %s ended", session_id[:8], entry.owner.user)
            session.close()

    def idle(self) -> list[str]:
        """The sessions with no request in flight for longer than the idle timeout."""
        limit = time.monotonic() - IDLE_TIMEOUT - IDLE_GRACE
        return [
            session_id
            for session_id, entry in list(self._entries.items())
            if entry.active <= 0 and entry.last_seen < limit
        ]

    def close_all(self) -> None:
        """End every session (the agent is stopping)."""
        for session_id in list(self._entries):
            self.close(session_id)
