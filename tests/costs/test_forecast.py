"""A price sensor's forecast, as the market-price integrations publish it in their attributes.

The shapes follow each integration's documentation: Nordpool (custom-components/nordpool)
`raw_today`/`raw_tomorrow` with start, end and value, and bare `today`/`tomorrow` lists;
ENTSO-e (JaccoR/hass-entso-e) `prices_today`/`prices_tomorrow`/`prices` with time and price;
Tibber's price info with `startsAt` and `total`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.powershare.tariffs import PricePoint, forecast_from_attributes

ZONE = ZoneInfo("Europe/Amsterdam")
MIDNIGHT = datetime(2026, 12, 1, tzinfo=ZONE)
HOUR = 3600.0


def _at(hours: float) -> float:
    return (MIDNIGHT + timedelta(hours=hours)).timestamp()


def test_nordpool_raw_lists_with_datetimes() -> None:
    raw_today = [
        {
            "start": MIDNIGHT + timedelta(hours=hour),
            "end": MIDNIGHT + timedelta(hours=hour + 1),
            "value": 100.0 + hour,
        }
        for hour in range(24)
    ]
    raw_tomorrow = [
        {
            "start": MIDNIGHT + timedelta(days=1),
            "end": MIDNIGHT + timedelta(days=1, hours=1),
            "value": 50.0,
        }
    ]
    points = forecast_from_attributes(
        {"raw_today": raw_today, "raw_tomorrow": raw_tomorrow, "today": [1.0] * 24},
        "EUR/MWh",
        MIDNIGHT,
    )
    assert len(points) == 25
    assert points[0] == PricePoint(_at(0), _at(1), pytest.approx(0.100))  # type: ignore[arg-type]
    assert points[-1].start == _at(24)
    assert points[-1].price == pytest.approx(0.050)


def test_nordpool_bare_lists_start_at_local_midnight_in_quarter_hours() -> None:
    points = forecast_from_attributes(
        {"today": [20.0] * 96, "tomorrow": [10.0] * 96, "tomorrow_valid": True},
        "c/kWh",
        MIDNIGHT,
    )
    assert len(points) == 192
    assert points[1] == PricePoint(_at(0.25), _at(0.5), 0.2)
    assert points[96].start == _at(24)
    assert points[96].price == pytest.approx(0.1)


def test_bare_lists_in_a_unit_that_is_no_price_or_with_nan_are_no_forecast() -> None:
    # A unit that changed after the tariff was set, or a value that is not a number: the
    # forecast has nothing (or skips it), and never raises into the balancing cycle.
    assert forecast_from_attributes({"today": [20.0] * 24}, "EUR/h", MIDNIGHT) == ()
    points = forecast_from_attributes({"today": [20.0, math.nan, 30.0]}, "c/kWh", MIDNIGHT)
    assert [point.price for point in points] == [0.2, 0.3]


def test_entsoe_times_as_text_without_ends() -> None:
    prices = [
        {"time": "2026-12-01 00:00:00+01:00", "price": 0.12},
        {"time": "2026-12-01 00:15:00+01:00", "price": 0.11},
        {"time": "2026-12-01 00:30:00+01:00", "price": -0.01},
    ]
    points = forecast_from_attributes({"prices_today": prices}, "€/kWh", MIDNIGHT)
    # Each lasts until the next; the last as long as the one before it.
    assert points == (
        PricePoint(_at(0), _at(0.25), 0.12),
        PricePoint(_at(0.25), _at(0.5), 0.11),
        PricePoint(_at(0.5), _at(0.75), -0.01),
    )


def test_entsoe_both_days_and_today_count_each_slot_once() -> None:
    today = [{"time": "2026-12-01T00:00:00+01:00", "price": 0.12}]
    both = [*today, {"time": "2026-12-01T01:00:00+01:00", "price": 0.2}]
    points = forecast_from_attributes({"prices": both, "prices_today": today}, None, MIDNIGHT)
    assert [point.start for point in points] == [_at(0), _at(1)]


def test_tibber_price_info() -> None:
    today = [
        {"total": 0.2512, "energy": 0.2, "tax": 0.05, "startsAt": "2026-12-01T00:00:00.000+01:00"},
        {"total": 0.2712, "energy": 0.2, "tax": 0.07, "startsAt": "2026-12-01T01:00:00.000+01:00"},
    ]
    points = forecast_from_attributes({"today": today, "tomorrow": []}, "EUR/kWh", MIDNIGHT)
    assert points == (
        PricePoint(_at(0), _at(1), 0.2512),
        PricePoint(_at(1), _at(2), 0.2712),
    )


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"today": []},
        {"raw_today": [{"start": "yesterday", "value": 1.0}]},  # not a time
        {"raw_today": [{"start": "2026-12-01T00:00:00", "value": 1.0}]},  # no zone: ambiguous
        {"prices_today": [{"time": "2026-12-01T00:00:00+01:00", "price": "n/a"}]},
        {"prices_today": [{"time": "2026-12-01T00:00:00+01:00", "price": float("nan")}]},
        {"prices_today": ["0.12"]},
    ],
)
def test_what_is_no_forecast_gives_none_and_no_error(attributes: dict[str, object]) -> None:
    assert forecast_from_attributes(attributes, "EUR/kWh", MIDNIGHT) == ()
