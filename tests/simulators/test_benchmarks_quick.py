"""The benchmarks run on a tiny workload and print their tables."""

from __future__ import annotations

import pytest

from benchmarks import closed_loop, engine_speed
from simulators.scenario import load_scenario


def test_engine_speed_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert engine_speed.main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("engine speed")
    assert lines[1].startswith("machine: ")
    assert lines[2].startswith("python:  ")
    assert "median ms" in lines[3]
    rows = [line.split() for line in lines[4:]]
    assert [(row[0], row[1]) for row in rows] == [
        ("10", "ample"),
        ("10", "contended"),
        ("100", "ample"),
        ("100", "contended"),
    ]
    assert all(float(row[5]) > 0 for row in rows)


def test_closed_loop_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert closed_loop.main(["--quick"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("closed loop")
    tables = text.split("\n\n")[1:]
    assert len(tables) == 2
    for table in tables:
        lines = table.splitlines()
        header = ["Powershare", "chargers", "read", "late", "static", "sharing", "oracle"]
        assert lines[1].split() == header
        rows = {line[:48].strip(): line[48:].split() for line in lines[2:]}
        oracle = float(rows["EV energy delivered (kWh)"][3])
        for column in (0, 1):  # Powershare, with lined-up and with late charger readings
            assert float(rows["sustained fuse overload (A.s; goal 0)"][column]) == 0.0
            delivered = float(rows["EV energy delivered (kWh)"][column])
            assert 0 < delivered <= oracle * 1.01


def test_static_baseline_shares_the_fuse_by_cars_plugged_in() -> None:
    scenario = load_scenario(closed_loop.ROOT / "scenarios" / "seed_two_chargers_40a.yaml")
    site = scenario.build_site()
    site.now = 60.0
    offers = closed_loop.static_offers(scenario.config, site.snapshot())
    assert offers["charger_1"].current == 32  # 40 A alone, capped at the charger's 32 A
    assert offers["charger_2"].current == 0
    site.now = 180.0
    offers = closed_loop.static_offers(scenario.config, site.snapshot())
    assert offers["charger_1"].current == offers["charger_2"].current == 20
