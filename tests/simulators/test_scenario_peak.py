"""A capacity tariff's peak budget in the scenario runner: scenarios/peak_*.yaml and `site.peak`."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from custom_components.powershare.engine import Reason
from custom_components.powershare.peak import PeakMode
from simulators.scenario import ScenarioError, StepRecord, load_scenario, main, run, simulate
from simulators.scenario.peak import PeakWindow, peak_windows, window_of

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PEAK_FILES = sorted(SCENARIOS.glob("peak_*.yaml"))
NAMES = [path.stem for path in PEAK_FILES]
BRUSSELS = ZoneInfo("Europe/Brussels")

_RUNS: dict[str, list[StepRecord]] = {}


def _records(name: str) -> list[StepRecord]:
    if name not in _RUNS:
        _RUNS[name] = list(simulate(load_scenario(SCENARIOS / f"{name}.yaml")))
    return _RUNS[name]


def _windows(name: str) -> list[PeakWindow]:
    return peak_windows(load_scenario(SCENARIOS / f"{name}.yaml"), _records(name))


def _between(name: str, start: str, end: str) -> list[StepRecord]:
    first, last = (_clock(value) for value in (start, end))
    return [record for record in _records(name) if first <= record.time < last]


def _clock(value: str) -> float:
    hours, minutes = value.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


# --- the scenario files -----------------------------------------------------------------------


def test_the_five_peak_scenarios_are_there() -> None:
    assert set(NAMES) == {
        "peak_quarter_hour_two_cars",
        "peak_kettle_spreads_the_budget",
        "peak_one_phase_under_budget",
        "peak_house_alone_over",
        "peak_month_floor",
    }


@pytest.mark.parametrize("path", PEAK_FILES, ids=NAMES)
def test_every_check_in_the_peak_files_passes(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.peak is not None
    assert scenario.config.peak_budget
    assert scenario.expectations, "every peak scenario states what the chargers do"
    assert scenario.window_expectations, "and what its windows average"
    results = run(scenario, io.StringIO())
    assert [result.passed for result in results] == [True] * len(results)


@pytest.mark.parametrize("name", NAMES)
def test_no_window_averages_over_the_limit_unless_the_house_alone_does(name: str) -> None:
    windows = [window for window in _windows(name) if window.whole]
    assert len(windows) >= 2
    for window in windows:
        assert window.limit_w is not None
        assert not window.over or window.by_house, window


@pytest.mark.parametrize("name", NAMES)
def test_the_tracker_records_each_window_as_it_flowed(name: str) -> None:
    # The tracker integrates the meter's readings (before each decision); the windows here
    # are what flowed after it. Both see the same quarter-hours, within a few watts.
    flowed = {window.start: window for window in _windows(name)}
    midnight = load_scenario(SCENARIOS / f"{name}.yaml").midnight.timestamp()
    closed = [record.closed for record in _records(name) if record.closed is not None]
    assert len(closed) == len(flowed) - 1  # the last window closes after the run
    for record in closed:
        window = flowed[record.start - midnight]
        assert record.average_w == pytest.approx(window.average_w, abs=30.0)
        assert record.by_house == window.by_house


@pytest.mark.parametrize("name", NAMES)
def test_the_peak_scenarios_never_overload_a_fuse(name: str) -> None:
    assert sum(record.report.sustained_overload_as for record in _records(name)) == 0.0


def test_two_cars_share_the_budget_fairly() -> None:
    for record in _between("peak_quarter_hour_two_cars", "17:03", "17:14"):
        verdicts = record.decision.chargers
        amps = [verdicts[charger].target_current for charger in ("driveway", "carport")]
        assert min(amps) >= 6
        assert max(amps) - min(amps) <= 1
        assert {verdict.reason for verdict in verdicts.values()} == {Reason.PEAK_BUDGET}


def test_the_budget_given_to_the_engine_is_what_the_tracker_allows() -> None:
    records = _between("peak_quarter_hour_two_cars", "17:05", "17:10")
    for record in records:
        assert record.peak is not None
        assert record.peak.limit_w == 4000.0
        assert 3800.0 < record.peak.site_power_w < 4100.0
        assert record.decision.chargers["driveway"].detail == "limited by the peak budget"


def test_the_kettle_lowers_the_car_without_stopping_it() -> None:
    name = "peak_kettle_spreads_the_budget"
    amps = {
        record.time: record.decision.chargers["driveway"].target_current
        for record in _between(name, "17:00", "17:14")
    }
    assert min(amps.values()) == 6  # the kettle's 2 kW comes off the car, down to its minimum
    assert all(value >= 6 for value in amps.values())
    boiling = [value for time, value in amps.items() if _clock("17:05") <= time < _clock("17:08")]
    assert set(boiling) == {6}
    assert max(amps.values()) >= 15  # and takes the rest of the budget afterwards


def test_under_a_small_budget_the_car_charges_on_one_phase() -> None:
    records = _between("peak_one_phase_under_budget", "17:00", "17:14")
    verdicts = [record.decision.chargers["driveway"] for record in records]
    assert all(verdict.target_current >= 10 for verdict in verdicts)
    assert {len(verdict.site_phases) for verdict in verdicts} == {1}


def test_a_house_over_the_limit_leaves_the_cars_at_zero_and_sets_the_window() -> None:
    name = "peak_house_alone_over"
    for record in _between(name, "17:15", "17:30"):
        for verdict in record.decision.chargers.values():
            assert verdict.target_current == 0
            assert verdict.reason is Reason.BELOW_MIN
            assert verdict.detail == "less than the minimum left on the peak budget"
            assert verdict.limit_group == "home"
    dinner = next(window for window in _windows(name) if window.start == _clock("17:15"))
    assert dinner.by_house
    assert dinner.house_w == pytest.approx(dinner.average_w)
    closed = next(record.closed for record in _records(name) if record.time == _clock("17:30"))
    assert closed is not None
    assert closed.by_house


def test_the_month_peak_starts_at_the_floor_and_follows_the_house() -> None:
    name = "peak_month_floor"
    limits = {window.start: window.limit_w for window in _windows(name)}
    assert {limits[_clock(t)] for t in ("17:00", "17:15", "17:30", "17:45", "18:00")} == {2500.0}
    raised = {limits[_clock(t)] for t in ("18:15", "18:30", "18:45")}
    assert len(raised) == 1
    assert raised.pop() == pytest.approx(5980.0, abs=30.0)  # the dinner window's average
    # While the floor holds, one car charges and the other waits, and they swap each window.
    charging = {
        _clock(t): next(
            charger_id
            for charger_id, verdict in next(
                record for record in _records(name) if record.time == _clock(t) + 300
            ).decision.chargers.items()
            if verdict.target_current > 0
        )
        for t in ("17:00", "17:15", "17:30", "17:45")
    }
    assert list(charging.values()) == ["carport", "driveway", "carport", "driveway"]


def test_the_car_charges_through_the_end_of_a_window() -> None:
    """On track, the budget keeps its rate through a window's last minute: no stop at :15."""
    records = _between("peak_kettle_spreads_the_budget", "17:10", "17:20")
    assert all(record.decision.chargers["driveway"].target_current >= 6 for record in records)


