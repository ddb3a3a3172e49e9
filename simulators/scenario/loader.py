"""Loading a scenario file: YAML (without the sexagesimal surprise) into a `Scenario`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from custom_components.powershare.engine import (
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Network,
    PhasePolicy,
    PhaseRotation,
    Reason,
    SiteConfig,
    Tunables,
    Wiring,
)
from simulators.car import CarSpec

from .fields import _choice, _currents, _Fields, parse_phase
from .model import Expectation, Scenario, ScenarioError
from .peak import check_expectation_time, parse_peak, parse_start, parse_window_expectation
from .profiles import _profile, _step_function
from .times import parse_time

if TYPE_CHECKING:
    from simulators.profiles import Profile


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

_TOP = ("description", "duration", "step", "site", "tunables", "groups", "chargers", "cars")
_SITE = (
    "voltage",
    "margin",
    "solar_reserve_w",
    "import_allowance_w",
    "network",
    "peak",
    "start",
    "timezone",
)
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
    site = _Fields(top.data.get("site") or {}, top.at("site"), _SITE)
    peak = parse_peak(site.data["peak"], site.at("peak")) if site.has("peak") else None
    config = _site_config(top, site, parsed.groups, chargers, peak_budget=peak is not None)
    if peak is not None and config.root.meter_id is None:
        raise ScenarioError(
            f"{site.at('peak')}: the root group {config.root.id!r} needs a meter "
            "(the grid meter the budget is measured at)"
        )
    cars = tuple(
        _parse_car(item, f"{name}.cars[{index}]") for index, item in enumerate(top.items("cars"))
    )
    charger_ids = {charger.id for charger in chargers}
    for index, car in enumerate(cars):
        if car.charger_id not in charger_ids:
            raise ScenarioError(f"{name}.cars[{index}].charger: unknown charger {car.charger_id!r}")
    scenario = Scenario(
        name=name,
        description=top.text("description", ""),
        duration=duration,
        step=step,
        config=config,
        cars=cars,
        loads=parsed.loads,
        solar=parsed.solar,
        silences=parsed.silences,
        mode_changes=tuple(parsed.mode_changes),
        start=parse_start(site),
        peak=peak,
    )
    expectations: list[Expectation] = []
    windows = []
    for index, item in enumerate(top.items("expect")):
        where = f"{name}.expect[{index}]"
        if isinstance(item, dict) and "window_ending" in item:
            windows.append(parse_window_expectation(item, where, scenario))
            continue
        expectation = _parse_expectation(item, where, charger_ids)
        check_expectation_time(expectation.time, f"{where}.at", scenario)
        expectations.append(expectation)
    return replace(scenario, expectations=tuple(expectations), window_expectations=tuple(windows))


def _site_config(
    top: _Fields,
    site: _Fields,
    groups: list[GroupConfig],
    chargers: tuple[ChargerConfig, ...],
    *,
    peak_budget: bool,
) -> SiteConfig:
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
    network = site.text("network", Network.THREE_PHASE_WITH_NEUTRAL.value)
    if network not in {item.value for item in Network}:
        choices = ", ".join(item.value for item in Network)
        raise ScenarioError(f"{site.at('network')}: {network!r} is not one of {choices}")
    try:
        return SiteConfig(
            groups=tuple(groups),
            chargers=chargers,
            network=Network(network),
            margin_a=site.number("margin", 1.0),
            voltage=site.number("voltage", 230.0),
            solar_reserve_w=site.number("solar_reserve_w", 0.0),
            import_allowance_w=site.number("import_allowance_w", 0.0),
            peak_budget=peak_budget,
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
    fields = _Fields(item, where, ("at", "charger", "current", "reason", "phases"))
    charger_id = fields.text("charger")
    if charger_id not in charger_ids:
        raise ScenarioError(f"{fields.at('charger')}: unknown charger {charger_id!r}")
    phases = fields.optional_integer("phases")
    if phases is not None and phases not in {1, 2, 3}:
        raise ScenarioError(f"{fields.at('phases')}: expected 1, 2 or 3, got {phases!r}")
    return Expectation(
        time=fields.time("at"),
        charger_id=charger_id,
        current=fields.integer("current"),
        reason=_choice(Reason, fields.data["reason"], fields.at("reason"))
        if fields.has("reason")
        else None,
        phases=phases,
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
