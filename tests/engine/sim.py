"""Small helpers for engine tests: site builders and a closed loop with simple cars.

The loop is deliberately simple and independent of the engine: a car draws the lesser of its
charger's target and what it accepts, on the phases it uses; each meter reads the non-EV load
it is given plus the draw of the chargers below it (when it includes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerConfig,
    ChargerState,
    Decision,
    GroupConfig,
    MeterReading,
    Phase,
    SiteConfig,
    Snapshot,
)
from simulators.lines import line_currents

type Triple = tuple[float, float, float]


def one_group_site(
    fuse: float = 40.0,
    chargers: tuple[ChargerConfig, ...] = (),
    *,
    margin: float = 0.0,
    **settings: Any,
) -> SiteConfig:
    """Return a site with one metered main group ("main", meter "m") holding `chargers`."""
    group = GroupConfig(id="main", fuse=(fuse, fuse, fuse), meter_id="m")
    return SiteConfig(groups=(group,), chargers=chargers, margin_a=margin, **settings)


@dataclass
class Car:
    """A car at a charger: accepts up to `max_current` on the given charger phases."""

    max_current: float = 32.0
    phases: frozenset[Phase] = frozenset(PHASES)
    connected: bool = True
    ignores_at: float | None = None
    """A car that ignores its charger and draws this much whatever it is told (None = obeys)."""

    def draw(self, target: int, wired: int) -> Triple:
        """Return what the car draws per charger phase for a target current."""
        if self.connected and self.ignores_at is not None:
            target = round(self.ignores_at)
        if not self.connected or target <= 0:
            return (0.0, 0.0, 0.0)
        amps = min(float(target), self.max_current)
        usable = self.phases if wired == 3 else frozenset({Phase.L1})
        return (
            amps if Phase.L1 in usable else 0.0,
            amps if Phase.L2 in usable else 0.0,
            amps if Phase.L3 in usable else 0.0,
        )


@dataclass
class Loop:
    """A closed loop: balancer, cars, and per-meter non-EV load."""

    config: SiteConfig
    cars: dict[str, Car] = field(default_factory=dict)
    base: dict[str, Triple] = field(default_factory=dict)
    now: float = 0.0
    step_s: float = 5.0
    balancer: Balancer = field(init=False)
    targets: dict[str, int] = field(default_factory=dict)
    site_phases: dict[str, tuple[Phase, ...]] = field(default_factory=dict)
    silent_meters: set[str] = field(default_factory=set)
    """Meters that stopped answering: the snapshot keeps their last reading and its time."""
    readings: dict[str, MeterReading] = field(default_factory=dict)
    last: Decision | None = None
    peak_power_w: float | None = None
    """The peak budget each snapshot carries (`Snapshot.peak_power_w`)."""
    peak_house_w: float | None = None
    """The house's load the budget is planned with (`Snapshot.peak_house_w`)."""
    voltage_v: float | None = None
    """The voltage the root meter measures (`Snapshot.voltage_v`); None: not measured."""

    def __post_init__(self) -> None:
        self.balancer = Balancer(self.config)

    def draws(self) -> dict[str, Triple]:
        """Return each charger's draw per charger phase given the last targets."""
        result: dict[str, Triple] = {}
        for charger in self.config.chargers:
            car = self.cars.get(charger.id)
            target = self.targets.get(charger.id, 0)
            if car is None:
                result[charger.id] = (0.0, 0.0, 0.0)
                continue
            phases = self.site_phases.get(charger.id)
            draw = car.draw(target, int(charger.wiring))
            if phases is not None and len(phases) == 1 and target > 0:
                # Switched (or wired) to one phase: the charger feeds one charger phase.
                charger_phase = charger.rotation.charger_phase(phases[0])
                amps = min(float(target), car.max_current)
                draw = tuple(amps if p == charger_phase else 0.0 for p in PHASES)  # type: ignore[assignment]
            result[charger.id] = draw
        return result

    def snapshot(self) -> Snapshot:
        """Return the snapshot the balancer would see now."""
        draws = self.draws()
        meters: dict[str, MeterReading] = {}
        groups = {group.id: group for group in self.config.groups}
        for group in self.config.groups:
            if group.meter_id is None:
                continue
            if group.meter_id in self.silent_meters:
                if group.meter_id in self.readings:
                    meters[group.meter_id] = self.readings[group.meter_id]
                continue
            total = list(self.base.get(group.meter_id, (0.0, 0.0, 0.0)))
            if group.meter_includes_chargers:
                for charger in self.config.chargers:
                    if not _below(groups, charger.group_id, group.id):
                        continue
                    flows = line_currents(self.config.network, charger.rotation, draws[charger.id])
                    for line in PHASES:
                        total[line] += flows[line]
            reading = MeterReading((total[0], total[1], total[2]), self.now)
            meters[group.meter_id] = self.readings[group.meter_id] = reading
        chargers = {
            charger.id: ChargerState(
                connected=charger.id in self.cars and self.cars[charger.id].connected,
                charging=any(draws[charger.id]),
                currents=draws[charger.id],
            )
            for charger in self.config.chargers
        }
        return Snapshot(
            now=self.now,
            meters=meters,
            chargers=chargers,
            peak_power_w=self.peak_power_w,
            peak_house_w=self.peak_house_w,
            voltage_v=self.voltage_v,
        )

    def step(self) -> Decision:
        """Run one cycle, apply the targets, and advance the clock."""
        decision = self.balancer.step(self.snapshot())
        for charger_id, verdict in decision.chargers.items():
            self.targets[charger_id] = verdict.target_current
            self.site_phases[charger_id] = verdict.site_phases
        self.last = decision
        self.now += self.step_s
        return decision

    def run(self, seconds: float) -> Decision:
        """Run cycles for `seconds` and return the last decision."""
        decision = self.step()
        end = self.now + seconds
        while self.now < end:
            decision = self.step()
        return decision

    def phases(self, charger_id: str) -> tuple[Phase, ...]:
        """Return the site phases last decided for a charger."""
        return self.site_phases[charger_id]

    def amps(self) -> dict[str, int]:
        """Return the last targets by charger id."""
        return dict(self.targets)


def _below(groups: dict[str, GroupConfig], group_id: str, ancestor: str) -> bool:
    current: str | None = group_id
    while current is not None:
        if current == ancestor:
            return True
        current = groups[current].parent_id
    return False
