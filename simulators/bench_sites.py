"""The benchmark sites: n chargers in a three-level tree, with ample or contended fuses.

A main fuse with a meter, k groups below it (each with a meter), k sub-groups in each (no
meter) and the chargers spread over the sub-groups (k = cube root of n, at least 2), with a
non-EV load on every metered group. Two sizings of the fuses: "ample" (sub-group 20 A per
charger, group 80 % of its sub-groups, main 80 % of its groups: every car gets its minimum)
and "contended" (10 A, 70 %, 60 %: about 4 A per charger at the main fuse, so many cars are
paused and every level binds). The chargers mix rotations, 10 % one-phase wiring, 20 % that
can switch phases, 10 % priority, and modes (85 % fast, 10 % solar, 5 % min+solar, with a
solar surplus at the main meter); every charger has a car, 10 % of them one-phase and 20 %
taking only 16 A.

`benchmarks/engine_speed.py` times the engine on them; the golden traces (`simulators.traces`)
record its decisions on them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from custom_components.powershare.engine import (
    PHASES,
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Phase,
    PhaseRotation,
    SiteConfig,
    Wiring,
)

from .car import CarSpec, StepFunction
from .site import PhaseProfile, Site


@dataclass(frozen=True, slots=True)
class Sizing:
    """How generous the fuses are: amps per charger at the sub-groups, then the shares."""

    name: str
    leaf_a: float
    group_share: float
    main_share: float


CONTENDED = Sizing("contended", 10.0, 0.7, 0.6)
"""About 4 A per charger at the main fuse: many cars paused, every level binds."""
AMPLE = Sizing("ample", 20.0, 0.8, 0.8)
"""About 13 A per charger at the main fuse: every car gets at least its minimum."""


def build_site(count: int, sizing: Sizing = CONTENDED, seed: int = 3) -> Site:
    """Return a virtual site with `count` chargers in a three-level tree, all with a car."""
    rng = random.Random(seed)
    fan_out = max(2, round(count ** (1 / 3)))
    leaves = [f"g{i}.{j}" for i in range(fan_out) for j in range(fan_out)]
    chargers: list[ChargerConfig] = []
    cars: list[CarSpec] = []
    for index in range(count):
        charger, car = _charger_and_car(rng, index, leaves[index % len(leaves)])
        chargers.append(charger)
        cars.append(car)
    per_leaf = dict.fromkeys(leaves, 0)
    for charger in chargers:
        per_leaf[charger.group_id] += 1
    groups, loads = _groups(fan_out, per_leaf, sizing)
    main = groups[0].fuse[0]
    solar = {"main": PhaseProfile.constant((0.1 * main, 0.1 * main, 0.1 * main))}
    config = SiteConfig(groups=tuple(groups), chargers=tuple(chargers))
    return Site(config, cars, loads=loads, solar=solar)


def _charger_and_car(rng: random.Random, index: int, leaf: str) -> tuple[ChargerConfig, CarSpec]:
    """Draw one charger and its car (the draws in a fixed order: the sites stay the same)."""
    draw = rng.random()
    mode = (
        ChargingMode.SOLAR
        if draw < 0.10
        else ChargingMode.MIN_SOLAR
        if draw < 0.15
        else ChargingMode.FAST
    )
    rotations = list(PhaseRotation)
    charger = ChargerConfig(
        id=f"c{index}",
        group_id=leaf,
        rotation=rotations[index % len(rotations)],
        wiring=Wiring.ONE_PHASE if rng.random() < 0.10 else Wiring.THREE_PHASE,
        priority=1 if rng.random() < 0.10 else 0,
        mode=mode,
        can_switch_phases=rng.random() < 0.20,
    )
    phases = frozenset({Phase.L1}) if rng.random() < 0.10 else frozenset(PHASES)
    accepts = 16.0 if rng.random() < 0.20 else 32.0
    car = CarSpec(
        id=f"car{index}",
        charger_id=charger.id,
        arrive=0.0,
        phases=phases,
        accepts=StepFunction.constant(accepts),
        ramp_a_per_s=5.0,
    )
    return charger, car


def _groups(
    fan_out: int, per_leaf: dict[str, int], sizing: Sizing
) -> tuple[list[GroupConfig], dict[str, PhaseProfile]]:
    """Return the tree (main fuse first) and the non-EV load of each metered group."""
    groups: list[GroupConfig] = []
    loads: dict[str, PhaseProfile] = {}
    main_fuse = 0.0
    for i in range(fan_out):
        group_fuse = sizing.group_share * sum(
            sizing.leaf_a * max(per_leaf[f"g{i}.{j}"], 1) for j in range(fan_out)
        )
        main_fuse += group_fuse
        groups.append(
            GroupConfig(
                id=f"g{i}", fuse=(group_fuse,) * 3, parent_id="main", meter_id=f"meter_g{i}"
            )
        )
        loads[f"g{i}"] = PhaseProfile(
            ((0.0, (4.0, 2.0, 3.0)), (60.0, (9.0, 2.0, 3.0)), (120.0, (4.0, 6.0, 3.0)))
        )
        groups.extend(
            GroupConfig(
                id=f"g{i}.{j}",
                fuse=(sizing.leaf_a * max(per_leaf[f"g{i}.{j}"], 1),) * 3,
                parent_id=f"g{i}",
            )
            for j in range(fan_out)
        )
    main = sizing.main_share * main_fuse
    groups.insert(0, GroupConfig(id="main", fuse=(main, main, main), meter_id="meter_main"))
    return groups, loads
