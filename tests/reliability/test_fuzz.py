"""The fuzz campaign: every channel's parser, on mutated valid messages and on known attacks.

Hypothesis drives it: it is already a test dependency, it runs in-process against the
real entry points (fuzz_targets.py), and a failing input is shrunk to a minimal one and
printed for replay. (atheris would add coverage guidance, but needs a libFuzzer build
and cannot shrink.) Inputs are the targets' seeds after a few byte-level mutations
(flips, deletions, insertions of the channel's own tokens, splices, amplification by
up to 2048 repeats) or plain random bytes.

Every case must answer within MAX_CASE_SECONDS (CPU, and wall time on a second try when
the shared machine made the first slow) and MAX_CASE_KB of peak memory growth, with no
unexpected exception; the figures (cases, slowest case, peak memory per case, RSS over
the run) are printed in pytest's summary. Garbage collection pauses are measured apart
(see run_case); every RESET_EVERY cases the objects alive so far move out of the
collector's sight (gc.freeze), so Hypothesis's growing record does not make them longer.
`FLYOS_CAMPAIGN=full` runs FULL_CASES per target, CI runs CI_CASES.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .agent_harness import campaign_full, campaign_size
from .fuzz_harness import (
    MAX_CASE_KB,
    MAX_CASE_SECONDS,
    MAX_INPUT,
    Crash,
    ErrorTrap,
    FuzzTarget,
)
from .fuzz_targets import TARGETS, opened

FULL_CASES = 100_000
CI_CASES = {"netconf": 1200, "rest": 1200, "mcp": 1500, "ipc": 2000, "dsl": 2000}
RESET_EVERY = 1000  # cases between fresh Managers: running must not grow for ever


# ---------------------------------------------------------------------- inputs


def mutate(seed: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    """`seed` after each (kind, where, amount, token) operation, capped at MAX_INPUT."""
    data = bytearray(seed)
    for kind, where, amount, token in ops:
        at = where % (len(data) + 1)
        if kind == 0 and data:
            data[at % len(data)] ^= 1 << (amount % 8)
        elif kind == 1 and data:
            data[at % len(data)] = amount % 256
        elif kind == 2:
            del data[at : at + 1 + amount % 64]
        elif kind == 3:
            data[at:at] = token
        elif kind == 4:
            data[at:at] = data[at : at + 1 + amount % 256]
        elif kind == 5:
            data[at:at] = token * (1 + amount % 2048)
        elif kind == 6:
            data[at:] = token[amount % (len(token) + 1) :]
        else:
            data[at : at + amount % 32] = token
        del data[MAX_INPUT:]
    return bytes(data)


def fuzz_input(target: type[FuzzTarget]) -> st.SearchStrategy[bytes]:
    """Seeds of `target` with up to 6 mutations (3 in 4 cases), or random bytes."""
    pool = [*target.tokens, *target.seeds]
    op = st.tuples(
        st.integers(0, 7), st.integers(0, 1 << 16), st.integers(0, 1 << 16), st.sampled_from(pool)
    )
    mutated = st.builds(mutate, st.sampled_from(target.seeds), st.lists(op, max_size=6))
    return st.one_of(mutated, mutated, mutated, st.binary(max_size=1024))


# ---------------------------------------------------------------------- measuring


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")


@dataclass
class Figures:
    """What a campaign measured."""

    cases: int = 0
    max_seconds: float = 0.0
    max_cpu_seconds: float = 0.0
    slowest: bytes = b""
    reruns: int = 0
    max_gc_seconds: float = 0.0
    max_case_kb: int = 0
    rss_start_kb: int = 0
    rss_end_kb: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "crashes": 0,
            "max_case_ms": round(self.max_seconds * 1000, 1),
            "max_case_cpu_ms": round(self.max_cpu_seconds * 1000, 1),
            "slow_reruns": self.reruns,
            "max_case_gc_ms": round(self.max_gc_seconds * 1000, 1),
            "max_case_peak_kb": self.max_case_kb,
            "rss_growth_kb": self.rss_end_kb - self.rss_start_kb,
            "slowest": repr(self.slowest[:60]),
        }


class GcClock:
    """Seconds spent collecting garbage so far (a gc.callbacks hook)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start


GC_CLOCK = GcClock()


