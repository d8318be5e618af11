"""Timing, reporting and test data shared by the benchmark scenarios."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


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

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def reference_median(self) -> float | None:
        return statistics.median(self.reference) if self.reference else None

    @property
    def ratio(self) -> float | None:
        ref = self.reference_median
        return self.ours_median / ref if ref else None

    @property
    def met(self) -> bool:
        ok = True
        if self.ratio_limit is not None and self.ratio is not None:
            ok = ok and self.ratio <= self.ratio_limit
        if self.absolute_limit is not None:
            ok = ok and self.ours_median <= self.absolute_limit
        return ok

    def row(self) -> str:
        ref = self.reference_median
        ratio = f"{self.ratio:.2f}" if self.ratio is not None else "-"
        ref_text = f"{ref:.4g} {self.unit}" if ref is not None else "-"
        return (
            f"{self.scenario:<44} {self.ours_median:>10.4g} {self.unit:<3} "
            f"[{min(self.ours):.4g}..{max(self.ours):.4g}]  "
            f"{self.reference_name:<24} {ref_text:>12}  ratio {ratio:>6}  "
            f"target {self.target:<18} {'met' if self.met else 'MISSED'}"
        )


def repeat(function: Callable[[], float], times: int) -> list[float]:
    """Run `function` (which returns one measured value) `times` times."""
    return [function() for _ in range(times)]


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of `function` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def route_config(count: int, *, dev: str = "eth0") -> dict[str, Any]:
    """An RFC 7951 configuration with one interface and `count` /24 static routes."""
    routes = [
        {
            "prefix": f"{10 + i // 65536}.{(i // 256) % 256}.{i % 256}.0/24",
            "via": "192.0.2.1",
            "dev": dev,
        }
        for i in range(count)
    ]
    return {
        "flyos-interfaces:interfaces": {
            "interface": [
                {
                    "name": dev,
                    "type": "ethernet",
                    "ipv4": {"address": [{"ip": "192.0.2.2", "prefix-length": 24}]},
                }
            ]
        },
        "flyos-routing:routing": {"static": routes},
    }


def report(title: str, figures: list[Figure], name: str) -> Path:
    """Print the table and write the JSON result file; returns its path."""
    print(f"\n== {title}")
    print(
        f"{'scenario':<44} {'ours (median)':>14} {'[min..max]':<14} "
        f"{'reference':<24} {'ref median':>12}  {'ratio':>12}  target"
    )
    for figure in figures:
        print(figure.row())
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    payload = [
        {**asdict(f), "ours_median": f.ours_median, "ratio": f.ratio, "met": f.met} for f in figures
    ]
    out.write_text(json.dumps(payload, indent=2))
    print(f"results: {out}")
    return out
