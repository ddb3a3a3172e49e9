"""What a charging plan says, as the plan keeper (`plans`) makes it and the entities show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .outlook import SLOT_S

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from custom_components.powershare.charging_goals import ChargingGoal


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

    made_at: datetime
    slot_starts: tuple[datetime, ...]
    prices: tuple[float | None, ...]
    load_kw: tuple[float, ...]
    total_cost: float
    chargers: Mapping[str, ChargerPlan]

    def load_at(self, moment: datetime) -> float | None:
        """Return the cars' planned load (kW) in the slot `moment` is in (None: outside)."""
        if not self.slot_starts or moment.timestamp() < self.slot_starts[0].timestamp():
            return None
        slot = int((moment.timestamp() - self.slot_starts[0].timestamp()) // SLOT_S)
        return self.load_kw[slot] if slot < len(self.load_kw) else None
