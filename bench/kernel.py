"""Scenario 2, kernel push alone: the Linux backend creating N routes, then deleting them.

Ours: a LinuxBackend in a fresh namespace (eth0 up with 192.0.2.2/24), its
handlers registered as the Manager registers them and its kernel sockets
open (as in a running agent); the diff between the port-only tree and the
tree with N routes is computed first (untimed), then one Transaction's
prepare (the handlers build every netlink request) and apply (the batches
go out) is timed, under the Manager's MutationLock as in a commit (so with
the cyclic GC paused): creations, then the reverse transaction: deletions.
Every route is counted in the kernel after each.
Reference: `ip -batch` adding, then deleting, the same routes in a fresh
namespace with the same port. Runs alternate between the two sides.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from immutables import Map

from bench.common import Figure, Scale, route_config, timed
from bench.netns import Namespace
from bench.payloads import write_ip_batch
from bench.profiling import cprofile_top
from flyos_agent.backends.base import Registry
from flyos_agent.backends.linux.backend import LinuxBackend
from flyos_agent.datastore.diff import diff_trees
from flyos_agent.datastore.tree import tree_from_plain
from flyos_agent.runtime.locking import MutationLock
from flyos_agent.runtime.transaction import Transaction
from flyos_agent.schema import Schema, load_schema

RATIO_LIMIT = 0.8


class Pusher:
    """A LinuxBackend in `ns` and the two trees it moves between."""

    def __init__(self, schema: Schema, ns: Namespace, count: int) -> None:
        self.schema = schema
        self.ns = ns
        self.count = count
        self.backend = LinuxBackend(schema, ns.name)
        self.backend.kernel.ifindex_map()  # open the sockets, as a running agent has them
        assert self.backend.kernel.rtnl is not None
        self.registry = Registry()
        self.backend.register(self.registry)
        self.port_only = tree_from_plain(schema, route_config(0))
        self.routed = tree_from_plain(schema, route_config(count))

    def transaction(self, old: Map[str, Any], new: Map[str, Any]) -> Transaction:
        """The transaction from `old` to `new`, its changes already diffed."""
        return Transaction(self.schema, self.registry, old, new, diff_trees(self.schema, old, new))

    def push(self, old: Map[str, Any], new: Map[str, Any], expected: int) -> float:
        """Seconds the backend takes to prepare and apply `old` -> `new`."""
        transaction = self.transaction(old, new)

        def run() -> None:
            with MutationLock():
                transaction.prepare()
                transaction.apply()

        seconds = timed(run)
        if self.ns.route_count() != expected:
            raise RuntimeError(f"expected {expected} routes in the kernel after the push")
        return seconds

    def create(self) -> float:
        """Seconds to install every route."""
        return self.push(self.port_only, self.routed, self.count)

    def delete(self) -> float:
        """Seconds to remove every route."""
        return self.push(self.routed, self.port_only, 0)

    def close(self) -> None:
        """Close the backend's sockets."""
        self.backend.close()


def ours(schema: Schema, count: int) -> tuple[float, float]:
    """(create seconds, delete seconds) of the backend in a fresh namespace."""
    with Namespace(address=True) as ns:
        pusher = Pusher(schema, ns, count)
        try:
            return pusher.create(), pusher.delete()
        finally:
            pusher.close()


def reference(directory: Path, count: int) -> tuple[float, float]:
    """(add seconds, delete seconds) of `ip -batch` in a fresh namespace."""
    add = write_ip_batch(directory / "add.batch", "add", count)
    delete = write_ip_batch(directory / "del.batch", "del", count)
    with Namespace(address=True) as ns:
        return ns.ip_batch(add), ns.ip_batch(delete)


def profile(schema: Schema, count: int) -> list[str]:
    """cProfile top entries of one create + delete cycle."""
    with Namespace(address=True) as ns:
        pusher = Pusher(schema, ns, count)
        try:
            return cprofile_top(lambda: (pusher.create(), pusher.delete()))
        finally:
            pusher.close()


def run(scale: Scale) -> list[Figure]:
    """The create and delete figures (profiled if either misses its target)."""
    schema = load_schema()
    created, deleted, added, removed = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="fbench-") as tmp:
        for _ in range(scale.runs):
            create, delete = ours(schema, scale.routes)
            created.append(create)
            deleted.append(delete)
            add, remove = reference(Path(tmp), scale.routes)
            added.append(add)
            removed.append(remove)
    figures = [
        Figure(
            scenario=f"2a. kernel push: Linux backend creates {scale.routes:,} routes",
            unit="s",
            ours=created,
            reference=added,
            reference_name="ip -batch route add",
            target=f"ratio <= {RATIO_LIMIT}",
            ratio_limit=RATIO_LIMIT,
            notes={"routes/s (ours)": round(scale.routes / statistics.median(created))},
        ),
        Figure(
            scenario=f"2b. kernel push: Linux backend deletes {scale.routes:,} routes",
            unit="s",
            ours=deleted,
            reference=removed,
            reference_name="ip -batch route del",
            target=f"ratio <= {RATIO_LIMIT}",
            ratio_limit=RATIO_LIMIT,
            notes={"routes/s (ours)": round(scale.routes / statistics.median(deleted))},
        ),
    ]
    if not all(figure.met for figure in figures):
        lines = profile(schema, scale.routes)
        for figure in figures:
            if not figure.met:
                figure.profile = lines
    return figures
