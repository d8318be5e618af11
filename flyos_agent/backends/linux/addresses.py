"""IPv4 and IPv6 addresses (/interfaces/interface/ipv4|ipv6/address).

Every address the agent adds carries IFA_PROTO FLYOS_PROTO (177, as its routes
do), so an address the agent left on an interface that is no longer
configured can be told from everyone else's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux import links
from flyos_agent.backends.linux.changes import ancestor_key
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.route_messages import FLYOS_PROTO
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Schema


class Addresses:
    """Handler for the address lists of both families: add, delete, or re-add with a new length."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the model's constraints."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """One step per address change."""
        steps = []
        for change in changes:
            device = ancestor_key(change, 2)
            path = format_path(self.schema, change.path)
            old, new = change.old, change.new
            if new is not None and old is not None:
                plan = {**_plan("replace", device, new), "old-prefix-length": old["prefix-length"]}

                def apply(
                    device: str = device, old: Any = old, new: Any = new, path: str = path
                ) -> None:
                    self._send("del", device, old, path)
                    try:
                        self._send("add", device, new, path)
                    except FlyosError:
                        self._send("add", device, old, path)
                        raise

                def undo(
                    device: str = device, old: Any = old, new: Any = new, path: str = path
                ) -> None:
                    self._send("del", device, new, path)
                    self._send("add", device, old, path)

                steps.append(Step(plan, apply, undo, path))
            else:
                op, undo_op = ("add", "del") if new is not None else ("del", "add")
                entry = new if new is not None else old
                assert entry is not None
                steps.append(
                    Step(
                        _plan(op, device, entry),
                        partial(self._send, op, device, entry, path),
                        partial(self._send, undo_op, device, entry, path),
                        path,
                    )
                )
        return steps

    def _send(self, op: str, device: str, entry: Mapping[str, Any], path: str) -> None:
        send_address(self.kernel, op, device, entry["ip"], entry["prefix-length"], path=path)


def send_address(
    kernel: Kernel, op: str, device: str, address: str, length: int, *, path: str | None
) -> None:
    """Add ('add', marked as the agent's) or delete ('del') `address/length` on `device`."""
    index = links.require(kernel, device, path)["index"]
    marker = {"proto": FLYOS_PROTO} if op == "add" else {}
    kernel.call(
        f"address {op} {address}/{length} dev {device}",
        path,
        lambda: kernel.ipr.addr(op, index=index, address=address, prefixlen=length, **marker),
    )


def _plan(op: str, device: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "op": f"address {op}",
        "dev": device,
        "address": f"{entry['ip']}/{entry['prefix-length']}",
    }
