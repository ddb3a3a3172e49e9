"""The plans benchmark's core runs on a tiny workload and its figures hold together."""

from __future__ import annotations

import pytest

from benchmarks import plans
from benchmarks.plans.compare import WAYS, compare, time_planner

OPTIMUM, PLANNER, AT_ONCE, ALONE = range(len(WAYS))


def test_the_core_scores_a_small_night() -> None:
    totals = compare(3, range(2))
    assert (totals.cars, totals.instances) == (3, 2)
    assert totals.cost[PLANNER] == pytest.approx(totals.cost[OPTIMUM], rel=1e-4)
    assert totals.delivered_kwh[PLANNER] == pytest.approx(totals.delivered_kwh[OPTIMUM], abs=1e-3)
    assert totals.missed[PLANNER] == totals.missed[OPTIMUM] == 0
    # Charging at once pays more; the cars planned alone deliver less (they miss targets).
    assert totals.cost[AT_ONCE] > totals.cost[OPTIMUM]
    assert totals.delivered_kwh[ALONE] < totals.delivered_kwh[OPTIMUM]
    assert totals.missed[ALONE] > 0
    assert abs(totals.worst_gap) < 1e-4
    text = plans.table([totals])
    lines = text.splitlines()
    assert len(lines) == 3
    assert "cost (EUR)" in lines[0]
    assert lines[2].split()[:3] == ["3", "2", f"{totals.asked_kwh:.0f}"]


def test_the_timing_counts_every_instance() -> None:
    timing = time_planner(2, range(3))
    assert len(timing.seconds) == 3
    assert 0 < timing.median_ms <= timing.max_ms
    assert all(solves >= 1 for solves in timing.solves)
    assert plans.timing_line(timing).startswith("planner, 2 cars x 96 slots: median")


def test_the_quick_run_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert plans.main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("plans: ")
    assert lines[1].startswith("machine: ")
    assert lines[2].startswith("python:  ")
    rows = [line.split() for line in lines if line.strip()[:2] in {"2 ", "10"}]
    assert [row[0] for row in rows] == ["2", "10"]
    assert any(line.startswith("planner, 10 cars x 96 slots: median") for line in lines)
    assert lines[-1].startswith("ran in ")