# --- the runner ---------------------------------------------------------------------------------

BASE = """\
duration: 30m
site: {margin: 1, start: 2026-03-02T17:00, peak: {mode: fixed, limit: 4 kW}}
groups:
  - {id: home, fuse: 25, meter: m, load: 2}
chargers:
  - {id: c1, group: home}
cars:
  - {id: car, charger: c1}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


def test_the_start_sets_the_clock_and_the_windows(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, BASE))
    assert scenario.start == datetime(2026, 3, 2, 17, 0, tzinfo=BRUSSELS)
    assert scenario.begin == _clock("17:00")
    assert scenario.end == _clock("17:30")
    assert scenario.peak is not None
    assert scenario.peak.mode is PeakMode.FIXED
    assert scenario.peak.limit_w == 4000.0
    assert scenario.peak.window_min == 15
    assert window_of(scenario, _clock("17:07")) == (_clock("17:00"), _clock("17:15"))
    records = list(simulate(scenario))
    assert records[0].time == _clock("17:00")
    assert records[-1].time == _clock("17:30") - 2.0
    assert records[0].peak is not None
    assert records[0].peak.window_start == scenario.moment(_clock("17:00")).timestamp()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-02 17:00:00", datetime(2026, 3, 2, 17, 0, tzinfo=BRUSSELS)),  # a YAML timestamp
        (
            "2026-03-02T16:00:00Z",
            datetime(2026, 3, 2, 17, 0, tzinfo=BRUSSELS),
        ),  # UTC: 17:00 in Brussels
        ('"2026-07-01T08:30"', datetime(2026, 7, 1, 8, 30, tzinfo=BRUSSELS)),
        ("2026-03-02", datetime(2026, 3, 2, tzinfo=BRUSSELS)),
    ],
)
def test_forms_of_the_start(tmp_path: Path, start: str, expected: datetime) -> None:
    text = BASE.replace("start: 2026-03-02T17:00", f"start: {start}")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.start == expected
    assert (scenario.start.hour, scenario.start.tzinfo) == (expected.hour, BRUSSELS)


def test_hourly_windows_follow_the_local_clock(tmp_path: Path) -> None:
    # India is 5 h 30 min off UTC: an hourly window starts at the local full hour.
    text = BASE.replace(
        "start: 2026-03-02T17:00,", "start: 2026-03-02T17:00, timezone: Asia/Kolkata,"
    )
    text = text.replace("limit: 4 kW}", "limit: 4 kW, window: 1h}")
    scenario = load_scenario(_write(tmp_path, text))
    assert window_of(scenario, _clock("17:20")) == (_clock("17:00"), _clock("18:00"))


def test_a_month_peak_takes_the_floor(tmp_path: Path) -> None:
    text = BASE.replace("{mode: fixed, limit: 4 kW}", "{mode: month_peak, floor: 3000 W}")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.peak is not None
    assert scenario.peak.mode is PeakMode.MONTH_PEAK
    assert scenario.peak.floor_w == 3000.0
    assert next(iter(simulate(scenario))).peak is not None


def test_mode_off_is_no_budget(tmp_path: Path) -> None:
    scenario = load_scenario(
        _write(tmp_path, BASE.replace("mode: fixed, limit: 4 kW", "mode: off"))
    )
    assert scenario.peak is None
    assert not scenario.config.peak_budget
    assert all(record.peak is None for record in simulate(scenario))


def test_without_a_start_the_scenario_begins_at_midnight() -> None:
    scenario = load_scenario(SCENARIOS / "seed_other_devices_10a.yaml")
    assert scenario.begin == 0.0
    assert scenario.peak is None
    assert not scenario.config.peak_budget
    assert next(iter(simulate(scenario))).peak is None


def test_the_output_shows_the_budget_and_the_windows() -> None:
    out = io.StringIO()
    status = main([str(SCENARIOS / "peak_house_alone_over.yaml")], out)
    assert status == 0
    text = out.getvalue()
    assert "== 17:00:00  (car_1 arrives, car_2 arrives)" in text
    assert "peak: window average 0.00 kW of 4.00, budget 3.92 kW" in text
    assert (
        "  peak window 17:15:00-17:30:00: average 5.980 kW (house 5.980 kW), limit 4.00 kW" in text
    )
    assert "[set by the house]" in text
    assert "ok   window ending 17:30:00: average >= 5.90 kW, set by the house, got 5.980 kW" in text


def test_the_json_lines_carry_the_budget() -> None:
    out = io.StringIO()
    main([str(SCENARIOS / "peak_house_alone_over.yaml"), "--json", "--every", "450"], out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    steps, summary = lines[:-1], lines[-1]["summary"]
    assert [step["clock"] for step in steps] == ["17:00:00", "17:15:00", "17:30:00", "17:45:00"]
    assert steps[0]["peak"]["limit_w"] == 4000.0
    assert steps[0]["closed_window"] is None
    assert steps[2]["closed_window"]["by_house"] is True
    assert len(summary["peak_windows"]) == 4
    window_checks = [check for check in summary["checks"] if "window_ending" in check]
    assert [check["passed"] for check in window_checks] == [True, True, True]
    plain = io.StringIO()
    main([str(SCENARIOS / "seed_other_devices_10a.yaml"), "--json"], plain)
    assert all("peak" not in json.loads(line) for line in plain.getvalue().splitlines()[:-1])


def test_a_failed_window_check_fails_the_run(tmp_path: Path) -> None:
    text = BASE + "expect:\n  - {window_ending: '17:15', average_at_most: 3 kW}\n"
    out = io.StringIO()
    assert main([str(_write(tmp_path, text))], out) == 1
    assert "FAIL window ending 17:15:00: average <= 3.00 kW, got 3." in out.getvalue()


def test_a_phases_check(tmp_path: Path) -> None:
    text = BASE.replace("{id: c1, group: home}", "{id: c1, group: home, can_switch_phases: true}")
    text += "expect:\n  - {at: '17:10', charger: c1, current: 8, phases: 3}\n"
    out = io.StringIO()
    assert main([str(_write(tmp_path, text))], out) == 1
    assert "expected 8 A on 3 phase(s), got 11 A (peak_budget) on 1 phase(s)" in out.getvalue()


# --- loader errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("mode: fixed", "mode: turbo", "site.site.peak.mode: 'turbo' is not one of off, fixed"),
        ("limit: 4 kW", "limit: 0.8 kW", "site.site.peak.limit: a fixed limit must be at least"),
        ("limit: 4 kW", "limit: 999", "site.site.peak.limit: a fixed limit must be at least 1000"),
        ("mode: fixed, limit: 4 kW", "mode: fixed", "site.site.peak.limit: a fixed limit must"),
        ("limit: 4 kW}", "limit: 4 kW, window: 30m}", "site.site.peak.window: the window must be"),
        ("limit: 4 kW}", "limit: 4 kW, window: 90s}", "site.site.peak.window: expected whole"),
        ("limit: 4 kW", "limit: 4 kVA", "site.site.peak.limit: expected a power ('4 kW'"),
        ("limit: 4 kW", "limit: 4 kW, floor: 2 kW", "site.site.peak.floor: only with mode"),
        (
            "mode: fixed, limit: 4 kW",
            "mode: month_peak, floor: 0.5 kW",
            "site.site.peak.floor: the floor must be at least 1000 W",
        ),
        ("mode: fixed, limit: 4 kW", "mode: month_peak, limit: 4 kW", "peak.limit: only with"),
        ("limit: 4 kW}", "limit: 4 kW, colour: red}", "site.site.peak: unknown key 'colour'"),
        ("{mode: fixed, limit: 4 kW}", "4 kW", "site.site.peak: expected a mapping"),
        ("meter: m, ", "", "site.site.peak: the root group 'home' needs a meter"),
        ("start: 2026-03-02T17:00", "start: tomorrow", "site.site.start: expected a local date"),
        ("start: 2026-03-02T17:00,", "timezone: Mars/Olympus,", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_clear_peak_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BASE
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, BASE.replace(old, new)))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            "{window_ending: '17:10', average_at_most: 4 kW}",
            "site.expect[0].window_ending: 17:10:00 is not the end of a 15-minute window",
        ),
        (
            "{window_ending: '17:45', average_at_most: 4 kW}",
            "the window ending 17:45:00 is not wholly within the run (17:00:00-17:30:00)",
        ),
        ("{window_ending: '17:15'}", "site.expect[0]: give average_at_most, average_at_least"),
        ("{window_ending: '17:15', average_at_most: lots}", "average_at_most: expected a power"),
        ("{window_ending: '17:15', by_house: maybe}", "by_house: expected true or false"),
        ("{at: 10m, charger: c1, current: 6}", "site.expect[0].at: 0:10:00 is before the run"),
        ("{at: '17:10', charger: c1, current: 6, phases: 4}", "phases: expected 1, 2 or 3"),
    ],
)
def test_clear_check_errors(tmp_path: Path, check: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, BASE + f"expect:\n  - {check}\n"))
    assert message in str(caught.value)


def test_a_window_check_needs_a_peak(tmp_path: Path) -> None:
    text = BASE.replace(", peak: {mode: fixed, limit: 4 kW}", "")
    text += "expect:\n  - {window_ending: '17:15', average_at_most: 4 kW}\n"
    with pytest.raises(ScenarioError, match=r"expect\[0\]: a window check needs a peak budget"):
        load_scenario(_write(tmp_path, text))
