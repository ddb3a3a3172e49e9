"""One fuzz case: the engine against the world, cycle after cycle, and the invariants checked."""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargingMode,
    Network,
    Phase,
    PhaseRotation,
    Reason,
    Wiring,
)

from .world import FOLLOW_S, STEP_S, World, random_site

if TYPE_CHECKING:
    from custom_components.powershare.engine import Decision, SiteConfig

    from .world import Triple

STEPS = 60
LATE_CHARGERS = 0.4
"""The share of sites whose chargers are read a step before the meters."""
WITHOUT_NEUTRAL = 0.25
"""The share of sites on 3 x 230 V without neutral (single-phase chargers between lines)."""
NETWORK_SALT = 0x5A17
KINDS_SALT = 0xC4A6
SLOW_SITES = 0.3
"""The share of sites with chargers of other kinds: slow and rate-limited (a cloud service),
and without a watchdog (they keep their last current when they stop answering)."""
TOLERANCE = 1e-6
_NOT_COMPARED = frozenset(
    {
        Reason.PACED,
        Reason.CAR_DRAWS_LESS,
        Reason.CAR_NOT_DRAWING,
        Reason.OUT_OF_CONTROL,
        Reason.UNRESPONSIVE,
        Reason.SOLAR_HOLDING_MIN,
    }
)
"""Reasons that depend on a charger's own history: two identical chargers may differ."""


@dataclass
class Outcome:
    """What one case exercised and which invariants it broke."""

    seed: int
    chargers: int = 0
    groups: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)
    """One line per broken invariant: its name first, then what happened."""


def run_case(seed: int, steps: int = STEPS) -> Outcome:
    """Run one random site for `steps` cycles (see the package docstring)."""
    rng = random.Random(seed)
    config = random_site(rng)
    world = World(config, rng)
    # Their own generators: the sites and their faults stay those of the seed without them.
    world.late_chargers = random.Random(~seed).random() < LATE_CHARGERS
    if random.Random(seed ^ NETWORK_SALT).random() < WITHOUT_NEUTRAL:
        config = dataclasses.replace(config, network=Network.THREE_LINES_WITHOUT_NEUTRAL)
        world.config = config
    kinds = random.Random(seed ^ KINDS_SALT)
    if kinds.random() < SLOW_SITES:
        config = _other_kinds(config, world, kinds)
    balancer = Balancer(config)
    outcome = Outcome(seed, len(config.chargers), len(config.groups))
    if world.late_chargers:
        outcome.faults["charger readings older than the meters'"] += 1
    tunables = config.tunables
    # A car's time to follow a cut, one reading to see that it did not, one cycle to decide,
    # the others' time to follow that decision, and the 2 s granularity of this check (the
    # slowest charger's response time where it is longer).
    slowest = max((charger.response_s for charger in config.chargers), default=0.0)
    follow = max(FOLLOW_S, slowest - STEP_S)
    detection_s = max(tunables.obey_within_s, slowest) + follow + 3 * STEP_S
    over_since: dict[tuple[str, int], float] = {}
    _count_site(config, outcome.faults)
    decision: Decision | None = None
    now = 0.0
    for step in range(steps):
        world.disturb(step, outcome.faults)
        draws = world.draws(decision, now)
        _count_cars(world, draws, outcome.faults)
        decision = balancer.step(world.snapshot(draws, now))
        blind = _blind_groups(world, decision)
        _check_decision(config, world, decision, outcome)
        now += STEP_S
        check_fuses(world, world.draws(decision, now), blind, over_since, now, detection_s, outcome)
    return outcome


def _other_kinds(config: SiteConfig, world: World, kinds: random.Random) -> SiteConfig:
    """Make some chargers slow or rate-limited, or some without a watchdog (or both).

    Separately for the most part: a slow charger lengthens the time every overload of its
    site is given (`detection_s`), which would hide what a silent one does.
    """
    chargers = []
    silent: set[str] = set()
    slow_site = kinds.random() < 0.5
    silent_site = not slow_site or kinds.random() < 0.2
    for charger in config.chargers:
        if slow_site and kinds.random() < 0.3:
            charger = dataclasses.replace(  # noqa: PLW2901
                charger,
                response_s=kinds.choice([15.0, 30.0]),
                min_write_interval_s=kinds.choice([0.0, 30.0]),
            )
        if silent_site and kinds.random() < 0.3:
            silent.add(charger.id)
        chargers.append(charger)
    config = dataclasses.replace(config, chargers=tuple(chargers))
    world.config = config
    world.without_watchdog = frozenset(silent)
    world.kinds_rng = kinds
    return config


