"""The engine's closed-loop fuzz by the ten thousand: faults exercised, invariants broken.

    python -m benchmarks.fuzz [--examples 10000] [--starvation 1000] [--quick]

Runs `simulators.fuzz.run_case` for seeds 0..examples-1 (each a random site of 1-30 chargers
in a tree of 1-4 levels, `STEPS` cycles of 2 s with faults) and `run_starvation_case` for
seeds 0..starvation-1, then prints the counts: sites, chargers, cycles, each fault met (in
cycles, or in sites for the site features) and each invariant broken, with up to five
examples. Exits 1 when an invariant broke. The suite runs the same cases at CI size
(`tests/engine/test_fuzz.py`).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines
from simulators.fuzz import STEPS, run_case, run_starvation_case

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzz and print its table; return 1 when an invariant broke."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--starvation", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="50 and 5 examples")
    args = parser.parse_args(argv)
    examples, starvation = (50, 5) if args.quick else (args.examples, args.starvation)
    began = time.perf_counter()
    faults: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    shown: list[str] = []
    chargers = groups = 0
    for seed in range(examples):
        outcome = run_case(seed)
        chargers += outcome.chargers
        groups += outcome.groups
        faults.update(outcome.faults)
        _record(seed, outcome.broken, broken, shown)
    for seed in range(starvation):
        _record(seed, run_starvation_case(seed).broken, broken, shown)
    elapsed = time.perf_counter() - began
    print("engine fuzz: random sites against physics, with faults")
    for line in machine_lines():
        print(line)
    print(
        f"workload: {examples} sites x {STEPS} cycles of 2 s ({chargers} chargers, {groups} "
        f"groups in all), and {starvation} sites for starvation; {elapsed:.0f} s"
    )
    print(f"  {'met (in cycles; site: groups, chargers)':<40} {'count':>9}")
    for kind, count in sorted(faults.items()):
        print(f"  {kind:<40} {count:>9}")
    print(f"  {'invariant broken':<40} {'count':>9}")
    for name in ("fuse", "failsafe", "command", "fair", "finite", "starve"):
        print(f"  {name:<40} {broken[name]:>9}")
    for line in shown:
        print(f"  e.g. {line}")
    return 1 if broken else 0


def _record(seed: int, lines: list[str], broken: Counter[str], shown: list[str]) -> None:
    for line in lines:
        broken[line.split(":", 1)[0]] += 1
        if len(shown) < 5:
            shown.append(f"seed {seed}: {line}")


if __name__ == "__main__":
    raise SystemExit(main())
