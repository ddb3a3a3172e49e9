"""The YAML loader: what it reads, and clear errors for files it cannot use."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from custom_components.powershare.engine import ChargingMode, Phase, PhaseRotation, Wiring
from simulators.scenario import (
    ScenarioError,
    format_clock,
    load_scenario,
    parse_scenario,
    parse_time,
)

MINIMAL = """\
duration: 10m
groups:
  - {id: main, fuse: 25}
chargers:
  - {id: c1, group: main}
cars:
  - {id: car1, charger: c1}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    return str(caught.value)


def test_minimal_file_gets_the_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, MINIMAL))
    assert scenario.duration == 600
    assert scenario.step == 2
    assert scenario.config.margin_a == 1.0
    charger = scenario.config.chargers[0]
    assert charger.rotation is PhaseRotation.L1L2L3
    assert charger.wiring is Wiring.THREE_PHASE
    assert charger.mode is ChargingMode.FAST
    car = scenario.cars[0]
    assert car.phases == frozenset({Phase.L1, Phase.L2, Phase.L3})
    assert car.accepts.at(0) == 32
    assert car.energy_wh is None


def test_every_form_of_profile_and_time(tmp_path: Path) -> None:
    text = """\
    duration: 1d
    step: 1s
    site: {margin: 0, voltage: 230, solar_reserve_w: 100, import_allowance_w: 50}
    tunables: {drawless_settle_s: 2m, drawless_margin_a: 0, max_phase_switches_per_hour: 2}
    groups:
      - id: main
        fuse: [40, 35, 30]
        meter: m
        meter_silent: [["01:00", "01:05"]]
        load:
          sum:
            base: [1, 2, 3]
            oven: {current: [10, 0, 0], on: [["18:00", "18:30"], [19h, 19h10m]]}
            steps: {points: [[0, 1], [90s, [2, 2, 2]]]}
        solar: {sun: {peak: 8, sunrise: "06:00", sunset: "20:00", clouds: [[12h, 13h, 0.5]]}}
      - {id: sub, parent: main, fuse: 16, meter: s, meter_includes_chargers: false}
    chargers:
      - id: c1
        group: sub
        rotation: L2L3L1
        wiring: 1
        mode: solar
        modes: [["18:00", fast]]
        user_limit: 10
    cars:
      - {id: car1, charger: c1, arrive: "07:30", leave: 17h, phases: [L1], energy_kwh: 5,
         accepts: [[0, 16], ["12:00", 10]], ramp: 1, report_phases: true}
    """
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.duration == 86400
    assert scenario.config.groups[0].fuse == (40, 35, 30)
    assert scenario.config.solar_reserve_w == 100
    assert scenario.config.tunables.drawless_settle_s == 120
    assert scenario.config.tunables.max_phase_switches_per_hour == 2
    load = scenario.loads["main"]
    assert load.at(0) == (2, 3, 4)
    assert load.at(100) == (3, 4, 5)
    assert load.at(18 * 3600 + 60) == (13, 4, 5)
    assert load.at(19 * 3600 + 5 * 60) == (13, 4, 5)
    assert load.at(19 * 3600 + 10 * 60) == (3, 4, 5)
    solar = scenario.solar["main"]
    assert solar.at(5 * 3600) == (0, 0, 0)
    assert solar.at(11 * 3600)[0] > 7
    assert solar.at(12.5 * 3600)[0] < 4.5
    assert scenario.silences["main"] == ((3600, 3900),)
    assert scenario.config.groups[1].meter_includes_chargers is False
    assert scenario.mode_changes == ((18 * 3600, "c1", ChargingMode.FAST),)
    assert scenario.config_at(0).chargers[0].mode is ChargingMode.SOLAR
    assert scenario.config_at(18 * 3600).chargers[0].mode is ChargingMode.FAST
    car = scenario.cars[0]
    assert (car.arrive, car.leave, car.energy_wh) == (27000, 61200, 5000)
    assert car.accepts.at(11 * 3600) == 16
    assert car.accepts.at(12 * 3600) == 10
    assert car.report_phases is True


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90),
        (1.5, 1.5),
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1d", 86400),
        ("18:00", 64800),
        ("07:30:15", 27015),
        ("25:00", 90000),
    ],
)
def test_times(value: object, seconds: float) -> None:
    assert parse_time(value, "t") == seconds


@pytest.mark.parametrize("value", ["", "soon", "5 minutes", "-5", -1, True, None, "18:60"])
def test_bad_times(value: object) -> None:
    with pytest.raises(ScenarioError, match=r"^t: "):
        parse_time(value, "t")


def test_clock_format() -> None:
    assert format_clock(0) == "0:00:00"
    assert format_clock(27015) == "7:30:15"
    assert format_clock(90000) == "25:00:00"


