"""Scenario runner: simulate a site described in a YAML file and show what the engine decides.

    python -m simulators.scenario FILE [--json] [--every N]

(`scripts/scenario` wraps it.) The file format is documented in `docs/scenarios.md`; in short
a scenario has a `duration`, a `step`, optional `site` settings and `tunables`, a tree of
`groups` (fuse, meter, non-EV `load` and `solar` over time), `chargers`, `cars` (when they
come and go, the phases they draw on, the current they accept, the energy they want), and
optional `expect` checks (a charger's current, and optionally its reason, at a time).

Output: per printed step, one row per charger and one per group, as a table or as JSON lines;
then a summary (energy per car, overload, commands, starts/stops, checks). The exit status
is 1 when a check fails, 2 when the file is invalid.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
    SiteConfig,
    Tunables,
    Wiring,
)

from .car import CarSpec, StepFunction
from .site import PhaseProfile, Profile, Site, StepReport, SumProfile, solar_day, switched

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from custom_components.powershare.engine import Decision

type Currents = tuple[float, float, float]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""


# --- times ---------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$"
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?$")


def parse_time(value: object, where: str) -> float:
    """Return the seconds a scenario time stands for.

    A number is seconds; a duration is "90s", "5m", "1h30m" or "1d"; a clock time "18:00" or
    "07:30:15" counts from the scenario's start at 00:00.
    """
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise ScenarioError(f"{where}: a time must be a finite number >= 0, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        clock = _CLOCK.match(text)
        if clock:
            hours, minutes, seconds = clock.groups()
            return int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds or 0)
        duration = _DURATION.match(text)
        if duration and text:
            days, hours, minutes, seconds = (float(part or 0) for part in duration.groups())
            return days * 86400 + hours * 3600 + minutes * 60 + seconds
    raise ScenarioError(
        f"{where}: expected a time (seconds, '90s', '5m', '2h', '1h30m' or '18:00'), got {value!r}"
    )


def format_clock(seconds: float) -> str:
    """Return `seconds` as H:MM:SS (hours may pass 24)."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# --- YAML without the sexagesimal surprise ---------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A safe loader with YAML 1.2's plain scalars.

    YAML 1.1 (PyYAML's default) reads 18:00 as the number 1080 and on/off/yes/no as booleans;
    here 18:00 stays the text "18:00" (a clock time) and only true/false are booleans, so
    `on:` can be a key.
    """


_Loader.yaml_implicit_resolvers = {
    key: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in {"tag:yaml.org,2002:int", "tag:yaml.org,2002:bool"}
    ]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# --- the scenario ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    """A check: at `time`, charger `charger_id` is given `current` (and `reason`, if set)."""

    time: float
    charger_id: str
    current: int
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario file."""

    name: str
    description: str
    duration: float
    step: float
    config: SiteConfig
    cars: tuple[CarSpec, ...]
    loads: Mapping[str, Profile]
    solar: Mapping[str, Profile]
    silences: Mapping[str, tuple[tuple[float, float], ...]]
    expectations: tuple[Expectation, ...] = ()
    mode_changes: tuple[tuple[float, str, ChargingMode], ...] = ()
    """(time, charger id, new mode): the user switching a charger's mode."""

    def config_at(self, time: float) -> SiteConfig:
        """Return the configuration with the charging modes chosen by `time`."""
        modes = {
            charger_id: mode
            for when, charger_id, mode in sorted(self.mode_changes, key=lambda item: item[0])
            if when <= time
        }
        if not modes:
            return self.config
        chargers = tuple(
            replace(charger, mode=modes[charger.id]) if charger.id in modes else charger
            for charger in self.config.chargers
        )
        return replace(self.config, chargers=chargers)

    def build_site(self) -> Site:
        """Return a fresh virtual site for this scenario."""
        return Site(
            self.config, self.cars, loads=self.loads, solar=self.solar, silences=self.silences
        )


class _Fields:
    """Reads one YAML mapping, rejecting unknown keys and naming where a problem is."""

    def __init__(self, value: object, where: str, known: Sequence[str]) -> None:
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: expected a mapping, got {value!r}")
        unknown = sorted(str(key) for key in value if key not in known)
        if unknown:
            raise ScenarioError(
                f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        self.data: dict[str, Any] = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def required(self, key: str) -> object:
        if key not in self.data or self.data[key] is None:
            raise ScenarioError(f"{self.where}: missing {key!r}")
        return self.data[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default) if default is not None else self.required(key)
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: expected text, got {value!r}")
        return str(value)

    def number(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default) if default is not None else self.required(key)
        return _number(value, self.at(key))

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default) if default is not None else self.required(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{self.at(key)}: expected a whole number, got {value!r}")
        return value

    def optional_integer(self, key: str) -> int | None:
        return self.integer(key) if self.has(key) else None

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: expected true or false, got {value!r}")
        return value

    def time(self, key: str, default: float | None = None) -> float:
        if default is not None and not self.has(key):
            return default
        return parse_time(self.required(key), self.at(key))

    def items(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise ScenarioError(f"{self.at(key)}: expected a list, got {value!r}")
        return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _choice[E: (PhaseRotation, ChargingMode, PhasePolicy, Reason)](
    kind: type[E], value: object, where: str
) -> E:
    try:
        return kind(str(value))
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise ScenarioError(f"{where}: {value!r} is not one of {options}") from None


def parse_phase(value: object, where: str) -> Phase:
    """Return the phase named "L1", "L2" or "L3"."""
    if isinstance(value, str) and value.upper() in Phase.__members__:
        return Phase[value.upper()]
    raise ScenarioError(f"{where}: {value!r} is not a phase (L1, L2 or L3)")


def _currents(value: object, where: str) -> Currents:
    """Read a number (the same on three phases) or a list of three numbers (L1, L2, L3)."""
    if isinstance(value, list):
        if len(value) != len(PHASES):
            raise ScenarioError(f"{where}: expected three currents (L1, L2, L3), got {value!r}")
        first, second, third = (_number(item, f"{where}[{i}]") for i, item in enumerate(value))
        return (first, second, third)
    amps = _number(value, where)
    return (amps, amps, amps)


def _profile(value: object, where: str) -> Profile:
    """Read a current per phase over time (the forms are listed in docs/scenarios.md).

    A constant (a number, or three for L1, L2, L3); {points: [[time, currents], ...],
    interpolate: false}; {current: currents, on: [[start, end], ...]} (an appliance);
    {sun: {peak, sunrise, sunset, clouds}}; or {sum: {name: profile, ...}}.
    """
    if not isinstance(value, dict):
        return PhaseProfile.constant(_currents(value, where))
    fields = _Fields(value, where, ("points", "interpolate", "sun", "current", "on", "sum"))
    forms = [key for key in ("points", "sun", "on", "sum") if fields.has(key)]
    if len(forms) != 1:
        raise ScenarioError(f"{where}: give exactly one of 'points', 'on', 'sun' or 'sum'")
    if fields.has("sun"):
        return _sun(fields.data["sun"], fields.at("sun"))
    if fields.has("sum"):
        parts = fields.data["sum"]
        if not isinstance(parts, dict) or not parts:
            raise ScenarioError(f"{fields.at('sum')}: expected a mapping of name: profile")
        return SumProfile(
            tuple(_profile(part, f"{fields.at('sum')}.{key}") for key, part in parts.items())
        )
    if fields.has("on"):
        currents = _currents(fields.required("current"), fields.at("current"))
        periods = [
            _period(period, f"{fields.at('on')}[{index}]")
            for index, period in enumerate(fields.items("on"))
        ]
        try:
            return switched(currents, periods)
        except ValueError as error:
            raise ScenarioError(f"{fields.at('on')}: {error}") from None
    return _points(fields)


def _points(fields: _Fields) -> PhaseProfile:
    points: list[tuple[float, Currents]] = []
    for index, point in enumerate(fields.items("points")):
        spot = f"{fields.at('points')}[{index}]"
        if not isinstance(point, list) or len(point) != 2:
            raise ScenarioError(f"{spot}: expected [time, current(s)], got {point!r}")
        points.append((parse_time(point[0], spot), _currents(point[1], spot)))
    try:
        return PhaseProfile(tuple(points), interpolate=fields.flag("interpolate", default=False))
    except ValueError as error:
        raise ScenarioError(f"{fields.where}: {error}") from None


def _period(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(f"{where}: expected [start, end], got {value!r}")
    return (parse_time(value[0], where), parse_time(value[1], where))


def _sun(value: object, where: str) -> PhaseProfile:
    """Read a clear-sky solar day: {peak: amps per phase, sunrise, sunset, clouds}."""
    sun = _Fields(value, where, ("peak", "sunrise", "sunset", "clouds"))
    clouds = []
    for index, cloud in enumerate(sun.items("clouds")):
        spot = f"{sun.at('clouds')}[{index}]"
        if not isinstance(cloud, list) or len(cloud) != len(PHASES):
            raise ScenarioError(f"{spot}: expected [start, end, factor], got {cloud!r}")
        clouds.append(
            (parse_time(cloud[0], spot), parse_time(cloud[1], spot), _number(cloud[2], spot))
        )
    try:
        return solar_day(sun.number("peak"), sun.time("sunrise"), sun.time("sunset"), clouds=clouds)
    except ValueError as error:
        raise ScenarioError(f"{where}: {error}") from None


def _step_function(value: object, where: str) -> StepFunction:
    if not isinstance(value, list):
        return StepFunction.constant(_number(value, where))
    points: list[tuple[float, float]] = []
    for index, point in enumerate(value):
        spot = f"{where}[{index}]"
        if not isinstance(point, list) or len(point) != 2:
            raise ScenarioError(f"{spot}: expected [time, amps], got {point!r}")
        points.append((parse_time(point[0], spot), _number(point[1], spot)))
    try:
        return StepFunction(tuple(points))
    except ValueError as error:
        raise ScenarioError(f"{where}: {error}") from None


_TOP = ("description", "duration", "step", "site", "tunables", "groups", "chargers", "cars")
_GROUP = (
    "id",
    "name",
    "parent",
    "fuse",
    "max_power_w",
    "meter",
    "meter_includes_chargers",
    "load",
    "solar",
    "meter_silent",
)
_CHARGER = (
    "id",
    "name",
    "group",
    "rotation",
    "wiring",
    "min_current",
    "max_current",
    "priority",
    "mode",
    "phase_policy",
    "can_switch_phases",
    "user_limit",
    "schedule_limit",
    "modes",
)
_CAR = (
    "id",
    "charger",
    "arrive",
    "leave",
    "phases",
    "accepts",
    "energy_kwh",
    "ramp",
    "report_phases",
)


@dataclass(slots=True)
class _Parsed:
    groups: list[GroupConfig] = field(default_factory=list)
    loads: dict[str, Profile] = field(default_factory=dict)
    solar: dict[str, Profile] = field(default_factory=dict)
    mode_changes: list[tuple[float, str, ChargingMode]] = field(default_factory=list)
    silences: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)


def parse_scenario(data: object, name: str = "scenario") -> Scenario:
    """Build a `Scenario` from parsed YAML; raise `ScenarioError` naming the bad spot."""
    top = _Fields(data, name, (*_TOP, "expect"))
    duration = top.time("duration")
    step = top.time("step", 2.0)
    if step <= 0 or duration <= 0:
        raise ScenarioError(f"{name}: duration and step must be positive")
    parsed = _Parsed()
    for index, item in enumerate(top.items("groups")):
        _parse_group(item, f"{name}.groups[{index}]", parsed)
    if not parsed.groups:
        raise ScenarioError(f"{name}: missing 'groups' (at least the main fuse)")
    chargers = tuple(
        _parse_charger(item, f"{name}.chargers[{index}]", parsed)
        for index, item in enumerate(top.items("chargers"))
    )
    config = _site_config(top, parsed.groups, chargers)
    cars = tuple(
        _parse_car(item, f"{name}.cars[{index}]") for index, item in enumerate(top.items("cars"))
    )
    charger_ids = {charger.id for charger in chargers}
    for index, car in enumerate(cars):
        if car.charger_id not in charger_ids:
            raise ScenarioError(f"{name}.cars[{index}].charger: unknown charger {car.charger_id!r}")
    expectations = tuple(
        _parse_expectation(item, f"{name}.expect[{index}]", charger_ids)
        for index, item in enumerate(top.items("expect"))
    )
    return Scenario(
        name=name,
        description=top.text("description", ""),
        duration=duration,
        step=step,
        config=config,
        cars=cars,
        loads=parsed.loads,
        solar=parsed.solar,
        silences=parsed.silences,
        expectations=expectations,
        mode_changes=tuple(parsed.mode_changes),
    )


def _site_config(
    top: _Fields, groups: list[GroupConfig], chargers: tuple[ChargerConfig, ...]
) -> SiteConfig:
    site = _Fields(
        top.data.get("site") or {},
        top.at("site"),
        ("voltage", "margin", "solar_reserve_w", "import_allowance_w"),
    )
    tunable_fields = Tunables.__dataclass_fields__
    raw_tunables = _Fields(
        top.data.get("tunables") or {}, top.at("tunables"), tuple(tunable_fields)
    )
    values: dict[str, Any] = {}
    for key, value in raw_tunables.data.items():
        # Annotations are strings (postponed evaluation): "int" or "float".
        if str(tunable_fields[key].type) == "int":
            values[key] = raw_tunables.integer(key)
        elif key.endswith("_s"):
            values[key] = parse_time(value, raw_tunables.at(key))
        else:
            values[key] = raw_tunables.number(key)
    try:
        return SiteConfig(
            groups=tuple(groups),
            chargers=chargers,
            margin_a=site.number("margin", 1.0),
            voltage=site.number("voltage", 230.0),
            solar_reserve_w=site.number("solar_reserve_w", 0.0),
            import_allowance_w=site.number("import_allowance_w", 0.0),
            tunables=Tunables(**values),
        )
    except ValueError as error:
        raise ScenarioError(f"{top.where}: {error}") from None


def _parse_group(item: object, where: str, parsed: _Parsed) -> None:
    fields = _Fields(item, where, _GROUP)
    group_id = fields.text("id")
    fuse = _currents(fields.required("fuse"), fields.at("fuse"))
    parsed.groups.append(
        GroupConfig(
            id=group_id,
            fuse=fuse,
            parent_id=fields.text("parent") if fields.has("parent") else None,
            max_power_w=fields.number("max_power_w") if fields.has("max_power_w") else None,
            meter_id=fields.text("meter") if fields.has("meter") else None,
            meter_includes_chargers=fields.flag("meter_includes_chargers", default=True),
            name=fields.text("name", ""),
        )
    )
    if fields.has("load"):
        parsed.loads[group_id] = _profile(fields.data["load"], fields.at("load"))
    if fields.has("solar"):
        parsed.solar[group_id] = _profile(fields.data["solar"], fields.at("solar"))
    silences: list[tuple[float, float]] = []
    for index, period in enumerate(fields.items("meter_silent")):
        spot = f"{fields.at('meter_silent')}[{index}]"
        if not isinstance(period, list) or len(period) != 2:
            raise ScenarioError(f"{spot}: expected [start, end], got {period!r}")
        silences.append((parse_time(period[0], spot), parse_time(period[1], spot)))
    if silences:
        if not fields.has("meter"):
            raise ScenarioError(f"{fields.at('meter_silent')}: the group has no meter")
        parsed.silences[group_id] = tuple(silences)


def _parse_charger(item: object, where: str, parsed: _Parsed) -> ChargerConfig:
    fields = _Fields(item, where, _CHARGER)
    wiring = fields.integer("wiring", 3)
    if wiring not in {1, 3}:
        raise ScenarioError(f"{fields.at('wiring')}: expected 1 or 3, got {wiring!r}")
    charger_id = fields.text("id")
    for index, change in enumerate(fields.items("modes")):
        spot = f"{fields.at('modes')}[{index}]"
        if not isinstance(change, list) or len(change) != 2:
            raise ScenarioError(f"{spot}: expected [time, mode], got {change!r}")
        parsed.mode_changes.append(
            (parse_time(change[0], spot), charger_id, _choice(ChargingMode, change[1], spot))
        )
    return ChargerConfig(
        id=charger_id,
        group_id=fields.text("group"),
        rotation=_choice(
            PhaseRotation, fields.data.get("rotation", "L1L2L3"), fields.at("rotation")
        ),
        wiring=Wiring(wiring),
        min_current=fields.integer("min_current", 6),
        max_current=fields.integer("max_current", 32),
        priority=fields.integer("priority", 0),
        mode=_choice(ChargingMode, fields.data.get("mode", "fast"), fields.at("mode")),
        phase_policy=_choice(
            PhasePolicy, fields.data.get("phase_policy", "auto"), fields.at("phase_policy")
        ),
        can_switch_phases=fields.flag("can_switch_phases", default=False),
        user_limit=fields.optional_integer("user_limit"),
        schedule_limit=fields.optional_integer("schedule_limit"),
        name=fields.text("name", ""),
    )


def _parse_car(item: object, where: str) -> CarSpec:
    fields = _Fields(item, where, _CAR)
    phases_value = fields.data.get("phases", ["L1", "L2", "L3"])
    if not isinstance(phases_value, list) or not phases_value:
        raise ScenarioError(f"{fields.at('phases')}: expected a list such as [L1, L2, L3]")
    phases = frozenset(
        parse_phase(value, f"{fields.at('phases')}[{index}]")
        for index, value in enumerate(phases_value)
    )
    energy = fields.number("energy_kwh") * 1000.0 if fields.has("energy_kwh") else None
    try:
        return CarSpec(
            id=fields.text("id"),
            charger_id=fields.text("charger"),
            arrive=fields.time("arrive", 0.0),
            leave=fields.time("leave") if fields.has("leave") else None,
            phases=phases,
            accepts=_step_function(fields.data.get("accepts", 32), fields.at("accepts")),
            energy_wh=energy,
            ramp_a_per_s=fields.number("ramp", 2.0),
            report_phases=fields.flag("report_phases", default=False),
        )
    except ValueError as error:
        if isinstance(error, ScenarioError):
            raise
        raise ScenarioError(f"{where}: {error}") from None


def _parse_expectation(item: object, where: str, charger_ids: set[str]) -> Expectation:
    fields = _Fields(item, where, ("at", "charger", "current", "reason"))
    charger_id = fields.text("charger")
    if charger_id not in charger_ids:
        raise ScenarioError(f"{fields.at('charger')}: unknown charger {charger_id!r}")
    return Expectation(
        time=fields.time("at"),
        charger_id=charger_id,
        current=fields.integer("current"),
        reason=_choice(Reason, fields.data["reason"], fields.at("reason"))
        if fields.has("reason")
        else None,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{file}: cannot read ({error.strerror})") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as error:
        raise ScenarioError(f"{file}: not valid YAML: {error}") from None
    return parse_scenario(data, file.stem)


# --- running -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One simulated cycle: the decision taken at `time` and what flowed until the next."""

    time: float
    decision: Decision
    report: StepReport
    draws: Mapping[str, Currents]
    """Per charger: what it drew per CHARGER phase after the decision."""
    cars: Mapping[str, str]
    """Per charger: the car plugged in (absent when none)."""
    events: tuple[str, ...]
    """Cars arriving and leaving at this step."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one `Expectation`."""

    expectation: Expectation
    current: int | None
    reason: Reason | None

    @property
    def passed(self) -> bool:
        """Return whether the decision matched."""
        wanted = self.expectation
        return self.current == wanted.current and (
            wanted.reason is None or self.reason is wanted.reason
        )


def simulate(
    scenario: Scenario, site: Site | None = None, *, start: float = 0.0
) -> Iterator[StepRecord]:
    """Run the scenario through the engine from `start`, one `StepRecord` per cycle."""
    site = site if site is not None else scenario.build_site()
    balancer = Balancer(scenario.config_at(start))
    steps = math.ceil((scenario.duration - start) / scenario.step - 1e-9)
    present: set[str] = set()
    changes = sorted({when for when, _, _ in scenario.mode_changes if when > start})
    for index in range(steps):
        time = start + index * scenario.step
        site.now = time
        if changes and changes[0] <= time:
            while changes and changes[0] <= time:
                changes.pop(0)
            balancer.reconfigure(scenario.config_at(time))
        now_present = {car.spec.id for car in site.connected_cars()}
        events = tuple(
            [f"{car} arrives" for car in sorted(now_present - present)]
            + [f"{car} leaves" for car in sorted(present - now_present)]
        )
        present = now_present
        decision = balancer.step(site.snapshot())
        site.apply(decision)
        report = site.advance(scenario.step)
        draws: dict[str, Currents] = {}
        cars: dict[str, str] = {}
        for charger in scenario.config.chargers:
            car = site.car_at(charger.id, time)
            draws[charger.id] = car.charger_currents() if car is not None else (0.0, 0.0, 0.0)
            if car is not None:
                cars[charger.id] = car.spec.id
        yield StepRecord(time, decision, report, draws, cars, events)


def check(scenario: Scenario, records: Sequence[StepRecord]) -> list[CheckResult]:
    """Compare each expectation with the last decision taken at or before its time."""
    results: list[CheckResult] = []
    for expectation in scenario.expectations:
        chosen: StepRecord | None = None
        for record in records:
            if record.time <= expectation.time + 1e-9:
                chosen = record
        verdict = chosen.decision.chargers.get(expectation.charger_id) if chosen else None
        results.append(
            CheckResult(
                expectation,
                verdict.target_current if verdict else None,
                verdict.reason if verdict else None,
            )
        )
    return results


# --- output --------------------------------------------------------------------------------


def _phases(phases: Sequence[Phase]) -> str:
    return "".join(phase.name for phase in phases) or "-"


def _triple(values: Sequence[float] | None, digits: int = 1) -> str:
    if values is None:
        return "-"
    return "/".join(f"{value:.{digits}f}" for value in values)


def _interesting(record: StepRecord, index: int, every: int | None) -> bool:
    if every is not None:
        return index % every == 0
    return bool(
        index == 0
        or record.events
        or record.decision.commands
        or record.report.sustained_overload_as > 0
    )


def record_json(record: StepRecord) -> dict[str, Any]:
    """Return one step as plain JSON data."""
    decision = record.decision
    return {
        "time": record.time,
        "clock": format_clock(record.time),
        "events": list(record.events),
        "chargers": {
            charger_id: {
                "car": record.cars.get(charger_id),
                "current": verdict.target_current,
                "site_phases": [phase.name for phase in verdict.site_phases],
                "charger_phases": [phase.name for phase in verdict.charger_phases],
                "action": verdict.action.value,
                "changed": verdict.changed,
                "reason": verdict.reason.value,
                "detail": verdict.detail,
                "requested": verdict.requested,
                "share": round(verdict.share, 3),
                "draw": [round(value, 3) for value in record.draws[charger_id]],
            }
            for charger_id, verdict in decision.chargers.items()
        },
        "groups": {
            group_id: {
                "meter": None if figures.meter is None else [round(v, 3) for v in figures.meter],
                "non_ev_load": [round(value, 3) for value in figures.non_ev_load],
                "available": [round(value, 3) for value in figures.available],
                "requested": [round(value, 3) for value in figures.requested],
                "allocated": [round(value, 3) for value in figures.allocated],
                "usage": [round(value, 3) for value in figures.usage],
                "meter_stale": figures.meter_stale,
            }
            for group_id, figures in decision.groups.items()
        },
        "surplus_w": None if decision.surplus_w is None else round(decision.surplus_w, 1),
        "grid_w": round(record.report.grid_w, 1),
        "overload": {
            "reaction_as": round(record.report.reaction_overload_as, 3),
            "sustained_as": round(record.report.sustained_overload_as, 3),
            "fuses": [
                {"group": group, "phase": phase.name, "amps_over": round(amps, 3)}
                for group, phase, amps in record.report.overloaded
            ],
        },
    }


def _table_lines(record: StepRecord) -> list[str]:
    decision = record.decision
    head = f"== {format_clock(record.time)}"
    if record.events:
        head += "  (" + ", ".join(record.events) + ")"
    if decision.surplus_w is not None:
        head += f"  surplus {decision.surplus_w:.0f} W"
    lines = [head]
    lines.append(
        f"  {'charger':<10} {'car':<10} {'A':>3} {'phases':<7} {'draw L1/L2/L3':<15} "
        f"{'action':<7} reason"
    )
    for charger_id, verdict in decision.chargers.items():
        lines.append(
            f"  {charger_id:<10} {record.cars.get(charger_id, '-'):<10} "
            f"{verdict.target_current:>3} {_phases(verdict.site_phases):<7} "
            f"{_triple(record.draws[charger_id]):<15} {verdict.action.value:<7} "
            f"{verdict.detail or verdict.reason.value}"
        )
    for group_id, figures in decision.groups.items():
        stale = "  METER STALE" if figures.meter_stale else ""
        lines.append(
            f"  group {group_id:<10} meter {_triple(figures.meter)}  available "
            f"{_triple(figures.available)}  requested {_triple(figures.requested, 0)}  "
            f"allocated {_triple(figures.allocated, 0)}  usage {_triple(figures.usage)}{stale}"
        )
    for group, phase, amps in record.report.overloaded:
        lines.append(f"  OVERLOAD group {group} phase {phase.name}: {amps:.1f} A over the fuse")
    return lines


def _summary(site: Site, results: Sequence[CheckResult]) -> dict[str, Any]:
    totals = site.totals
    return {
        "energy_kwh": {car.spec.id: round(car.energy_wh / 1000.0, 3) for car in site.cars},
        "ev_kwh": round(totals.ev_wh / 1000.0, 3),
        "import_kwh": round(totals.import_wh / 1000.0, 3),
        "export_kwh": round(totals.export_wh / 1000.0, 3),
        "solar_kwh": round(totals.solar_wh / 1000.0, 3),
        "reaction_overload_as": round(totals.reaction_overload_as, 3),
        "sustained_overload_as": round(totals.sustained_overload_as, 3),
        "commands": totals.commands,
        "starts": dict(sorted(totals.starts.items())),
        "stops": dict(sorted(totals.stops.items())),
        "car_starts": dict(sorted(totals.draw_starts.items())),
        "checks": [
            {
                "at": format_clock(result.expectation.time),
                "charger": result.expectation.charger_id,
                "expected": result.expectation.current,
                "expected_reason": None
                if result.expectation.reason is None
                else result.expectation.reason.value,
                "got": result.current,
                "got_reason": None if result.reason is None else result.reason.value,
                "passed": result.passed,
            }
            for result in results
        ],
    }


def run(
    scenario: Scenario,
    out: TextIO,
    *,
    as_json: bool = False,
    every: int | None = None,
) -> list[CheckResult]:
    """Simulate `scenario`, write the chosen steps and a summary to `out`, return the checks."""
    site = scenario.build_site()
    records: list[StepRecord] = []
    write: Callable[[str], object] = out.write
    if not as_json:
        write(f"# {scenario.name}: {scenario.description}\n".replace(": \n", "\n"))
    for index, record in enumerate(simulate(scenario, site)):
        records.append(record)
        if not _interesting(record, index, every):
            continue
        if as_json:
            write(json.dumps(record_json(record)) + "\n")
        else:
            write("\n".join(_table_lines(record)) + "\n")
    results = check(scenario, records)
    summary = _summary(site, results)
    if as_json:
        write(json.dumps({"summary": summary}) + "\n")
        return results
    write("== summary\n")
    for key in ("energy_kwh", "starts", "stops", "car_starts"):
        write(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in summary[key].items()) + "\n")
    write(
        f"  EV {summary['ev_kwh']} kWh, import {summary['import_kwh']} kWh, export "
        f"{summary['export_kwh']} kWh, solar {summary['solar_kwh']} kWh, commands "
        f"{summary['commands']}\n"
        f"  overload: {summary['sustained_overload_as']} A.s sustained, "
        f"{summary['reaction_overload_as']} A.s within one cycle of reaction\n"
    )
    for item in summary["checks"]:
        status = "ok  " if item["passed"] else "FAIL"
        reason = f" ({item['expected_reason']})" if item["expected_reason"] else ""
        write(
            f"  {status} at {item['at']} {item['charger']}: expected {item['expected']} A"
            f"{reason}, got {item['got']} A ({item['got_reason']})\n"
        )
    return results


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Command line entry point; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="scripts/scenario", description="Simulate a Powershare site from a YAML file."
    )
    parser.add_argument("file", help="scenario file (see docs/scenarios.md)")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument(
        "--every",
        type=int,
        metavar="N",
        help="print every N-th step (default: only steps where something happens)",
    )
    arguments = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    if arguments.every is not None and arguments.every < 1:
        parser.error("--every needs a positive number")
    try:
        scenario = load_scenario(arguments.file)
    except ScenarioError as error:
        sys.stderr.write(f"scenario: {error}\n")
        return 2
    results = run(scenario, stream, as_json=arguments.json, every=arguments.every)
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    try:
        STATUS = main()
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        STATUS = 0
    sys.exit(STATUS)
