"""Closed-loop day: Powershare, a static-sharing baseline and an oracle, side by side.

    scripts/bench closed_loop [--quick]      (or: python -m benchmarks.closed_loop)

Each reference site (`scenarios/reference_home.yaml`, `scenarios/reference_building.yaml`) is
simulated for 24 hours in 2 s steps (`simulators.site`: loads, solar, cars that ramp, fill up
and leave) four ways, in the same run:

- Powershare: `Balancer.step` every step, on what the meters and chargers report; and again
  with each charger's reading one step older than the meters' (as in Home Assistant).
- Static sharing (the baseline of seed 003, no meter): every charger gets (fuse - margin) /
  the number of cars plugged in below each fuse, the lowest over its fuses; 0 when that is
  below the minimum current. It knows nothing of the other loads or the sun, so solar-mode
  chargers charge from the grid like the others.
- Oracle: perfect knowledge of the true loads, the sun and the cars' whole day, one linear
  programme over the window in one-minute slots (scipy HiGHS): the most energy the fuses
  allow (minus the same margin), solar-mode cars only from the house's surplus. It ignores
  the minimum current, whole amps, ramps and pacing: an upper bound, not a controller.

Figures: overload in A.s over each fuse (sustained = still flowing after the engine answered
the reading that showed it; reaction = during the one cycle before), energy delivered and its
share of the oracle's, solar self-consumption, grid import, the EV energy imported from the
grid while charging in solar mode, starts and stops per car, commands per hour.
`--quick` runs a one-hour window of each site (for the tests).

The package: `controllers` (Powershare and static sharing in the same loop), `oracle` and
`table`; the command line is here.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines
from simulators.scenario import format_clock, load_scenario, parse_time

from .controllers import ModeClock, Outcome, run_powershare, run_static, static_offers
from .oracle import ORACLE_INTERVAL_S, run_oracle
from .table import _rows, _table

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "NOTES",
    "ORACLE_INTERVAL_S",
    "ROOT",
    "SITES",
    "ModeClock",
    "Outcome",
    "main",
    "run_oracle",
    "run_powershare",
    "run_site",
    "run_static",
    "static_offers",
]

ROOT = Path(__file__).resolve().parents[2]
SITES = (
    ("reference home", ROOT / "scenarios" / "reference_home.yaml", ("17:15", "18:15")),
    ("reference building", ROOT / "scenarios" / "reference_building.yaml", ("17:00", "18:00")),
)
NOTES = """
  "Chargers read late": Powershare given each charger's reading from one step (2 s) before the
  meters', as in Home Assistant where a charger is read every 2 s and a meter every second.
  Static sharing may deliver more than the oracle: it ignores the other loads and overloads
  the fuses to do it. Charger starts include the re-offers to full cars (the car does not
  draw); car draw starts count the car itself starting."""


def run_site(name: str, path: Path, quick_window: tuple[str, str] | None) -> tuple[str, Outcome]:
    """Simulate one site four ways and return its table and Powershare's outcome."""
    scenario = load_scenario(path)
    if quick_window is not None:
        window = (parse_time(quick_window[0], "window"), parse_time(quick_window[1], "window"))
    else:
        window = (0.0, scenario.duration)
    scenario = replace(scenario, duration=window[1])
    began = time.perf_counter()
    powershare = run_powershare(scenario, window)
    late = run_powershare(scenario, window, chargers_late=True)
    static = run_static(scenario, window)
    oracle = run_oracle(scenario, window)
    elapsed = time.perf_counter() - began
    title = (
        f"{name} ({path.relative_to(ROOT)}): {format_clock(window[0])}-{format_clock(window[1])}"
        f" in {scenario.step:g} s steps, {len(scenario.config.chargers)} chargers, "
        f"{len(scenario.cars)} car visits; simulated in {elapsed:.1f} s"
    )
    table = _table(
        title,
        ("Powershare", "chargers read late", "static sharing", "oracle"),
        _rows((powershare, late, static), oracle, scenario, window),
    )
    return table + NOTES, powershare


def main(argv: Sequence[str] | None = None) -> int:
    """Run the closed-loop benchmark and print its tables."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/closed_loop.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a one-hour window per site")
    arguments = parser.parse_args(argv)
    print(
        "closed loop: Powershare vs static sharing vs oracle"
        + (" (quick)" if arguments.quick else "")
    )
    for line in machine_lines():
        print(line)
    for name, path, window in SITES:
        table, _ = run_site(name, path, window if arguments.quick else None)
        print()
        print(table)
        sys.stdout.flush()
    return 0
