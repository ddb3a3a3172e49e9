"""The rules of a plan as arrays: what each car may take per slot, and every limit it shares.

The unknowns are the energy e[t, c] car c gets in slot t (kWh). In energy, all of a slot's
rules have the same form, sum over cars of share[c] x e[t, c] <= capacity[t]:

- a group's fuse on phase p: the cars below the group on p, each with share 1 / its number
  of phases (a three-phase car's energy is a third on each); capacity: the amps left x
  voltage x slot hours;
- a group's max power: the cars below it, share 1; capacity: kW x slot hours;
- the peak budget: every car, share 1; capacity: kW x slot hours.

And per car: 0 <= e[t, c] <= its max current x voltage x phases x slot hours from arrival to
departure (0 outside), and the sum over slots of e[t, c] <= its energy needed.

Limits that name the same cars with the same shares (after scaling the largest share to 1)
are one rule whose capacity is the lowest of them: a three-phase-only group's three fuses,
or a sub-group holding every car of its parent. Keeping them apart would make the
interior-point method's linear systems singular where they bind together. A limit whose
capacity is 0 in a slot (the house alone takes the fuse) shuts its cars out of that slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .request import PHASES, PlanRequest

if TYPE_CHECKING:
    from numpy.typing import NDArray

type Array = NDArray[np.float64]

NOTHING_KWH = 1e-9
"""A capacity (or a car's room) under this, a microwatt-hour, is none: it would only give the
linear systems a zero to divide by."""


@dataclass(frozen=True, slots=True)
class Limit:
    """One rule shared by cars in every slot (several named limits when they coincide)."""

    shares: Array
    """(C,): each car's share of its energy counted against the limit (0: not below it)."""
    capacity_kwh: Array
    """(T,): +inf where no named limit applies."""
    names: tuple[str, ...]
    lowest: NDArray[np.int64]
    """(T,): which of `names` is the lowest in each slot (the one that binds)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """A request as arrays: slots t, cars c (in the request's order)."""

    request: PlanRequest
    kwh_per_amp: Array
    """(C,): the energy one amp per phase gives a car in one slot."""
    room_kwh: Array
    """(T, C): the most a car can take in a slot (0 outside its stay, or shut out)."""
    need_kwh: Array
    """(C,)."""
    limits: tuple[Limit, ...]
    price: Array
    """(T,): currency per kWh from the grid."""
    solar_kwh: Array
    """(T,): the solar surplus's energy per slot."""
    solar_price: Array
    """(T,): what a kWh of the surplus costs: the feed-in price, or the price if lower."""

    @property
    def shares(self) -> Array:
        """(m, C): the limits' shares as the rows of a matrix."""
        shares = np.zeros((len(self.limits), self.need_kwh.size))
        for row, limit in enumerate(self.limits):
            shares[row] = limit.shares
        return shares

    @property
    def capacity_kwh(self) -> Array:
        """(T, m): the limits' capacities as columns."""
        capacity = np.zeros((self.price.size, len(self.limits)))
        for column, limit in enumerate(self.limits):
            capacity[:, column] = limit.capacity_kwh
        return capacity

    def slot_cost(self, total_kwh: Array) -> Array:
        """Return each slot's cost when the cars take `total_kwh` (T,) there.

        The surplus goes first (at its price), the grid gives the rest: convex in the energy
        because the surplus never costs more than the grid.
        """
        from_solar = np.minimum(total_kwh, self.solar_kwh)
        return np.asarray(
            self.price * (total_kwh - from_solar) + self.solar_price * from_solar,
            dtype=np.float64,
        )


def _named_limits(request: PlanRequest, slot_h: float) -> list[tuple[str, Array, Array]]:
    """Return every named limit: (name, shares (C,), capacity (T,) in kWh)."""
    cars = request.cars
    phases = np.array([len(car.phases) for car in cars], dtype=np.float64)
    kwh_per_amp_phase = request.voltage * slot_h / 1000.0
    named: list[tuple[str, Array, Array]] = []
    for group in request.groups:
        below = request.below(group.id)
        in_group = np.array([car.group_id in below for car in cars], dtype=np.bool_)
        for phase, amps in zip(PHASES, group.amps_left, strict=True):
            on_phase = in_group & np.array([phase in car.phases for car in cars], dtype=np.bool_)
            left = np.maximum(np.asarray(amps, dtype=np.float64), 0.0)
            shares = np.where(on_phase, 1.0 / phases, 0.0).astype(np.float64)
            named.append((f"fuse {group.id} {phase.name}", shares, left * kwh_per_amp_phase))
        if group.max_power_kw is not None:
            power = np.asarray(group.max_power_kw, dtype=np.float64)
            named.append((f"max power {group.id}", in_group.astype(np.float64), power * slot_h))
    if request.peak_kw is not None:
        budget = np.asarray(request.peak_kw, dtype=np.float64)
        named.append(("peak budget", np.ones(len(cars)), budget * slot_h))
    return named


def _merge(named: list[tuple[str, Array, Array]]) -> list[Limit]:
    """Return the limits: those with the same cars and shares merged, the lowest in force."""
    merged: dict[tuple[float, ...], list[tuple[str, Array]]] = {}
    for name, shares, capacity in named:
        biggest = float(shares.max(initial=0.0))
        if biggest <= 0.0 or np.isinf(capacity).all():
            continue  # no car below it, or no limit in any slot
        key = tuple(np.round(shares / biggest, 12).tolist())
        merged.setdefault(key, []).append((name, np.asarray(capacity / biggest, np.float64)))
    limits = []
    for key, members in merged.items():
        capacities = np.array([capacity for _name, capacity in members])
        lowest = np.argmin(capacities, axis=0)
        limits.append(
            Limit(
                shares=np.array(key, dtype=np.float64),
                capacity_kwh=capacities.min(axis=0),
                names=tuple(name for name, _capacity in members),
                lowest=lowest.astype(np.int64),
            )
        )
    return limits


def build_layout(request: PlanRequest) -> Layout:
    """Return the request's cars and limits as arrays (the rules of the module's docstring)."""
    cars = request.cars
    slots = request.slots
    slot_h = request.slot_h
    phases = np.array([len(car.phases) for car in cars], dtype=np.float64)
    kwh_per_amp = request.voltage * phases * slot_h / 1000.0
    need = np.array([car.energy_kwh for car in cars], dtype=np.float64)
    room = np.zeros((slots, len(cars)))
    for index, car in enumerate(cars):
        room[car.arrival_slot : car.departure_slot, index] = min(
            car.max_current_a * kwh_per_amp[index], car.energy_kwh
        )
    limits = _merge(_named_limits(request, slot_h))
    for limit in limits:
        shut = limit.capacity_kwh <= NOTHING_KWH
        room[np.ix_(shut, limit.shares > 0)] = 0.0
    room[room <= NOTHING_KWH] = 0.0
    price = np.asarray(request.price, dtype=np.float64)
    solar = np.zeros(slots) if request.solar_kw is None else np.asarray(request.solar_kw)
    return Layout(
        request=request,
        kwh_per_amp=np.asarray(kwh_per_amp, dtype=np.float64).reshape(len(cars)),
        room_kwh=room,
        need_kwh=need.reshape(len(cars)),
        limits=tuple(limits),
        price=price,
        solar_kwh=np.asarray(solar * slot_h, dtype=np.float64),
        solar_price=np.minimum(price, request.feed_in_price),
    )
