"""Time per decision (`Balancer.step`) for 10 to 10,000 chargers in three-level trees.

    scripts/bench engine_speed [--quick]      (or: python -m benchmarks.engine_speed)

Workload: the benchmark sites of `simulators.bench_sites` (n chargers in three-level trees,
ample or contended fuses, a mix of rotations, wirings, priorities, modes and cars).

The loop is closed through `simulators.site` (cars follow the decisions, meters see them):
after a warm-up, each timed step is one `Balancer.step` on a fresh snapshot 2 s later, and
the median and 90th percentile of the repeats are reported, with the first (cold) step on
its own, the median thread CPU time (steadier than wall-clock time on a shared machine), and
the median divided by n log2 n (flat = n log n scaling). Goal: 1,000 chargers under 10 ms.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines
from custom_components.powershare.engine import Balancer
from simulators.bench_sites import AMPLE, CONTENDED, Sizing, build_site

if TYPE_CHECKING:
    from collections.abc import Sequence

SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
STEP_S = 2.0
GOAL_MS = 10.0
GOAL_SIZE = 1_000


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
