"""Tariffs: ranges that cover each day, the price in force, a price sensor's units."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.powershare.tariffs import (
    WEEKDAYS,
    PriceRange,
    Tariff,
    TariffKind,
    parse_ranges,
    price_per_kwh,
    ranges_text,
)

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SUNDAY_6AM = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def test_ranges_cover_the_day_and_give_the_price_in_force() -> None:
    ranges = parse_ranges("00:00-07:00=0.12; 07:00-23:00=0,30\n23:00-24:00 = 0.12")
    tariff = Tariff(TariffKind.TIME_RANGES, days=(ranges,) * 7)
    assert tariff.price_at(datetime(2026, 11, 30, 6, 59, tzinfo=UTC)) == 0.12
    assert tariff.price_at(datetime(2026, 11, 30, 7, 0, tzinfo=UTC)) == 0.30
    assert tariff.price_at(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == 0.12
    assert ranges_text(ranges) == "00:00-07:00=0.12; 07:00-23:00=0.3; 23:00-24:00=0.12"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("00:00-07:00=0.12; 08:00-24:00=0.30", "a gap on every day from 07:00 to 08:00"),
        ("00:00-08:00=0.12; 07:00-24:00=0.30", "an overlap on every day from 07:00 to 08:00"),
        ("00:00-20:00=0.12", "a gap on every day from 20:00 to 24:00"),
        ("00:00-24:00", "'00:00-24:00' is not a range (HH:MM-HH:MM=price)"),
        ("00:00-25:00=0.1", "'25:00' is not a time between 00:00 and 24:00"),
        ("07:00-07:00=0.1", "a range must end after it starts: 07:00 to 07:00"),
        ("00:00-24:00=250", "250 per kWh is not a price (-100 to 100 per kWh)"),
        ("", "the every day need slots from 00:00 to 24:00"),
    ],
)
def test_ranges_that_do_not_make_a_day_are_refused_by_name(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + _escaped(problem) + "$"):
        parse_ranges(text)


def _escaped(text: str) -> str:
    return "".join("\\" + char if char in "()[].+*?^$|" else char for char in text)


def test_a_weekly_tariff_has_its_own_ranges_per_day() -> None:
    days = dict.fromkeys(WEEKDAYS, "00:00-24:00=0.30")
    days["sun"] = "00:00-08:00=0.10; 08:00-24:00=0.20"
    tariff = Tariff.from_dict({"kind": "weekly", "days": days})
    assert tariff.price_at(MONDAY_NOON) == 0.30
    assert tariff.price_at(SUNDAY_6AM) == 0.10
    assert Tariff.from_dict(tariff.to_dict()) == tariff
    days["sat"] = "00:00-08:00=0.10"
    with pytest.raises(ValueError, match="a gap on sat from 08:00 to 24:00"):
        Tariff.from_dict({"kind": "weekly", "days": days})


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "none"},
        {"kind": "flat", "price": 0.25},
        {"kind": "time_ranges", "ranges": "00:00-12:00=0.1; 12:00-24:00=0.2"},
        {"kind": "price_sensor", "entity_id": "sensor.nordpool"},
    ],
)
def test_a_tariff_is_stored_and_read_back(data: dict[str, object]) -> None:
    tariff = Tariff.from_dict(data)
    assert tariff.to_dict() == data
    assert Tariff.from_dict(tariff.to_dict()) == tariff


@pytest.mark.parametrize(
    "data",
    [{"kind": "flat"}, {"kind": "price_sensor"}, {"kind": "time_ranges"}, {"kind": "hourly"}],
)
def test_a_tariff_without_what_its_kind_needs_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ by kind
        Tariff.from_dict(data)


def test_only_a_flat_or_ranged_tariff_knows_its_price_without_home_assistant() -> None:
    assert Tariff(TariffKind.FLAT, flat_price=0.25).price_at(MONDAY_NOON) == 0.25
    assert Tariff().price_at(MONDAY_NOON) is None
    sensor = Tariff(TariffKind.PRICE_SENSOR, price_entity="sensor.nordpool")
    assert sensor.price_at(MONDAY_NOON) is None


@pytest.mark.parametrize(
    ("value", "unit", "per_kwh"),
    [
        (0.25, "EUR/kWh", 0.25),
        (0.25, "€/kWh", 0.25),
        (250.0, "EUR/MWh", 0.25),
        (25.0, "c/kWh", 0.25),
        (25.0, "ct/kWh", 0.25),
        (125.0, "öre/kWh", 1.25),
        (0.00025, "EUR/Wh", 0.25),
        (-12.0, "EUR/MWh", -0.012),
        (0.25, "EUR", 0.25),
        (0.25, None, 0.25),
    ],
)
def test_price_sensor_units(value: float, unit: str | None, per_kwh: float) -> None:
    assert price_per_kwh(value, unit) == pytest.approx(per_kwh)


def test_a_price_per_something_else_is_refused() -> None:
    with pytest.raises(ValueError, match="'EUR/m³' is not a price per Wh, kWh or MWh"):
        price_per_kwh(1.0, "EUR/m³")


@given(
    cuts=st.lists(st.integers(min_value=1, max_value=24 * 60 - 1), unique=True, max_size=8),
    prices=st.lists(st.integers(min_value=0, max_value=9999), min_size=9, max_size=9),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_any_cover_of_the_day_round_trips_and_prices_every_minute(
    cuts: list[int], prices: list[int], minute: int
) -> None:
    bounds = [0, *sorted(cuts), 24 * 60]
    ranges = tuple(
        PriceRange(start, end, prices[index] / 1000)
        for index, (start, end) in enumerate(pairwise(bounds))
    )
    assert parse_ranges(ranges_text(ranges)) == ranges
    tariff = Tariff(TariffKind.TIME_RANGES, days=(ranges,) * 7)
    moment = datetime(2026, 11, 30, minute // 60, minute % 60, tzinfo=UTC)
    expected = next(r.price for r in ranges if r.start <= minute < r.end)
    assert tariff.price_at(moment) == expected