def test_unquoted_clock_times_and_on_are_not_yaml_1_1_surprises(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "{id: main, fuse: 25}", "{id: main, fuse: 25, load: {current: 3, on: [[18:00, 18:30]]}}"
    )
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.loads["main"].at(18 * 3600 + 60) == (3, 3, 3)
    assert scenario.loads["main"].at(1080 + 60) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "colour: red\n", "site: unknown key 'colour' (known: cars, chargers"),
        (MINIMAL.replace("fuse: 25", "fuze: 25"), "site.groups[0]: unknown key 'fuze'"),
        (
            MINIMAL.replace("{id: c1, group: main}", "{id: c1, group: main, speed: 3}"),
            "site.chargers[0]: unknown key 'speed'",
        ),
        (
            MINIMAL.replace("charger: c1}", "charger: c1, colour: red}"),
            "site.cars[0]: unknown key 'colour'",
        ),
        (MINIMAL + "tunables: {settle: 3}\n", "site.tunables: unknown key 'settle'"),
        (MINIMAL + "site: {fuse: 3}\n", "site.site: unknown key 'fuse'"),
        (MINIMAL.replace("duration: 10m\n", ""), "site: missing 'duration'"),
        (MINIMAL.replace("{id: main, fuse: 25}", "{id: main}"), "site.groups[0]: missing 'fuse'"),
        (MINIMAL.replace("{id: c1, group: main}", "{id: c1}"), "site.chargers[0]: missing 'group'"),
        (
            MINIMAL.replace("{id: car1, charger: c1}", "{id: car1}"),
            "site.cars[0]: missing 'charger'",
        ),
        (
            MINIMAL.replace("charger: c1}", "charger: c1, phases: [L1, L4]}"),
            "site.cars[0].phases[1]: 'L4' is not a phase (L1, L2 or L3)",
        ),
        (
            MINIMAL.replace("charger: c1}", "charger: c1, phases: [1]}"),
            "site.cars[0].phases[0]: 1 is not a phase",
        ),
        (
            MINIMAL.replace("group: main}", "group: main, rotation: L1L1L2}"),
            "site.chargers[0].rotation: 'L1L1L2' is not one of L1L2L3, L1L3L2",
        ),
        (
            MINIMAL.replace("group: main}", "group: main, mode: turbo}"),
            "site.chargers[0].mode: 'turbo' is not one of off, fast, solar, min_solar",
        ),
        (
            MINIMAL.replace("group: main}", "group: main, wiring: 2}"),
            "site.chargers[0].wiring: expected 1 or 3, got 2",
        ),
        (
            MINIMAL.replace("fuse: 25", "fuse: [25, 25]"),
            "site.groups[0].fuse: expected three currents",
        ),
        (
            MINIMAL.replace("fuse: 25", "fuse: big"),
            "site.groups[0].fuse: expected a number, got 'big'",
        ),
        (
            MINIMAL.replace("charger: c1}", "charger: c9}"),
            "site.cars[0].charger: unknown charger 'c9'",
        ),
        (MINIMAL.replace("group: main}", "group: attic}"), "site: charger c1: unknown group attic"),
        (
            MINIMAL.replace("charger: c1}", "charger: c1, arrive: 5m, leave: 1m}"),
            "site.cars[0]: car car1: leaves before it arrives",
        ),
        (
            MINIMAL.replace("fuse: 25}", "fuse: 25, load: {points: [[5m, 1], [1m, 2]]}}"),
            "site.groups[0].load: the times of a profile must increase",
        ),
        (
            MINIMAL.replace("fuse: 25}", "fuse: 25, load: {current: 3}}"),
            "site.groups[0].load: give exactly one of 'points', 'on', 'sun' or 'sum'",
        ),
        (
            MINIMAL.replace("fuse: 25}", "fuse: 25, meter_silent: [[0, 1m]]}"),
            "site.groups[0].meter_silent: the group has no meter",
        ),
        (MINIMAL + "expect: [{at: 1m, charger: c1}]\n", "site.expect[0]: missing 'current'"),
        (
            MINIMAL + "expect: [{at: 1m, charger: c1, current: 6, reason: vibes}]\n",
            "site.expect[0].reason: 'vibes' is not one of",
        ),
        (
            MINIMAL + "tunables: {failsafe_current_a: 6.5}\n",
            "site.tunables.failsafe_current_a: expected a whole number, got 6.5",
        ),
        (
            MINIMAL + "tunables: {meter_timeout_s: -5}\n",
            "site.tunables.meter_timeout_s: a time must be a finite number >= 0",
        ),
        (
            MINIMAL + "tunables: {drawless_margin_a: -1}\n",
            "site: tunable drawless_margin_a must not be negative",
        ),
        ("groups: [", "not valid YAML"),
        ("- just a list\n", "site: expected a mapping"),
    ],
)
def test_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    assert message in _error(tmp_path, text)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.yaml")


def test_parse_scenario_takes_plain_data() -> None:
    scenario = parse_scenario({"duration": 60, "groups": [{"id": "main", "fuse": 16}]}, "inline")
    assert scenario.name == "inline"
    assert scenario.cars == ()
    assert scenario.config.root.id == "main"
