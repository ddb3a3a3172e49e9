"""A charger's charging goal: a departure, and the energy (or charge) to have by then.

A goal has a departure, either once (a date and time) or daily (a time per weekday), and a
target: the energy to add in the car's session (kWh), or a state of charge (%) read from the
car's own sensor with its battery's capacity. It is stored in the charger entry's options, as
the schedule and the profile are; the one-off parts (the single departure, the energy, the
charge target) are cleared when the car leaves, a daily departure stays. Pure and typed: the
balancing service's plan keeper (`balancing.plans`) evaluates it with Home Assistant's time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, Final

from .schedule import DAYS

CHARGE_EFFICIENCY: Final = 0.9
"""kWh that reach the battery per kWh the charger delivers (AC charging loses about 10 %)."""
MAX_ENERGY_KWH: Final = 200.0
"""The largest energy a request may ask for (the largest car batteries are about 200 kWh)."""
PLANNED_SLOT_EPSILON_KWH: Final = 0.01
"""A slot planned for less than this is a slot the car waits in."""


def _check_energy(what: str, value: float | None, upper: float) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= upper:
        raise ValueError(f"{what} must be between 0 and {upper:g}, not {value}")
    return number


@dataclass(frozen=True, slots=True)
class ChargingGoal:
    """A charger's departure and target, as the user set them (see the module docstring).

    `departure` is an aware datetime; `daily` maps weekday names (`schedule.DAYS`) to a
    local time. `energy_kwh` is what to add this session; `target_soc` (%) needs
    `soc_entity` (the car's state-of-charge sensor) and `battery_kwh`.
    """

    departure: datetime | None = None
    daily: dict[str, time] = field(default_factory=dict)
    energy_kwh: float | None = None
    target_soc: float | None = None
    soc_entity: str | None = None
    battery_kwh: float | None = None

    def __post_init__(self) -> None:
        """Refuse unknown days, a naive departure, energies and percentages out of range."""
        unknown = set(self.daily) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown days {sorted(unknown)}: use {', '.join(DAYS)}")
        if self.departure is not None and self.departure.tzinfo is None:
            raise ValueError("a departure needs a time zone")
        object.__setattr__(
            self, "energy_kwh", _check_energy("the energy", self.energy_kwh, MAX_ENERGY_KWH)
        )
        object.__setattr__(
            self, "target_soc", _check_energy("the target charge", self.target_soc, 100.0)
        )
        battery = _check_energy("the battery capacity", self.battery_kwh, MAX_ENERGY_KWH)
        if battery == 0:
            raise ValueError("the battery capacity must be more than 0 kWh")
        object.__setattr__(self, "battery_kwh", battery)

    @property
    def has_target(self) -> bool:
        """Whether it says how much: an energy, or a charge with a sensor and a capacity."""
        return self.energy_kwh is not None or (
            self.target_soc is not None
            and self.soc_entity is not None
            and self.battery_kwh is not None
        )

    def next_departure(self, now: datetime) -> datetime | None:
        """Return the next departure after `now` (local, aware): the one-off or a daily one."""
        # Compared as instants: in the hour a clock goes back, wall times repeat (`fold`).
        after = now.timestamp()
        moments: list[datetime] = []
        if self.departure is not None and self.departure.timestamp() > after:
            moments.append(self.departure)
        for offset in range(8):  # today and the next seven days: each weekday once
            day = (now + timedelta(days=offset)).date()
            leave = self.daily.get(DAYS[day.weekday()])
            if leave is None:
                continue
            found = [
                moment
                for fold in (0, 1)
                if (
                    moment := datetime.combine(day, leave, tzinfo=now.tzinfo).replace(fold=fold)
                ).timestamp()
                > after
            ]
            if found:
                moments.append(found[0])
                break
        return min(moments, key=lambda moment: moment.timestamp(), default=None)

    def energy_needed(self, *, session_kwh: float, soc: float | None) -> float | None:
        """Return what the charger must still deliver (kWh), None when it cannot be said.

        A charge target counts from the car's reported charge, through the charging losses; an
        energy target from what this session delivered already.
        """
        if self.target_soc is not None and self.battery_kwh is not None and soc is not None:
            missing = max(0.0, self.target_soc - soc) / 100.0 * self.battery_kwh
            return missing / CHARGE_EFFICIENCY
        if self.energy_kwh is not None:
            return max(0.0, self.energy_kwh - session_kwh)
        return None

    def expected_soc(self, *, soc: float | None, planned_kwh: float) -> float | None:
        """Return the charge the car is expected to have after `planned_kwh` more."""
        if soc is None or self.battery_kwh is None:
            return None
        return min(100.0, soc + planned_kwh * CHARGE_EFFICIENCY / self.battery_kwh * 100.0)

    def car_left(self) -> ChargingGoal:
        """Return what stays when the car leaves: the daily departures and the car's sensor."""
        return replace(self, departure=None, energy_kwh=None, target_soc=None)

    def to_dict(self) -> dict[str, Any]:
        """Store as plain JSON in the config entry's options."""
        return {
            "departure": None if self.departure is None else self.departure.isoformat(),
            "daily": {day: self.daily[day].strftime("%H:%M") for day in DAYS if day in self.daily},
            "energy_kwh": self.energy_kwh,
            "target_soc": self.target_soc,
            "soc_entity": self.soc_entity,
            "battery_kwh": self.battery_kwh,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingGoal:
        """Read a request stored by `to_dict` (ValueError when it is not one)."""
        try:
            departure = data.get("departure")
            return cls(
                departure=None if departure is None else datetime.fromisoformat(departure),
                daily={day: time.fromisoformat(text) for day, text in data["daily"].items()},
                energy_kwh=data.get("energy_kwh"),
                target_soc=data.get("target_soc"),
                soc_entity=data.get("soc_entity"),
                battery_kwh=data.get("battery_kwh"),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"not a stored plan request: {err}") from err


def slot_limit(
    *, current_a: float, energy_kwh: float, delivered_kwh: float, min_current: int
) -> int:
    """Return the whole-amp cap a charger follows in a planned slot.

    0 where the slot holds (almost) nothing or its energy is delivered; else the plan's mean
    current rounded up, at least the charger's minimum: a slot planned below the minimum is
    delivered at the minimum for part of the slot, then paused.
    """
    if energy_kwh < PLANNED_SLOT_EPSILON_KWH or delivered_kwh >= energy_kwh:
        return 0
    return max(min_current, math.ceil(current_a - 1e-6))
