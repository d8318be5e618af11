"""Failed-login back-off: after a few wrong passwords, a (source, user) pair must wait.

Every password channel keeps one `LoginBackoff`. The first `free_failures`
failures of a pair cost nothing; each further one makes the pair wait
1, 2, 4 ... seconds (at most `max_delay`) before its next attempt is even
checked. An attempt during the wait is refused at once with `LoginThrottled`,
which says how long is left, so a password guesser gets one guess per wait
and burns no hashing time. A success clears the pair; so do `max_delay`
seconds without a failure after the wait ends. Other sources, and other
users from the same source, are not affected.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flyos_agent.errors import AccessDenied

MAX_TRACKED = 10_000  # pairs remembered at most; the stalest are forgotten first


class LoginThrottled(AccessDenied):
    """A login refused unchecked: its (source, user) must wait `retry_after` seconds."""

    def __init__(self, source: str, user: str | None, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        who = f"for '{user}' from {source}" if user else f"from {source}"
        super().__init__(
            f"too many failed logins {who}; retry in {self.retry_after} s",
            info={"retry-after": self.retry_after},
        )


@dataclass
class _Record:
    failures: int = 0
    until: float = 0.0  # no attempt is checked before this time
    last: float = 0.0  # when the last failure happened


class LoginBackoff:
    """The failure record of every (source, user) pair of one channel (thread-safe)."""

    def __init__(
        self,
        free_failures: int,
        max_delay: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.max_delay = max_delay
        self._clock = clock
        self._records: OrderedDict[tuple[str, str | None], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, source: str, user: str | None) -> None:
        """Raise LoginThrottled if the pair must still wait; call before checking a password."""
        now = self._clock()
        with self._lock:
            record = self._current((source, user), now)
            if record is not None and now < record.until:
                raise LoginThrottled(source, user, record.until - now)

    def failed(self, source: str, user: str | None) -> None:
        """Count a wrong password (or unknown user) of the pair."""
        now = self._clock()
        key = (source, user)
        with self._lock:
            record = self._current(key, now) or _Record()
            record.failures += 1
            record.last = now
            excess = record.failures - self.free_failures
            if excess > 0:
                record.until = now + min(2.0 ** (excess - 1), self.max_delay)
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > MAX_TRACKED:
                self._records.popitem(last=False)

    def succeeded(self, source: str, user: str | None) -> None:
        """The pair logged in: forget its failures."""
        with self._lock:
            self._records.pop((source, user), None)

    def _current(self, key: tuple[str, str | None], now: float) -> _Record | None:
        """The pair's record, dropped once it has been quiet for `max_delay` after its wait."""
        record = self._records.get(key)
        if record is not None and now > max(record.until, record.last) + self.max_delay:
            del self._records[key]
            return None
        return record
