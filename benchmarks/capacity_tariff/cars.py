"""The chargers and the cars' sessions: evening arrivals, morning departures, energy needed.

Each car comes home most evenings (charger a 90 %, charger b 80 % of days) between 17 and
20 h, leaves the next morning between 7 and 8 h and wants 5 to 25 kWh (whole minutes, seeded
per car and day like the house). Both cars are three-phase and take up to 16 A; charger a is
a three-phase 6-16 A charger, charger b the same but able to switch to one phase.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.powershare.engine import ChargerConfig

from .house import SEED

if TYPE_CHECKING:
    from .house import Clock

GROUP = "main"
CHARGERS = {
    "a": ChargerConfig(id="a", group_id=GROUP, min_current=6, max_current=16),
    "b": ChargerConfig(
        id="b", group_id=GROUP, min_current=6, max_current=16, can_switch_phases=True
    ),
}
PRESENCE = {"a": 0.9, "b": 0.8}
CAR_MAX_A = 16.0


@dataclass(frozen=True, slots=True)
class Session:
    """One car's stay at one charger."""

    charger_id: str
    arrive: int
    """The first step the car is plugged in."""
    leave: int
    """The first step it is gone."""
    energy_wh: float
    """What it wants before it is full."""
    max_a: float = CAR_MAX_A
    """What it accepts per phase."""


def make_sessions(clock: Clock, charger_ids: tuple[str, ...], seed: int = SEED) -> list[Session]:
    """Return the sessions of the cars at `charger_ids`, each leaving within the clock."""
    sessions: list[Session] = []
    for charger_id in charger_ids:
        for day in range(clock.days - 1):
            rng = random.Random(f"{seed}-car-{charger_id}-{day}")
            if rng.random() >= PRESENCE[charger_id]:
                continue
            arrive = clock.local(day, round(rng.uniform(17.0, 20.0) * 60) / 60)
            leave = clock.local(day + 1, round(rng.uniform(7.0, 8.0) * 60) / 60)
            energy = round(rng.uniform(5.0, 25.0), 1) * 1000.0
            sessions.append(Session(charger_id, clock.index(arrive), clock.index(leave), energy))
    return sorted(sessions, key=lambda session: (session.arrive, session.charger_id))
