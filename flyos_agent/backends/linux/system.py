"""System settings (/system): the host name and IP forwarding.

The host name is set with sethostname(2) in the agent's UTS namespace (run
the agent under `unshare --uts` to keep the host's name apart); forwarding is
written to /proc/sys/net of the agent's network namespace. Both are applied
when the system container changes; a host name that is no longer configured
is left as it is (the kernel has no "unset").
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.kernel import Kernel, kernel_error
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Schema

FORWARDING = {
    "ipv4-forwarding": "/proc/sys/net/ipv4/ip_forward",
    "ipv6-forwarding": "/proc/sys/net/ipv6/conf/all/forwarding",
}


class SystemSettings:
    """Handler for /system."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """Nothing beyond the model's constraints."""
        return []

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Set the host name if it is configured, and both forwarding switches."""
        steps = []
        for change in changes:
            path = format_path(self.schema, change.path)
            entry: Mapping[str, Any] = change.new if change.new is not None else {}
            hostname = entry.get("hostname")
            before = change.old.get("hostname") if change.old is not None else None
            if hostname is not None and hostname != before:
                steps.append(self._hostname(hostname, path))
            for leaf, proc in FORWARDING.items():
                steps.append(self._sysctl(leaf, proc, bool(entry.get(leaf, True)), path))
        return steps

    def _hostname(self, name: str, path: str) -> Step:
        previous: list[str] = []

        def apply() -> None:
            previous.append(socket.gethostname())
            _sethostname(name, f"{path}/hostname")

        def undo() -> None:
            if previous:
                _sethostname(previous.pop(), f"{path}/hostname")

        return Step({"op": "sethostname", "hostname": name}, apply, undo, f"{path}/hostname")

    def _sysctl(self, leaf: str, proc: str, enabled: bool, path: str) -> Step:
        previous: list[str] = []
        kernel = self.kernel
        value = "1" if enabled else "0"

        def write(text: str) -> str:
            file = Path(proc)
            old = file.read_text().strip()
            if old != text:
                file.write_text(text + "\n")
            return old

        def apply() -> None:
            try:
                previous.append(kernel.run_in_netns(lambda: write(value)))
            except OSError as exc:
                raise kernel_error(exc, f"sysctl {proc}", f"{path}/{leaf}") from exc

        def undo() -> None:
            if previous:
                old = previous.pop()
                kernel.run_in_netns(lambda: write(old))

        return Step({"op": "sysctl", "key": proc, "value": value}, apply, undo, f"{path}/{leaf}")


def _sethostname(name: str, path: str) -> None:
    try:
        socket.sethostname(name)
    except OSError as exc:
        raise kernel_error(exc, f"sethostname {name}", path) from exc
