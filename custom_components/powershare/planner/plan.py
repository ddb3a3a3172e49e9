"""What a plan says: per car and slot the energy and mean current; per slot the load and limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CarPlan:
    """One car's plan.

    `energy_kwh[t]` is what the car gets in slot t; `current_a[t]` the mean current per phase
    that takes (energy / (voltage x phases x slot)). There is no minimum current: a slot's
    energy below what 6 A would give is for the real-time engine to deliver at 6 A or more
    for part of the slot.
    """

    car_id: str
    energy_kwh: tuple[float, ...]
    current_a: tuple[float, ...]
    delivered_kwh: float
    """The energy expected by departure."""
    shortfall_kwh: float
    """What the car still needs and the plan cannot give by its departure."""
    cost: float
    """The car's share of the plan's cost (each slot's cost split by energy)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """The site's plan, in the request's slots."""

    cars: tuple[CarPlan, ...]
    """In the order of the request's cars."""
    total_cost: float
    """Every slot's cost: the grid's price for what the grid gives, the feed-in price for
    what the solar surplus gives."""
    load_kw: tuple[float, ...]
    """The cars' planned load at the site per slot (kW, all cars together)."""
    solar_kwh: tuple[float, ...]
    """Per slot, the solar surplus the cars use."""
    limits: tuple[tuple[str, ...], ...]
    """Per slot, the limits the plan fills there ("fuse main L1", "max power garage",
    "peak budget"): why a slot holds no more. A car at its own maximum is not listed."""
    solves: int
    """Linear programs solved (1 when every car can have what it needs, else 2 or more)."""
    steps: int
    """Interior-point steps over all the solves."""
    converged: bool
    """Every solve reached its tolerance (False: the plan is feasible, its optimality
    unproven; rounding stopped the method first)."""

    def car(self, car_id: str) -> CarPlan:
        """Return the plan of the car `car_id` (KeyError if it is not in the plan)."""
        for car in self.cars:
            if car.car_id == car_id:
                return car
        raise KeyError(car_id)

    @property
    def delivered_kwh(self) -> float:
        """The energy all cars get by their departures."""
        return sum(car.delivered_kwh for car in self.cars)

    @property
    def shortfall_kwh(self) -> float:
        """The energy the cars need and do not get."""
        return sum(car.shortfall_kwh for car in self.cars)
