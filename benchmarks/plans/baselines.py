"""The two ways peers charge, for comparison: at once, and each car planned alone.

Both end the same way, slot by slot: the cars ask for currents and the shared limits cut
them fairly (`fair_share`: max-min fair in amps per phase, by progressive filling: every car
still asking rises at the same rate until it has what it asked or a limit it is below is
full). The limits are the planner's own (`planner.layout`), so the comparison is like for
like; the tests check the planner's limits independently.

- At once: each car asks its maximum from its arrival until it is full.
- Alone (the peers' planners): each car picks its cheapest slots as if it were alone on the
  site (the grid's price, or the surplus's where the surplus covers it; ties: earliest) and
  asks for them; nothing re-plans when the shared fuses cut a slot, so cars miss targets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from custom_components.powershare.planner.layout import Layout, build_layout

if TYPE_CHECKING:
    from custom_components.powershare.planner import PlanRequest

EPSILON = 1e-12


def fair_share(layout: Layout, slot: int, asked_kwh: np.ndarray) -> np.ndarray:
    """Return each car's energy in `slot`: what it asked, cut max-min fairly in amps."""
    per_amp = layout.kwh_per_amp
    ceiling = np.minimum(asked_kwh, layout.room_kwh[slot]) / per_amp  # amps each car asks
    amps = np.zeros_like(ceiling)
    rising = ceiling > EPSILON
    shares = [limit.shares * per_amp for limit in layout.limits]  # kWh per amp of each car
    left = [float(limit.capacity_kwh[slot]) for limit in layout.limits]
    while rising.any():
        step = float(np.min(ceiling[rising] - amps[rising]))
        for share, room in zip(shares, left, strict=True):
            rate = float(share[rising].sum())
            if rate > 0:
                step = min(step, room / rate)
        step = max(step, 0.0)
        amps[rising] += step
        for index, share in enumerate(shares):
            left[index] -= step * float(share[rising].sum())
        full = np.zeros_like(rising)
        for share, room in zip(shares, left, strict=True):
            if room <= EPSILON * (1 + abs(room)):
                full |= share > 0
        rising &= (ceiling - amps > EPSILON) & ~full
    return amps * per_amp


def at_once(request: PlanRequest) -> np.ndarray:
    """Return (T, C) energy: every car at its maximum from arrival until full, cut fairly."""
    layout = build_layout(request)
    remaining = layout.need_kwh.copy()
    energy = np.zeros_like(layout.room_kwh)
    for slot in range(request.slots):
        energy[slot] = fair_share(layout, slot, remaining)
        remaining = np.maximum(remaining - energy[slot], 0.0)
    return energy


def cheapest_alone(layout: Layout, car: int) -> np.ndarray:
    """Return (T,) the energy one car plans alone: its cheapest slots first, up to its need."""
    alone = layout.room_kwh[:, car].copy()
    for limit in layout.limits:
        if limit.shares[car] > 0:
            alone = np.minimum(alone, limit.capacity_kwh / limit.shares[car])
    # Each slot offers the surplus (at its price) and the grid beyond it.
    offers = []
    for slot in np.nonzero(alone > 0)[0]:
        solar = min(float(layout.solar_kwh[slot]), float(alone[slot]))
        if solar > 0:
            offers.append((float(layout.solar_price[slot]), int(slot), solar))
        offers.append((float(layout.price[slot]), int(slot), float(alone[slot]) - solar))
    plan = np.zeros(layout.room_kwh.shape[0])
    wanted = float(layout.need_kwh[car])
    for _price, slot, kwh in sorted(offers):
        take = min(kwh, wanted)
        plan[slot] += take
        wanted -= take
        if wanted <= 0:
            break
    return plan


def alone(request: PlanRequest) -> np.ndarray:
    """Return (T, C) energy: each car's own cheapest plan, cut fairly where they overlap."""
    layout = build_layout(request)
    asked = np.column_stack(
        [cheapest_alone(layout, car) for car in range(layout.need_kwh.size)]
    ).reshape(layout.room_kwh.shape)
    energy = np.zeros_like(layout.room_kwh)
    for slot in range(request.slots):
        energy[slot] = fair_share(layout, slot, asked[slot])
    return energy


def cost_of(request: PlanRequest, energy: np.ndarray) -> float:
    """Return what (T, C) energy costs (the surplus first in each slot, then the grid)."""
    return float(build_layout(request).slot_cost(energy.sum(axis=1)).sum())
