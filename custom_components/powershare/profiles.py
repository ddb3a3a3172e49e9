"""Charging profiles by tariff slot, as in the V2C guide: a maximum power for each time slot.

A profile has slots for weekdays and for weekends, and each set must cover the whole day,
00:00 to 24:00, without a gap or an overlap (the guide insists on it): `ChargingProfile`
refuses a set that does not, naming the gap or the overlap. The slot in force caps a
charger's power (or a group's). Pure and typed; times are minutes since midnight, "24:00"
included as the end of the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

DAY_MINUTES: Final = 24 * 60
WEEKEND: Final = frozenset({5, 6})
"""Saturday and Sunday (`datetime.weekday`)."""


def parse_clock(text: str) -> int:
    """Return the minutes since midnight of "HH:MM" ("24:00" is the end of the day)."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError as err:
        raise ValueError(f"{text!r} is not a time (HH:MM)") from err
    total = hours * 60 + minutes
    if not 0 <= minutes < 60 or not 0 <= total <= DAY_MINUTES:  # noqa: PLR2004
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return total


def clock_text(minutes: int) -> str:
    """Return "HH:MM" for minutes since midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class ProfileSlot:
    """From `start` to `end` (minutes since midnight), at most `max_power_w`."""

    start: int
    end: int
    max_power_w: float

    def __post_init__(self) -> None:
        """Refuse an empty slot or a negative power."""
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise ValueError(
                f"a slot must end after it starts: {clock_text(self.start)}"
                f" to {clock_text(self.end)}"
            )
        if self.max_power_w < 0:
            raise ValueError("a slot's maximum power cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        """Store as plain JSON."""
        return {
            "start": clock_text(self.start),
            "end": clock_text(self.end),
            "max_power_kw": self.max_power_w / 1000.0,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileSlot:
        """Read a slot stored by `to_dict` (or given to the service)."""
        return cls(
            parse_clock(str(data["start"])),
            parse_clock(str(data["end"])),
            float(data["max_power_kw"]) * 1000.0,
        )


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """Slots covering every minute of weekdays, and of weekends."""

    weekdays: tuple[ProfileSlot, ...]
    weekends: tuple[ProfileSlot, ...]

    def __post_init__(self) -> None:
        """Refuse a set of slots that leaves a gap or overlaps (the message names it)."""
        check_cover(self.weekdays, "weekdays")
        check_cover(self.weekends, "weekends")

    def power_at(self, moment: datetime) -> float:
        """Return the maximum power of the slot in force at `moment` (local time)."""
        slots = self.weekends if moment.weekday() in WEEKEND else self.weekdays
        minute = moment.hour * 60 + moment.minute
        return next(slot.max_power_w for slot in slots if slot.start <= minute < slot.end)

    def to_dict(self) -> dict[str, Any]:
        """Store as plain JSON in the entry's options."""
        return {
            "weekdays": [slot.to_dict() for slot in self.weekdays],
            "weekends": [slot.to_dict() for slot in self.weekends],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingProfile:
        """Read a profile stored by `to_dict`; ValueError when it is not one."""
        try:
            return cls(
                tuple(ProfileSlot.from_dict(raw) for raw in data["weekdays"]),
                tuple(ProfileSlot.from_dict(raw) for raw in data["weekends"]),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a charging profile: {err}") from err


class DaySlot(Protocol):
    """A part of a day: from `start` to `end`, in minutes since midnight."""

    @property
    def start(self) -> int:
        """The first minute."""

    @property
    def end(self) -> int:
        """The minute after the last."""


def check_cover(slots: Sequence[DaySlot], days: str) -> None:
    """Raise ValueError unless `slots` cover 00:00 to 24:00 exactly once."""
    if not slots:
        raise ValueError(f"the {days} need slots from 00:00 to 24:00")
    reached = 0
    for slot in sorted(slots, key=lambda slot: slot.start):
        if slot.start > reached:
            raise ValueError(
                f"a gap on {days} from {clock_text(reached)} to {clock_text(slot.start)}"
            )
        if slot.start < reached:
            raise ValueError(
                f"an overlap on {days} from {clock_text(slot.start)}"
                f" to {clock_text(min(reached, slot.end))}"
            )
        reached = slot.end
    if reached < DAY_MINUTES:
        raise ValueError(f"a gap on {days} from {clock_text(reached)} to 24:00")
