"""Random but real-looking 24-hour nights: a building's fuses, its cars, day-ahead prices.

Each instance starts at 15:00 and runs 96 quarter-hours to 15:00 the next day (seeded, the
same on every machine: `numpy.random.default_rng(seed)`).

- Site: a three-phase main fuse of 50 A (margin included) with two sub-panels below it, a
  garage on 32 A and a carport on 25 A; the cars alternate between them. The house behind
  the main fuse takes 3 to 6 A per phase at night and 8 to 20 A in the evening (more on L1),
  a new value each quarter-hour.
- Cars: 60 % three-phase at 16 A (11 kW), the rest single-phase at 16 or 32 A on a random
  phase; each needs 5 to 35 kWh (single-phase: up to 20). They arrive between 15:00 and
  21:00 and leave between 6:00 and 9:00; one in five stays until 15:00 (home all day).
- Prices (EUR/kWh, spot-like): an hourly curve of the day-ahead market's shape (cheap night,
  morning peak at 8, a midday dip that goes negative on sunny days, the evening peak at 19),
  hourly noise, and quarter-hours that ramp within the hour as 15-minute products do.
- One instance in three has a solar surplus (up to 4-8 kW around 12:00, feed-in 0.01 EUR)
  and one in three a peak budget for the cars (a capacity tariff's limit of 2 kW plus 3 to
  4 kW per car, minus the house's forecast).
"""

from __future__ import annotations

import numpy as np

from custom_components.powershare.planner import PHASES, Car, Group, PlanRequest

SLOTS = 96
START_HOUR = 15.0
VOLTAGE = 230.0
MAIN_A, GARAGE_A, CARPORT_A = 50.0, 32.0, 25.0
FEED_IN = 0.01

# Day-ahead shape by hour of the day (a multiple of the day's level), from 0 to 23 h.
HOURLY_SHAPE = np.array(
    [0.80, 0.74, 0.70, 0.68, 0.70, 0.78, 0.98, 1.25, 1.40, 1.20, 0.95, 0.75,
     0.60, 0.55, 0.62, 0.80, 1.00, 1.30, 1.65, 1.75, 1.45, 1.15, 1.00, 0.90]
)  # fmt: skip


def hour_of(slot: int | np.ndarray) -> np.ndarray:
    """Return the hour of the day (0-24) at the start of each slot."""
    return np.asarray((START_HOUR + np.asarray(slot) / 4.0) % 24.0, dtype=np.float64)


def prices(rng: np.random.Generator, *, sunny: bool) -> np.ndarray:
    """Return 96 quarter-hour prices (EUR/kWh) in the day-ahead market's shape."""
    level = rng.uniform(0.07, 0.13)
    hours = (START_HOUR + np.arange(25)) % 24
    hourly = level * HOURLY_SHAPE[hours.astype(int)] * rng.normal(1.0, 0.08, size=25)
    if sunny:  # midday solar pushes the spot price down, below zero for an hour or two
        midday = (hours >= 11) & (hours <= 15)
        hourly[midday] -= rng.uniform(0.04, 0.12) * np.sin(np.pi * (hours[midday] - 10) / 6)
    quarter = np.arange(SLOTS)
    within = (quarter % 4) / 4.0
    ramp = hourly[quarter // 4] + (hourly[quarter // 4 + 1] - hourly[quarter // 4]) * within * 0.5
    return np.round(ramp + rng.normal(0.0, 0.003, size=SLOTS), 4)


def house_amps(rng: np.random.Generator) -> np.ndarray:
    """Return the house's load behind the main fuse, (3, 96) amps per phase."""
    hours = hour_of(np.arange(SLOTS))
    evening = (hours >= 17) & (hours < 22)
    day = (hours >= 7) & (hours < 17)
    low = np.where(evening, 8.0, np.where(day, 5.0, 3.0))
    high = np.where(evening, 20.0, np.where(day, 10.0, 6.0))
    amps = rng.uniform(low, high, size=(3, SLOTS))
    amps[0] *= 1.3
    return amps


def make_request(cars: int, seed: int) -> PlanRequest:
    """Return one instance with `cars` cars (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    sunny = bool(rng.random() < 1 / 3)
    budget = bool(rng.random() < 1 / 3)
    house = house_amps(rng)
    no_house = np.zeros(SLOTS)
    groups = (
        Group("main", None, tuple(MAIN_A - house)),
        Group("garage", "main", (no_house + GARAGE_A,) * 3),
        Group("carport", "main", (no_house + CARPORT_A,) * 3),
    )
    fleet = []
    for index in range(cars):
        three = bool(rng.random() < 0.6)
        phases = PHASES if three else (PHASES[int(rng.integers(3))],)
        max_a = 16.0 if three else float(rng.choice([16.0, 32.0]))
        need = float(rng.uniform(5.0, 35.0 if three else 20.0))
        arrival = int(rng.integers(0, 25))
        departure = SLOTS if rng.random() < 0.2 else int(rng.integers(60, 73))
        group = ("garage", "carport")[index % 2]
        fleet.append(
            Car(f"car{index + 1}", group, phases, max_a, round(need, 1), departure, arrival)
        )
    solar = None
    if sunny:
        hours = hour_of(np.arange(SLOTS))
        peak_kw = rng.uniform(4.0, 8.0)
        solar = np.maximum(0.0, peak_kw * np.cos(np.pi * (hours - 12.5) / 7.0)) * (
            (hours >= 9) & (hours <= 16)
        )
    peak = None
    if budget:
        house_kw = house.sum(axis=0) * VOLTAGE / 1000
        peak = np.maximum(rng.uniform(3.0, 4.0) * cars + 2.0 - house_kw, 0.0)
    return PlanRequest(
        groups,
        tuple(fleet),
        prices(rng, sunny=sunny),
        solar_kw=solar,
        feed_in_price=FEED_IN,
        peak_kw=peak,
    )