def _measured(target: FuzzTarget, data: bytes) -> tuple[str, float, float, float, int]:
    """(answer, wall s, CPU s of the whole process, s spent collecting garbage, peak RSS
    growth in kB)."""
    _reset_peak()
    before = _status_kb("VmRSS:")
    wall, cpu, collecting = time.perf_counter(), time.process_time(), GC_CLOCK.seconds
    answer = target.answer(data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    collecting = GC_CLOCK.seconds - collecting
    return answer, wall, cpu, collecting, max(0, _status_kb("VmHWM:") - before)


def run_case(target: FuzzTarget, data: bytes, figures: Figures, trap: ErrorTrap) -> str:
    """One input through `target`, measured; Crash if it broke a promise, hung or bloated.

    Time spent collecting garbage is left out: a collection scans every object of the
    process, and the campaign's own (Hypothesis's record of it) outnumber the agent's.
    The machine may be shared: a case over MAX_CASE_SECONDS of wall time that used less
    CPU than that is run once more, and fails only if it is slow again.
    """
    if figures.cases and figures.cases % RESET_EVERY == 0:
        target.reset()
        gc.freeze()  # what the campaign keeps is not the cases' to scan
    answer, seconds, cpu, collecting, peak = _measured(target, data)
    seconds, cpu = seconds - collecting, cpu - collecting
    figures.cases += 1
    figures.max_case_kb = max(figures.max_case_kb, peak)
    figures.max_cpu_seconds = max(figures.max_cpu_seconds, cpu)
    figures.max_gc_seconds = max(figures.max_gc_seconds, collecting)
    if seconds > figures.max_seconds:
        figures.max_seconds, figures.slowest = seconds, data
    problems = trap.take()
    if problems:
        raise Crash(f"unexpected exception(s) logged: {problems}")
    if peak > MAX_CASE_KB:
        raise Crash(f"peak memory grew by {peak} kB")
    if cpu > MAX_CASE_SECONDS:
        raise Crash(f"used {cpu:.2f} s of CPU (and {collecting:.2f} s collecting garbage)")
    if seconds > MAX_CASE_SECONDS:
        figures.reruns += 1
        _, again, _, collected, _ = _measured(target, data)
        if again - collected > MAX_CASE_SECONDS:
            raise Crash(f"took {seconds:.2f} s, and {again - collected:.2f} s again")
    return answer


@contextmanager
def trapped() -> Iterator[ErrorTrap]:
    """An ErrorTrap on the root logger, and GC_CLOCK running, for the duration."""
    trap = ErrorTrap()
    root = logging.getLogger()
    root.addHandler(trap)
    gc.callbacks.append(GC_CLOCK)
    try:
        yield trap
    finally:
        gc.callbacks.remove(GC_CLOCK)
        root.removeHandler(trap)


def campaign(target: FuzzTarget, cases: int, trap: ErrorTrap) -> Figures:
    """`cases` generated inputs through `target` (stops at the first failure, shrunk)."""
    figures = Figures(rss_start_kb=_status_kb("VmRSS:"))

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=not campaign_full(),
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzz_input(type(target)))
    def one(data: bytes) -> None:
        run_case(target, data, figures, trap)

    one()
    figures.rss_end_kb = _status_kb("VmRSS:")
    return figures


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", list(TARGETS))
def test_known_attacks_are_refused_precisely(name: str, tmp_path: Path) -> None:
    """XXE, billion laughs, 10 000-deep XML and JSON, a digit that is not ASCII: one
    precise refusal each, in bounded time and memory; then a valid message is answered."""
    figures = Figures()
    with opened(name, tmp_path) as target, trapped() as trap:
        attacks = target.attacks()
        assert attacks
        for attack in attacks:
            answer = run_case(target, attack.data, figures, trap)
            assert attack.expect in answer, f"{attack.name}: {answer[:400]}"
        run_case(target, target.seeds[0], figures, trap)


@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_campaign(
    name: str, tmp_path: Path, campaign_report: Callable[[str, dict[str, Any]], None]
) -> None:
    """Mutated messages never crash, hang or bloat the channel (see the module doc)."""
    cases = campaign_size(CI_CASES[name], FULL_CASES)
    with opened(name, tmp_path) as target, trapped() as trap:
        figures = campaign(target, cases, trap)
    campaign_report(f"fuzz {name}", figures.summary())
    assert figures.cases >= cases
