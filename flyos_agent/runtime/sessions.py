"""Sessions: who is talking to the Manager, over which channel, in which group.

What a session may do is decided by NACM (runtime/nacm.py); the configured
group names the session's built-in NACM group, and `admin` makes it the
recovery session, which NACM never restricts.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from flyos_agent.errors import AccessDenied, InvalidValue

GROUPS = ("admin", "operator", "viewer")
RECOVERY_GROUP = "admin"


@dataclass
class Session:
    """One client session; `id` is the NETCONF session-id (never 0)."""

    id: int
    user: str
    channel: str
    group: str = "admin"
    started: float = field(default_factory=time.time)
    closed: bool = False

    @property
    def recovery(self) -> bool:
        """True for the recovery session (RFC 8341 3.2): an admin, never restricted."""
        return self.group == RECOVERY_GROUP

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary (for `show sessions` and monitoring)."""
        return {
            "session-id": self.id,
            "user": self.user,
            "channel": self.channel,
            "group": self.group,
            "login-time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
        }


class SessionTable:
    """Thread-safe table of the open sessions with monotonically growing ids."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._sessions: dict[int, Session] = {}
        self._lock = threading.Lock()

    def open(self, user: str, channel: str, group: str) -> Session:
        """Register a new session and return it."""
        if group not in GROUPS:
            raise InvalidValue(f"unknown group '{group}' (one of {', '.join(GROUPS)})")
        with self._lock:
            session = Session(next(self._ids), user, channel, group)
            self._sessions[session.id] = session
            return session

    def close(self, session_id: int) -> Session | None:
        """Remove a session; returns it, or None if it was not open."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is not None:
            session.closed = True
        return session

    def get(self, session_id: int) -> Session:
        """The open session `session_id`; InvalidValue if there is none."""
        session = self._sessions.get(session_id)
        if session is None:
            raise InvalidValue(f"no session with id {session_id}")
        return session

    def check_open(self, session: Session) -> None:
        """AccessDenied if `session` was closed or killed."""
        if session.closed or session.id not in self._sessions:
            raise AccessDenied(f"session {session.id} is closed")

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))
