"""Confirmed-commit campaign: an unconfirmed confirmed commit leaves running and the
kernel within timeout + 2 s, however it ends.

The agent runs the real Linux backend in a fresh namespace. Each trial makes
a NETCONF confirmed commit (timeout TIMEOUT s) that adds, deletes and changes
static routes, checks that running and the kernel (protocol-177 routes) hold
it, then ends it one of five ways without confirming:

- timeout: nothing happens; the timer must revert it (not before TIMEOUT s);
- session-drop: the committing SSH connection drops (no close-session);
- kill-session: another session kills the committing one;
- sigkill: the agent is SIGKILLed and restarted;
- sigterm: the agent is stopped (SIGTERM; its clean stop closes the session,
  so the kernel must be back by the time it exits) and restarted.

The latency runs from the trigger (for `timeout`, from the commit reply) until
both running and the kernel equal the pre-commit state again; every trial
must stay within TIMEOUT + 2 s. Sizes: 2 trials per kind in CI, 20 with
FLYOS_CAMPAIGN=full.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from ncclient import manager  # type: ignore[import-untyped]

from .agent_harness import (
    IF_NS,
    RT_NS,
    AgentProcess,
    Namespace,
    campaign_size,
    config_xml,
    route_xml,
    running_routes,
    seed_from_env,
    wait_until,
)

pytestmark = pytest.mark.netns

TRIALS = campaign_size(short=2, full=20)
TIMEOUT = 2  # seconds of the confirmed commits
BOUND = TIMEOUT + 2.0  # the latest a revert may complete
GATEWAY = "10.0.0.2"
KINDS = ("timeout", "session-drop", "kill-session", "sigkill", "sigterm")

Routes = set[tuple[str, str, str]]


BASE_ROUTES = {f"10.70.{i}.0/24": ("blackhole" if i % 2 else GATEWAY) for i in range(4)}
BASE_CONFIG = config_xml(
    f'<interfaces xmlns="{IF_NS}"><interface><name>eth0</name><type>ethernet</type>'
    "<ipv4><address><ip>10.0.0.1</ip><prefix-length>24</prefix-length></address></ipv4>"
    f'</interface></interfaces><routing xmlns="{RT_NS}">'
    + "".join(route_xml(prefix, target, "merge") for prefix, target in BASE_ROUTES.items())
    + "</routing>"
)


def confirmed_edit(trial: int) -> str:
    """Two routes added (IPv4, IPv6), one deleted, one changed."""
    return config_xml(
        f'<routing xmlns="{RT_NS}">'
        + route_xml(f"10.71.{trial}.0/24", GATEWAY, "create")
        + route_xml(f"2001:db8:71:{trial:x}::/64", "blackhole", "create")
        + route_xml("10.70.0.0/24", None)
        + route_xml("10.70.1.0/24", GATEWAY)
        + "</routing>"
    )


def state(agent: AgentProcess, ns: Namespace) -> tuple[Routes, Routes]:
    """(running's routes, the kernel's protocol-177 routes)."""
    running = running_routes(agent.ipc("get-config", {"source": "running"}))
    return running, ns.owned_routes()


def quietly_close(session: manager.Manager) -> None:
    """Drop a client session whose server side may already be gone."""
    with contextlib.suppress(Exception):
        session._session.close()


class Trigger:
    """Ends a pending confirmed commit of `committer` the way `kind` says; returns
    the monotonic time the trigger happened. `restarts` collects how long each
    restart took (from the signal until the new agent was ready)."""

    def __init__(
        self, agent: AgentProcess, ns: Namespace, before: Routes, rng: random.Random
    ) -> None:
        self.agent, self.ns, self.before, self.rng = agent, ns, before, rng
        self.restarts: list[float] = []

    def __call__(self, kind: str, committer: manager.Manager, committed_at: float) -> float:
        if kind == "timeout":
            return committed_at
        time.sleep(self.rng.uniform(0.0, TIMEOUT / 2))
        action: Callable[[manager.Manager], None] = getattr(self, kind.replace("-", "_"))
        started = time.monotonic()
        action(committer)
        return started

    def session_drop(self, committer: manager.Manager) -> None:
        committer._session.close()  # the SSH connection drops, no close-session

    def kill_session(self, committer: manager.Manager) -> None:
        with self.agent.netconf() as killer:
            killer.kill_session(str(committer.session_id))

    def sigkill(self, committer: manager.Manager) -> None:
        started = time.monotonic()
        self.agent.kill()
        self.restart(started)

    def sigterm(self, committer: manager.Manager) -> None:
        started = time.monotonic()
        assert self.agent.stop() == 0, "\n".join(self.agent.lines[-20:])
        assert self.ns.owned_routes() == self.before, "a clean stop left the commit in the kernel"
        self.restart(started)

    def restart(self, started: float) -> None:
        """Start the agent again; it must have reverted before it serves."""
        self.agent.start()
        self.restarts.append(time.monotonic() - started)
        running = running_routes(self.agent.ipc("get-config", {"source": "running"}))
        assert running == self.before, "the restarted agent serves the unconfirmed commit"


@pytest.mark.parametrize("kind", KINDS)
def test_unconfirmed_commit_reverts_running_and_kernel_within_timeout_plus_2s(
    kind: str, agent_factory: Any, netns: Namespace, campaign_report: Any
) -> None:
    seed = seed_from_env("FLYOS_CONFIRMED_SEED")
    agent = agent_factory().start()
    with agent.netconf() as session:
        session.edit_config(target="candidate", config=BASE_CONFIG)
        session.commit()
    before = state(agent, netns)
    assert before[0] == before[1] and len(before[0]) == len(BASE_ROUTES)
    trigger = Trigger(agent, netns, before[1], random.Random(seed))
    latencies: list[float] = []
    for trial in range(TRIALS):
        where = f"{kind} trial {trial} (seed {seed})"
        committer = agent.netconf()
        try:
            committer.edit_config(target="candidate", config=confirmed_edit(trial))
            sent_at = time.monotonic()
            committer.commit(confirmed=True, timeout=str(TIMEOUT))
            committed_at = time.monotonic()
            running, kernel = state(agent, netns)
            assert running == kernel != before[1], f"{where}: the commit is not in the kernel"
            assert len(running) == len(BASE_ROUTES) + 1, f"{where}: running is {running}"
            triggered = trigger(kind, committer, committed_at)
            reverted = wait_until(lambda: state(agent, netns) == before, BOUND + 5)
        finally:
            quietly_close(committer)
        latencies.append(reverted - triggered)
        early = reverted - sent_at < TIMEOUT
        assert not (kind == "timeout" and early), f"{where}: reverted before the timeout"
        time.sleep(0.1)
        assert state(agent, netns) == before, f"{where}: the revert did not hold"
    assert agent.stop() == 0
    figures = {
        "trials": len(latencies),
        "median s": round(statistics.median(latencies), 3),
        "max s": round(max(latencies), 3),
        "bound s": BOUND,
    }
    if trigger.restarts:
        figures["restart max s"] = round(max(trigger.restarts), 3)
    campaign_report(f"confirmed commit, {kind} (seed {seed})", figures)
    late = {trial: round(latency, 2) for trial, latency in enumerate(latencies) if latency > BOUND}
    assert not late, f"{kind} (seed {seed}): reverted later than {BOUND} s in trials {late}"
