"""Charging profiles: slots that cover the day, and the slot in force."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.powershare.profiles import ChargingProfile, ProfileSlot, parse_clock

ZONE = ZoneInfo("Europe/Brussels")


def _slots(*parts: tuple[str, str, float]) -> tuple[ProfileSlot, ...]:
    return tuple(
        ProfileSlot(parse_clock(start), parse_clock(end), kw * 1000) for start, end, kw in parts
    )


CHEAP_NIGHTS = ChargingProfile(
    weekdays=_slots(("00:00", "07:00", 7.4), ("07:00", "23:00", 2.3), ("23:00", "24:00", 7.4)),
    weekends=_slots(("00:00", "24:00", 7.4)),
)


def test_the_slot_in_force_caps_by_the_clock() -> None:
    assert CHEAP_NIGHTS.power_at(datetime(2026, 3, 2, 6, 59, tzinfo=ZONE)) == 7400.0  # Mon
    assert CHEAP_NIGHTS.power_at(datetime(2026, 3, 2, 7, 0, tzinfo=ZONE)) == 2300.0
    assert CHEAP_NIGHTS.power_at(datetime(2026, 3, 2, 23, 30, tzinfo=ZONE)) == 7400.0
    assert CHEAP_NIGHTS.power_at(datetime(2026, 3, 7, 12, 0, tzinfo=ZONE)) == 7400.0  # Sat


def test_a_profile_survives_storage() -> None:
    assert ChargingProfile.from_dict(CHEAP_NIGHTS.to_dict()) == CHEAP_NIGHTS


@pytest.mark.parametrize(
    ("weekdays", "message"),
    [
        ((("00:00", "07:00", 7.4), ("08:00", "24:00", 2.3)), "gap on weekdays from 07:00 to 08:00"),
        ((("00:00", "07:00", 7.4), ("07:00", "23:00", 2.3)), "gap on weekdays from 23:00 to 24:00"),
        ((("01:00", "24:00", 7.4),), "gap on weekdays from 00:00 to 01:00"),
        (
            (("00:00", "08:00", 7.4), ("07:00", "24:00", 2.3)),
            "overlap on weekdays from 07:00 to 08:00",
        ),
        ((), "weekdays need slots"),
    ],
)
def test_a_set_with_a_gap_or_an_overlap_is_refused_by_name(
    weekdays: tuple[tuple[str, str, float], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ChargingProfile(_slots(*weekdays), _slots(("00:00", "24:00", 7.4)))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("25:00", "26:00", "between 00:00"), ("7h", "8:00", "not a time"), ("08:00", "07:00", "end")],
)
def test_a_slot_that_is_no_slot_is_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProfileSlot.from_dict({"start": start, "end": end, "max_power_kw": 3})
    with pytest.raises(ValueError, match="negative"):
        ProfileSlot(0, 60, -1.0)
    with pytest.raises(ValueError, match="not a charging profile"):
        ChargingProfile.from_dict({"weekdays": []})
