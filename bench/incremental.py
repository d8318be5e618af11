"""Scenario 3, incremental: one route edit + commit through NETCONF on a big box vs a small box.

Two agents (--backend linux, each in its own namespace) hold N and n routes
(loaded over NETCONF, in the kernel). Each sample is one <edit-config>
creating a /32 plus one <commit>, timed at the client until the commit
reply. Samples alternate between the boxes so both see the same machine
load; a few warm-up commits per box come first.
"""

from __future__ import annotations

import asyncio
import statistics

from bench.agent import AgentBox
from bench.common import Figure, Scale
from bench.payloads import host_route_xml
from bench.profiling import Spy
from flyos_agent.northbound.netconf.client import NetconfClient

RATIO_LIMIT = 1.3
MEDIAN_LIMIT_MS = 10.0
WARM_UP = 10


async def one_route_commit(box: AgentBox, client: NetconfClient, index: int) -> float:
    """Milliseconds of one edit-config (a new /32) + commit."""
    edit, commit = await box.commit_xml(client, host_route_xml(index))
    return (edit + commit) * 1000


async def _alternate(big: AgentBox, small: AgentBox, commits: int) -> tuple[list[float], ...]:
    """(big samples, small samples) of `commits` one-route commits each, alternating."""
    big_client, small_client = await big.connect(), await small.connect()
    try:
        for index in range(WARM_UP):
            await one_route_commit(big, big_client, index)
            await one_route_commit(small, small_client, index)
        big_ms, small_ms = [], []
        for index in range(WARM_UP, WARM_UP + commits):
            big_ms.append(await one_route_commit(big, big_client, index))
            small_ms.append(await one_route_commit(small, small_client, index))
        return big_ms, small_ms
    finally:
        await big_client.close()
        await small_client.close()


async def _commits(box: AgentBox, first: int, count: int) -> None:
    client = await box.connect()
    try:
        for index in range(first, first + count):
            await one_route_commit(box, client, index)
    finally:
        await client.close()


def run(scale: Scale) -> list[Figure]:
    """The incremental figure (profiled on the big box if it misses its target)."""
    with AgentBox() as big, AgentBox() as small:
        big.start()
        small.start()
        big.load_routes(scale.routes)
        small.load_routes(scale.small_routes)
        big_ms, small_ms = asyncio.run(_alternate(big, small, scale.commits))
        figure = Figure(
            scenario=(
                f"3. one-route edit + commit (NETCONF), {scale.routes:,}-route box"
                f" vs {scale.small_routes:,}-route box"
            ),
            unit="ms",
            ours=big_ms,
            reference=small_ms,
            reference_name=f"same on {scale.small_routes:,} routes",
            target=f"ratio <= {RATIO_LIMIT}, median <= {MEDIAN_LIMIT_MS:g} ms",
            ratio_limit=RATIO_LIMIT,
            absolute_limit=MEDIAN_LIMIT_MS,
            notes={
                "big box p90 ms": statistics.quantiles(big_ms, n=10)[-1] if len(big_ms) > 1 else 0,
                "kernel routes (big box)": big.ns.route_count(),
            },
        )
        if not figure.met:
            first = WARM_UP + scale.commits
            with Spy(big.pid) as recording:
                asyncio.run(_commits(big, first, max(scale.commits, 50)))
            figure.profile = recording.lines
    return [figure]
