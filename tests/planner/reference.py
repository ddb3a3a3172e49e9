"""The exact reference: the same plan as one linear program for HiGHS, and an independent checker.

Written from the request alone, in the units a user thinks in (amps per phase, kW), without
any of the planner's code: variables are each car's mean current per phase in each slot of
its stay; a group's fuse counts the cars below it on that phase; a power cap and the peak
budget count amps x 230 V x phases. Solves in stages make the goals lexicographic exactly:
the most energy delivered (stage 1), then the least cost delivering that much (stage 2; the
solar surplus's kWh cost the feed-in price, or the price where that is lower), then, at that
energy and cost, the most energy to the cars needing least (stage 3: only decides which car
falls short when not all can be full).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog  # type: ignore[import-untyped]

from custom_components.powershare.planner import Plan, PlanRequest

FLOOR = 1e-9
"""Stage 2 must deliver stage 1's energy to within this (relative)."""
COST_SLACK = 1e-9
"""Stage 3 may cost this much more than stage 2's optimum (relative): HiGHS's own rounding."""
HIGHS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


@dataclass(frozen=True)
class Exact:
    """The exact optimum: per car and slot the current, and what it adds up to."""

    current_a: np.ndarray
    """(cars, slots)."""
    energy_kwh: np.ndarray
    """(cars, slots)."""
    delivered_kwh: np.ndarray
    shortfall_kwh: np.ndarray
    cost: float


def groups_below(request: PlanRequest, group_id: str) -> set[str]:
    """The group and all its descendants, by walking each group's parents."""
    parent = {group.id: group.parent_id for group in request.groups}
    found = set()
    for group in request.groups:
        walk: str | None = group.id
        while walk is not None:
            if walk == group_id:
                found.add(group.id)
                break
            walk = parent[walk]
    return found


def slot_cost(request: PlanRequest, slot: int, energy_kwh: float) -> float:
    """What the cars' `energy_kwh` costs in `slot` (the surplus first, then the grid)."""
    price = request.price[slot]
    solar = 0.0 if request.solar_kw is None else request.solar_kw[slot] * request.slot_s / 3600
    from_solar = min(energy_kwh, solar)
    return min(price, request.feed_in_price) * from_solar + price * (energy_kwh - from_solar)


def solve_exact(request: PlanRequest) -> Exact:  # noqa: C901, PLR0912, PLR0915
    """Return the lexicographic optimum of `request` (HiGHS, three stages)."""
    cars, slots = request.cars, request.slots
    hours = request.slot_s / 3600
    kwh_per_amp = [request.voltage * len(car.phases) * hours / 1000 for car in cars]
    index: dict[tuple[int, int], int] = {}
    for c, car in enumerate(cars):
        for t in range(car.arrival_slot, car.departure_slot):
            index[c, t] = len(index)
    solar_at = {t: len(index) + t for t in range(slots)}
    count = len(index) + slots
    bounds = [(0.0, cars[c].max_current_a) for c, _t in index]
    solar = request.solar_kw or [0.0] * slots
    bounds += [(0.0, solar[t] * hours) for t in range(slots)]
    rows: list[dict[int, float]] = []
    limits: list[float] = []

    def limit(terms: dict[int, float], value: float) -> None:
        if terms and math.isfinite(value):
            rows.append(terms)
            limits.append(value)

    for group in request.groups:
        below = groups_below(request, group.id)
        for phase in range(3):
            for t in range(slots):
                terms = {
                    index[c, t]: 1.0
                    for c, car in enumerate(cars)
                    if car.group_id in below and phase in car.phases and (c, t) in index
                }
                limit(terms, max(group.amps_left[phase][t], 0.0))
        if group.max_power_kw is not None:
            for t in range(slots):
                terms = {
                    index[c, t]: request.voltage * len(car.phases) / 1000
                    for c, car in enumerate(cars)
                    if car.group_id in below and (c, t) in index
                }
                limit(terms, group.max_power_kw[t])
    if request.peak_kw is not None:
        for t in range(slots):
            terms = {
                index[c, t]: request.voltage * len(car.phases) / 1000
                for c, car in enumerate(cars)
                if (c, t) in index
            }
            limit(terms, request.peak_kw[t])
    for c, car in enumerate(cars):
        limit({i: kwh_per_amp[c] for (cc, _t), i in index.items() if cc == c}, car.energy_kwh)
    for t in range(slots):
        terms = {index[c, t]: -kwh_per_amp[c] for c in range(len(cars)) if (c, t) in index}
        rows.append({**terms, solar_at[t]: 1.0})
        limits.append(0.0)

    delivered = np.zeros(count)
    for (c, _t), i in index.items():
        delivered[i] = kwh_per_amp[c]

    def matrix(extra: list[dict[int, float]]) -> sparse.csr_matrix:
        all_rows = rows + extra
        data, row_ids, col_ids = [], [], []
        for r, terms in enumerate(all_rows):
            for col, value in terms.items():
                row_ids.append(r)
                col_ids.append(col)
                data.append(value)
        return sparse.csr_matrix((data, (row_ids, col_ids)), shape=(len(all_rows), count))

    first = linprog(
        -delivered,
        A_ub=matrix([]),
        b_ub=limits,
        bounds=bounds,
        method="highs",
        options=HIGHS,
    )
    if first.status != 0:
        raise AssertionError(first.message)
    most = -first.fun
    cost = np.zeros(count)
    for (c, t), i in index.items():
        cost[i] = request.price[t] * kwh_per_amp[c]
    for t in range(slots):
        cost[solar_at[t]] = min(request.price[t], request.feed_in_price) - request.price[t]
    floor = {i: -kwh_per_amp[c] for (c, _t), i in index.items()}
    second = linprog(
        cost,
        A_ub=matrix([floor]),
        b_ub=[*limits, -(most * (1 - FLOOR) - FLOOR)],
        bounds=bounds,
        method="highs",
        options=HIGHS,
    )
    if second.status != 0:
        raise AssertionError(second.message)
    least = float(second.fun)
    # Stage 3: at that energy and cost, the cars needing least first (then leaving first).
    order = sorted(range(len(cars)), key=lambda c: (cars[c].energy_kwh, cars[c].departure_slot, c))
    worth = np.zeros(count)
    for (c, _t), i in index.items():
        worth[i] = -(len(cars) - order.index(c)) * kwh_per_amp[c]
    cost_row = {i: value for i, value in enumerate(cost) if value != 0}
    third = linprog(
        worth,
        A_ub=matrix([floor, cost_row]),
        b_ub=[*limits, -(most * (1 - FLOOR) - FLOOR), least + COST_SLACK * (1 + abs(least))],
        bounds=bounds,
        method="highs",
        options=HIGHS,
    )
    final = third if third.status == 0 else second
    current = np.zeros((len(cars), slots))
    for (c, t), i in index.items():
        current[c, t] = final.x[i]
    energy = current * np.array(kwh_per_amp).reshape(-1, 1)
    need = np.array([car.energy_kwh for car in cars])
    total = energy.sum(axis=0) if cars else np.zeros(slots)
    return Exact(
        current_a=current,
        energy_kwh=energy,
        delivered_kwh=energy.sum(axis=1),
        shortfall_kwh=np.maximum(need - energy.sum(axis=1), 0.0),
        cost=sum(slot_cost(request, t, float(total[t])) for t in range(slots)),
    )


