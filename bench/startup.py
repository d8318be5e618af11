"""Scenario 7, memory and start-up of an agent holding N routes.

Memory: an agent (--backend linux) gets N routes over NETCONF, then
`history` one-route commits (so the journal holds its full history of
entries) and one more edit left uncommitted in the candidate; then its
VmRSS is read. Reference: the same agent idle with only its port
configured (what the data adds is the difference).

Start-up: that agent is stopped (the kernel keeps its routes) and started
again on the same state dir: timed from the process start until a NETCONF
client has the server's hello (journal load, kernel reconcile of N routes
already in the kernel, listeners, one SSH login). Reference: the same start
of an agent with an empty store.
"""

from __future__ import annotations

import asyncio
import pstats
import statistics

from bench.agent import AgentBox
from bench.common import Figure, Scale
from bench.incremental import one_route_commit
from bench.payloads import edit_candidate, host_route_xml
from bench.profiling import stats_top
from flyos_agent.northbound.netconf.client import NetconfClient

RSS_LIMIT_MB = 300.0
START_LIMIT_S = 3.0


async def _history_and_candidate(box: AgentBox, commits: int) -> None:
    """`commits` one-route commits, then one edit left in the candidate."""
    client: NetconfClient = await box.connect()
    try:
        for index in range(commits):
            await one_route_commit(box, client, index)
        reply = await client.rpc(edit_candidate(host_route_xml(commits)))
        if b"<rpc-error" in reply:
            raise RuntimeError(reply.decode(errors="replace"))
    finally:
        await client.close()


def _restarts(box: AgentBox, times: int) -> tuple[list[float], list[float]]:
    """(seconds to the first NETCONF hello, seconds to the ready line) of `times` restarts."""
    hello, ready = [], []
    for _ in range(times):
        box.stop()
        hello.append(box.start())
        ready.append(box.ready_seconds)
    return hello, ready


def run(scale: Scale) -> list[Figure]:
    """The memory and start-up figures (start-up profiled if it misses its target)."""
    with AgentBox() as idle:
        idle.start()
        idle_rss = idle.rss_mb()
        empty_starts, _ = _restarts(idle, scale.restarts)
    with AgentBox() as box:
        box.start()
        box.load_routes(scale.routes)
        asyncio.run(_history_and_candidate(box, scale.history))
        rss = box.rss_mb()
        starts, ready = _restarts(box, scale.restarts)
        kept = box.ns.route_count()
        memory = Figure(
            scenario=(
                f"7a. agent RSS: {scale.routes:,} routes, candidate,"
                f" {scale.history} history entries"
            ),
            unit="MB",
            ours=[rss],
            reference=[idle_rss],
            reference_name="same agent, empty store",
            target=f"<= {RSS_LIMIT_MB:g} MB",
            absolute_limit=RSS_LIMIT_MB,
        )
        start = Figure(
            scenario=f"7b. agent start with {scale.routes:,} routes until NETCONF serves",
            unit="s",
            ours=starts,
            reference=empty_starts,
            reference_name="same, empty store",
            target=f"<= {START_LIMIT_S:g} s",
            absolute_limit=START_LIMIT_S,
            notes={
                "ready line median s": statistics.median(ready),
                "kernel routes after restarts": kept,
            },
        )
        if not start.met:
            start.profile = _profiled_start(box)
    return [memory, start]


def _profiled_start(box: AgentBox) -> list[str]:
    """cProfile top entries of one more start of `box` (its main thread)."""
    stats = box.base / "start.prof"
    box.stop()
    box.start(profile=stats)
    box.stop()
    return stats_top(pstats.Stats(str(stats)))
