"""Plan every car at once: the goals in order, the linear programs, and the plan they give.

The goals, most important first:

1. Deliver as much of the energy the cars need, by their departures, as the limits allow.
2. Then pay the least.
3. Then, when not every car can be full, fill the cars needing least first (the fewest fall
   short), 4. then use the most solar surplus, 5. then charge earlier rather than later (a
   car may leave early; and flat prices would otherwise leave the choice to rounding).

One linear program weighs them (`_costs`): a kWh delivered is worth more than any price, by
`DELIVERY_WEIGHT` times the prices' spread, more than moving energy between slots and cars
costs in all but tangled cases; goals 3 to 5 are tie-breaks, small enough to change the cost
by at most 3.1e-4 of the energy's value at the largest price. When a car misses its target,
a second program finds the most energy that can be delivered at all (goal 1 alone). If the
weighed plan delivers less, its weight was too low for this site: a high enough one exists
(the program is finite), and is sought by raising it tenfold, up to four times, before
falling back on the plan of goal 1 alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .interior import SlotProgram, solve
from .layout import Layout, build_layout
from .plan import CarPlan, Plan

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .request import PlanRequest

type Array = NDArray[np.float64]

DELIVERY_WEIGHT = 20.0
"""The worth of a kWh delivered over the highest price, in units of the prices' spread."""
RAISE = 10.0
RAISES = 4
"""How often the delivery weight may be raised `RAISE`-fold (see the module docstring)."""
FULL_FIRST_PREFERENCE = 2e-4
"""The most a kWh for the first car in `_ranks` is worth over one for the last (goal 3)."""
SOLAR_PREFERENCE = 1e-4
"""The worth of a kWh of surplus used, in units of the largest price (goal 4)."""
EARLY_PREFERENCE = 1e-5
"""What waiting from the first slot to the last costs a kWh, in units of the largest price."""
SAME_KWH = 1e-7
"""Deliveries closer than this (relative to the energy needed) are the same (goal 1)."""
BINDING = 1e-6
"""A limit used to within this of its capacity (relative, in kWh) binds."""


def _costs(layout: Layout, delivery_weight: float | None) -> tuple[Array, Array]:
    """Return the cost per kWh of each car's energy (T, C) and of the surplus used (T,).

    `delivery_weight` None: goal 1 alone (every kWh delivered is worth 1, nothing costs).
    """
    slots, count = layout.room_kwh.shape
    if delivery_weight is None:
        return -np.ones((slots, count)), np.zeros(slots)
    scale = _price_scale(layout)
    early = EARLY_PREFERENCE * scale * np.arange(slots) / slots
    first = FULL_FIRST_PREFERENCE * scale * (count - _ranks(layout)) / count
    car_cost = (layout.price + early)[:, None] - (delivery_weight + first)[None, :]
    solar_cost = layout.solar_price - layout.price - SOLAR_PREFERENCE * scale
    return car_cost, solar_cost


def _ranks(layout: Layout) -> Array:
    """Return each car's rank (0 first) for the energy when not all can be full (goal 3).

    The car needing least first (it is full soonest: the fewest cars fall short), then the
    one leaving first, then the request's order.
    """
    cars = layout.request.cars
    order = sorted(range(len(cars)), key=lambda c: (cars[c].energy_kwh, cars[c].departure_slot, c))
    ranks = np.empty(len(cars))
    ranks[order] = np.arange(len(cars))
    return ranks


def _delivery_weight(layout: Layout) -> float:
    """Return the first worth of a kWh delivered (goal 1).

    More than any price, and more than moving energy between slots costs in all but the
    most tangled cases.
    """
    highest = float(layout.price.max())
    spread = highest - min(float(layout.price.min()), float(layout.solar_price.min()))
    return max(highest, 0.0) + DELIVERY_WEIGHT * spread + _price_scale(layout)


def _price_scale(layout: Layout) -> float:
    largest = max(float(np.abs(layout.price).max()), abs(layout.request.feed_in_price))
    return largest if largest > 0 else 1.0


def _program(layout: Layout, delivery_weight: float | None) -> SlotProgram:
    """Return the linear program: the layout's rules, and the surplus as one more variable.

    The surplus used in slot t, u[t], is at most the surplus and at most what the cars take
    there (the row -sum of e[t, c] + u[t] <= 0); each kWh of it costs the surplus's price
    instead of the grid's, so the program uses all of it it can where it is cheaper.
    """
    car_cost, solar_cost = _costs(layout, delivery_weight)
    room = layout.room_kwh
    someone_there = (room > 0).any(axis=1)
    solar_room = np.where(someone_there, layout.solar_kwh, 0.0)
    shares = layout.shares
    count = room.shape[1]
    solar_row = np.concatenate([-np.ones(count), [1.0]])
    rows = np.vstack([np.hstack([shares, np.zeros((shares.shape[0], 1))]), solar_row])
    capacity = np.hstack([layout.capacity_kwh, np.zeros((room.shape[0], 1))])
    return SlotProgram(
        cost=np.hstack([car_cost, solar_cost[:, None]]),
        upper=np.hstack([room, solar_room[:, None]]),
        rows=rows,
        capacity=capacity,
        total=layout.need_kwh,
    )


