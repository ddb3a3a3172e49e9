"""Energy tariffs, as in the V2C guide: what a kWh costs at a given moment.

The kinds: a flat price; prices by time range (the same every day); prices by time range and
day of the week; or a price sensor of another integration (market prices: Nordpool, ENTSO-e,
Tibber), whose state Home Assistant reads and `price_per_kwh` converts, and whose attributes
may announce today's and tomorrow's prices (`forecast_from_attributes`, for plans). Every day
of a tariff by time range is covered from 00:00 to 24:00 without a gap or an overlap, like a
charging profile's (`profiles.check_cover`), so a price is always known. Pure and typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from .profiles import check_cover, clock_text, parse_clock

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The days of a weekly tariff, in `datetime.weekday` order."""
MAX_PRICE: Final = 100.0
"""The highest price per kWh accepted: above it a decimal point was surely lost."""


class TariffKind(StrEnum):
    """How the price of a kWh is known."""

    NONE = "none"
    FLAT = "flat"
    TIME_RANGES = "time_ranges"
    WEEKLY = "weekly"
    PRICE_SENSOR = "price_sensor"


@dataclass(frozen=True, slots=True)
class PriceRange:
    """From `start` to `end` (minutes since midnight), `price` per kWh."""

    start: int
    end: int
    price: float

    def __post_init__(self) -> None:
        """Refuse an empty range or a price out of bounds."""
        if not 0 <= self.start < self.end:
            raise ValueError(
                f"a range must end after it starts: {clock_text(self.start)}"
                f" to {clock_text(self.end)}"
            )
        check_price(self.price)

    def text(self) -> str:
        """Return the range as the form shows it: "07:00-23:00=0.30"."""
        return f"{clock_text(self.start)}-{clock_text(self.end)}={self.price:g}"


def check_price(price: float) -> float:
    """Return `price` if it is one a kWh may cost (0 to 100; negative market prices too)."""
    if not -MAX_PRICE <= price <= MAX_PRICE:
        raise ValueError(f"{price:g} per kWh is not a price (-100 to 100 per kWh)")
    return price


_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*=\s*(-?\d+(?:[.,]\d+)?)\s*$")


def parse_ranges(text: str, days: str = "every day") -> tuple[PriceRange, ...]:
    """Read "00:00-07:00=0.12; 07:00-23:00=0.30; 23:00-24:00=0.12" (or one range a line).

    ValueError names the first range that is not one, or the gap or overlap left.
    """
    ranges: list[PriceRange] = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"{part.strip()!r} is not a range (HH:MM-HH:MM=price)")
        start, end, price = match.groups()
        ranges.append(
            PriceRange(parse_clock(start), parse_clock(end), float(price.replace(",", ".")))
        )
    check_cover(ranges, days)
    return tuple(sorted(ranges, key=lambda price_range: price_range.start))


def ranges_text(ranges: tuple[PriceRange, ...]) -> str:
    """Return ranges as `parse_ranges` reads them."""
    return "; ".join(price_range.text() for price_range in ranges)


