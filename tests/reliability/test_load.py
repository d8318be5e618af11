"""Load campaign (issue #11): concurrent NETCONF sessions on a big store, every reply checked.

N ncclient sessions (one thread each) run a mix of get-config (a keyed XPath
read of one route; now and then the whole routing table of running or the
candidate), get, validate, edit-config of the candidate and of running,
lock/unlock of running and of the candidate, commit, confirmed commit (then
confirmed) and discard-changes, against one agent seeded with E static routes,
for T seconds. Every reply goes through the lock model (load_model.py): an
error is a reply the model did not predict, or a transport failure. The
agent's RSS (VmRSS) is sampled every second after the warm-up (the first
tenth of the run, at least 4 s); from the start of the samples to their end
(medians of the first and the last tenth) it may grow by less than 10 %.

Sizes: CI 10 sessions, 15 s, 2k routes; `FLYOS_CAMPAIGN=full` 50 sessions,
300 s, 20k routes. The backend is `none`: the lock rules live in the
datastore, and with the Linux backend a `get` dumps every kernel route
whatever its filter (2 s at 20k routes) and a commit costs 25-75 ms of netlink
instead of ~10 ms, so the campaign would measure the kernel dump, not the
sessions. `FLYOS_LOAD_BACKEND=linux` runs it on the Linux backend anyway (in a
namespace h5-*). Run with `-s` to see the report (ops, latencies, refusals, RSS);
`FLYOS_LOAD_SEED` changes the sessions' random choices (default 11).
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from ncclient import manager  # type: ignore[import-untyped]

from .load_harness import (
    LoadAgent,
    LoadSize,
    route_entry,
    routing_config,
    rss_kib,
    seed_prefix,
    send,
    session_id,
    set_tick,
)
from .load_model import OK, Kind, LockModel, Outcome, Request, Target, Violation

TICK = 0.005  # ncclient poll: 50 sessions polling every 1 ms would eat a core
WARM_UP = 0.1  # share of the run before the first RSS sample ...
WARM_UP_MIN = 4.0  # ... but at least this many seconds (the heap settles in 2-3 s)
MAX_GROWTH = 0.10
OWN_ROUTES = 20  # seeded routes each session edits (its own: no data conflicts)
HOST_ROUTES = 16  # /32 routes each session adds and removes
CONFIRM_RETRIES = 2000

LABELS: dict[str, tuple[Kind, Target | None]] = {
    **{str(kind): (kind, None) for kind in Kind},
    **{f"{kind}-{t}": (kind, t) for kind in (Kind.LOCK, Kind.UNLOCK) for t in Target},
}
# label -> weight, for a session that holds no lock
IDLE = {
    "get-config": 24.0,
    "get-config-full": 0.3,
    "get": 5.0,
    "validate": 0.5,
    "edit-candidate": 25.0,
    "edit-running": 4.0,
    "commit": 12.0,
    "confirmed-commit": 1.0,
    "discard-changes": 2.0,
    "lock-running": 1.5,
    "lock-candidate": 4.0,
    "unlock-running": 1.0,
    "unlock-candidate": 1.0,
}
# while holding the candidate lock (and maybe running's), or only running's
WITH_CANDIDATE = {"edit-candidate": 3.0, "commit": 2.0, "validate": 0.2, "get-config": 1.0}
WITH_RUNNING = {"edit-running": 2.0, "commit": 1.0, "get-config": 1.0, "lock-candidate": 0.5}


@dataclass
class Tally:
    """What one session saw: latency per operation, replies, violations, failures."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    replies: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        for label, samples in other.latencies.items():
            self.latencies.setdefault(label, []).extend(samples)
        self.replies.update(other.replies)
        self.violations.extend(other.violations)
        self.failures.extend(other.failures)


