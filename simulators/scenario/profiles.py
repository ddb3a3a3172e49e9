"""Reading what changes over time in a scenario file: loads and solar, a car's accepted current.

The forms of a profile are listed in docs/scenarios.md; they become the virtual site's
`simulators.profiles` and the cars' `StepFunction`.
"""

from __future__ import annotations

from custom_components.powershare.engine import PHASES
from simulators.car import StepFunction
from simulators.profiles import PhaseProfile, Profile, SumProfile, solar_day, switched

from .fields import _currents, _Fields, _number
from .model import Currents, ScenarioError
from .times import parse_time


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
