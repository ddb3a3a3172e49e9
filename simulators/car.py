"""Simulated cars: when they come and go, which phases they draw on, how much they accept.

A car plugged into a charger draws, on each of its phases that the charger offers, the lowest
of the charger's offered current and what the car accepts right now (a car can accept less as
its battery fills, or more when it "suddenly wants more" in seed 003). Below 6 A (IEC 61851:
the lowest pilot signal a car must follow) it draws nothing. It follows a decrease within
one step and an increase at `ramp_a_per_s`, and stops for good once it has the energy it
wanted (a full car).
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from custom_components.powershare.engine import PHASES, Phase

IEC_MIN_CURRENT = 6.0
"""A pilot signal below this means "do not charge" to a car (IEC 61851-1)."""


@dataclass(frozen=True, slots=True)
class StepFunction:
    """A value that changes at given times and holds in between (the first holds before)."""

    points: tuple[tuple[float, float], ...]
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Require at least one point and increasing times."""
        if not self.points:
            raise ValueError("a step function needs at least one point")
        times = tuple(time for time, _ in self.points)
        if any(later <= earlier for earlier, later in itertools.pairwise(times)):
            raise ValueError("the times of a step function must increase")
        # A frozen dataclass sets its derived fields through object.__setattr__.
        object.__setattr__(self, "_times", times)

    @classmethod
    def constant(cls, value: float) -> StepFunction:
        """Return a function that is `value` at every time."""
        return cls(((0.0, value),))

    def at(self, time: float) -> float:
        """Return the value at `time`."""
        index = bisect.bisect_right(self._times, time) - 1
        return self.points[max(index, 0)][1]


@dataclass(frozen=True, slots=True)
class CarSpec:
    """One car's visit to one charger and its behaviour.

    `phases` are the plug's pins the car draws on, which are the charger's phases when it
    charges on three (a one-phase car draws on L1). In one-phase mode the charger feeds the
    phase it was told to use to pin L1, so every car draws on that phase. `accepts` is the
    most current per phase the car takes, over time. `energy_wh` is what it wants before it
    is full (None = never full). `report_phases` says whether the charger reports the car's
    phases to the engine (otherwise the engine has to find them out from the currents).
    """

    id: str
    charger_id: str
    arrive: float
    leave: float | None = None
    phases: frozenset[Phase] = frozenset(PHASES)
    accepts: StepFunction = field(default_factory=lambda: StepFunction.constant(32.0))
    energy_wh: float | None = None
    ramp_a_per_s: float = 2.0
    report_phases: bool = False

    def __post_init__(self) -> None:
        """Reject a visit that ends before it starts or a car without phases."""
        if self.leave is not None and self.leave <= self.arrive:
            raise ValueError(f"car {self.id}: leaves before it arrives")
        if not self.phases:
            raise ValueError(f"car {self.id}: needs at least one phase")
        if self.ramp_a_per_s <= 0:
            raise ValueError(f"car {self.id}: ramp must be positive")

    def present(self, time: float) -> bool:
        """Return whether the car is plugged in at `time`."""
        return self.arrive <= time and (self.leave is None or time < self.leave)


@dataclass(slots=True)
class Car:
    """A car's state during the simulation."""

    spec: CarSpec
    drawn: float = 0.0
    """Current per drawing phase, in amps."""
    drawing_phases: tuple[Phase, ...] = ()
    """The charger phases it draws on now."""
    energy_wh: float = 0.0
    """Energy taken so far."""

    @property
    def full(self) -> bool:
        """Return whether the car has all the energy it wanted."""
        return self.spec.energy_wh is not None and self.energy_wh >= self.spec.energy_wh

    def follow(
        self, offered: float, offered_phases: tuple[Phase, ...], time: float, dt: float
    ) -> None:
        """Draw what the charger offers, as the car can, for the step from `time`."""
        phases: tuple[Phase, ...]
        if len(offered_phases) == 1:
            # One-phase mode: the charger feeds the chosen supply phase to the plug's L1 pin
            # (TeltoCharge register 14, "phase to use"), the pin every car charges from.
            phases = offered_phases if Phase.L1 in self.spec.phases else ()
        else:
            phases = tuple(phase for phase in offered_phases if phase in self.spec.phases)
        wanted = min(float(offered), self.spec.accepts.at(time))
        if self.full or not phases or wanted < IEC_MIN_CURRENT:
            wanted = 0.0
        if phases != self.drawing_phases and self.drawn > 0:
            # The charger switched phases: the car stops and starts again on the new ones.
            self.drawn = 0.0
        if wanted <= self.drawn:
            self.drawn = wanted
        else:
            self.drawn = min(wanted, self.drawn + self.spec.ramp_a_per_s * dt)
        self.drawing_phases = phases if self.drawn > 0 else ()

    def charger_currents(self) -> tuple[float, float, float]:
        """Return the current per charger phase."""
        currents = [0.0, 0.0, 0.0]
        for phase in self.drawing_phases:
            currents[phase] = self.drawn
        return (currents[0], currents[1], currents[2])