class Clock:
    """Starts the load once every session is connected: `deadline` is set before
    the barrier lets anyone through."""

    def __init__(self, sessions: int, seconds: float) -> None:
        self.seconds = seconds
        self.started = self.deadline = 0.0
        self.ready = threading.Barrier(sessions + 1, action=self._start)

    def _start(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds


class Worker(threading.Thread):
    """One NETCONF session running the mix until the deadline, then cleaning up."""

    def __init__(
        self,
        index: int,
        agent: LoadAgent,
        model: LockModel,
        size: LoadSize,
        clock: Clock,
    ) -> None:
        super().__init__(name=f"load-{index}", daemon=True)
        self.index, self.agent, self.model, self.size = index, agent, model, size
        self.clock = clock
        self.rng = random.Random(f"{os.environ.get('FLYOS_LOAD_SEED', '11')}-{index}")
        self.tally = Tally()
        self.sid = 0
        self.metric = 0
        self.held_ops = 0
        self.nc: manager.Manager | None = None

    def run(self) -> None:
        try:
            self.nc = self.agent.connect()
            self.sid = session_id(self.nc)
            self.model.opened(self.sid)
        except Exception as exc:
            self.tally.failures.append(f"worker {self.index}: connect: {exc!r}")
        self.clock.ready.wait()
        if self.nc is None:
            return
        try:
            while time.monotonic() < self.clock.deadline:
                label = self._choose()
                self._rpc(label)
            self._clean_up()
            self._rpc("close-session")
        except Exception as exc:
            self.tally.failures.append(f"session {self.sid}: {exc!r}")

    # ------------------------------------------------------------------ the mix

    def _choose(self) -> str:
        """The next operation: confirm a pending confirmed commit first; a lock holder
        works under its lock a few operations, then unlocks."""
        if self.model.pending_owner == self.sid:
            return "commit"
        held = [t for t in Target if self.model.holder(t) == self.sid]
        if not held:
            self.held_ops = 0
            return self._pick(IDLE)
        self.held_ops += 1
        if self.held_ops > self.rng.randint(1, 4):
            return f"unlock-{self.rng.choice(held)}"
        return self._pick(WITH_CANDIDATE if Target.CANDIDATE in held else WITH_RUNNING)

    def _pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def _request(self, label: str) -> tuple[Request, str | None]:
        """The Request for `label` and its payload."""
        kind, target = LABELS[label]
        request = Request(kind, self.sid, target)
        if kind is Kind.GET_CONFIG:
            return request, self._own_route()
        if kind is Kind.GET_CONFIG_FULL:
            return request, self.rng.choice(["running", "candidate"])
        if kind in (Kind.EDIT_CANDIDATE, Kind.EDIT_RUNNING):
            return request, self._edit(kind is Kind.EDIT_CANDIDATE)
        return request, None

    def _own_route(self) -> str:
        slot = self.rng.randrange(OWN_ROUTES)
        return seed_prefix((slot * self.size.sessions + self.index) % self.size.entries)

    def _edit(self, candidate: bool) -> str:
        """A fresh metric on one of this session's routes (so every edit changes the
        datastore); on the candidate, also add or remove one of its /32 routes."""
        self.metric += 1
        entries = [route_entry(self._own_route(), metric=self.metric)]
        if candidate and self.rng.random() < 0.6:
            host = f"172.16.{self.index}.{self.rng.randrange(HOST_ROUTES)}/32"
            entries.append(route_entry(host, remove=self.rng.random() < 0.5))
        return routing_config(*entries)

    # ------------------------------------------------------------------ RPCs

    def _rpc(self, label: str) -> Outcome:
        """Send one RPC through the model, recording latency and verdict."""
        assert self.nc is not None
        request, payload = self._request(label)
        ticket = self.model.begin(request)
        started = time.perf_counter()
        actual = send(self.nc, request, payload)
        elapsed = time.perf_counter() - started
        violation = self.model.finish(ticket, actual)
        self.tally.latencies.setdefault(label, []).append(elapsed)
        self.tally.replies[f"{label} -> {actual.tag}"] += 1
        if violation is not None:
            self.tally.violations.append(violation)
        return actual

    def _clean_up(self) -> None:
        """Confirm our pending confirmed commit (another session may hold the candidate
        lock a moment longer) and release our locks."""
        for _ in range(CONFIRM_RETRIES):
            if self.model.pending_owner != self.sid or self._rpc("commit") == OK:
                break
            time.sleep(0.005)
        for target in Target:
            if self.model.holder(target) == self.sid:
                self._rpc(f"unlock-{target}")


# ---------------------------------------------------------------------- the campaign


@dataclass
class Memory:
    """The agent's RSS in KiB, sampled once a second from the end of the warm-up to the
    end of the load. Start and end are the medians of the first and the last tenth of
    the samples (at least 3), so that one transient allocation (a 20k-route reply)
    does not decide."""

    samples: list[int] = field(default_factory=list)

    def _window(self) -> int:
        return max(3, len(self.samples) // 10)

    @property
    def start(self) -> int:
        return round(statistics.median(self.samples[: self._window()]))

    @property
    def end(self) -> int:
        return round(statistics.median(self.samples[-self._window() :]))

    @property
    def growth(self) -> float:
        return (self.end - self.start) / self.start

    def timeline(self) -> str:
        """Ten evenly spaced samples in MiB."""
        last = len(self.samples) - 1
        picks = sorted({round(i * last / 9) for i in range(10)})
        return " ".join(f"{self.samples[i] / 1024:.0f}" for i in picks)


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(size: LoadSize, backend: str, tally: Tally, memory: Memory, seconds: float) -> str:
    """The campaign's figures as text."""
    total = sum(len(samples) for samples in tally.latencies.values())
    lines = [
        f"load: {size.sessions} sessions, {size.entries} routes, backend {backend}, "
        f"{seconds:.0f} s: {total} ops ({total / seconds:.0f}/s), "
        f"{len(tally.violations)} lock-rule violations, {len(tally.failures)} failures",
        f"agent RSS: {memory.start} KiB after warm-up, {memory.end} KiB at the end "
        f"({memory.growth:+.1%}), peak {max(memory.samples)} KiB; "
        f"MiB over the run: {memory.timeline()}",
        f"{'operation':<18}{'count':>8}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    for label, samples in sorted(tally.latencies.items()):
        p50, p99 = (percentile(samples, q) * 1000 for q in (0.5, 0.99))
        lines.append(f"{label:<18}{len(samples):>8}{p50:>9.1f}{p99:>9.1f}")
    lines.append("replies: " + ", ".join(f"{k}: {n}" for k, n in sorted(tally.replies.items())))
    lines += [str(v) for v in tally.violations[:20]] + tally.failures[:20]
    return "\n".join(lines)


def run_campaign(agent: LoadAgent, size: LoadSize) -> tuple[Tally, Memory, float]:
    """Run the workers for `size.seconds`; their merged tally, the RSS, the seconds."""
    model = LockModel()
    clock = Clock(size.sessions, size.seconds)
    workers = [Worker(i, agent, model, size, clock) for i in range(size.sessions)]
    for worker in workers:
        worker.start()
    clock.ready.wait()  # every session is connected
    deadline = clock.deadline
    memory = Memory()
    time.sleep(max(size.seconds * WARM_UP, WARM_UP_MIN))
    while True:
        memory.samples.append(rss_kib(agent.pid))
        if time.monotonic() >= deadline:
            break
        time.sleep(min(1.0, deadline - time.monotonic()))
    tally = Tally()
    for worker in workers:
        worker.join(120)
        assert not worker.is_alive(), f"{worker.name} did not finish"
        tally.merge(worker.tally)
    return tally, memory, time.monotonic() - clock.started


def test_load_campaign() -> None:
    size = LoadSize.from_env()
    backend = os.environ.get("FLYOS_LOAD_BACKEND", "none")
    previous = set_tick(TICK)
    try:
        with LoadAgent(size.entries, backend=backend) as agent:
            tally, memory, seconds = run_campaign(agent, size)
            status = agent.stop()
    finally:
        set_tick(previous)
    text = report(size, backend, tally, memory, seconds)
    print(text)
    assert not tally.failures, text
    assert not tally.violations, text
    assert status == 0 and agent.tracebacks == 0, "\n".join(agent.lines)
    assert memory.growth < MAX_GROWTH, text
    missing = set(IDLE) - set(tally.latencies)
    assert not missing, f"never ran: {missing}"
    refused = {reply.split(" -> ")[1] for reply in tally.replies} - {"ok"}
    assert {"lock-denied", "in-use", "operation-failed"} <= refused, "no contention:\n" + text
