"""VRFs (/vrfs/vrf): a 'vrf' device bound to its table, up, with the description as alias.

Interfaces join a VRF through their `vrf` leaf (the interface handler sets
the master); routes and rules name a VRF to use its table (`VrfTables`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from immutables import Map

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux import links
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError, InvalidValue
from flyos_agent.schema import Schema


class VrfTables(Mapping[str, int]):
    """VRF name -> table from a config tree; a VRF missing there (being deleted) from the kernel."""

    def __init__(self, kernel: Kernel, tree: Map[str, Any]) -> None:
        self.kernel = kernel
        vrfs = tree.get("vrfs", Map()).get("vrf", Map())
        self.tables: dict[str, int] = {entry["name"]: entry["table"] for entry in vrfs.values()}

    def __getitem__(self, name: str) -> int:
        table = self.tables.get(name)
        if table is None:
            link = self.kernel.link(name)
            data = link.get(("linkinfo", "data")) if link is not None else None
            table = int(data.get("IFLA_VRF_TABLE")) if data is not None else 0
            self.tables[name] = table
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


class Vrfs:
    """Handler for /vrfs/vrf."""

    def __init__(self, schema: Schema, kernel: Kernel) -> None:
        self.schema = schema
        self.kernel = kernel

    def validate(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[FlyosError]:
        """The table of an existing VRF cannot change."""
        return [
            InvalidValue(
                "the table of an existing VRF cannot change; delete the VRF and create it again",
                path=format_path(self.schema, change.path),
            )
            for change in changes
            if change.op is ChangeOp.MODIFY
            and change.old is not None
            and change.new is not None
            and change.old["table"] != change.new["table"]
        ]

    def prepare(self, changes: Sequence[Change], tree: Map[str, Any]) -> list[Step]:
        """Create (and bring up), delete, or re-describe each VRF device."""
        steps = []
        kernel = self.kernel
        for change in changes:
            path = format_path(self.schema, change.path)
            if change.op is ChangeOp.CREATE:
                assert change.new is not None
                name, table = change.new["name"], change.new["table"]
                steps.append(
                    Step(
                        {"op": "link add", "name": name, "type": "vrf", "table": table},
                        partial(links.add, kernel, name, "vrf", {"vrf_table": table}, path),
                        partial(links.delete, kernel, name, path),
                        path,
                    )
                )
                settings = {"state": "up", "ifalias": change.new.get("description", "")}
                steps.append(_settings(kernel, name, settings, path))
            elif change.op is ChangeOp.DELETE:
                assert change.old is not None
                name = change.old["name"]
                plan = {"op": "link del", "name": name, "type": "vrf"}
                steps.append(links.delete_step(kernel, name, plan, path))
            else:
                assert change.new is not None
                settings = {"ifalias": change.new.get("description", "")}
                steps.append(_settings(kernel, change.new["name"], settings, path))
        return steps


def _settings(kernel: Kernel, name: str, settings: dict[str, Any], path: str) -> Step:
    return links.settings_step(
        kernel, name, {"op": "link set", "name": name, **settings}, settings, path
    )
