"""Profiles for missed targets: cProfile in this process, py-spy attached to an agent.

Both give the top entries as short text lines: by self time (where the time
goes) and by inclusive time (which call owns it). Profiled runs are extra
runs, never the timed ones.
"""

from __future__ import annotations

import cProfile
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

TOP = 15
OURS = ("flyos_agent/",)
REPO = Path(__file__).resolve().parents[1]


def short(filename: str) -> str:
    """A source path relative to the repository or to site-packages."""
    for anchor in (str(REPO) + "/", "site-packages/", "lib/python3.11/"):
        if anchor in filename:
            return filename.split(anchor, 1)[1]
    return filename


def cprofile_top(function: Callable[[], Any], limit: int = TOP) -> list[str]:
    """Run `function` once under cProfile; its top entries by self and by cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(function)
    return stats_top(pstats.Stats(profiler), limit)


def stats_top(stats: pstats.Stats, limit: int = TOP) -> list[str]:
    """The top entries of cProfile stats by self and by cumulative time."""
    total = max(sum(row[2] for row in stats.stats.values()), 1e-9)  # type: ignore[attr-defined]
    rows = [
        (tottime, cumtime, calls, f"{name} ({short(file)}:{line})")
        for (file, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    lines = [f"cProfile, {total:.2f} s profiled; by self time:"]
    for tottime, cumtime, calls, where in sorted(rows, key=lambda r: -r[0])[:limit]:
        lines.append(f"  self {tottime:7.3f} s  cum {cumtime:7.3f} s  {calls:>8} calls  {where}")
    lines.append("by cumulative time:")
    for tottime, cumtime, calls, where in sorted(rows, key=lambda r: -r[1])[:limit]:
        lines.append(f"  cum {cumtime:7.3f} s  self {tottime:7.3f} s  {calls:>8} calls  {where}")
    return lines


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter (or on PATH), if installed."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Spy:
    """py-spy recording process `pid` (all threads) while the `with` block runs."""

    def __init__(self, pid: int, rate: int = 200) -> None:
        self.pid = pid
        self.rate = rate
        self.lines: list[str] = []
        self._dir = tempfile.TemporaryDirectory(prefix="fbench-spy-")
        self._out = Path(self._dir.name) / "stacks.txt"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Spy:
        executable = py_spy()
        if executable is None:
            self.lines = ["py-spy is not installed: pip install py-spy into the venv"]
            return self
        self._proc = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--function",
                "--nonblocking",
                "--output",
                str(self._out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        for line in self._proc.stdout:  # ends when py-spy has attached (or gave up)
            if b"Sampling process" in line:
                break
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)
            _, err = self._proc.communicate(timeout=60)
            if self._out.exists():
                self.lines = collapsed_top(self._out.read_text())
            else:
                self.lines = [f"py-spy failed: {err.decode(errors='replace').strip()[-300:]}"]
        self._dir.cleanup()


def collapsed_top(text: str, limit: int = TOP) -> list[str]:
    """Top functions of collapsed stacks ('f1;f2;f3 COUNT' lines) by self and inclusive share."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short_frame(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return ["py-spy recorded no samples"]
    ours = Counter(
        {frame: n for frame, n in inclusive.items() if frame.split(" (")[-1].startswith(OURS)}
    )
    lines = [f"py-spy, {total} samples (all threads); by self time:"]
    lines += [f"  self {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(limit)]
    lines.append("by inclusive time (agent code):")
    lines += [f"  incl {100 * n / total:5.1f}%  {frame}" for frame, n in ours.most_common(limit)]
    return lines


def _short_frame(frame: str) -> str:
    """'name (/long/path/file.py:12)' -> 'name (file path relative to the repo:12)'."""
    name, _, where = frame.partition(" (")
    return f"{name} ({short(where.rstrip(')'))})" if where else name
