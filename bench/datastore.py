"""Datastore and transaction engine benchmarks (backend none, journal fsync'd).

1. Incremental: one-route edit + commit on a 100k-route store vs on a 1k store.
2. Full load: 100k routes, JSON text -> edit replace + validate + commit, vs
   libyang 2.8 parsing and validating the same JSON text.
3. Memory: RSS with 100k routes in running, an edited candidate and 50 more
   commits in history, beside libyang holding the same tree.

Run: .venv/bin/python -m bench datastore
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, report, route_config, rss_mb
from bench.validation import libyang_context
from bench.validation import reference as libyang_parse
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import load_schema


def fresh_manager(state: Path) -> Manager:
    schema = load_schema()
    manager = Manager(schema, Journal(state / "flyos.db", schema))
    manager.start()
    return manager


def load(manager: Manager, text: str) -> None:
    session = manager.open_session("bench", "bench")
    manager.edit(session, "candidate", [Edit("replace", (), json.loads(text))])
    manager.commit(session)
    manager.close_session(session)


def one_route_commits(manager: Manager, count: int, first: int = 0) -> list[float]:
    """Seconds for each of `count` single-route edit + commit transactions."""
    session = manager.open_session("bench", "bench")
    samples = []
    for i in range(first, first + count):
        path = (("routing", None), ("static", (f"172.16.{i % 256}.{i // 256}/32",)))
        start = time.perf_counter()
        manager.edit(session, "candidate", [Edit("create", path, {"via": "192.0.2.9"})])
        manager.commit(session)
        samples.append(time.perf_counter() - start)
    return samples


def incremental(commits: int = 200) -> Figure:
    medians: dict[int, list[float]] = {}
    for size in (1_000, 100_000):
        with tempfile.TemporaryDirectory() as state:
            manager = fresh_manager(Path(state))
            load(manager, json.dumps(route_config(size)))
            one_route_commits(manager, 20)  # warm up
            medians[size] = one_route_commits(manager, commits, first=20)
            manager.close()
    figure = Figure(
        scenario="one-route commit, 100k store vs 1k store",
        unit="ms",
        ours=[s * 1000 for s in medians[100_000]],
        reference=[s * 1000 for s in medians[1_000]],
        reference_name="same on a 1k-route store",
        target="ratio<=1.3, <=5 ms",
        ratio_limit=1.3,
        absolute_limit=5.0,
        notes={"published": "sysrepo 162 ms, Clixon ~115 ms for one entry at 100k"},
    )
    return figure


def libyang_load(text: str) -> float:
    """Seconds libyang takes to parse and validate `text` (a fresh context each time)."""
    context = libyang_context()
    try:
        return libyang_parse(context, text)
    finally:
        context.destroy()


def full_load(size: int = 100_000, runs: int = 3) -> Figure:
    text = json.dumps(route_config(size))
    ours = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as state:
            manager = fresh_manager(Path(state))
            start = time.perf_counter()
            load(manager, text)
            ours.append(time.perf_counter() - start)
            manager.close()
    theirs = [libyang_load(text) for _ in range(runs)]
    return Figure(
        scenario=f"full load of {size // 1000}k routes (JSON text)",
        unit="s",
        ours=ours,
        reference=theirs,
        reference_name="libyang 2.8 parse+validate",
        target="ratio<=1.0",
        ratio_limit=1.0,
    )


def _memory_child(kind: str) -> None:
    """Runs in a subprocess: build the state, print RSS in MB."""
    text = json.dumps(route_config(100_000))
    if kind == "libyang":
        context = libyang_context()
        tree = context.parse_data_mem(text, "json", strict=True, no_state=True)
        del text
        print(rss_mb(), tree is not None)
        return
    with tempfile.TemporaryDirectory() as state:
        manager = fresh_manager(Path(state))
        load(manager, text)
        del text
        one_route_commits(manager, 50)
        session = manager.open_session("bench", "bench")
        route = (("routing", None), ("static", ("172.31.0.0/16",)))
        manager.edit(session, "candidate", [Edit("create", route, {"via": "192.0.2.9"})])
        print(rss_mb(), len(manager.history(session)))


def memory() -> Figure:
    def child(kind: str) -> float:
        out = subprocess.run(
            [sys.executable, "-m", "bench.datastore", "--memory-child", kind],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        return float(out.stdout.split()[0])

    return Figure(
        scenario="RSS: 100k routes + candidate + 50 commits",
        unit="MB",
        ours=[child("ours")],
        reference=[child("libyang")],
        reference_name="libyang holding the tree",
        target="<=300 MB",
        absolute_limit=300.0,
    )


def main(argv: list[str]) -> Any:
    if argv[:1] == ["--memory-child"]:
        _memory_child(argv[1])
        return None
    figures = [incremental(), full_load(), memory()]
    report("datastore and transaction engine (backend none, fsync'd journal)", figures, "datastore")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
