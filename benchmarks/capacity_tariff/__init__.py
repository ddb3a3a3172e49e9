"""Capacity tariff: a month under a 4 kW quarter-hour limit, Powershare vs a cap vs an oracle.

    scripts/bench capacity_tariff [--quick]   (or: python -m benchmarks.capacity_tariff)

A three-phase 400 V house on a 25 A main fuse (margin 1 A), its grid meter at the main fuse
(the chargers behind it), is simulated for 30 days of March 2026 (Europe/Brussels, across
the change to summer time) in 10 s steps: a 15-minute base profile with a kettle, an oven,
a heat pump and a washing machine (`house`), and one or two cars coming home in the evening
and leaving in the morning (`cars`). The quarter-hour limit is 4 kW. Three cases: one car
at a three-phase charger, one car at a charger that can switch to one phase, both cars.
Each case runs three ways:

- Powershare: the peak budget (`peak.PeakTracker`, fixed 4 kW, with its `AIM` as it is)
  gives every snapshot the site's allowed import for the rest of the window.
- 4 kW cap, as peers do it: no budget, the root group's max power at 4 kW all the time.
- Oracle: one LP over the month in one-minute slots (scipy HiGHS) that knows the house and
  every car's stay and need: the most EV energy with every quarter-hour's import at most
  4 kW (nothing for the cars in a quarter-hour the house alone takes over), the fuse per
  phase each minute; no minimum current, no whole amps, no ramps (`oracle`).

Figures per case: the month's peak (the highest quarter-hour average) and the quarter-hours
over the limit, with those where the house alone was over; the mean quarter-hour import while
a car wanted more; EV energy delivered against the oracle (all nights, and the nights the
limit binds: the oracle cannot meet every need) and against the cap; charger and car starts
per session. The truth they are scored on is the power each step holds until the next one.
`--quick` runs the first two days (for the tests).

The package: `house`, `cars`, `loop` (the closed loop with Powershare or the cap), `oracle`
and `table`; the command line is here.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from benchmarks._machine import machine_lines
from custom_components.powershare.peak import AIM

from .cars import CHARGERS, make_sessions
from .house import make_clock, make_house
from .loop import FUSE_A, LIMIT_W, MARGIN_A, WINDOW_MIN, Outcome, house_window_wh, run
from .oracle import run_oracle
from .table import binding_nights, over_lines, rows, table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .house import Clock, House

__all__ = ["CASES", "Outcome", "binding_nights", "main", "run", "run_case", "run_oracle"]

ZONE = ZoneInfo("Europe/Brussels")
STEP_S = 10.0
DAYS = 30
QUICK_DAYS = 2
CASES = (
    ("one car, three-phase charger a (6-16 A, cannot switch)", ("a",)),
    ("one car, charger b (6-16 A, switches to one phase)", ("b",)),
    ("two cars, chargers a and b", ("a", "b")),
)
NOTES = """\
Notes:
  4 kW cap: no peak budget, the root's max power at 4 kW all the time (the peers' way).
  Oracle: knows the month; no minimum current, whole amps or ramps: an upper bound.
  "While a car wants more": quarter-hours a plugged-in car still wanted energy throughout.
  "Nights the limit binds": the oracle itself cannot give every car what it asked."""


def run_case(
    title: str, charger_ids: tuple[str, ...], clock: Clock, house: House
) -> tuple[str, tuple[Outcome, Outcome, Outcome]]:
    """Run one case three ways and return its table and the outcomes."""
    sessions = make_sessions(clock, charger_ids)
    began = time.perf_counter()
    powershare = run(clock, house, sessions, charger_ids, peak_budget=True)
    cap = run(clock, house, sessions, charger_ids, peak_budget=False)
    oracle = run_oracle(clock, house, sessions)
    elapsed = time.perf_counter() - began
    house_wh = house_window_wh(clock, house)
    asked = sum(session.energy_wh for session in sessions) / 1000
    heading = (
        f"{title}: {len(sessions)} sessions, {asked:.1f} kWh asked; simulated in {elapsed:.1f} s"
    )
    outcomes = (powershare, cap, oracle)
    text = table(heading, rows(clock, sessions, outcomes, house_wh))
    over = over_lines(clock, powershare, house_wh)
    if over:
        text += "\n  Powershare over the limit, the house alone under it:\n" + "\n".join(over)
    return text, outcomes


def _workload(clock: Clock, house: House) -> list[str]:
    house_kw = house_window_wh(clock, house) * 60 / WINDOW_MIN / 1000
    counts = ", ".join(f"{name} {count}" for name, count in house.appliances.items())
    kwh = house.power_w.sum() * clock.step_s / 3.6e6
    chargers = "; ".join(
        f"{charger.id}: {charger.min_current}-{charger.max_current} A three-phase"
        + (", switches phases" if charger.can_switch_phases else "")
        for charger in CHARGERS.values()
    )
    return [
        f"workload: {clock.days} days from {clock.start:%a %Y-%m-%d %H:%M} {clock.zone.key}"
        f" in {clock.step_s:g} s steps; limit {LIMIT_W / 1000:g} kW per {WINDOW_MIN} minutes"
        f" (the budget's AIM {AIM:g})",
        f"site: three-phase 400 V, main fuse {FUSE_A:g} A (margin {MARGIN_A:g} A), grid meter at"
        f" the main fuse; chargers {chargers}; cars take 16 A on three phases",
        f"house alone: {kwh:.0f} kWh; {counts}; highest quarter-hour {house_kw.max():.2f} kW,"
        f" {int((house_kw > LIMIT_W / 1000).sum())} quarter-hours over the limit",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the capacity-tariff benchmark and print its tables."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/capacity_tariff", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="the first two days")
    arguments = parser.parse_args(argv)
    began = time.perf_counter()
    print(
        "capacity tariff: Powershare's peak budget vs a 4 kW cap vs an oracle"
        + (" (quick)" if arguments.quick else "")
    )
    for line in machine_lines():
        print(line)
    clock = make_clock(ZONE, 2026, 3, QUICK_DAYS if arguments.quick else DAYS, STEP_S)
    house = make_house(clock)
    for line in _workload(clock, house):
        print(line)
    for title, charger_ids in CASES:
        text, _ = run_case(title, charger_ids, clock, house)
        print()
        print(text)
        sys.stdout.flush()
    print()
    print(NOTES)
    print()
    print(f"ran in {time.perf_counter() - began:.1f} s")
    return 0