def _feasible(layout: Layout, energy: Array) -> Array:
    """Return `energy` (T, C) cut to the rules where rounding left it a hair over them.

    Only cuts: a car's energy to its room and its need, then each limit's cars in a slot in
    proportion; cutting never fills another limit, so one pass over the limits suffices.
    """
    energy = np.clip(energy, 0.0, layout.room_kwh)
    taken = energy.sum(axis=0)
    over = taken > layout.need_kwh
    energy[:, over] *= layout.need_kwh[over] / taken[over]
    for limit in layout.limits:
        used = energy @ limit.shares
        ratio = np.where(
            used > limit.capacity_kwh, limit.capacity_kwh / np.maximum(used, 1e-300), 1.0
        )
        energy[:, limit.shares > 0] *= ratio[:, None]
    return energy


@dataclass(slots=True)
class _Effort:
    solves: int = 0
    steps: int = 0
    converged: bool = True


def _solve(layout: Layout, delivery_weight: float | None, effort: _Effort) -> Array:
    """Return the cars' energy (T, C) of one program, made feasible; count the effort."""
    solution = solve(_program(layout, delivery_weight))
    effort.solves += 1
    effort.steps += solution.steps
    effort.converged = effort.converged and solution.converged
    count = layout.room_kwh.shape[1]
    return _feasible(layout, solution.x[:, :count])


def plan_charging(request: PlanRequest) -> Plan:
    """Return the plan meeting the goals of the module's docstring, in their order."""
    layout = build_layout(request)
    effort = _Effort()
    if not (layout.room_kwh > 0).any():
        return _plan(layout, np.zeros_like(layout.room_kwh), effort)
    tolerance = SAME_KWH * (1.0 + float(layout.need_kwh.sum()))
    weight = _delivery_weight(layout)
    energy = _solve(layout, weight, effort)
    if layout.need_kwh.sum() - energy.sum() > tolerance:
        most = _solve(layout, None, effort)
        for _ in range(RAISES):
            if energy.sum() >= most.sum() - tolerance:
                break
            weight *= RAISE
            energy = _solve(layout, weight, effort)
        if energy.sum() < most.sum() - tolerance:
            energy = most
    return _plan(layout, energy, effort)


def _binding(layout: Layout, energy: Array) -> tuple[tuple[str, ...], ...]:
    """Return per slot the names of the limits the plan fills there."""
    slots = energy.shape[0]
    found: list[list[str]] = [[] for _ in range(slots)]
    for limit in layout.limits:
        used = energy @ limit.shares
        full = used >= limit.capacity_kwh - BINDING * np.maximum(limit.capacity_kwh, 1.0)
        for slot in np.nonzero(full & (used > 0))[0]:
            found[slot].append(limit.names[limit.lowest[slot]])
    return tuple(tuple(names) for names in found)


def _floats(values: Array) -> tuple[float, ...]:
    return tuple(float(value) for value in values)


def _plan(layout: Layout, energy: Array, effort: _Effort) -> Plan:
    """Return the plan of `energy` (T, C): per car, per slot, and its cost."""
    request = layout.request
    total = energy.sum(axis=1)
    slot_cost = layout.slot_cost(total)
    share = np.divide(energy, total[:, None], out=np.zeros_like(energy), where=total[:, None] > 0)
    cars = []
    for index, car in enumerate(request.cars):
        delivered = float(energy[:, index].sum())
        cars.append(
            CarPlan(
                car_id=car.id,
                energy_kwh=_floats(energy[:, index]),
                current_a=_floats(energy[:, index] / layout.kwh_per_amp[index]),
                delivered_kwh=delivered,
                shortfall_kwh=max(0.0, car.energy_kwh - delivered),
                cost=float((share[:, index] * slot_cost).sum()),
            )
        )
    return Plan(
        cars=tuple(cars),
        total_cost=float(slot_cost.sum()),
        load_kw=_floats(total / request.slot_h),
        solar_kwh=_floats(np.minimum(total, layout.solar_kwh)),
        limits=_binding(layout, energy),
        solves=effort.solves,
        steps=effort.steps,
        converged=effort.converged,
    )
