"""Time per decision (`Balancer.step`) for 10 to 10,000 chargers in three-level trees.

    scripts/bench engine_speed [--quick]      (or: python -m benchmarks.engine_speed)

Workload: a main fuse with a meter, k groups below it (each with a meter), k sub-groups in
each (no meter) and the chargers spread over the sub-groups (k = cube root of n, at least 2),
with a non-EV load on every metered group. Two sizings of the fuses: "ample" (sub-group 20 A
per charger, group 80 % of its sub-groups, main 80 % of its groups: every car gets its
minimum) and "contended" (10 A, 70 %, 60 %: about 4 A per charger at the main fuse, so many
cars are paused and every level binds). The
chargers mix rotations, 10 % one-phase wiring, 20 % that can switch phases, 10 % priority,
and modes (85 % fast, 10 % solar, 5 % min+solar, with a solar surplus at the main meter);
every charger has a car, 10 % of them one-phase and 20 % taking only 16 A.

The loop is closed through `simulators.site` (cars follow the decisions, meters see them):
after a warm-up, each timed step is one `Balancer.step` on a fresh snapshot 2 s later, and
the median and 90th percentile of the repeats are reported, with the first (cold) step on
its own, the median thread CPU time (steadier than wall-clock time on a shared machine), and
the median divided by n log2 n (flat = n log n scaling). Goal: 1,000 chargers under 10 ms.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines
from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Phase,
    PhaseRotation,
    SiteConfig,
    Wiring,
)
from simulators.car import CarSpec, StepFunction
from simulators.site import PhaseProfile, Site

if TYPE_CHECKING:
    from collections.abc import Sequence

SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
STEP_S = 2.0
GOAL_MS = 10.0
GOAL_SIZE = 1_000


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
    per_leaf = dict.fromkeys(leaves, 0)
    chargers: list[ChargerConfig] = []
    cars: list[CarSpec] = []
    rotations = list(PhaseRotation)
    for index in range(count):
        leaf = leaves[index % len(leaves)]
        per_leaf[leaf] += 1
        draw = rng.random()
        mode = (
            ChargingMode.SOLAR
            if draw < 0.10
            else ChargingMode.MIN_SOLAR
            if draw < 0.15
            else ChargingMode.FAST
        )
        charger_id = f"c{index}"
        chargers.append(
            ChargerConfig(
                id=charger_id,
                group_id=leaf,
                rotation=rotations[index % len(rotations)],
                wiring=Wiring.ONE_PHASE if rng.random() < 0.10 else Wiring.THREE_PHASE,
                priority=1 if rng.random() < 0.10 else 0,
                mode=mode,
                can_switch_phases=rng.random() < 0.20,
            )
        )
        phases = frozenset({Phase.L1}) if rng.random() < 0.10 else frozenset(PHASES)
        accepts = 16.0 if rng.random() < 0.20 else 32.0
        cars.append(
            CarSpec(
                id=f"car{index}",
                charger_id=charger_id,
                arrive=0.0,
                phases=phases,
                accepts=StepFunction.constant(accepts),
                ramp_a_per_s=5.0,
            )
        )
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
    solar = {"main": PhaseProfile.constant((0.1 * main, 0.1 * main, 0.1 * main))}
    config = SiteConfig(groups=tuple(groups), chargers=tuple(chargers))
    return Site(config, cars, loads=loads, solar=solar)


def time_steps(
    count: int, sizing: Sizing, repeats: int, warmup: int = 20
) -> tuple[int, float, list[float], list[float]]:
    """Return the group count, the first step's seconds and the timed steps' seconds.

    The timed steps come twice: wall-clock, and thread CPU time (which leaves out the waits
    for a core on a busy shared machine).
    """
    site = build_site(count, sizing)
    balancer = Balancer(site.config)
    first = 0.0
    timings: list[float] = []
    cpu: list[float] = []
    for index in range(warmup + repeats):
        snapshot = site.snapshot()
        began_cpu = time.thread_time()
        began = time.perf_counter()
        decision = balancer.step(snapshot)
        elapsed = time.perf_counter() - began
        elapsed_cpu = time.thread_time() - began_cpu
        if index == 0:
            first = elapsed
        elif index >= warmup:
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
        site.apply(decision)
        site.advance(STEP_S)
    return len(site.config.groups), first, timings, cpu


def _repeats(count: int, *, quick: bool) -> int:
    if quick:
        return 10
    return {10: 300, 100: 200, 1_000: 50}.get(count, 10)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/engine_speed.py", description="Time per Balancer.step decision."
    )
    parser.add_argument("--quick", action="store_true", help="10 and 100 chargers, few repeats")
    arguments = parser.parse_args(argv)
    sizes = QUICK_SIZES if arguments.quick else SIZES
    print("engine speed: time per decision (Balancer.step), three-level trees")
    for line in machine_lines():
        print(line)
    header = (
        f"  {'chargers':>8} {'fuses':>9} {'groups':>6} {'repeats':>7} {'first ms':>9} "
        f"{'median ms':>10} {'p90 ms':>8} {'cpu ms':>7} {'us/charger':>10} "
        f"{'ns/(n log2 n)':>13}  goal"
    )
    print(header)
    for count in sizes:
        for sizing in (AMPLE, CONTENDED):
            repeats = _repeats(count, quick=arguments.quick)
            groups, first, timings, cpu = time_steps(
                count, sizing, repeats, warmup=5 if arguments.quick or count > GOAL_SIZE else 20
            )
            median = statistics.median(timings)
            p90 = sorted(timings)[min(len(timings) - 1, math.ceil(0.9 * len(timings)) - 1)]
            per_nlogn = median * 1e9 / (count * math.log2(count))
            goal = ""
            if count == GOAL_SIZE:
                goal = f"< {GOAL_MS:g} ms: " + ("met" if median * 1000 < GOAL_MS else "MISSED")
            print(
                f"  {count:>8} {sizing.name:>9} {groups:>6} {repeats:>7} {first * 1000:>9.2f} "
                f"{median * 1000:>10.3f} {p90 * 1000:>8.3f} "
                f"{statistics.median(cpu) * 1000:>7.3f} {median * 1e6 / count:>10.2f} "
                f"{per_nlogn:>13.1f}  {goal}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
