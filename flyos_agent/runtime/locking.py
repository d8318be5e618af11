"""The Manager's lock: serialises mutations and pauses the cyclic GC while held."""

from __future__ import annotations

import gc
import threading
from types import TracebackType


class MutationLock:
    """A re-entrant lock under which the cyclic garbage collector does not run.

    A 100k-route commit allocates millions of small objects (Maps, tuples,
    changes) and would otherwise trigger repeated full collections that scan
    the whole heap: pausing collection for the duration of a commit halves
    its time. Configuration trees are immutable and hold no reference cycles,
    so nothing is lost by collecting afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._collector_was_enabled = False

    def __enter__(self) -> MutationLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._collector_was_enabled = gc.isenabled()
            gc.disable()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._collector_was_enabled:
            gc.enable()
        self._lock.release()
