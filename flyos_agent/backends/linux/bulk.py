"""Many kernel requests as one batch, still shown and undone step by step.

A handler with thousands of routes or rules makes one `Bulk` of items, each
item one configured object with the requests that apply it and the requests
that undo it. `Bulk.steps()` gives one Step per item (its plan is the exact
kernel operation, for a dry run), but the requests go out together: the first
step applied sends the whole batch, the others have nothing left to do; the
first step undone sends every undo request, the others have nothing left to
undo. The engine always undoes every applied step, so this is exact.

If the kernel refuses any request of the batch, the requests it accepted are
undone at once and the step fails naming the refused item's path and the
kernel's reason: the batch applies entirely or not at all.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.kernel import Kernel, kernel_error
from flyos_agent.backends.linux.netlink_batch import KernelError, Request
from flyos_agent.errors import RollbackFailed

log = logging.getLogger(__name__)

Encoder = Callable[[dict[str, int]], list[Request]]
"""Builds an item's requests from the device name -> ifindex map of the kernel at apply time."""


class MissingDevice(KeyError):
    """An item names a device the kernel does not have."""


@dataclass
class BulkItem:
    """One configured object: its plan, its path, its requests and their undos.

    `undo(names)[i]` undoes `encode(names)[i]`; undo requests are only built when needed.
    """

    plan: dict[str, Any]
    path: str
    encode: Encoder
    undo: Encoder


class Bulk:
    """The items of one handler call, sent as one batch of netlink requests."""

    def __init__(self, kernel: Kernel, items: Sequence[BulkItem]) -> None:
        self.kernel = kernel
        self.items = list(items)
        self.applied = False
        self.names: dict[str, int] = {}

    def steps(self) -> list[Step]:
        """One Step per item, all sharing this batch."""
        return [Step(item.plan, self.apply, self.undo, item.path) for item in self.items]

    def apply(self) -> None:
        """Send every item's requests (once); on a refusal undo the accepted ones and raise."""
        if self.applied:
            return
        with self.kernel.lock:
            names = self.names = self.kernel.ifindex_map()
            requests: list[Request] = []
            owners: list[int] = []
            for number, item in enumerate(self.items):
                try:
                    encoded = item.encode(names)
                except MissingDevice as exc:
                    reason = KernelError(errno.ENODEV, f"ENODEV: no device '{exc.args[0]}'")
                    raise kernel_error(reason, item.plan["op"], item.path) from None
                requests += encoded
                if len(encoded) == 1:
                    owners.append(number)
                else:
                    owners += [number] * len(encoded)
            failures = self.kernel.rtnl.execute(requests)
            if not failures:
                self.applied = True
                return
            first = min(failures)
            item = self.items[owners[first]]
            error = kernel_error(failures[first], item.plan["op"], item.path)
            self._send(self._undos(failures))
            raise error

    def undo(self) -> None:
        """Undo every request (once), newest first."""
        if not self.applied:
            return
        self.applied = False
        with self.kernel.lock:
            undos: list[Request] = []
            for item in self.items:
                undos += item.undo(self.names)
            self._send(undos)

    def _undos(self, failures: Mapping[int, KernelError]) -> list[Request]:
        """The undo requests of the accepted requests, in request order."""
        undos: list[Request] = []
        position = 0
        for item in self.items:
            item_undos = item.undo(self.names)
            for offset, request in enumerate(item_undos):
                if position + offset not in failures:
                    undos.append(request)
            position += len(item_undos)
        return undos

    def _send(self, undos: list[Request]) -> None:
        """Send undo requests, newest first; RollbackFailed if the kernel refuses any."""
        undos.reverse()
        failures = self.kernel.rtnl.execute(undos)
        if failures:
            reasons = sorted({str(error) for error in failures.values()})
            log.error("%d undo requests refused: %s", len(failures), reasons)
            raise RollbackFailed(
                f"{len(failures)} of {len(undos)} undo requests refused: {'; '.join(reasons)}"
            )


def resolve(names: dict[str, int], device: str) -> int:
    """The ifindex of `device` in `names`; MissingDevice if there is none."""
    index = names.get(device)
    if index is None:
        raise MissingDevice(device)
    return index
