"""A solar forecast is read from Solcast's or Open-Meteo's sensor attributes, in kW, sorted."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.powershare.solar_forecast import (
    MAX_PERIOD_S,
    SolarPeriod,
    solar_from_attributes,
    solar_kw_at,
)

T0 = datetime.fromisoformat("2026-12-01T10:00:00+10:00").timestamp()
HALF_HOUR = 1800.0


def at(minutes: int) -> str:
    """The ISO text, with a +10:00 offset as Solcast publishes it, `minutes` after T0."""
    moment = datetime.fromisoformat("2026-12-01T10:00:00+10:00") + timedelta(minutes=minutes)
    return moment.isoformat()


def solcast(*rows: tuple[int, Any]) -> list[dict[str, Any]]:
    return [{"period_start": at(minutes), "pv_estimate": kw} for minutes, kw in rows]


def test_solcast_detailed_forecast_30_minute_periods() -> None:
    assert at(0) == "2026-12-01T10:00:00+10:00"
    rows = solcast((0, 3.2), (30, 3.5), (60, 2.8))
    assert solar_from_attributes({"detailedForecast": rows}) == (
        SolarPeriod(T0, T0 + HALF_HOUR, 3.2),
        SolarPeriod(T0 + HALF_HOUR, T0 + 2 * HALF_HOUR, 3.5),
        SolarPeriod(T0 + 2 * HALF_HOUR, T0 + 3 * HALF_HOUR, 2.8),
    )


def test_detailed_hourly_with_aware_datetimes() -> None:
    start = datetime(2026, 12, 1, 0, tzinfo=UTC)
    rows = [{"period_start": start + timedelta(hours=h), "pv_estimate": h} for h in (0, 1)]
    assert solar_from_attributes({"detailedHourly": rows}) == (
        SolarPeriod(start.timestamp(), start.timestamp() + 3600, 0.0),
        SolarPeriod(start.timestamp() + 3600, start.timestamp() + 7200, 1.0),
    )


def test_generic_forecast_list_with_other_key_names() -> None:
    rows = [{"start": at(0), "power_kw": "1.5"}, {"datetime": at(60), "power_kw": 2}]
    assert solar_from_attributes({"forecast": rows}) == (
        SolarPeriod(T0, T0 + 3600, 1.5),
        SolarPeriod(T0 + 3600, T0 + 7200, 2.0),
    )


@pytest.mark.parametrize("step", [15, 60])
def test_open_meteo_watts_in_kw(step: int) -> None:
    watts = {at(0): 3200, at(step): 1500.0, at(2 * step): 0}
    s = step * 60.0
    assert solar_from_attributes({"watts": watts}) == (
        SolarPeriod(T0, T0 + s, 3.2),
        SolarPeriod(T0 + s, T0 + 2 * s, 1.5),
        SolarPeriod(T0 + 2 * s, T0 + 3 * s, 0.0),
    )


def test_watts_with_datetime_keys() -> None:
    start = datetime.fromisoformat(at(0))
    assert solar_from_attributes({"watts": {start: 500}}) == (SolarPeriod(T0, T0 + 3600, 0.5),)


def test_unsorted_input_is_sorted() -> None:
    rows = solcast((60, 3.0), (0, 1.0), (30, 2.0))
    periods = solar_from_attributes({"detailedForecast": rows})
    assert [p.start for p in periods] == [T0, T0 + HALF_HOUR, T0 + 2 * HALF_HOUR]
    assert [p.kw for p in periods] == [1.0, 2.0, 3.0]


def test_the_same_moment_twice_is_one_period() -> None:
    rows = [
        *solcast((0, 3.2), (30, 3.5)),
        {"period_start": "2026-12-01T00:00:00+00:00", "pv_estimate": 3.2},
    ]
    assert solar_from_attributes({"detailedForecast": rows}) == (
        SolarPeriod(T0, T0 + HALF_HOUR, 3.2),
        SolarPeriod(T0 + HALF_HOUR, T0 + 2 * HALF_HOUR, 3.5),
    )


def test_one_start_with_two_estimates_is_one_period() -> None:
    periods = solar_from_attributes({"detailedForecast": solcast((0, 1.0), (0, 2.0))})
    assert len(periods) == 1
    assert solar_kw_at(periods, T0) == 2.0  # the last estimate given for a start


def test_period_ends() -> None:
    # Across an 8-hour gap the period is capped; the last lasts as long as the one before.
    gap = solar_from_attributes({"detailedForecast": solcast((0, 1.0), (480, 2.0))})
    assert gap == (
        SolarPeriod(T0, T0 + MAX_PERIOD_S, 1.0),
        SolarPeriod(T0 + 480 * 60, T0 + 480 * 60 + MAX_PERIOD_S, 2.0),
    )
    # A single period lasts an hour.
    assert solar_from_attributes({"detailedForecast": solcast((0, 1.0))}) == (
        SolarPeriod(T0, T0 + 3600, 1.0),
    )


GARBAGE: list[Any] = [
    "text",
    None,
    42,
    ["period_start", at(30)],
    {"period_start": "2026-12-01T10:30:00", "pv_estimate": 1.0},
    {"period_start": datetime(2026, 12, 1, 10, 30), "pv_estimate": 1.0},  # noqa: DTZ001
    {"period_start": "not a time", "pv_estimate": 1.0},
    {"period_start": 1_796_000_000, "pv_estimate": 1.0},
    {"pv_estimate": 1.0},
    {"period_start": at(30)},
    {"period_start": at(30), "pv_estimate": math.nan},
    {"period_start": at(30), "pv_estimate": "nan"},
    {"period_start": at(30), "pv_estimate": math.inf},
    {"period_start": at(30), "pv_estimate": -0.5},
    {"period_start": at(30), "pv_estimate": "abc"},
    {"period_start": at(30), "pv_estimate": None},
    {"period_start": at(30), "pv_estimate": [1.0]},
]


@pytest.mark.parametrize("entry", GARBAGE)
def test_garbage_entries_are_skipped(entry: Any) -> None:
    rows = [*solcast((0, 3.2)), entry]
    assert solar_from_attributes({"detailedForecast": rows}) == (SolarPeriod(T0, T0 + 3600, 3.2),)


@pytest.mark.parametrize(
    ("moment", "watts"),
    [("2026-12-01T10:30:00", 1), ("soon", 1), (at(30), -5), (at(30), "x"), (at(30), math.nan)],
)
def test_garbage_watts_are_skipped(moment: Any, watts: Any) -> None:
    periods = solar_from_attributes({"watts": {at(0): 800, moment: watts}})
    assert periods == (SolarPeriod(T0, T0 + 3600, 0.8),)


@pytest.mark.parametrize(
    ("attributes", "expected_kw"),
    [
        ({"detailedHourly": solcast((0, 2.0)), "detailedForecast": solcast((0, 1.0))}, 1.0),
        ({"detailedForecast": ["junk"], "detailedHourly": solcast((0, 2.0))}, 2.0),
        ({"detailedForecast": "junk", "forecast": solcast((0, 3.0))}, 3.0),
        ({"watts": {at(0): 4000}, "forecast": solcast((0, 3.0))}, 3.0),
        ({"forecast": [], "watts": {at(0): 4000}}, 4.0),
    ],
)
def test_the_first_attribute_with_periods_wins(
    attributes: dict[str, Any], expected_kw: float
) -> None:
    assert [p.kw for p in solar_from_attributes(attributes)] == [expected_kw]


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"friendly_name": "Solcast"},
        {"detailedForecast": [], "detailedHourly": [], "forecast": []},
        {"detailedForecast": [{"period_start": "x", "pv_estimate": 1}]},
        {"watts": {}},
        {"watts": [[at(0), 1000]]},
        {"watts": {"x": 1000}},
    ],
)
def test_nothing_usable_is_no_periods(attributes: dict[str, Any]) -> None:
    assert solar_from_attributes(attributes) == ()


def test_solar_kw_at() -> None:
    periods = solar_from_attributes({"detailedForecast": solcast((0, 3.2), (30, 3.5))})
    assert solar_kw_at(periods, T0) == 3.2  # a start is inside
    assert solar_kw_at(periods, T0 + 600) == 3.2
    assert solar_kw_at(periods, T0 + HALF_HOUR) == 3.5  # an end is not
    assert solar_kw_at(periods, T0 + 2 * HALF_HOUR - 1) == 3.5
    assert solar_kw_at(periods, T0 + 2 * HALF_HOUR) is None
    assert solar_kw_at(periods, T0 - 1) is None
    assert solar_kw_at((), T0) is None
    capped = solar_from_attributes({"detailedForecast": solcast((0, 1.0), (480, 2.0))})
    assert solar_kw_at(capped, T0 + MAX_PERIOD_S) is None  # in the gap, past the cap


@given(
    st.dictionaries(
        st.integers(min_value=-10_000, max_value=10_000),
        st.floats(min_value=0, max_value=1000, allow_nan=False),
        max_size=30,
    )
)
def test_property_sorted_non_overlapping_and_found(rows: dict[int, float]) -> None:
    periods = solar_from_attributes({"detailedForecast": solcast(*rows.items())})
    assert len(periods) == len(rows)
    for period in periods:
        assert period.start < period.end <= period.start + MAX_PERIOD_S
    for before, after in pairwise(periods):
        assert before.end <= after.start
    for period in periods:
        assert solar_kw_at(periods, period.start) == period.kw
    for minutes, kw in rows.items():
        assert solar_kw_at(periods, T0 + minutes * 60) == kw
