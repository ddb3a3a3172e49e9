"""What the engine remembers from one cycle to the next (plain, inspectable data).

`BalancerState` is all of it: dropping it forgets sessions, timers and learned facts, nothing
else. Each stage of a cycle writes only the fields of the rule it applies (listed in
`balancer.py`), so a reader finds who changes a field by its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loads import Currents, MeterMemory
    from .model import Phase


@dataclass(slots=True)
class ChargerMemory:
    """What the engine remembers of one charger's session (forgotten when the car leaves)."""

    session_start: float
    paused_since: float | None
    target: int = 0
    site_phases: tuple[Phase, ...] = ()
    last_change: float | None = None
    replaced: list[tuple[float, int]] = field(default_factory=list)
    """(when, the target it replaced) of the changes of the last `obey_within_s`: where a car
    still ramping up may be coming from (`ramps`)."""
    running_since: float | None = None
    ever_started: bool = False
    drawing: bool = False
    """Whether the charger was seen drawing in this cycle (what it draws is not always what
    Powershare started: a car charging before its charger's entry was added)."""
    request: int | None = None
    """Lowered request of a car that draws less (None = full share)."""
    request_lowered_at: float | None = None
    drawn_when_lowered: float = 0.0
    reoffered_at: float | None = None
    """When the running periodic re-offer began (None = none running)."""
    reoffers_declined: int = 0
    """Periodic re-offers declined in a row (the back-off exponent)."""
    drawless_since: float | None = None
    car_phases: frozenset[Phase] | None = None
    """Charger phases the car was seen drawing on."""
    one_phase: Phase | None = None
    """The site phase while switched to one phase (None = three phases)."""
    switch_times: list[float] = field(default_factory=list)
    phase_down_since: float | None = None
    phase_up_since: float | None = None
    solar_running: bool = False
    solar_ok_since: float | None = None
    solar_deficit_since: float | None = None

    def switched_within(self, now: float, seconds: float) -> bool:
        """Whether the charger switched phases less than `seconds` ago."""
        return bool(self.switch_times) and now - self.switch_times[-1] < seconds

    @property
    def one_phase_car(self) -> bool:
        """Whether the car was seen drawing on one phase only (in this session)."""
        return self.car_phases is not None and len(self.car_phases) == 1


@dataclass(frozen=True, slots=True)
class RampDown:
    """A charger told to draw less, which may still draw its old current until `until`."""

    until: float
    current: int
    site_phases: tuple[Phase, ...]


@dataclass(slots=True)
class Obedience:
    """What the engine remembers of whether one charger does as it is told (`obedience`)."""

    allowed: Currents = (0.0, 0.0, 0.0)
    """What it was told per site phase (before the tolerance)."""
    told_less_at: float | None = None
    """When it was first told less (a pause or other phases included) since it last obeyed."""
    out_of_control: bool = False


@dataclass(slots=True)
class BalancerState:
    """Everything the balancer carries from one cycle to the next."""

    chargers: dict[str, ChargerMemory] = field(default_factory=dict)
    meters: dict[str, MeterMemory] = field(default_factory=dict)
    ramping_down: dict[str, RampDown] = field(default_factory=dict)
    """Recent decreases: their old current still counts when increases are paced."""
    obedience: dict[str, Obedience] = field(default_factory=dict)
    """Per charger seen drawing: what it was told, and whether it is out of control."""
