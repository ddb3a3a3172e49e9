"""A solar forecast for charging plans, read from a sensor's attributes (Home Assistant-free).

The forecast integrations publish their periods as attributes of a sensor:

- Solcast (`ha-solcast-solar`): `detailedForecast` (and `detailedHourly`), lists of
  `{period_start, pv_estimate}` with the estimate in kW over the period (30 or 60 minutes);
- Open-Meteo Solar Forecast (`ha-open-meteo-solar-forecast`) and the older Forecast.Solar
  sensors: `watts`, a mapping of ISO times to W (each value until the next time).

`solar_from_attributes` returns the periods found, sorted, in kW; `solar_kw_at` the estimate
for a moment. A forecast is advice: entries that are not periods are skipped, never a reason
to fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .tariffs import timestamp_of

_LIST_KEYS: Final = ("detailedForecast", "detailedHourly", "forecast")
_MAPPING_KEYS: Final = ("watts",)
_START_KEYS: Final = ("period_start", "start", "datetime")
_POWER_KW_KEYS: Final = ("pv_estimate", "power_kw")
MAX_PERIOD_S: Final = 3 * 3600.0
"""The longest a period without an explicit next one is taken to last."""


@dataclass(frozen=True, slots=True)
class SolarPeriod:
    """From `start` to `end` (UTC timestamps, seconds), `kw` of solar power on average."""

    start: float
    end: float
    kw: float


def _power(value: Any, scale: float) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        power = float(value) * scale
    except (TypeError, ValueError):
        return None
    return power if math.isfinite(power) and power >= 0 else None


def _points(attributes: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Return (start, kW) of the first attribute that holds periods."""
    for key in _LIST_KEYS:
        entries = attributes.get(key)
        if not isinstance(entries, list):
            continue
        points = []
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            start = timestamp_of(next((entry[k] for k in _START_KEYS if k in entry), None))
            power = _power(next((entry[k] for k in _POWER_KW_KEYS if k in entry), None), 1.0)
            if start is not None and power is not None:
                points.append((start, power))
        if points:
            return points
    for key in _MAPPING_KEYS:
        watts = attributes.get(key)
        if isinstance(watts, Mapping):
            points = [
                (start, power)
                for moment, value in watts.items()
                if (start := timestamp_of(moment)) is not None
                and (power := _power(value, 0.001)) is not None
            ]
            if points:
                return points
    return []


def solar_from_attributes(attributes: Mapping[str, Any]) -> tuple[SolarPeriod, ...]:
    """Return the solar periods a forecast sensor's attributes announce, sorted, in kW."""
    # One estimate per start (the last one given), so every period has a length.
    points = sorted(dict(_points(attributes)).items())
    periods: list[SolarPeriod] = []
    for index, (start, kw) in enumerate(points):
        if index + 1 < len(points):
            end = min(points[index + 1][0], start + MAX_PERIOD_S)
        elif periods:
            end = start + (periods[-1].end - periods[-1].start)
        else:
            end = start + 3600.0
        periods.append(SolarPeriod(start, end, kw))
    return tuple(periods)


def solar_kw_at(periods: tuple[SolarPeriod, ...], moment: float) -> float | None:
    """Return the forecast's power at `moment` (a UTC timestamp); None outside its periods."""
    for period in periods:
        if period.start <= moment < period.end:
            return period.kw
    return None