@dataclass(frozen=True, slots=True)
class Tariff:
    """A tariff: its kind and what that kind needs.

    `days` holds seven days of ranges (Monday first) for both kinds by time range: the same
    ranges seven times when every day is alike.
    """

    kind: TariffKind = TariffKind.NONE
    flat_price: float | None = None
    days: tuple[tuple[PriceRange, ...], ...] = ()
    price_entity: str | None = None

    def __post_init__(self) -> None:
        """Refuse a kind without what it needs."""
        if self.kind is TariffKind.FLAT:
            if self.flat_price is None:
                raise ValueError("a flat tariff needs a price")
            check_price(self.flat_price)
        if self.kind in (TariffKind.TIME_RANGES, TariffKind.WEEKLY):
            if len(self.days) != len(WEEKDAYS):
                raise ValueError("a tariff by time range needs the ranges of every day")
            for day, ranges in zip(WEEKDAYS, self.days, strict=True):
                check_cover(ranges, day)
        if self.kind is TariffKind.PRICE_SENSOR and not self.price_entity:
            raise ValueError("a tariff from a price sensor needs the sensor")

    def price_at(self, moment: datetime) -> float | None:
        """Return the price per kWh at `moment` (local time); None for no tariff or a sensor."""
        if self.kind is TariffKind.FLAT:
            return self.flat_price
        if self.kind in (TariffKind.TIME_RANGES, TariffKind.WEEKLY):
            minute = moment.hour * 60 + moment.minute
            return next(
                price_range.price
                for price_range in self.days[moment.weekday()]
                if price_range.start <= minute < price_range.end
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        """Store as plain JSON in the root group's options."""
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.kind is TariffKind.FLAT:
            data["price"] = self.flat_price
        elif self.kind is TariffKind.TIME_RANGES:
            data["ranges"] = ranges_text(self.days[0])
        elif self.kind is TariffKind.WEEKLY:
            data["days"] = {day: ranges_text(r) for day, r in zip(WEEKDAYS, self.days, strict=True)}
        elif self.kind is TariffKind.PRICE_SENSOR:
            data["entity_id"] = self.price_entity
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tariff:
        """Read a tariff stored by `to_dict` (or given to the service); ValueError if not one."""
        try:
            kind = TariffKind(data.get("kind", TariffKind.NONE.value))
            if kind is TariffKind.FLAT:
                return cls(kind, flat_price=float(data["price"]))
            if kind is TariffKind.TIME_RANGES:
                return cls(kind, days=(parse_ranges(str(data["ranges"])),) * len(WEEKDAYS))
            if kind is TariffKind.WEEKLY:
                days = data["days"]
                return cls(kind, days=tuple(parse_ranges(str(days[day]), day) for day in WEEKDAYS))
            if kind is TariffKind.PRICE_SENSOR:
                return cls(kind, price_entity=str(data["entity_id"]))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a tariff: {err} missing") from err
        return cls()


_MINOR_UNITS: Final = frozenset({"c", "ct", "cent", "cents", "öre", "øre", "p", "pence"})
_PER_ENERGY: Final = {"wh": 1000.0, "kwh": 1.0, "mwh": 0.001}
"""Per unit of energy: the factor to a price per kWh."""


def price_per_kwh(value: float, unit: str | None) -> float:
    """Return a price sensor's value per kWh in the main currency unit.

    "EUR/kWh", "€/MWh", "c/kWh", "SEK/kWh"...: per Wh, kWh or MWh, in cents (c, ct, öre, p)
    or whole units. A unit without "/" is taken as per kWh (some integrations give only the
    currency). ValueError for a unit per something else.
    """
    if unit is None or "/" not in unit:
        return value
    money, _, energy = unit.strip().rpartition("/")
    factor = _PER_ENERGY.get(energy.strip().lower())
    if factor is None:
        raise ValueError(f"{unit!r} is not a price per Wh, kWh or MWh")
    if money.strip().lower() in _MINOR_UNITS:
        factor /= 100.0
    return value * factor


# -- a price sensor's forecast (for plans) ------------------------------------------------------

_START_KEYS: Final = ("start", "startsAt", "time", "start_time", "from")
_END_KEYS: Final = ("end", "endsAt", "end_time", "till", "to")
_PRICE_KEYS: Final = ("value", "price", "total")
_FORECAST_LISTS: Final = (
    ("raw_today", "raw_tomorrow"),  # Nordpool (custom-components/nordpool)
    ("prices",),  # ENTSO-e (JaccoR/hass-entso-e): both days at once
    ("prices_today", "prices_tomorrow"),  # ENTSO-e's days one by one
    ("today", "tomorrow"),  # Tibber price lists (startsAt/total), or Nordpool's bare values
    ("forecast",),
)
"""Where the integrations put today's and tomorrow's prices, first match wins."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    """From `start` to `end` (UTC timestamps, seconds), `price` per kWh."""

    start: float
    end: float
    price: float


def forecast_from_attributes(
    attributes: Mapping[str, Any], unit: str | None, midnight: datetime
) -> tuple[PricePoint, ...]:
    """Return the price points a price sensor's attributes announce, sorted, per kWh.

    Lists of `{start, end, value}` (Nordpool), `{time, price}` (ENTSO-e) or `{startsAt,
    total}` (Tibber), where a point without an end lasts until the next one (the last as long
    as the one before it). Nordpool's bare lists (`today`, `tomorrow`: 24 or 96 values) start
    at `midnight` (today's, local) and tomorrow's at the next. Entries that are not prices are
    skipped: a forecast is advice, never a reason to fail.
    """
    for keys in _FORECAST_LISTS:
        lists = [attributes.get(key) for key in keys]
        if not any(isinstance(entries, list) and entries for entries in lists):
            continue
        points: list[tuple[float, float | None, float]] = []
        for day, entries in enumerate(lists):
            if isinstance(entries, list):
                points += _points(entries, unit, midnight, day)
        if points:
            return _closed(sorted(points))
    return ()


def _points(
    entries: list[Any], unit: str | None, midnight: datetime, day: int
) -> list[tuple[float, float | None, float]]:
    """Read one list of entries: dicts with times, or bare values from a local midnight."""
    points: list[tuple[float, float | None, float]] = []
    if entries and all(isinstance(entry, int | float) for entry in entries):
        step = 24 * 3600 / len(entries)
        first = (midnight + timedelta(days=day)).timestamp()
        for index, bare in enumerate(entries):
            try:
                per_kwh = price_per_kwh(float(bare), unit)
            except ValueError:  # a unit that is no price per energy: no forecast
                return []
            if math.isfinite(per_kwh):
                points.append((first + index * step, first + (index + 1) * step, per_kwh))
        return points
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        start = timestamp_of(next((entry[key] for key in _START_KEYS if key in entry), None))
        end = timestamp_of(next((entry[key] for key in _END_KEYS if key in entry), None))
        price = next((entry[key] for key in _PRICE_KEYS if key in entry), None)
        try:
            value = price_per_kwh(float(price), unit)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if start is not None and math.isfinite(value):
            points.append((start, end, value))
    return points


def timestamp_of(value: Any) -> float | None:
    """Return a timestamp from an aware datetime or ISO 8601 text (None: neither, or naive).

    Forecast attributes (prices here, solar in `solar_forecast`) give their periods so.
    """
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo is not None else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.timestamp() if moment.tzinfo is not None else None
    return None


def _closed(points: list[tuple[float, float | None, float]]) -> tuple[PricePoint, ...]:
    """Give every point an end (the next start, or its predecessor's length); drop repeats."""
    closed: list[PricePoint] = []
    for index, (start, given_end, price) in enumerate(points):
        if closed and start < closed[-1].end:
            continue  # the same slot twice (today's list and both days'), or an overlap
        if given_end is not None:
            end = given_end
        elif index + 1 < len(points):
            end = points[index + 1][0]
        elif closed:
            end = start + (closed[-1].end - closed[-1].start)
        else:
            end = start + 3600.0
        if end > start:
            closed.append(PricePoint(start, end, price))
    return tuple(closed)
