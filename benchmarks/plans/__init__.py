"""Plans: the planner vs the exact optimum, charging at once, and each car planned alone.

    scripts/bench plans [--quick]   (or: python -m benchmarks.plans)

Random 24-hour nights (`instances`: 15:00 to 15:00 in 96 quarter-hours; a 50 A main fuse
with sub-panels of 32 A and 25 A and the house's load behind it; 2 to 10 cars, three- and
single-phase, arriving in the evening and leaving in the morning, some staying the day;
day-ahead prices with cheap nights, morning and evening peaks and midday dips, some
negative; a third with a solar surplus, a third with a peak budget). Each instance is
planned four ways (`compare`): the planner; the exact optimum (the tests' reference LP on
HiGHS: the most energy, then the least cost); charging at once (every car at its maximum
from arrival, the fuses cutting shares max-min fairly); and each car planned alone (the
peers' way: its cheapest slots as if it were alone; then the shared fuses cut the slots the
cars chose together, fairly, and nothing re-plans). For each car count the table gives
every way's cost, cost per kWh and delivered energy, the targets it misses, and the
planner's worst instance against the optimum; then the planner's time for 10 cars x 96
slots (goal: under 100 ms). `--quick` runs two instances of 2 and 10 cars (for the tests).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines

from .compare import MISSED_KWH, WAYS, Timing, Totals, compare, time_planner
from .instances import CARPORT_A, GARAGE_A, MAIN_A, SLOTS

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CAR_COUNTS", "compare", "main", "table", "time_planner"]

CAR_COUNTS = tuple(range(2, 11))
QUICK_CAR_COUNTS = (2, 10)
INSTANCES = 100
QUICK_INSTANCES = 2
TIMED_CARS = 10
TIMED_INSTANCES = 100
QUICK_TIMED_INSTANCES = 3
GOAL_MS = 100.0
NOTES = """\
Notes:
  optimum: one LP on HiGHS (scipy), lexicographic: the most energy by the departures, then
    the least cost (the tests' reference). The planner solves the same LP on numpy alone;
    its cost per kWh is the optimum's (see worst).
  at once: each car asks its maximum from arrival until full; the fuses cut max-min fairly.
  alone: each car's cheapest slots as if alone (the peers' planners); the fuses then cut
    the slots the cars share, fairly; nothing re-plans, so cars leave short.
  runs: instances; asked: the energy all their cars need; costs are sums over the runs.
  missed: cars short by more than {missed:g} kWh at their departure. Where the optimum itself
    misses targets, the limits cannot give every car its need, and which car falls short is
    a tie among optimal plans (the planner fills the cars needing least first).
  worst: the planner's largest excess cost over the optimum in one instance, as a share of
    that instance's energy at its mean absolute price (a share of a cost near zero would
    mislead); negative: the planner was cheaper, by rounding."""


GROUPS = (
    ("", ("cars", "runs", "asked kWh")),
    ("cost (EUR)", WAYS),
    ("EUR per kWh delivered", ("optimum", "at once", "alone")),
    ("missed targets", WAYS),
    ("planner", ("worst",)),
)


def _cells(totals: Totals) -> list[str]:
    per_kwh = [
        cost / delivered if delivered else 0.0
        for cost, delivered in zip(totals.cost, totals.delivered_kwh, strict=True)
    ]
    return [
        str(totals.cars),
        str(totals.instances),
        f"{totals.asked_kwh:.0f}",
        *(f"{cost:.2f}" for cost in totals.cost),
        *(f"{per_kwh[way]:.4f}" for way in (0, 2, 3)),
        *(str(missed) for missed in totals.missed),
        f"{totals.worst_gap:+.1e}",
    ]


def table(all_totals: Sequence[Totals]) -> str:
    """Return the comparison table: a line per car count, columns grouped by what they say."""
    names = [name for _title, columns in GROUPS for name in columns]
    rows = [_cells(totals) for totals in all_totals]
    widths = [max(len(names[i]), *(len(row[i]) for row in rows)) for i in range(len(names))]
    titles, start = [], 0
    for title, columns in GROUPS:
        width = sum(widths[start : start + len(columns)]) + 2 * (len(columns) - 1)
        titles.append(f"{title:^{width}}")
        start += len(columns)
    lines = ["  " + " | ".join(titles)]
    for cells in (names, *rows):
        parts, start = [], 0
        for _title, columns in GROUPS:
            end = start + len(columns)
            parts.append(
                "  ".join(
                    f"{cell:>{width}}"
                    for cell, width in zip(cells[start:end], widths[start:end], strict=True)
                )
            )
            start = end
        lines.append("  " + " | ".join(parts))
    return "\n".join(lines)


def timing_line(timing: Timing) -> str:
    """Return the planner's timing as one line."""
    return (
        f"planner, {timing.cars} cars x {SLOTS} slots: median {timing.median_ms:.1f} ms,"
        f" max {timing.max_ms:.1f} ms over {len(timing.seconds)} instances"
        f" ({statistics.mean(timing.solves):.1f} LP solves and"
        f" {statistics.mean(timing.steps):.0f} interior-point steps on average;"
        f" goal < {GOAL_MS:.0f} ms)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plans benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="benchmarks/plans", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two instances of 2 and 10 cars")
    arguments = parser.parse_args(argv)
    quick = arguments.quick
    began = time.perf_counter()
    print(
        "plans: the planner vs the exact optimum, charging at once and each car alone"
        + (" (quick)" if quick else "")
    )
    for line in machine_lines():
        print(line)
    instances = QUICK_INSTANCES if quick else INSTANCES
    print(
        f"workload: {instances} instances per car count, {SLOTS} quarter-hours from 15:00;"
        f" main fuse {MAIN_A:g} A, sub-panels {GARAGE_A:g} A and {CARPORT_A:g} A"
        " (three-phase); costs summed over the instances"
    )
    counts = QUICK_CAR_COUNTS if quick else CAR_COUNTS
    all_totals = [compare(cars, range(instances)) for cars in counts]
    print()
    print(table(all_totals))
    sys.stdout.flush()
    timed = QUICK_TIMED_INSTANCES if quick else TIMED_INSTANCES
    timing = time_planner(TIMED_CARS, range(1000, 1000 + timed))
    print()
    print(timing_line(timing))
    print()
    print(NOTES.format(missed=MISSED_KWH))
    print()
    print(f"ran in {time.perf_counter() - began:.1f} s")
    return 0
