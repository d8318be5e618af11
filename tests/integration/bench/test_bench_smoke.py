"""Every bench scenario runs at a tiny size and gives complete figures; the suite writes one
JSON result. Nothing here asserts on time: only that the figures are there and whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import TINY, Figure
from bench.suite import SCENARIOS, run_suite

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_gives_whole_figures_at_a_tiny_size(name: str) -> None:
    figures = SCENARIOS[name](TINY)

    assert figures
    for figure in figures:
        assert isinstance(figure, Figure)
        assert figure.ours and all(sample > 0 for sample in figure.ours)
        assert figure.reference and all(sample > 0 for sample in figure.reference)
        assert figure.ratio is not None
        assert figure.target
        assert figure.ratio_limit is not None or figure.absolute_limit is not None
        if not figure.met:
            assert figure.profile, f"{figure.scenario} missed without a profile"


def test_the_command_writes_one_json_result_with_the_load_average(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--out", str(out), "validation", "kernel"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert [entry["name"] for entry in result["scenarios"]] == ["validation", "kernel"]
    assert [figure["scenario"][:2] for figure in result["figures"]] == ["5.", "2a", "2b"]
    assert len(result["load_average"]["start"]) == 3
    assert result["failures"] == []
    assert "| scenario |" in done.stdout


def test_a_failing_scenario_is_reported_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scale: object) -> list[Figure]:
        raise RuntimeError("no kernel today")

    monkeypatch.setitem(SCENARIOS, "bulk", broken)

    result = run_suite(["bulk", "validation"], TINY, tmp_path / "bench.json")

    assert result.failures == [{"scenario": "bulk", "error": "RuntimeError: no kernel today"}]
    assert [figure.scenario[:2] for figure in result.figures] == ["5."]
