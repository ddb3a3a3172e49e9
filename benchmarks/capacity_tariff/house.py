"""A month of a realistic house: a 15-minute base profile and its spikes, per site phase.

Every appliance is drawn from a seeded generator per day (`random.Random` seeded with a
string, the same on every machine and Python), so the first days of a short run are the
first days of the month. Times are local clock times (the month crosses a DST change);
the currents are held per simulation step (`House.amps`, steps from the month's start).

- Base (lights, fridge, standby, cooking small): a new level every quarter-hour, by the hour
  of day (night 180-300 W, morning 350-650 W, day 220-450 W, evening 400-700 W), 40 % on L1
  and 30 % on L2 and L3.
- Kettle: 2 kW on L1 for 3 minutes, 2 to 5 times a day (mornings, lunch, evenings).
- Oven: 2.5-3 kW on L2 for 45 minutes some evenings (45 %): 15 minutes of preheating, then
  its thermostat, 2 minutes on and 2 off.
- Heat pump: 1.2-1.6 kW on three phases, cycling all day (on 20-45 minutes, off 15-60,
  longer pauses at night), as on a March day.
- Washing machine: 2 kW on L3 heating for 15 minutes, then 250 W for 75 minutes (35 % of
  days, between 8 and 20 h).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

VOLTAGE = 230.0
SEED = 2026


@dataclass(frozen=True, slots=True)
class Clock:
    """The simulated month: its local start, its zone, its step and its length in steps."""

    start: datetime
    step_s: float
    steps: int

    @property
    def start_ts(self) -> float:
        """The start, in Unix seconds."""
        return self.start.timestamp()

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone."""
        zone = self.start.tzinfo
        if not isinstance(zone, ZoneInfo):
            raise TypeError("the clock needs a ZoneInfo time zone")
        return zone

    def local(self, day: int, hour: float) -> float:
        """Return Unix seconds of a local clock time on a day of the month (hour 24 = next)."""
        midnight = (self.start + timedelta(days=day)).replace(tzinfo=None)
        return (midnight + timedelta(hours=hour)).replace(tzinfo=self.start.tzinfo).timestamp()

    def index(self, moment: float) -> int:
        """Return the step holding a Unix time, clamped to the month."""
        return min(max(round((moment - self.start_ts) / self.step_s), 0), self.steps)

    @property
    def days(self) -> int:
        """The local days the month covers (a DST day counts whole)."""
        return round(self.steps * self.step_s / 86400.0)


def make_clock(zone: ZoneInfo, year: int, month: int, days: int, step_s: float) -> Clock:
    """Return the clock of `days` local days from the first of a month, 00:00 local."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = (start.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=zone)
    return Clock(start, step_s, round((end.timestamp() - start.timestamp()) / step_s))


@dataclass(frozen=True, slots=True)
class House:
    """The house's load per step and site phase (amps), and what made it."""

    amps: NDArray[np.float64]
    """Shape (steps, 3)."""
    appliances: dict[str, int]
    """How many times each appliance ran in the month."""

    @property
    def power_w(self) -> NDArray[np.float64]:
        """The house's power per step (W)."""
        return np.asarray(self.amps.sum(axis=1) * VOLTAGE, dtype=np.float64)


def _base_w(rng: random.Random, hour: float) -> float:
    if hour < 6:
        return rng.uniform(180, 300)
    if hour < 9:
        return rng.uniform(350, 650)
    if hour < 17:
        return rng.uniform(220, 450)
    if hour < 22:
        return rng.uniform(400, 700)
    return rng.uniform(250, 400)


class _Builder:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.amps = np.zeros((clock.steps, 3), dtype=np.float64)
        self.counts = {"kettle": 0, "oven": 0, "heat pump cycles": 0, "washing machine": 0}

    def add(self, start: float, end: float, watts: tuple[float, float, float]) -> None:
        """Add a load (W per phase) from `start` to `end` (Unix seconds)."""
        first, last = self.clock.index(start), self.clock.index(end)
        if last > first:
            self.amps[first:last] += np.array(watts) / VOLTAGE

    def base(self, day: int, rng: random.Random) -> None:
        for quarter in range(96):
            watts = _base_w(rng, quarter / 4)
            start = self.clock.local(day, quarter / 4)
            self.add(start, start + 900.0, (0.4 * watts, 0.3 * watts, 0.3 * watts))

    def kettle(self, day: int, rng: random.Random) -> None:
        for _ in range(rng.choice((2, 3, 3, 4, 5))):
            period = rng.choice(((6.5, 9.0), (6.5, 9.0), (12.0, 14.0), (17.0, 22.5)))
            start = self.clock.local(day, round(rng.uniform(*period) * 60) / 60)
            self.add(start, start + 180.0, (2000.0, 0.0, 0.0))
            self.counts["kettle"] += 1

    def oven(self, day: int, rng: random.Random) -> None:
        if rng.random() >= 0.45:
            return
        watts = rng.uniform(2500, 3000)
        start = self.clock.local(day, round(rng.uniform(17.25, 19.5) * 60) / 60)
        self.add(start, start + 900.0, (0.0, watts, 0.0))
        for on in range(15, 45, 4):
            self.add(start + on * 60.0, start + (on + 2) * 60.0, (0.0, watts, 0.0))
        self.counts["oven"] += 1

    def heat_pump(self, day: int, rng: random.Random) -> None:
        third = rng.uniform(1200, 1600) / 3
        hour = rng.uniform(0.0, 1.0)
        while hour < 24.0:
            night = hour < 6 or hour >= 22
            on = rng.uniform(20, 45) / 60
            start = self.clock.local(day, hour)
            end = self.clock.local(day, min(hour + on, 24.0))
            self.add(start, end, (third, third, third))
            self.counts["heat pump cycles"] += 1
            hour += on + rng.uniform(30, 90) / 60 if night else on + rng.uniform(15, 60) / 60

    def washing(self, day: int, rng: random.Random) -> None:
        if rng.random() >= 0.35:
            return
        start = self.clock.local(day, round(rng.uniform(8.0, 20.0) * 60) / 60)
        self.add(start, start + 900.0, (0.0, 0.0, 2000.0))
        self.add(start + 900.0, start + 5400.0, (0.0, 0.0, 250.0))
        self.counts["washing machine"] += 1


def make_house(clock: Clock, seed: int = SEED) -> House:
    """Return the house's load over the clock's month (deterministic for a seed)."""
    builder = _Builder(clock)
    for day in range(clock.days):
        for name, add in (
            ("base", builder.base),
            ("kettle", builder.kettle),
            ("oven", builder.oven),
            ("heat pump", builder.heat_pump),
            ("washing", builder.washing),
        ):
            add(day, random.Random(f"{seed}-{name}-{day}"))
    return House(builder.amps, builder.counts)
