"""The benchmark's core: one instance planned four ways, scored, and the planner timed.

The four ways: the planner (`plan_charging`), the exact optimum (the tests' reference LP on
HiGHS, `tests.planner.reference.solve_exact`), charging at once and each car planned alone
(`baselines`). Each is scored by its cost (the same slot cost for all: the surplus first at
its price, then the grid), the energy it delivers by the departures, and the cars it leaves
short of their targets.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from custom_components.powershare.planner import plan_charging
from tests.planner.reference import solve_exact

from .baselines import alone, at_once, cost_of
from .instances import make_request

WAYS = ("optimum", "planner", "at once", "alone")
MISSED_KWH = 0.05
"""A car short by more than this at its departure (50 Wh, a minute at 3 kW) missed its target."""


@dataclass
class Totals:
    """One car count's instances, added up per way (in the order of `WAYS`)."""

    cars: int
    instances: int = 0
    asked_kwh: float = 0.0
    cost: list[float] = field(default_factory=lambda: [0.0] * len(WAYS))
    delivered_kwh: list[float] = field(default_factory=lambda: [0.0] * len(WAYS))
    missed: list[int] = field(default_factory=lambda: [0] * len(WAYS))
    worst_gap: float = -np.inf
    """The planner's largest excess cost over the optimum in one instance, relative to the
    energy's value there (delivered x the mean absolute price)."""


def score(cars: int, seed: int, totals: Totals) -> None:
    """Plan one instance the four ways and add the outcome to `totals`."""
    request = make_request(cars, seed)
    need = np.array([car.energy_kwh for car in request.cars])
    plan = plan_charging(request)
    planned = np.array([car.energy_kwh for car in plan.cars]).T
    exact = solve_exact(request)
    energies = (exact.energy_kwh.T, planned, at_once(request), alone(request))
    totals.instances += 1
    totals.asked_kwh += float(need.sum())
    for way, energy in enumerate(energies):
        delivered = energy.sum(axis=0)
        totals.cost[way] += cost_of(request, energy)
        totals.delivered_kwh[way] += float(delivered.sum())
        totals.missed[way] += int((need - delivered > MISSED_KWH).sum())
    value = float(exact.delivered_kwh.sum()) * float(np.mean(np.abs(request.price)))
    gap = (plan.total_cost - exact.cost) / max(value, 1e-9)
    totals.worst_gap = max(totals.worst_gap, gap)


def compare(cars: int, seeds: range) -> Totals:
    """Return the totals of the instances with `cars` cars drawn from `seeds`."""
    totals = Totals(cars)
    for seed in seeds:
        score(cars, seed, totals)
    return totals


@dataclass(frozen=True)
class Timing:
    """The planner's time on instances of one size."""

    cars: int
    seconds: list[float]
    solves: list[int]
    steps: list[int]

    @property
    def median_ms(self) -> float:
        """The median time (ms)."""
        return 1000 * statistics.median(self.seconds)

    @property
    def max_ms(self) -> float:
        """The longest time (ms)."""
        return 1000 * max(self.seconds)


def time_planner(cars: int, seeds: range) -> Timing:
    """Return the planner's wall-clock time on each instance (after one untimed warm-up)."""
    plan_charging(make_request(cars, seeds.start))
    seconds, solves, steps = [], [], []
    for seed in seeds:
        request = make_request(cars, seed)
        began = time.perf_counter()
        plan = plan_charging(request)
        seconds.append(time.perf_counter() - began)
        solves.append(plan.solves)
        steps.append(plan.steps)
    return Timing(cars, seconds, solves, steps)