def _count_site(config: SiteConfig, faults: Counter[str]) -> None:
    if config.network.without_neutral:
        faults["site: 3 x 230 V without neutral"] += 1
    for group in config.groups:
        if group.parent_id is not None and group.meter_id is None:
            faults["site: unmetered sub-group"] += 1
        if group.meter_id is not None and not group.meter_includes_chargers:
            faults["site: house-only meter"] += 1
        if len(set(group.fuse)) > 1:
            faults["site: per-phase fuses"] += 1
    _count_chargers(config, faults)


def _count_chargers(config: SiteConfig, faults: Counter[str]) -> None:
    for charger in config.chargers:
        if charger.mode is ChargingMode.OFF:
            faults["site: charger with mode off"] += 1
        if charger.rotation is not PhaseRotation.L1L2L3:
            faults["site: rotated charger"] += 1
        if charger.response_s:
            faults["site: slow charger (cloud)"] += 1
        if charger.min_write_interval_s:
            faults["site: rate-limited charger"] += 1


def _count_cars(world: World, draws: dict[str, Triple], faults: Counter[str]) -> None:
    for charger in world.config.chargers:
        car = world.cars[charger.id]
        if car is not None and car.behaviour != "obeys" and max(draws[charger.id]) > 0:
            faults[f"car {car.behaviour}"] += 1
        elif car is not None and len(car.phases) == 2:
            faults["two-phase car"] += 1


def _blind_groups(world: World, decision: Decision) -> set[str]:
    """Return the groups whose figure rests on a meter that did not report what flows now.

    Silent, never answering, lying: the engine goes on with the last believable reading until
    the meter timeout, then with the failsafe share; what flows meanwhile is not its to see.
    """
    blind_meters = set(decision.stale_meters) | set(decision.implausible_meters)
    blind_meters |= world.silent | world.never | set(world.lies)
    blind: set[str] = set()
    for group in world.config.groups:
        meters_used = [
            other.meter_id
            for other in world.config.groups
            if other.meter_id is not None
            and (
                world.below(group.id, other.id)  # its own meter and those above it
                or (group.meter_id is None and world.below(other.id, group.id))  # or below
            )
        ]
        if blind_meters.intersection(meters_used):
            blind.add(group.id)
    return blind


def _check_decision(config: SiteConfig, world: World, decision: Decision, outcome: Outcome) -> None:
    failsafe = config.tunables.failsafe_current_a
    for charger in config.chargers:
        verdict = decision.chargers[charger.id]
        amps = verdict.target_current
        if not isinstance(amps, int) or not (
            amps == 0 or charger.min_current <= amps <= charger.max_current
        ):
            outcome.broken.append(f"command: {charger.id} told {amps!r}")
        if decision.groups[charger.group_id].meter_stale and amps > failsafe:
            outcome.broken.append(f"failsafe: {charger.id} told {amps} A below a stale meter")
    for figures in decision.groups.values():
        if not all(math.isfinite(amps) for amps in figures.non_ev_load):
            outcome.broken.append(f"finite: {figures.group_id} non-EV {figures.non_ev_load}")
    _check_fairness(config, world, decision, outcome)


def _check_fairness(config: SiteConfig, world: World, decision: Decision, outcome: Outcome) -> None:
    seen: dict[tuple[object, ...], str] = {}
    for charger in config.chargers:
        car = world.cars[charger.id]
        verdict = decision.chargers[charger.id]
        if car is None or car.behaviour != "obeys" or verdict.target_current == 0:
            continue
        if verdict.reason in _NOT_COMPARED:
            continue
        settings = (
            charger.group_id,
            charger.rotation,
            charger.wiring,
            charger.min_current,
            charger.max_current,
            charger.priority,
            charger.mode,
            charger.phase_policy,
            charger.can_switch_phases,
            car.phases,
            car.max_current,
            verdict.reason,
            verdict.site_phases,
        )
        twin = seen.setdefault(settings, charger.id)
        if twin == charger.id:
            continue
        other = decision.chargers[twin]
        if (
            abs(other.share - verdict.share) > TOLERANCE
            or abs(other.target_current - verdict.target_current) > 1
        ):
            outcome.broken.append(
                f"fair: {twin} {other.target_current} A ({other.share:.3f}) but {charger.id} "
                f"{verdict.target_current} A ({verdict.share:.3f}), both {verdict.reason}"
            )


