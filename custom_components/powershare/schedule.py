"""Charging schedules: up to two timers (days and a time window), as V2C chargers offer.

A charger with a schedule charges only inside one of its windows (at most at the window's
current, when one is given); outside every window its schedule limit is 0. A window may cross
midnight ("22:00" to "06:00"): it then belongs to the day it starts on. Pure and typed: the
balancing service evaluates it at every cycle with Home Assistant's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Final

MAX_TIMERS: Final = 2
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ChargingTimer:
    """One window: on `days` (of the window's start), from `start` to `end`, at most `current`."""

    start: time
    end: time
    days: frozenset[str] = frozenset(DAYS)
    current: int | None = None

    def __post_init__(self) -> None:
        """Refuse empty or unknown days and a window of zero length."""
        if not self.days or not self.days <= set(DAYS):
            raise ValueError(f"days must be a non-empty subset of {', '.join(DAYS)}")
        if self.start == self.end:
            raise ValueError("a window needs different start and end times")

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (local time) falls in this window."""
        clock = moment.time().replace(tzinfo=None)
        if self.start < self.end:
            return DAYS[moment.weekday()] in self.days and self.start <= clock < self.end
        # Crossing midnight: the evening part belongs to today, the morning to yesterday.
        if clock >= self.start:
            return DAYS[moment.weekday()] in self.days
        yesterday = moment - timedelta(days=1)
        return clock < self.end and DAYS[yesterday.weekday()] in self.days

    def to_dict(self) -> dict[str, Any]:
        """Store as plain JSON in the config entry's options."""
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "days": [day for day in DAYS if day in self.days],
            "current": self.current,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingTimer:
        """Read a timer stored by `to_dict`."""
        current = data.get("current")
        return cls(
            start=time.fromisoformat(data["start"]),
            end=time.fromisoformat(data["end"]),
            days=frozenset(data.get("days") or DAYS),
            current=None if current is None else int(current),
        )


def schedule_limit(timers: tuple[ChargingTimer, ...], moment: datetime) -> int | None:
    """Return the schedule's current limit at `moment`: None = no schedule, 0 = not now."""
    if not timers:
        return None
    limits = [timer.current for timer in timers if timer.contains(moment)]
    if not limits:
        return 0
    bounded = [limit for limit in limits if limit is not None]
    # Overlapping windows: the most generous one applies; a window without a current: no cap.
    return None if len(bounded) < len(limits) else max(bounded)


@dataclass(frozen=True, slots=True)
class Window:
    """One occurrence of a timer's window: from `start` to `end`, at most `current`."""

    start: datetime
    end: datetime
    current: int | None


def next_window(timers: tuple[ChargingTimer, ...], moment: datetime) -> Window | None:
    """Return the window in force at `moment`, else the next to open (None: no schedule).

    `moment` is local time with its zone; a window's times are read on that clock.
    """
    found: list[Window] = []
    today = moment.date()
    for timer in timers:
        for offset in range(-1, len(DAYS) + 1):
            day = today + timedelta(days=offset)
            if DAYS[day.weekday()] not in timer.days:
                continue
            start = datetime.combine(day, timer.start, tzinfo=moment.tzinfo)
            end_day = day + timedelta(days=1) if timer.end <= timer.start else day
            end = datetime.combine(end_day, timer.end, tzinfo=moment.tzinfo)
            if end > moment:
                found.append(Window(start, end, timer.current))
    return min(found, key=lambda window: window.start, default=None)
