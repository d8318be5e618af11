"""The seven scenarios of issue #10 run in order, into one JSON result file.

Each scenario module has `run(scale) -> list[Figure]`. The result records,
beside the figures, the scale, the machine, the commit, and the load
average before and after each scenario (the machine may be shared: the
ratios are measured in the same run as their references, absolute times
are context).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import bulk, firewall, incremental, kernel, netconf, startup, validation
from bench.common import Figure, Scale, load_average

SCENARIOS: dict[str, Callable[[Scale], list[Figure]]] = {
    "bulk": bulk.run,
    "kernel": kernel.run,
    "incremental": incremental.run,
    "firewall": firewall.run,
    "validation": validation.run,
    "rpc": netconf.run,
    "startup": startup.run,
}
REPO = Path(__file__).resolve().parents[1]


@dataclass
class SuiteResult:
    """Figures, failures and the conditions they were measured in."""

    scale: Scale
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    load_start: list[float] = field(default_factory=load_average)
    load_end: list[float] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    scenarios: list[dict[str, Any]] = field(default_factory=list)

    def load_text(self) -> str:
        """'start 1.2 1.0 0.9, end ...' (1, 5, 15 minutes)."""
        start = " ".join(f"{v:g}" for v in self.load_start)
        end = " ".join(f"{v:g}" for v in self.load_end)
        return f"start {start}, end {end} (1/5/15 min, {os.cpu_count()} CPUs)"

    def as_dict(self) -> dict[str, Any]:
        """The whole result as JSON-ready data."""
        return {
            "started": self.started,
            "machine": machine(),
            "scale": dataclasses.asdict(self.scale),
            "load_average": {"start": self.load_start, "end": self.load_end},
            "scenarios": self.scenarios,
            "figures": [figure.as_dict() for figure in self.figures],
            "failures": self.failures,
        }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit or None,
    }


def run_suite(names: list[str], scale: Scale, out: Path) -> SuiteResult:
    """Run the scenarios `names` in order; write the result to `out` after each one."""
    result = SuiteResult(scale)
    for name in names:
        before, start = load_average(), time.perf_counter()
        print(f"-- {name} (load {' '.join(map(str, before))})", flush=True)
        entry: dict[str, Any] = {"name": name, "load_before": before}
        try:
            figures = SCENARIOS[name](scale)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            traceback.print_exc()
            result.failures.append({"scenario": name, "error": f"{type(exc).__name__}: {exc}"})
            entry["error"] = f"{type(exc).__name__}: {exc}"
        else:
            result.figures += figures
            for figure in figures:
                print("   " + figure.row(), flush=True)
        entry.update(seconds=round(time.perf_counter() - start, 1), load_after=load_average())
        result.scenarios.append(entry)
        result.load_end = load_average()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.as_dict(), indent=2))
    return result
