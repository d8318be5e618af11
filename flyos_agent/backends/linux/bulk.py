"""Many kernel requests as one batch, still shown and undone step by step.

A handler with thousands of routes or rules makes one `Bulk` of items, each
item one configured object with the requests that apply it and the requests
that undo it. `Bulk.steps()` gives one Step per item (its plan is the exact
kernel operation, for a dry run), but the requests go out together: the first
step applied sends the whole batch, the others have nothing left to do; the
first step undone sends every undo request, the others have nothing left to
undo. The engine always undoes every applied step, so this is exact.

An item's plan and path are built only when read (a dry run, an error), so a
100k-route commit builds neither; its requests are built when the batch is
applied, once the devices they name exist and have their ifindex.

If the kernel refuses any request of the batch, the requests it accepted are
undone at once and the step fails naming the refused item's path and the
kernel's reason: the batch applies entirely or not at all.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.kernel import Kernel, kernel_error
from flyos_agent.backends.linux.netlink_batch import KernelError, MessageBatch, Request
from flyos_agent.errors import FlyosError, RollbackFailed

log = logging.getLogger(__name__)

Encoder = Callable[[dict[str, int]], list[Request]]
"""Builds an item's requests from the device name -> ifindex map of the kernel at apply time."""


class MissingDevice(KeyError):
    """An item names a device the kernel does not have (`args[0]`); `item`: its index."""

    item: int | None = None


class BulkItems(Protocol):
    """The items of one batch: each shown and named on demand, all encoded at once."""

    def __len__(self) -> int: ...

    def plan(self, index: int) -> dict[str, Any]:
        """The dry-run description of item `index`."""
        ...

    def path(self, index: int) -> str:
        """The YANG path of item `index`."""
        ...

    def forward(self, names: dict[str, int]) -> tuple[MessageBatch, Sequence[int]]:
        """Every item's requests, and the item each message belongs to.

        MissingDevice (with `item` set) if an item names a device not in `names`.
        """
        ...

    def backward(self, names: dict[str, int]) -> list[Request]:
        """The undo of every message of `forward`, aligned with them."""
        ...


@dataclass
class BulkItem:
    """One configured object: its plan, its path, its requests and their undos.

    `undo(names)[i]` undoes `encode(names)[i]`; undo requests are only built when needed.
    """

    plan: dict[str, Any]
    path: str
    encode: Encoder
    undo: Encoder


class ItemList:
    """Items given as BulkItems (objects whose plan and requests are cheap to build)."""

    def __init__(self, items: Sequence[BulkItem]) -> None:
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def plan(self, index: int) -> dict[str, Any]:
        """The item's plan."""
        return self.items[index].plan

    def path(self, index: int) -> str:
        """The item's path."""
        return self.items[index].path

    def forward(self, names: dict[str, int]) -> tuple[MessageBatch, list[int]]:
        """Every item's requests, in item order."""
        batch = MessageBatch()
        owners: list[int] = []
        for number, item in enumerate(self.items):
            try:
                requests = item.encode(names)
            except MissingDevice as exc:
                exc.item = number
                raise
            for request in requests:
                batch.add(request)
            owners += [number] * len(requests)
        return batch, owners

    def backward(self, names: dict[str, int]) -> list[Request]:
        """Every item's undo requests, in item order."""
        return [request for item in self.items for request in item.undo(names)]


class BulkStep(Step):
    """The step of one item of a Bulk; its plan and path are built when first read."""

    __slots__ = ("_path", "_plan", "apply", "bulk", "index", "undo")

    def __init__(self, bulk: Bulk, index: int, apply: Callable[[], None], undo: Callable[[], None]):
        self.bulk = bulk
        self.index = index
        self.apply = apply
        self.undo = undo
        self._plan: dict[str, Any] | None = None
        self._path: str | None = None

    @property
    def plan(self) -> dict[str, Any]:
        """The item's dry-run description."""
        if self._plan is None:
            self._plan = self.bulk.items.plan(self.index)
        return self._plan

    @plan.setter
    def plan(self, value: dict[str, Any]) -> None:
        self._plan = value

    @property
    def path(self) -> str | None:
        """The item's YANG path."""
        if self._path is None:
            self._path = self.bulk.items.path(self.index)
        return self._path

    @path.setter
    def path(self, value: str | None) -> None:
        self._path = value


class Bulk:
    """The items of one handler call, sent as one batch of netlink requests."""

    def __init__(self, kernel: Kernel, items: BulkItems) -> None:
        self.kernel = kernel
        self.items = items
        self.applied = False
        self.names: dict[str, int] = {}

    def steps(self) -> list[Step]:
        """One Step per item, all sharing this batch."""
        apply, undo = self.apply, self.undo
        return [BulkStep(self, index, apply, undo) for index in range(len(self.items))]

    def apply(self) -> None:
        """Send every item's requests (once); on a refusal undo the accepted ones and raise."""
        if self.applied:
            return
        with self.kernel.lock:
            names = self.names = self.kernel.ifindex_map()
            try:
                batch, owners = self.items.forward(names)
            except MissingDevice as exc:
                assert exc.item is not None
                reason = KernelError(errno.ENODEV, f"ENODEV: no device '{exc.args[0]}'")
                raise self._error(reason, exc.item) from None
            failures = self.kernel.rtnl.send(batch)
            if not failures:
                self.applied = True
                return
            first = min(failures)
            error = self._error(failures[first], owners[first])
            self._send(self._undos(failures))
            raise error

    def _error(self, reason: KernelError, index: int) -> FlyosError:
        """The error naming item `index`, its operation and the kernel's reason."""
        return kernel_error(reason, self.items.plan(index)["op"], self.items.path(index))

    def undo(self) -> None:
        """Undo every request (once), newest first."""
        if not self.applied:
            return
        self.applied = False
        with self.kernel.lock:
            self._send(self.items.backward(self.names))

    def _undos(self, failures: Mapping[int, KernelError]) -> list[Request]:
        """The undo requests of the accepted requests, in request order."""
        undos = self.items.backward(self.names)
        return [request for index, request in enumerate(undos) if index not in failures]

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