AMPS = 1e-6
"""Rounding allowed over a limit by the checker: a microamp (a kW cap: 1e-6 kW)."""


def violations(request: PlanRequest, plan: Plan) -> list[str]:  # noqa: C901, PLR0912
    """Return every rule the plan breaks, recomputed from its currents (empty: none)."""
    found: list[str] = []
    cars, slots = request.cars, request.slots
    hours = request.slot_s / 3600
    if [car.car_id for car in plan.cars] != [car.id for car in cars]:
        return ["the plan's cars are not the request's"]
    amps = np.array([car.current_a for car in plan.cars]).reshape(len(cars), slots)
    energy = np.array([car.energy_kwh for car in plan.cars]).reshape(len(cars), slots)
    for c, car in enumerate(cars):
        kw = request.voltage * len(car.phases) / 1000
        if not np.allclose(energy[c], amps[c] * kw * hours, rtol=1e-9, atol=1e-12):
            found.append(f"{car.id}: energy is not current x voltage x phases x time")
        if (amps[c] < 0).any():
            found.append(f"{car.id}: negative current")
        if (amps[c] > car.max_current_a + AMPS).any():
            found.append(f"{car.id}: over its max current")
        outside = [t for t in range(slots) if not car.arrival_slot <= t < car.departure_slot]
        if (amps[c, outside] != 0).any():
            found.append(f"{car.id}: charges outside its stay")
        if energy[c].sum() > car.energy_kwh + 1e-9:
            found.append(f"{car.id}: more energy than it needs")
        plan_car = plan.cars[c]
        if not math.isclose(plan_car.delivered_kwh, energy[c].sum(), abs_tol=1e-9):
            found.append(f"{car.id}: delivered is not the sum of its slots")
        if not math.isclose(
            plan_car.shortfall_kwh, max(car.energy_kwh - energy[c].sum(), 0.0), abs_tol=1e-9
        ):
            found.append(f"{car.id}: shortfall is not need - delivered")
    power_kw = np.array(
        [request.voltage * len(car.phases) / 1000 * amps[c] for c, car in enumerate(cars)]
    ).reshape(len(cars), slots)
    for group in request.groups:
        below = groups_below(request, group.id)
        members = [c for c, car in enumerate(cars) if car.group_id in below]
        for phase in range(3):
            on = [c for c in members if phase in cars[c].phases]
            for t in range(slots):
                used = amps[on, t].sum()
                if used > max(group.amps_left[phase][t], 0.0) + AMPS:
                    found.append(f"fuse {group.id} L{phase + 1} slot {t}: {used} A")
        if group.max_power_kw is not None:
            cap = group.max_power_kw
            found.extend(
                f"max power {group.id} slot {t}"
                for t in range(slots)
                if power_kw[members, t].sum() > cap[t] + AMPS
            )
    total_kw = power_kw.sum(axis=0)
    if request.peak_kw is not None:
        found.extend(
            f"peak budget slot {t}" for t in range(slots) if total_kw[t] > request.peak_kw[t] + AMPS
        )
    if not np.allclose(plan.load_kw, total_kw, rtol=1e-9, atol=1e-9):
        found.append("load_kw is not the cars' power")
    cost = sum(slot_cost(request, t, float(total_kw[t] * hours)) for t in range(slots))
    if not math.isclose(plan.total_cost, cost, rel_tol=1e-9, abs_tol=1e-9):
        found.append(f"total cost {plan.total_cost} is not {cost}")
    return found
