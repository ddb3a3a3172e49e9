"""Charging schedules: windows, days, midnight crossing, overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.powershare.schedule import (
    DAYS,
    ChargingTimer,
    Window,
    next_window,
    schedule_limit,
)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(day=16 + day, hour=hour, minute=minute)


def test_no_timers_means_no_schedule() -> None:
    assert schedule_limit((), at(0, 12)) is None


def test_inside_and_outside_a_day_window() -> None:
    timer = ChargingTimer(start=time(9), end=time(17), current=10)
    assert schedule_limit((timer,), at(0, 9)) == 10
    assert schedule_limit((timer,), at(0, 16, 59)) == 10
    assert schedule_limit((timer,), at(0, 17)) == 0
    assert schedule_limit((timer,), at(0, 8, 59)) == 0


def test_window_crossing_midnight_belongs_to_its_start_day() -> None:
    weekdays = frozenset({"mon", "tue", "wed", "thu", "fri"})
    timer = ChargingTimer(start=time(22), end=time(6), days=weekdays)
    assert schedule_limit((timer,), at(0, 23)) is None  # Monday night: open, no cap
    assert schedule_limit((timer,), at(1, 5)) is None  # Tuesday morning: Monday's window
    assert schedule_limit((timer,), at(5, 23)) == 0  # Saturday night: closed
    assert schedule_limit((timer,), at(5, 5)) is None  # Saturday morning: Friday's window
    assert schedule_limit((timer,), at(6, 5)) == 0  # Sunday morning: Saturday had none


def test_overlapping_windows_take_the_most_generous() -> None:
    low = ChargingTimer(start=time(0), end=time(12), current=8)
    high = ChargingTimer(start=time(6), end=time(18), current=16)
    assert schedule_limit((low, high), at(2, 7)) == 16
    assert schedule_limit((low, high), at(2, 3)) == 8


def test_bad_timers_are_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        ChargingTimer(start=time(1), end=time(2), days=frozenset({"someday"}))
    with pytest.raises(ValueError, match="different"):
        ChargingTimer(start=time(1), end=time(1))


@given(
    start=st.times(),
    end=st.times(),
    days=st.frozensets(st.sampled_from(DAYS), min_size=1),
    current=st.one_of(st.none(), st.integers(6, 32)),
)
def test_timers_survive_storage(
    start: time, end: time, days: frozenset[str], current: int | None
) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        return
    timer = ChargingTimer(start=start, end=end, days=days, current=current)
    assert ChargingTimer.from_dict(timer.to_dict()) == timer


def test_the_next_window_is_the_one_in_force_or_the_next_to_open() -> None:
    zone = ZoneInfo("Europe/Brussels")
    nights = ChargingTimer(time(22), time(6), frozenset({"mon", "tue"}), current=16)
    weekend = ChargingTimer(time(10), time(14), frozenset({"sat"}))
    monday_noon = datetime(2026, 3, 2, 12, tzinfo=zone)  # a Monday
    window = next_window((nights, weekend), monday_noon)
    assert window == Window(
        datetime(2026, 3, 2, 22, tzinfo=zone), datetime(2026, 3, 3, 6, tzinfo=zone), 16
    )
    # Tuesday 03:00: Monday night's window is in force.
    in_force = next_window((nights, weekend), datetime(2026, 3, 3, 3, tzinfo=zone))
    assert in_force is not None
    assert in_force.start == datetime(2026, 3, 2, 22, tzinfo=zone)
    # Wednesday morning: the next one is Saturday's.
    later = next_window((nights, weekend), datetime(2026, 3, 4, 7, tzinfo=zone))
    assert later == Window(
        datetime(2026, 3, 7, 10, tzinfo=zone), datetime(2026, 3, 7, 14, tzinfo=zone), None
    )
    assert next_window((), monday_noon) is None
