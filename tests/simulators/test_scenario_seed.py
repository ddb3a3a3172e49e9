"""Every worked example of seed 003 gives the seed's numbers (scenarios/seed_*.yaml)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from custom_components.powershare.engine import Reason
from simulators.scenario import StepRecord, load_scenario, run, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# (file, time in s, charger, current the seed states, reason or None). Written out here from
# the seed's text, independently of the `expect` lists in the files.
SEED_NUMBERS = [
    # Static sharing: one car alone gets what it can take (32 A); two cars 20 A each.
    ("seed_two_chargers_40a", 60, "charger_1", 32, Reason.AT_REQUEST),
    ("seed_two_chargers_40a", 240, "charger_1", 20, Reason.GROUP_FUSE),
    ("seed_two_chargers_40a", 240, "charger_2", 20, Reason.GROUP_FUSE),
    # Other devices at 10 A on a 40 A fuse: 30 A left, 15 A each.
    ("seed_other_devices_10a", 120, "charger_1", 15, Reason.GROUP_FUSE),
    ("seed_other_devices_10a", 120, "charger_2", 15, Reason.GROUP_FUSE),
    # A 20 A surplus: 10 A each, so the net usage is 0.
    ("seed_solar_surplus_20a", 180, "charger_1", 10, Reason.SOLAR_SURPLUS),
    ("seed_solar_surplus_20a", 180, "charger_2", 10, Reason.SOLAR_SURPLUS),
    # A slower car at 16 A: limited to 16 A, the other gets 24 A; back to 20/20 later.
    ("seed_slower_car_16a", 60, "charger_1", 20, None),
    ("seed_slower_car_16a", 300, "charger_1", 24, None),
    ("seed_slower_car_16a", 300, "charger_2", 16, Reason.CAR_DRAWS_LESS),
    ("seed_slower_car_16a", 660, "charger_1", 20, None),
    ("seed_slower_car_16a", 660, "charger_2", 20, None),
    # A full car: set to 0, the other gets all it can take.
    ("seed_full_car", 480, "charger_1", 32, None),
    ("seed_full_car", 480, "charger_2", 0, Reason.CAR_NOT_DRAWING),
    # 100 A main fuse, 30 A sub-group: 15 A each; 10 A each once the building uses 80 A.
    ("seed_main_100a_group_30a", 240, "charger_1", 15, Reason.GROUP_FUSE),
    ("seed_main_100a_group_30a", 240, "charger_2", 15, Reason.GROUP_FUSE),
    ("seed_main_100a_group_30a", 540, "charger_1", 10, Reason.GROUP_FUSE),
    ("seed_main_100a_group_30a", 540, "charger_2", 10, Reason.GROUP_FUSE),
    # Phase rotation: two one-phase cars on different building phases, 25 A each.
    ("seed_phase_rotation", 240, "charger_1", 25, None),
    ("seed_phase_rotation", 240, "charger_2", 25, None),
    # Lateral: a one-phase car in group 2 takes L1 from group 1.
    ("seed_lateral_one_phase", 60, "charger_1", 32, None),
    ("seed_lateral_one_phase", 420, "charger_1", 20, Reason.GROUP_FUSE),
    ("seed_lateral_one_phase", 420, "charger_2", 20, Reason.GROUP_FUSE),
    ("seed_lateral_one_phase", 660, "charger_1", 32, None),
]

_RUNS: dict[str, list[StepRecord]] = {}


def _records(name: str) -> list[StepRecord]:
    if name not in _RUNS:
        _RUNS[name] = list(simulate(load_scenario(SCENARIOS / f"{name}.yaml")))
    return _RUNS[name]


def _at(records: list[StepRecord], time: float) -> StepRecord:
    return [record for record in records if record.time <= time][-1]


@pytest.mark.parametrize(("name", "time", "charger", "current", "reason"), SEED_NUMBERS)
def test_seed_numbers(
    name: str, time: float, charger: str, current: int, reason: Reason | None
) -> None:
    verdict = _at(_records(name), time).decision.chargers[charger]
    assert verdict.target_current == current
    if reason is not None:
        assert verdict.reason is reason


@pytest.mark.parametrize("name", sorted({row[0] for row in SEED_NUMBERS}))
def test_seed_scenarios_never_overload_beyond_one_cycle(name: str) -> None:
    records = _records(name)
    assert sum(record.report.sustained_overload_as for record in records) == 0.0


def test_solar_surplus_nets_to_zero_at_the_meter() -> None:
    record = _at(_records("seed_solar_surplus_20a"), 240)
    figures = record.decision.groups["main"]
    assert figures.meter is not None
    assert all(abs(value) < 0.5 for value in figures.meter)
    assert abs(record.report.grid_w) < 0.5 * 230 * 3


def test_phase_rotation_puts_the_cars_on_different_site_phases() -> None:
    verdicts = _at(_records("seed_phase_rotation"), 240).decision.chargers
    assert [phase.name for phase in verdicts["charger_1"].site_phases] == ["L1"]
    assert [phase.name for phase in verdicts["charger_2"].site_phases] == ["L2"]


def test_main_fuse_cut_comes_in_the_cycle_that_sees_it() -> None:
    records = _records("seed_main_100a_group_30a")
    step = next(record for record in records if record.time >= 300)
    assert step.decision.chargers["charger_1"].target_current == 10
    assert step.report.sustained_overload_as == 0.0
    assert step.report.reaction_overload_as > 0.0  # the jump itself flows for one cycle


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("seed_*.yaml")), ids=lambda p: p.stem)
def test_every_check_in_the_seed_files_passes(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expectations, "every seed scenario states what it shows"
    results = run(scenario, io.StringIO())
    assert [result.passed for result in results] == [True] * len(results)


def test_there_is_a_file_per_worked_example() -> None:
    names = {path.stem for path in SCENARIOS.glob("seed_*.yaml")}
    assert names == {row[0] for row in SEED_NUMBERS}
    assert (SCENARIOS / "reference_home.yaml").exists()
    assert (SCENARIOS / "reference_building.yaml").exists()
