"""What a charging plan says, as the plan keeper (`plans`) makes it and the entities show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .outlook import SLOT_S

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from custom_components.powershare.charging_goals import ChargingGoal
    from custom_components.powershare.planner import Plan


def slot_index(starts: Sequence[datetime], moment: datetime) -> int | None:
    """Return the slot of `starts` that `moment` is in (None: before the first, or after)."""
    if not starts or moment.timestamp() < starts[0].timestamp():
        return None
    slot = int((moment.timestamp() - starts[0].timestamp()) // SLOT_S)
    return slot if slot < len(starts) else None


class CarGoal(NamedTuple):
    """A car to plan: its charger, goal, next departure, the energy it needs, its charge."""

    entry_id: str
    goal: ChargingGoal
    departure: datetime
    needed_kwh: float
    soc: float | None


@dataclass(frozen=True, slots=True)
class ChargerPlan:
    """What one charger's plan says, as its entities show it."""

    departure: datetime
    needed_kwh: float
    slot_starts: tuple[datetime, ...]
    energy_kwh: tuple[float, ...]
    current_a: tuple[float, ...]
    planned_kwh: float
    """What the plan delivers by the departure."""
    shortfall_kwh: float
    cost: float
    expected_soc: float | None

    def slot_at(self, now: datetime) -> int | None:
        """Return the slot `now` is in (None: before the first, or past the departure)."""
        if now.timestamp() >= self.departure.timestamp():
            return None
        return slot_index(self.slot_starts, now)

    @property
    def next_start(self) -> datetime | None:
        """The start of the first slot the car charges in (None: none is planned)."""
        for start, energy in zip(self.slot_starts, self.energy_kwh, strict=True):
            if energy > 0.01:  # noqa: PLR2004  # the planner's dust is not a start
                return start
        return None


@dataclass(frozen=True, slots=True)
class SitePlan:
    """The whole plan: the slots, their prices and the cars' load (kW)."""

    slot_starts: tuple[datetime, ...]
    prices: tuple[float | None, ...]
    load_kw: tuple[float, ...]
    total_cost: float
    chargers: Mapping[str, ChargerPlan]

    def load_at(self, moment: datetime) -> float | None:
        """Return the cars' planned load (kW) in the slot `moment` is in (None: outside)."""
        slot = slot_index(self.slot_starts, moment)
        return None if slot is None else self.load_kw[slot]


def charger_plans(
    plan: Plan,
    cars: Sequence[CarGoal],
    starts: tuple[datetime, ...],
) -> dict[str, ChargerPlan]:
    """Return each car's part of the planner's plan, as its entities show it."""
    plans = {}
    for entry_id, goal, departure, needed, soc in cars:
        car = plan.car(entry_id)
        plans[entry_id] = ChargerPlan(
            departure=departure,
            needed_kwh=needed,
            slot_starts=starts,
            energy_kwh=car.energy_kwh,
            current_a=car.current_a,
            planned_kwh=car.delivered_kwh,
            shortfall_kwh=car.shortfall_kwh,
            cost=car.cost,
            expected_soc=goal.expected_soc(soc=soc, planned_kwh=car.delivered_kwh),
        )
    return plans
