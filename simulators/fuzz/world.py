"""The fuzz's world: a random site, and the physics the engine is run against.

The physics is independent of the engine: house loads per metered group (solar on the root
board), cars that follow their charger (or ignore it, or draw more), meters that report what
flows (or go silent, never answer, or lie). It knows nothing of the engine's estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from custom_components.powershare.engine import (
    PHASES,
    ChargerConfig,
    ChargerState,
    ChargingMode,
    Decision,
    GroupConfig,
    MeterReading,
    Phase,
    PhasePolicy,
    PhaseRotation,
    SiteConfig,
    Snapshot,
    Wiring,
)
from simulators.lines import line_currents

if TYPE_CHECKING:
    import random
    from collections import Counter

type Triple = tuple[float, float, float]
STEP_S = 2.0
FOLLOW_S = 3.0
"""Obedient cars reach a new current this long after it is sent (IEC 61851-1 allows 5 s)."""
ZERO: Triple = (0.0, 0.0, 0.0)


@dataclass
class FuzzCar:
    """A car at a charger: the phases it uses, what it takes, and how it behaves."""

    phases: frozenset[Phase]
    max_current: float
    behaviour: str = "obeys"
    """obeys, ignores (draws `fixed` whatever it is told), overdraws (told + 3 A)."""
    fixed: float = 16.0
    drawing: float = 0.0
    target_since: tuple[int, float] = (0, 0.0)
    follow_s: float = FOLLOW_S
    """How long it takes to follow a cut (longer behind a slow charger)."""

    def draw(self, told: int, now: float) -> float:
        """Return the current the car draws per used phase at `now`."""
        if self.behaviour == "ignores":
            return min(self.fixed, self.max_current)
        if self.target_since[0] != told:
            self.target_since = (told, now)
        wanted = min(float(told), self.max_current) if told >= 1 else 0.0
        if self.behaviour == "overdraws" and told >= 1:
            wanted = min(float(told) + 3.0, self.max_current + 3.0)
        if wanted < self.drawing and now - self.target_since[1] < self.follow_s:
            return self.drawing  # still following the cut
        self.drawing = wanted
        return wanted


def random_site(rng: random.Random) -> SiteConfig:
    """Return a random tree of 1-4 levels with 1-30 chargers."""
    groups = [GroupConfig(id="g0", fuse=_fuse(rng, 40, 100), meter_id="m0")]
    depth = {"g0": 0}
    for index in range(1, rng.randint(1, 7)):
        parent = rng.choice([g.id for g in groups if depth[g.id] < 3])
        metered = rng.random() < 0.6
        groups.append(
            GroupConfig(
                id=f"g{index}",
                parent_id=parent,
                fuse=_fuse(rng, 16, 63),
                meter_id=f"m{index}" if metered else None,
                meter_includes_chargers=rng.random() < 0.7,
            )
        )
        depth[f"g{index}"] = depth[parent] + 1
    chargers = []
    for index in range(rng.randint(1, 30)):
        minimum = rng.choice([6, 6, 6, 8])
        chargers.append(
            ChargerConfig(
                id=f"c{index}",
                group_id=rng.choice(groups).id,
                rotation=rng.choice(list(PhaseRotation)),
                wiring=rng.choice([Wiring.THREE_PHASE, Wiring.THREE_PHASE, Wiring.ONE_PHASE]),
                min_current=minimum,
                max_current=rng.choice([16, 20, 32]),
                priority=rng.choice([0, 0, 1]),
                mode=rng.choice([ChargingMode.FAST] * 4 + list(ChargingMode)),
                phase_policy=rng.choice(list(PhasePolicy)),
                can_switch_phases=rng.random() < 0.3,
            )
        )
    return SiteConfig(groups=tuple(groups), chargers=tuple(chargers), margin_a=1.0)


def _fuse(rng: random.Random, low: int, high: int) -> Triple:
    rating = float(rng.randint(low, high))
    if rng.random() < 0.2:  # different fuses per phase
        return (rating, rating, float(rng.randint(low, int(rating))))
    return (rating, rating, rating)


@dataclass
class World:
    """The physics: house loads per metered group, cars, and the meters' faults."""

    config: SiteConfig
    rng: random.Random
    house: dict[str, Triple] = field(default_factory=dict)
    cars: dict[str, FuzzCar | None] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    never: set[str] = field(default_factory=set)
    lies: dict[str, str] = field(default_factory=dict)
    readings: dict[str, MeterReading] = field(default_factory=dict)
    late_chargers: bool = False
    """Chargers report what they drew one step before the meters (as a charger read every
    2 s beside a meter read every second does): a car that ramped up since is not in it."""
    _reported: dict[str, Triple] | None = None
    without_watchdog: frozenset[str] = frozenset()
    """Chargers that may stop answering: they keep the last current they were told."""
    unresponsive: dict[str, int] = field(default_factory=dict)
    """Chargers not answering now, with the current they keep."""
    told: dict[str, int] = field(default_factory=dict)
    kinds_rng: random.Random | None = None
    """The generator of the charger-kind faults (its own: the other faults stay the seed's)."""
    measured: dict[str, Triple] = field(default_factory=dict)
    """What each charger measured at the last `draws` (per charger phase)."""

    def __post_init__(self) -> None:
        self.parent = {g.id: g.parent_id for g in self.config.groups}
        self.by_id = {g.id: g for g in self.config.groups}
        for group in self.config.groups:
            if group.meter_id is not None:
                self.house[group.id] = self._house_load(group)
        for charger in self.config.chargers:
            self.cars[charger.id] = self.new_car() if self.rng.random() < 0.7 else None

    def _house_load(self, group: GroupConfig) -> Triple:
        share = 0.6 if group.parent_id is None else 0.4
        load = [self.rng.uniform(0.0, share * rating) for rating in group.fuse]
        if group.parent_id is None and self.rng.random() < 0.3:  # solar on the main board
            load = [
                max(amps - self.rng.uniform(0.0, 0.8 * rating), -0.8 * rating)
                for amps, rating in zip(load, group.fuse, strict=True)
            ]
        return (load[0], load[1], load[2])

    def new_car(self) -> FuzzCar:
        """Return a random car: its phases, what it takes, and whether it obeys."""
        used = self.rng.choice([1, 2, 3, 3, 3])
        car = FuzzCar(frozenset(PHASES[:used]), float(self.rng.choice([10, 16, 32])))
        roll = self.rng.random()
        if roll < 0.08:
            car.behaviour, car.fixed = "ignores", float(self.rng.choice([6, 10, 16]))
        elif roll < 0.12:
            car.behaviour = "overdraws"
        return car

    def below(self, group_id: str, ancestor: str) -> bool:
        """Whether `group_id` is `ancestor` or in its subtree."""
        current: str | None = group_id
        while current is not None:
            if current == ancestor:
                return True
            current = self.parent[current]
        return False

    def disturb(self, step: int, faults: Counter[str]) -> None:
        """Change the world a little: loads, cars, meter faults."""
        rng = self.rng
        for group_id in self.house:
            if rng.random() < 0.15:
                self.house[group_id] = self._house_load(self.by_id[group_id])
        for charger_id in self.cars:
            if rng.random() < 0.03:
                self.cars[charger_id] = None if self.cars[charger_id] else self.new_car()
        for group in self.config.groups:
            meter = group.meter_id
            if meter is None:
                continue
            if step == 0 and rng.random() < 0.05:
                self.never.add(meter)
            if rng.random() < 0.04:
                self.silent ^= {meter}
            self.lies.pop(meter, None)
            if rng.random() < 0.04:
                self.lies[meter] = rng.choice(["nan", "inf", "-inf", "export"])
        self._silence_chargers()
        faults.update("charger without watchdog does not answer" for _ in self.unresponsive)
        faults.update("meter never answers" for _ in self.never)
        faults.update("meter silent" for _ in self.silent)
        faults.update(f"meter sends {lie}" for lie in self.lies.values())

    def _silence_chargers(self) -> None:
        """Let some chargers without a watchdog stop answering (or answer again)."""
        if self.kinds_rng is None:
            return
        for charger_id in sorted(self.without_watchdog):  # a set: no fixed order
            if self.kinds_rng.random() < 0.04:
                if charger_id in self.unresponsive:
                    del self.unresponsive[charger_id]
                else:
                    self.unresponsive[charger_id] = self.told.get(charger_id, 0)

    def draws(self, decision: Decision | None, now: float) -> dict[str, Triple]:
        """Return what each charger's car draws per SITE line, given the last decision.

        What the charger itself measures (per charger phase) is kept in `measured`: without
        a neutral, a draw on one charger phase also flows on a line the charger does not
        measure (`lines.line_currents`).
        """
        result: dict[str, Triple] = {}
        self.measured = {}
        for charger in self.config.chargers:
            car = self.cars[charger.id]
            verdict = None if decision is None else decision.chargers[charger.id]
            told = 0 if verdict is None else verdict.target_current
            if charger.id in self.unresponsive:
                told = self.unresponsive[charger.id]  # commands do not arrive: it keeps its last
            self.told[charger.id] = told
            if car is None:
                result[charger.id] = self.measured[charger.id] = ZERO
                continue
            if charger.mode is ChargingMode.OFF and car.behaviour == "obeys":
                told = 0
            car.follow_s = max(FOLLOW_S, charger.response_s - STEP_S)
            amps = car.draw(told, now)
            phases = car.phases if charger.wiring is Wiring.THREE_PHASE else {Phase.L1}
            if verdict is not None and len(verdict.charger_phases) == 1 and told:
                phases = set(verdict.charger_phases)
            own = [amps if phase in phases else 0.0 for phase in PHASES]
            measured = self.measured[charger.id] = (own[0], own[1], own[2])
            result[charger.id] = line_currents(self.config.network, charger.rotation, measured)
        return result

    def snapshot(self, draws: dict[str, Triple], now: float) -> Snapshot:
        """Return what the meters and chargers report now."""
        meters: dict[str, MeterReading] = {}
        for group in self.config.groups:
            meter = group.meter_id
            if meter is None or meter in self.never:
                continue
            if meter in self.silent:
                if meter in self.readings:
                    meters[meter] = self.readings[meter]
                continue
            flow = self.flow(group.id, draws, with_chargers=group.meter_includes_chargers)
            reading = MeterReading(_lie(self.lies.get(meter), flow, group.fuse), now)
            meters[meter] = reading
            if meter not in self.lies:
                self.readings[meter] = reading
        reported, measured_at = self.measured, None
        if self.late_chargers and self._reported is not None:
            reported, measured_at = self._reported, now - STEP_S
        self._reported = self.measured
        chargers = {
            charger.id: ChargerState(
                connected=self.cars[charger.id] is not None,
                charging=max(reported.get(charger.id, ZERO)) > 0,
                currents=reported.get(charger.id, ZERO),
                measured_at=measured_at,
            )
            if charger.id not in self.unresponsive
            else ChargerState(connected=False, unresponsive=True)
            for charger in self.config.chargers
        }
        return Snapshot(now=now, meters=meters, chargers=chargers)

    def flow(
        self, group_id: str, draws: dict[str, Triple], *, with_chargers: bool = True
    ) -> list[float]:
        """Return what really flows through a group's fuse (the house part when asked)."""
        total = [0.0, 0.0, 0.0]
        for owner, load in self.house.items():
            if self.below(owner, group_id):
                total = [a + b for a, b in zip(total, load, strict=True)]
        if with_chargers:
            for charger in self.config.chargers:
                if self.below(charger.group_id, group_id):
                    total = [a + b for a, b in zip(total, draws[charger.id], strict=True)]
        return total


def _lie(kind: str | None, flow: list[float], fuse: Triple) -> Triple:
    if kind == "nan":
        return (math.nan, flow[1], flow[2])
    if kind == "inf":
        return (flow[0], math.inf, flow[2])
    if kind == "-inf":
        return (flow[0], flow[1], -math.inf)
    if kind == "export":
        return (-10.0 * fuse[0], flow[1], flow[2])
    return (flow[0], flow[1], flow[2])


def _charger_phases(charger: ChargerConfig, site: Triple) -> Triple:
    """Map a draw per site phase back to the charger's own phases."""
    own = [0.0, 0.0, 0.0]
    for phase in PHASES:
        own[phase] = site[charger.rotation.site_phase(phase)]
    return (own[0], own[1], own[2])
