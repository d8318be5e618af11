"""Figures judge their targets on medians; profiles of collapsed stacks name the top entries."""

from __future__ import annotations

from bench.common import Figure, markdown_table
from bench.profiling import collapsed_top


def figure(ours: list[float], reference: list[float], **limits: float) -> Figure:
    return Figure("x", "s", ours, reference, "ref", "target", **limits)  # type: ignore[arg-type]


def test_a_ratio_target_is_judged_on_the_medians() -> None:
    assert figure([1.0, 1.2, 9.0], [1.0, 1.0, 0.1], ratio_limit=1.2).met
    assert not figure([1.0, 1.3, 1.3], [1.0, 1.0, 1.0], ratio_limit=1.2).met


def test_an_absolute_target_must_hold_beside_the_ratio() -> None:
    assert not figure([12.0], [12.0], ratio_limit=1.3, absolute_limit=10.0).met
    assert figure([9.0], [12.0], ratio_limit=1.3, absolute_limit=10.0).met


def test_the_markdown_table_has_one_row_per_figure_with_spread_and_verdict() -> None:
    table = markdown_table([figure([1.0, 2.0, 3.0], [1.0], ratio_limit=1.5)])

    lines = table.splitlines()
    assert len(lines) == 3
    assert "2 [1..3] s" in lines[2]
    assert "2.00" in lines[2]
    assert lines[2].endswith("| MISSED |")


def test_collapsed_stacks_give_self_and_inclusive_shares() -> None:
    stacks = (
        "main (flyos_agent/daemon.py:1);commit (flyos_agent/runtime/manager.py:9) 3\n"
        "main (flyos_agent/daemon.py:1);parse (json/decoder.py:2) 1\n"
    )

    lines = collapsed_top(stacks)

    assert lines[0] == "py-spy, 4 samples (all threads); by self time:"
    assert lines[1] == "  self  75.0%  commit (flyos_agent/runtime/manager.py:9)"
    assert "  incl 100.0%  main (flyos_agent/daemon.py:1)" in lines
    assert not any("json/decoder" in line and "incl" in line for line in lines)
