"""The runner's command line, table and JSON lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest

from simulators.scenario import load_scenario, main, run

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SEED = SCENARIOS / "seed_other_devices_10a.yaml"


def _main(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out)
    return status, out.getvalue()


def test_table_output() -> None:
    status, text = _main(str(SEED))
    assert status == 0
    lines = text.splitlines()
    assert lines[0].startswith("# seed_other_devices_10a: ")
    assert lines[1].startswith("== 0:00:00  (car_1 arrives, car_2 arrives)")
    header = lines[2].split()
    assert header[:4] == ["charger", "car", "A", "phases"]
    rows = [line.split() for line in lines if line.startswith("  charger_")]
    assert rows
    assert all(row[1] in {"car_1", "car_2"} and row[2].isdigit() for row in rows)
    assert any(
        line.startswith("  group main ") and "meter 10.0/10.0/10.0" in line for line in lines
    )
    assert "== summary" in lines
    assert sum(line.startswith("  ok   at ") for line in lines) == 2


def test_json_lines_output() -> None:
    status, text = _main(str(SEED), "--json")
    assert status == 0
    records = [json.loads(line) for line in text.splitlines()]
    steps, summary = records[:-1], records[-1]
    assert steps
    for step in steps:
        assert set(step) >= {"time", "clock", "chargers", "groups", "overload", "grid_w"}
        for charger in step["chargers"].values():
            assert isinstance(charger["current"], int)
            assert charger["current"] == 0 or 6 <= charger["current"] <= 32
            assert set(charger["site_phases"]) <= {"L1", "L2", "L3"}
            assert len(charger["draw"]) == 3
        figures = step["groups"]["main"]
        assert len(figures["available"]) == 3
    assert steps[0]["events"] == ["car_1 arrives", "car_2 arrives"]
    assert steps[-1]["chargers"]["charger_1"]["current"] == 15
    assert set(summary) == {"summary"}
    assert all(check["passed"] for check in summary["summary"]["checks"])
    assert summary["summary"]["sustained_overload_as"] == 0.0


def test_every_n_prints_every_nth_step() -> None:
    status, text = _main(str(SEED), "--json", "--every", "15")
    assert status == 0
    times = [json.loads(line)["time"] for line in text.splitlines()[:-1]]
    assert times == [30.0 * index for index in range(len(times))]
    assert len(times) == 10  # 5 minutes in 2 s steps: 150 steps, every 15th


def test_default_prints_only_steps_where_something_happens() -> None:
    _status, text = _main(str(SEED), "--json")
    steps = [json.loads(line) for line in text.splitlines()[:-1]]
    assert len(steps) < 150
    for step in steps[1:]:
        assert step["events"] or any(c["changed"] for c in step["chargers"].values())


def test_a_failed_check_gives_status_1(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8").replace("current: 15", "current: 16", 1)
    path = tmp_path / "wrong.yaml"
    path.write_text(text, encoding="utf-8")
    status, output = _main(str(path))
    assert status == 1
    assert "FAIL at 0:02:00 charger_1: expected 16 A (group_fuse), got 15 A (group_fuse)" in output


def test_a_bad_file_gives_status_2_and_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("duration: 1m\ngroups: [{id: main, fuse: 25, colour: red}]\n", "utf-8")
    status, output = _main(str(path))
    assert status == 2
    assert output == ""
    assert "scenario: bad.groups[0]: unknown key 'colour'" in capsys.readouterr().err


def test_every_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        _main(str(SEED), "--every", "0")


def test_overload_is_shown(tmp_path: Path) -> None:
    path = tmp_path / "tight.yaml"
    path.write_text(
        dedent(
            """\
            duration: 20s
            site: {margin: 0}
            groups:
              - {id: main, fuse: 25, meter: m, load: {points: [[0, 0], [10s, 24]]}}
            chargers: [{id: c1, group: main}]
            cars: [{id: car, charger: c1, ramp: 100}]
            """
        ),
        "utf-8",
    )
    out = io.StringIO()
    run(load_scenario(path), out, every=1)
    text = out.getvalue()
    assert "OVERLOAD" not in text  # the cut comes in the cycle that sees the load
    assert "within one cycle of reaction" in text
    assert "0.0 A.s sustained" in text


def test_the_reference_files_load() -> None:
    home = load_scenario(SCENARIOS / "reference_home.yaml")
    building = load_scenario(SCENARIOS / "reference_building.yaml")
    assert len(home.config.chargers) == 2
    assert home.config.groups[0].fuse == (25.0, 25.0, 25.0)
    assert len(building.config.chargers) == 20
    assert len(building.config.groups) == 4


def test_a_silent_meter_puts_its_chargers_on_the_failsafe(tmp_path: Path) -> None:
    path = tmp_path / "silent.yaml"
    path.write_text(
        dedent(
            """\
            duration: 3m
            site: {margin: 0}
            groups:
              - {id: main, fuse: 40, meter: m, load: 10, meter_silent: [[1m, 2m]]}
            chargers: [{id: c1, group: main}]
            cars: [{id: car, charger: c1}]
            """
        ),
        "utf-8",
    )
    out = io.StringIO()
    run(load_scenario(path), out, as_json=True, every=1)
    steps = {step["time"]: step for step in map(json.loads, out.getvalue().splitlines()[:-1])}
    assert steps[50.0]["chargers"]["c1"]["current"] == 30
    silent = steps[100.0]  # silent for 40 s: past the 15 s meter timeout
    assert silent["chargers"]["c1"]["reason"] == "failsafe_meter_stale"
    assert silent["chargers"]["c1"]["current"] == 6
    assert silent["groups"]["main"]["meter_stale"] is True
    assert steps[170.0]["chargers"]["c1"]["current"] == 30  # data is back


def test_the_shell_wrapper_runs_the_module() -> None:
    root = SCENARIOS.parent
    environment = {**os.environ, "POWERSHARE_SKIP_SETUP": "1"}
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(root / "scripts" / "scenario"), str(SEED), "--json", "--every", "75"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        env=environment,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line.get("time") for line in lines[:-1]] == [0.0, 150.0]
    assert "summary" in lines[-1]
