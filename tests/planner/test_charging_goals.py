"""A charging goal: validation, next departure, energy still needed, storage, slot limits."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.powershare.charging_goals import CHARGE_EFFICIENCY, ChargingGoal, slot_limit
from custom_components.powershare.schedule import DAYS

BXL = ZoneInfo("Europe/Brussels")
SEVEN = time(7, 0)
WORKDAYS = dict.fromkeys(DAYS[:5], SEVEN)
SOC: dict[str, Any] = {"target_soc": 80, "soc_entity": "sensor.soc", "battery_kwh": 60}
NAIVE = datetime(2026, 5, 8, 7, 0)  # noqa: DTZ001 - refused on purpose
SPAN = (datetime(2025, 1, 1), datetime(2028, 1, 1))  # noqa: DTZ001 - hypothesis wants naive bounds


def at(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """Brussels local time in 2026: 05-08 is a Friday, 03-29 and 10-25 change the clocks."""
    return datetime(2026, month, day, hour, minute, tzinfo=BXL, fold=fold)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"daily": {"mo": SEVEN}}, "unknown days ['mo']: use mon, tue, wed, thu, fri, sat, sun"),
        ({"departure": NAIVE}, "a departure needs a time zone"),
        ({"energy_kwh": -0.1}, "the energy must be between 0 and 200, not -0.1"),
        ({"energy_kwh": 200.01}, "the energy must be between 0 and 200, not 200.01"),
        ({"energy_kwh": math.nan}, "the energy must be between 0 and 200, not nan"),
        ({"energy_kwh": math.inf}, "the energy must be between 0 and 200, not inf"),
        ({"target_soc": -1}, "the target charge must be between 0 and 100, not -1"),
        ({"target_soc": 100.5}, "the target charge must be between 0 and 100, not 100.5"),
        ({"target_soc": -math.inf}, "the target charge must be between 0 and 100, not -inf"),
        ({"battery_kwh": 0}, "the battery capacity must be more than 0 kWh"),
        ({"battery_kwh": 250}, "the battery capacity must be between 0 and 200, not 250"),
        ({"battery_kwh": math.nan}, "the battery capacity must be between 0 and 200, not nan"),
    ],
)
def test_invalid_goal_is_refused_readably(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ChargingGoal(**fields)


def test_bounds_are_accepted_and_stored_as_floats() -> None:
    goal = ChargingGoal(energy_kwh=200, target_soc=0, battery_kwh=200, daily=WORKDAYS)
    values = (goal.energy_kwh, goal.target_soc, goal.battery_kwh)
    assert values == (200.0, 0.0, 200.0)
    assert all(type(value) is float for value in values)
    assert ChargingGoal(energy_kwh=0, target_soc=100).target_soc == 100.0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, False),
        ({"energy_kwh": 0}, True),
        (SOC, True),
        ({**SOC, "soc_entity": None}, False),
        ({**SOC, "battery_kwh": None}, False),
        ({**SOC, "target_soc": None}, False),
    ],
)
def test_has_target(fields: dict[str, Any], expected: bool) -> None:
    assert ChargingGoal(**fields).has_target is expected


@pytest.mark.parametrize(
    ("departure", "expected"),
    [(at(5, 8, 17), at(5, 8, 17)), (at(5, 8, 7), None), (at(5, 8, 8), None), (None, None)],
)
def test_one_off_counts_only_when_after_now(departure: datetime, expected: datetime | None) -> None:
    goal = ChargingGoal(departure=departure, energy_kwh=10, **SOC)
    assert goal.next_departure(at(5, 8, 8)) == expected


@pytest.mark.parametrize(
    ("daily", "now", "expected"),
    [
        (WORKDAYS, at(5, 8, 8), at(5, 11, 7)),  # Friday after 07:00: Monday
        (WORKDAYS, at(5, 9, 12), at(5, 11, 7)),  # Saturday
        (WORKDAYS, at(5, 7, 6, 59), at(5, 7, 7)),  # Thursday, before 07:00: today
        (WORKDAYS, at(5, 7, 7), at(5, 8, 7)),  # exactly 07:00: the next day
        ({"mon": SEVEN}, at(5, 11, 7, 30), at(5, 18, 7)),  # passed: a week later
    ],
)
def test_daily_departures(daily: dict[str, time], now: datetime, expected: datetime) -> None:
    result = ChargingGoal(daily=daily).next_departure(now)
    assert result == expected
    assert result is not None
    assert result.tzinfo is BXL


@pytest.mark.parametrize(
    ("one_off", "expected"),
    [
        (at(5, 8, 17), at(5, 8, 17)),  # before Monday's daily departure
        (at(5, 12, 9), at(5, 11, 7)),  # after it
        (at(5, 8, 6), at(5, 11, 7)),  # already passed: only the daily one
        (datetime(2026, 5, 11, 4, 30, tzinfo=UTC), at(5, 11, 6, 30)),  # 06:30 local: first
        (datetime(2026, 5, 11, 5, 30, tzinfo=UTC), at(5, 11, 7)),  # 07:30 local: after 07:00
    ],
)
def test_the_earliest_of_one_off_and_daily(one_off: datetime, expected: datetime) -> None:
    goal = ChargingGoal(departure=one_off, daily=WORKDAYS)
    assert goal.next_departure(at(5, 8, 8)) == expected


@pytest.mark.parametrize(
    ("now", "offset", "utc"),
    [
        (at(3, 28, 8), 2, datetime(2026, 3, 29, 5, tzinfo=UTC)),  # 22 h later
        (at(10, 24, 8), 1, datetime(2026, 10, 25, 6, tzinfo=UTC)),  # 24 h later
    ],
)
def test_daily_departure_across_a_dst_change(now: datetime, offset: int, utc: datetime) -> None:
    result = ChargingGoal(daily={"sun": SEVEN}).next_departure(now)
    assert result is not None
    assert (result.date(), result.time()) == (utc.date(), SEVEN)
    assert result.utcoffset() == timedelta(hours=offset)
    assert result.astimezone(UTC) == utc


def test_departure_in_the_repeated_hour_is_after_now_as_an_instant() -> None:
    now = at(10, 25, 2, 15, fold=1)  # 01:15 UTC
    result = ChargingGoal(daily={"sun": time(2, 30)}).next_departure(now)
    assert result is not None
    assert result.astimezone(UTC) > now.astimezone(UTC)


minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@given(
    # A real "now" is an instant; a wall time inside the spring-forward gap (02:30 on the last
    # Sunday of March) is not one, and names the instant an hour later: the wall-time oracle
    # below would expect a 03:00 departure that is, as an instant, not after it.
    now=st.datetimes(*SPAN, timezones=st.just(BXL), allow_imaginary=False),
    daily=st.dictionaries(st.sampled_from(DAYS), minute_times, min_size=1),
)
def test_daily_departure_is_the_first_matching_wall_time_after_now(
    now: datetime, daily: dict[str, time]
) -> None:
    wall = now.replace(tzinfo=None)
    days = [wall.date() + timedelta(days=k) for k in range(8)]
    candidates = [
        datetime.combine(day, daily[DAYS[day.weekday()]])
        for day in days
        if DAYS[day.weekday()] in daily
    ]
    result = ChargingGoal(daily=daily).next_departure(now)
    assert result is not None
    assert result.replace(tzinfo=None) == min(c for c in candidates if c > wall)


@pytest.mark.parametrize(
    ("soc", "expected"),
    [
        (30, 0.5 * 60 / CHARGE_EFFICIENCY),  # 33.3 kWh: the charge target, through the losses
        (80, 0.0),  # at the target
        (95, 0.0),  # above it
        (None, 2.0),  # the charge unknown: the energy target, less the session's 3 kWh
    ],
)
def test_soc_target_first_then_energy(soc: float | None, expected: float) -> None:
    needed = ChargingGoal(**SOC, energy_kwh=5).energy_needed(session_kwh=3, soc=soc)
    assert needed == pytest.approx(expected)


@pytest.mark.parametrize(("session", "expected"), [(0, 10.0), (4, 6.0), (10, 0.0), (12.5, 0.0)])
def test_energy_target_minus_session_not_below_zero(session: float, expected: float) -> None:
    goal = ChargingGoal(energy_kwh=10)
    assert goal.energy_needed(session_kwh=session, soc=50) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("goal", "soc"),
    [
        (ChargingGoal(), 20),
        (ChargingGoal(daily=WORKDAYS, battery_kwh=60), 20),
        (ChargingGoal(**SOC), None),  # charge target, but the charge is unknown
        (ChargingGoal(target_soc=80), 20),  # charge target without a battery capacity
    ],
)
def test_energy_needed_none_when_unknown(goal: ChargingGoal, soc: float | None) -> None:
    assert goal.energy_needed(session_kwh=1, soc=soc) is None


@pytest.mark.parametrize(
    ("battery", "soc", "planned", "expected"),
    [(60, 50, 10, 65.0), (60, 95, 20, 100.0), (60, None, 5, None), (None, 50, 5, None)],
)
def test_expected_soc(
    battery: float | None, soc: float | None, planned: float, expected: float | None
) -> None:
    result = ChargingGoal(battery_kwh=battery).expected_soc(soc=soc, planned_kwh=planned)
    assert result == (None if expected is None else pytest.approx(expected))


def test_car_left_keeps_daily_and_car_clears_one_off_parts() -> None:
    goal = ChargingGoal(departure=at(5, 8, 17), daily=WORKDAYS, energy_kwh=10, **SOC)
    left = goal.car_left()
    assert left == ChargingGoal(daily=WORKDAYS, soc_entity="sensor.soc", battery_kwh=60)
    assert goal.energy_kwh == 10.0  # the original is untouched


def test_to_dict_is_plain_json_with_days_in_week_order() -> None:
    goal = ChargingGoal(departure=at(5, 8, 17, 30), daily={"fri": SEVEN, "mon": time(6, 5)})
    stored = goal.to_dict()
    assert stored == dict.fromkeys(("energy_kwh", "target_soc", "soc_entity", "battery_kwh")) | {
        "departure": "2026-05-08T17:30:00+02:00",
        "daily": {"mon": "06:05", "fri": "07:00"},
    }
    assert list(stored["daily"]) == ["mon", "fri"]


zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
goals = st.builds(
    ChargingGoal,
    departure=st.none() | st.datetimes(timezones=zones),
    daily=st.dictionaries(st.sampled_from(DAYS), minute_times),
    energy_kwh=st.none() | st.floats(0, 200),
    target_soc=st.none() | st.floats(0, 100),
    soc_entity=st.none() | st.text(min_size=1),
    battery_kwh=st.none() | st.floats(0.1, 200),
)


@given(goals)
def test_to_dict_from_dict_round_trip(goal: ChargingGoal) -> None:
    assert ChargingGoal.from_dict(goal.to_dict()) == goal


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        [],
        {},
        {"daily": 5},
        {"daily": {"mon": 700}},
        {"daily": {"someday": "07:00"}},
        {"daily": {}, "departure": 5},
        {"daily": {}, "departure": NAIVE.isoformat()},
        {"daily": {}, "energy_kwh": [1]},
        {"daily": {}, "target_soc": 500},
    ],
)
def test_from_dict_of_garbage_raises_value_error(garbage: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ by cause
        ChargingGoal.from_dict(garbage)


@pytest.mark.parametrize(
    ("current", "energy", "done", "expected"),
    [
        (10.0, 0.0, 0.0, 0),  # empty slot
        (10.0, 0.009, 0.0, 0),  # below the epsilon: the car waits
        (10.0, 2.0, 2.0, 0),  # delivered
        (10.0, 2.0, 1.9, 10),  # an integer mean current stays
        (10.0000001, 2.0, 0.0, 10),  # float noise does not add an amp
        (10.2, 2.0, 0.0, 11),  # rounded up
        (3.0, 0.5, 0.0, 6),  # at least the minimum
    ],
)
def test_slot_limit(current: float, energy: float, done: float, expected: int) -> None:
    result = slot_limit(current_a=current, energy_kwh=energy, delivered_kwh=done, min_current=6)
    assert result == expected
    assert type(result) is int
