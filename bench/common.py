"""Timing, reporting and test data shared by the benchmark scenarios."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROUTE_VIA = "192.0.2.1"
PORT = "eth0"
PORT_ADDRESS = "192.0.2.2"


@dataclass(frozen=True)
class Scale:
    """How big and how often: the issue's sizes by default, tiny ones for smoke tests."""

    routes: int = 100_000
    small_routes: int = 1_000
    rules: int = 50_000
    runs: int = 3
    commits: int = 100
    history: int = 50
    restarts: int = 3
    rpc_requests: int = 1000
    sessions: int = 20


TINY = Scale(
    routes=300,
    small_routes=30,
    rules=60,
    runs=1,
    commits=4,
    history=3,
    restarts=1,
    rpc_requests=20,
    sessions=2,
)


@dataclass
class Figure:
    """One measured quantity: samples of ours and of the reference, and the target."""

    scenario: str
    unit: str
    ours: list[float]
    reference: list[float] | None
    reference_name: str
    target: str
    ratio_limit: float | None = None
    absolute_limit: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)

    @property
    def ours_median(self) -> float:
        """The median of our samples."""
        return statistics.median(self.ours)

    @property
    def reference_median(self) -> float | None:
        """The median of the reference's samples (None without a reference)."""
        return statistics.median(self.reference) if self.reference else None

    @property
    def ratio(self) -> float | None:
        """Our median over the reference's median."""
        ref = self.reference_median
        return self.ours_median / ref if ref else None

    @property
    def met(self) -> bool:
        """Whether every limit of the target holds for the medians."""
        ok = True
        if self.ratio_limit is not None and self.ratio is not None:
            ok = ok and self.ratio <= self.ratio_limit
        if self.absolute_limit is not None:
            ok = ok and self.ours_median <= self.absolute_limit
        return ok

    def cells(self) -> list[str]:
        """The table cells: scenario, ours, reference, ratio, target, verdict."""
        ours = f"{_spread(self.ours)} {self.unit}"
        reference = "-"
        if self.reference:
            reference = f"{_spread(self.reference)} {self.unit} ({self.reference_name})"
        ratio = f"{self.ratio:.2f}" if self.ratio is not None else "-"
        return [self.scenario, ours, reference, ratio, self.target, "met" if self.met else "MISSED"]

    def row(self) -> str:
        """One line of the printed table."""
        return " | ".join(self.cells())

    def as_dict(self) -> dict[str, Any]:
        """The figure with its medians, ratio and verdict, for the JSON result."""
        return {
            **asdict(self),
            "ours_median": self.ours_median,
            "reference_median": self.reference_median,
            "ratio": self.ratio,
            "met": self.met,
        }


def _spread(samples: list[float]) -> str:
    """'median [min..max]' with four significant digits."""
    median = statistics.median(samples)
    return f"{median:.4g} [{min(samples):.4g}..{max(samples):.4g}]"


HEADER = ["scenario", "ours median [min..max]", "reference median [min..max]", "ratio", "target"]


def markdown_table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (what bench/README.md shows)."""
    lines = [
        "| " + " | ".join([*HEADER, "verdict"]) + " |",
        "|" + "---|" * (len(HEADER) + 1),
    ]
    lines += ["| " + " | ".join(figure.cells()) + " |" for figure in figures]
    return "\n".join(lines)


def repeat(function: Callable[[], float], times: int) -> list[float]:
    """Run `function` (which returns one measured value) `times` times."""
    return [function() for _ in range(times)]


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of `function` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def rss_mb(pid: int | str = "self") -> float:
    """The resident set size of process `pid` (default: this one) now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages now."""
    return [round(value, 2) for value in os.getloadavg()]


def route_prefix(index: int) -> str:
    """The `index`-th benchmark /24 (10.0.0.0/24, 10.0.1.0/24, ... then 11.x)."""
    return f"{10 + index // 65536}.{(index // 256) % 256}.{index % 256}.0/24"


def route_config(count: int, *, dev: str = PORT) -> dict[str, Any]:
    """An RFC 7951 configuration with one interface and `count` /24 static routes."""
    routes = [{"prefix": route_prefix(i), "via": ROUTE_VIA, "dev": dev} for i in range(count)]
    config: dict[str, Any] = {
        "flyos-interfaces:interfaces": {
            "interface": [
                {
                    "name": dev,
                    "type": "ethernet",
                    "ipv4": {"address": [{"ip": PORT_ADDRESS, "prefix-length": 24}]},
                }
            ]
        },
    }
    if count:
        config["flyos-routing:routing"] = {"static": routes}
    return config


def report(title: str, figures: list[Figure], name: str) -> Path:
    """Print the table and write the JSON result file; returns its path."""
    print_table(title, figures)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps([f.as_dict() for f in figures], indent=2))
    print(f"results: {out}")
    return out


def print_table(title: str, figures: list[Figure]) -> None:
    """Print the figures under `title`, one line each."""
    print(f"\n== {title}")
    print(" | ".join([*HEADER, "verdict"]))
    for figure in figures:
        print(figure.row())