def check_fuses(
    world: World,
    draws: dict[str, Triple],
    blind: set[str],
    over_since: dict[tuple[str, int], float],
    now: float,
    detection_s: float,
    outcome: Outcome,
) -> None:
    """Record each fuse overloaded for longer than `detection_s` (see the package docstring)."""
    for group in world.config.groups:
        flowing = world.flow(group.id, draws)
        uncontrolled = world.flow(group.id, draws, with_chargers=False)
        for charger in world.config.chargers:
            car = world.cars[charger.id]
            if (
                car is not None
                and (car.behaviour != "obeys" or charger.id in world.unresponsive)
                and world.below(charger.group_id, group.id)
            ):
                uncontrolled = [a + b for a, b in zip(uncontrolled, draws[charger.id], strict=True)]
        for phase in PHASES:
            key = (group.id, phase)
            rating = group.fuse[phase]
            if (
                flowing[phase] <= rating + TOLERANCE
                or uncontrolled[phase] > rating
                or (group.id in blind)
            ):
                over_since.pop(key, None)
                continue
            since = over_since.setdefault(key, now)
            if now - since > detection_s:
                outcome.broken.append(
                    f"fuse: {group.id} L{phase + 1} carries {flowing[phase]:.1f} A over its "
                    f"{rating:g} A for {now - since:g} s (uncontrolled {uncontrolled[phase]:.1f} A)"
                )
                over_since.pop(key)  # one report per overload


def run_starvation_case(seed: int) -> Outcome:
    """Check that no car starves when its minimum fits (the **starve** invariant).

    The same random site with obedient cars, all connected, static house loads and honest
    meters, run through every turn of the rotation (shortened to `_TURN_S`). Every fast-mode
    car of the highest priority present whose minimum fits alone on every fuse above it (with
    the house load) must charge at some point.
    """
    rng = random.Random(seed)
    config = random_site(rng)
    config = dataclasses.replace(
        config, tunables=dataclasses.replace(config.tunables, rotation_period_s=_TURN_S)
    )
    world = World(config, rng)
    for charger in config.chargers:
        car = world.cars[charger.id] or world.new_car()
        car.behaviour = "obeys"
        world.cars[charger.id] = car
    outcome = Outcome(seed, len(config.chargers), len(config.groups))
    balancer = Balancer(config)
    charged: set[str] = set()
    decision: Decision | None = None
    now = 0.0
    for _ in range(int((len(config.chargers) + 3) * _TURN_S / _STARVE_STEP_S)):
        draws = world.draws(decision, now)
        decision = balancer.step(world.snapshot(draws, now))
        charged.update(key for key, verdict in decision.chargers.items() if verdict.target_current)
        now += _STARVE_STEP_S
    top = max(charger.priority for charger in config.chargers)
    for charger in config.chargers:
        fast = charger.mode is ChargingMode.FAST and charger.priority == top
        if fast and charger.id not in charged and _minimum_fits(world, charger.id):
            outcome.broken.append(f"starve: {charger.id} never charged, its minimum fits")
    return outcome


_TURN_S = 60.0
_STARVE_STEP_S = 5.0


def _minimum_fits(world: World, charger_id: str) -> bool:
    """Whether the charger's minimum fits alone on every fuse above it, with the house load.

    On every phase it is wired to: the engine cannot know a car's phases before it draws.
    """
    config = world.config
    charger = next(c for c in config.chargers if c.id == charger_id)
    # The phases the engine must assume: a car that never drew shows none of its own.
    phases = PHASES if charger.wiring is Wiring.THREE_PHASE else (Phase.L1,)
    site_phases = {charger.rotation.site_phase(phase) for phase in phases}
    none_drawing = {other.id: (0.0, 0.0, 0.0) for other in config.chargers}
    for group in config.groups:
        if not world.below(charger.group_id, group.id):
            continue
        house = world.flow(group.id, none_drawing)
        for phase in site_phases:
            if group.fuse[phase] - config.margin_a - max(house[phase], 0.0) < charger.min_current:
                return False
    return True
