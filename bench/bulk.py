"""Scenario 1, bulk routes: N static routes through NETCONF edit-config + commit into the kernel.

Ours: a fresh namespace and a fresh agent (--backend linux) with eth0
configured; timed from sending <edit-config> with every route until the
<commit> reply (the routes are then in the kernel: counted afterwards).
Reference: `ip -batch` adding the same routes into a fresh namespace with
the same port and address. Runs alternate between the two sides.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.agent import AgentBox
from bench.common import Figure, Scale
from bench.netns import Namespace
from bench.payloads import write_ip_batch
from bench.profiling import Spy

RATIO_LIMIT = 1.5


def agent_bulk(count: int, *, spy: bool = False) -> tuple[float, float, list[str]]:
    """(edit seconds, commit seconds, profile) of one bulk commit on a fresh agent."""
    with AgentBox() as box:
        box.start()
        if spy:
            with Spy(box.pid) as recording:
                edit, commit = box.load_routes(count)
            profile = recording.lines
        else:
            edit, commit = box.load_routes(count)
            profile = []
        installed = box.ns.route_count()
        if installed != count:
            raise RuntimeError(f"bulk commit left {installed} of {count} routes in the kernel")
    return edit, commit, profile


def ip_batch_bulk(count: int) -> float:
    """Seconds `ip -batch` takes to add the routes into a fresh namespace."""
    with tempfile.TemporaryDirectory(prefix="fbench-") as tmp:
        script = write_ip_batch(Path(tmp) / "add.batch", "add", count)
        with Namespace(address=True) as ns:
            seconds = ns.ip_batch(script)
            if ns.route_count() != count:
                raise RuntimeError("ip -batch did not install every route")
    return seconds


def run(scale: Scale) -> list[Figure]:
    """The bulk-routes figure (profiled if it misses its target)."""
    edits, commits, ours, theirs = [], [], [], []
    for _ in range(scale.runs):
        edit, commit, _ = agent_bulk(scale.routes)
        edits.append(edit)
        commits.append(commit)
        ours.append(edit + commit)
        theirs.append(ip_batch_bulk(scale.routes))
    figure = Figure(
        scenario=f"1. bulk: {scale.routes:,} routes, NETCONF edit-config + commit",
        unit="s",
        ours=ours,
        reference=theirs,
        reference_name="ip -batch",
        target=f"ratio <= {RATIO_LIMIT}",
        ratio_limit=RATIO_LIMIT,
        notes={
            "edit-config median s": statistics.median(edits),
            "commit median s": statistics.median(commits),
            "routes/s (ours)": round(scale.routes / statistics.median(ours)),
        },
    )
    if not figure.met:
        figure.profile = agent_bulk(scale.routes, spy=True)[2]
    return [figure]
