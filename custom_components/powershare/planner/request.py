"""What a plan is asked for: the site's groups, the cars and the prices (frozen, validated).

Units: amps per phase, kW, kWh, currency per kWh; time in slots of `PlanRequest.slot_s`
seconds (15 minutes unless told) counted from the plan's start. Every series has one value
per slot. A series is given as any sequence of numbers (a list, a tuple, a numpy array) and
kept as a tuple of floats, so a request never changes once made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

VOLTAGE = 230.0
"""Volts per phase: a car on n phases at I amps draws I x 230 x n watts."""
SLOT_S = 900.0
"""A quarter-hour: the day-ahead markets' and the capacity tariffs' unit of time."""


class Phase(IntEnum):
    """A phase of the site (the same names and numbers as the engine's)."""

    L1 = 0
    L2 = 1
    L3 = 2


PHASES: tuple[Phase, Phase, Phase] = (Phase.L1, Phase.L2, Phase.L3)


def _series(
    what: str, values: Iterable[float], *, infinite: bool = False, negative: bool = True
) -> tuple[float, ...]:
    """Return `values` as floats; refuse NaN, and infinity or negatives unless allowed."""
    series = tuple(float(value) for value in values)
    for slot, value in enumerate(series):
        if math.isnan(value):
            raise ValueError(f"{what}: slot {slot} is NaN")
        if math.isinf(value) and not (infinite and value > 0):
            raise ValueError(f"{what}: slot {slot} is {value} (only +inf means no limit)")
        if value < 0 and not negative:
            raise ValueError(f"{what}: slot {slot} is negative ({value})")
    return series


def _check_length(what: str, series: Sequence[float] | None, slots: int) -> None:
    if series is not None and len(series) != slots:
        raise ValueError(f"{what}: {len(series)} values for {slots} slots")


@dataclass(frozen=True, slots=True)
class Group:
    """A fuse (or a sub-panel) of the site: a node of the tree of groups.

    `amps_left`, per site phase (L1, L2, L3) and per slot, is what the fuse leaves the cars
    below it: fuse minus margin minus the house's forecast load through it. It may be +inf
    (that phase is not limited here) or negative (the house alone is over the fuse: the cars
    get nothing, which is what 0 would say too). `max_power_kw` optionally caps the power of
    the cars below the group (all phases together) per slot.
    """

    id: str
    parent_id: str | None
    amps_left: Sequence[Sequence[float]]
    max_power_kw: Sequence[float] | None = None

    def __post_init__(self) -> None:
        """Keep the series as tuples of floats; refuse NaN (ValueError)."""
        if len(self.amps_left) != len(PHASES):
            raise ValueError(
                f"group {self.id}: amps_left needs one series per phase (L1, L2, L3),"
                f" not {len(self.amps_left)}"
            )
        amps = tuple(
            _series(f"group {self.id}: amps left on {phase.name}", series, infinite=True)
            for phase, series in zip(PHASES, self.amps_left, strict=True)
        )
        object.__setattr__(self, "amps_left", amps)
        if self.max_power_kw is not None:
            power = _series(
                f"group {self.id}: max power", self.max_power_kw, infinite=True, negative=False
            )
            object.__setattr__(self, "max_power_kw", power)


@dataclass(frozen=True, slots=True)
class Car:
    """A car to charge: where it hangs, what it takes, what it needs and when it leaves.

    A car draws the same current on each of its `phases` (site phases: one, or all three), at
    most `max_current_a` per phase. It still needs `energy_kwh` by `departure_slot` (the first
    slot it is gone), and may charge from `arrival_slot` (0: it is plugged in now).
    """

    id: str
    group_id: str
    phases: Sequence[Phase]
    max_current_a: float
    energy_kwh: float
    departure_slot: int
    arrival_slot: int = 0

    def __post_init__(self) -> None:
        """Refuse impossible cars (ValueError with the reason)."""
        phases = tuple(Phase(phase) for phase in self.phases)
        if not phases or len(set(phases)) != len(phases):
            raise ValueError(f"car {self.id}: phases must be distinct and at least one")
        object.__setattr__(self, "phases", phases)
        for what, value in (("max current", self.max_current_a), ("energy", self.energy_kwh)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"car {self.id}: {what} must be finite and >= 0, not {value}")
        if self.arrival_slot < 0:
            raise ValueError(f"car {self.id}: arrival slot {self.arrival_slot} is negative")
        if self.departure_slot < self.arrival_slot:
            raise ValueError(
                f"car {self.id}: departs (slot {self.departure_slot}) before it arrives"
                f" (slot {self.arrival_slot})"
            )


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything one plan needs.

    The number of slots is the length of `price` (currency per kWh, may be negative). The
    optional `solar_kw` is the solar surplus forecast per slot (what would go to the grid
    without the cars): its energy costs `feed_in_price` (the income given up) instead of the
    slot's price, or the slot's price where that is lower (then the two are the same to the
    cars, which keeps a slot's cost convex). The optional `peak_kw` is a site-wide budget for
    the cars per slot (a capacity tariff's limit minus the house's forecast).
    """

    groups: Sequence[Group]
    cars: Sequence[Car]
    price: Sequence[float]
    solar_kw: Sequence[float] | None = None
    feed_in_price: float = 0.0
    peak_kw: Sequence[float] | None = None
    voltage: float = VOLTAGE
    slot_s: float = SLOT_S

    def __post_init__(self) -> None:
        """Check the request as a whole (ValueError with the reason)."""
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "cars", tuple(self.cars))
        object.__setattr__(self, "price", _series("price", self.price))
        if not self.price:
            raise ValueError("a plan needs at least one slot (one price)")
        if self.solar_kw is not None:
            solar = _series("solar surplus", self.solar_kw, negative=False)
            object.__setattr__(self, "solar_kw", solar)
        if self.peak_kw is not None:
            peak = _series("peak budget", self.peak_kw, infinite=True, negative=False)
            object.__setattr__(self, "peak_kw", peak)
        for what, value in (
            ("feed-in price", self.feed_in_price),
            ("voltage", self.voltage),
            ("slot length", self.slot_s),
        ):
            if not math.isfinite(value):
                raise ValueError(f"the {what} must be finite, not {value}")
        if self.voltage <= 0 or self.slot_s <= 0:
            raise ValueError("the voltage and the slot length must be positive")
        slots = self.slots
        _check_length("solar surplus", self.solar_kw, slots)
        _check_length("peak budget", self.peak_kw, slots)
        self._check_groups(slots)
        self._check_cars(slots)

    def _check_groups(self, slots: int) -> None:
        ids = [group.id for group in self.groups]
        if len(set(ids)) != len(ids):
            raise ValueError(f"group ids must be unique: {ids}")
        roots = [group.id for group in self.groups if group.parent_id is None]
        if len(roots) != 1:
            raise ValueError(f"the groups need exactly one root (no parent), not {roots}")
        parent = {group.id: group.parent_id for group in self.groups}
        for group in self.groups:
            for phase, series in zip(PHASES, group.amps_left, strict=True):
                _check_length(f"group {group.id}: amps left on {phase.name}", series, slots)
            _check_length(f"group {group.id}: max power", group.max_power_kw, slots)
            seen = {group.id}
            above = group.parent_id
            while above is not None:
                if above not in parent:
                    raise ValueError(f"group {group.id}: unknown parent {above}")
                if above in seen:
                    raise ValueError(f"group {group.id}: its parents form a cycle")
                seen.add(above)
                above = parent[above]

    def _check_cars(self, slots: int) -> None:
        ids = [car.id for car in self.cars]
        if len(set(ids)) != len(ids):
            raise ValueError(f"car ids must be unique: {ids}")
        groups = {group.id for group in self.groups}
        for car in self.cars:
            if car.group_id not in groups:
                raise ValueError(f"car {car.id}: unknown group {car.group_id}")
            if car.departure_slot > slots:
                raise ValueError(
                    f"car {car.id}: departs at slot {car.departure_slot}, after the plan's"
                    f" {slots} slots"
                )

    @property
    def slots(self) -> int:
        """The number of slots planned."""
        return len(self.price)

    @property
    def slot_h(self) -> float:
        """A slot's length in hours (energy = power x this)."""
        return self.slot_s / 3600.0

    def below(self, group_id: str) -> frozenset[str]:
        """Return the ids of `group_id` and every group under it."""
        parent = {group.id: group.parent_id for group in self.groups}
        found = {group_id}
        for group in self.groups:
            above: str | None = group.id
            while above is not None and above not in found:
                above = parent[above]
            if above is not None:
                found.add(group.id)
        return frozenset(found)
