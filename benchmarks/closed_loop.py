"""Closed-loop day: Powershare, a static-sharing baseline and an oracle, side by side.

    scripts/bench closed_loop [--quick]      (or: python -m benchmarks.closed_loop)

Each reference site (`scenarios/reference_home.yaml`, `scenarios/reference_building.yaml`) is
simulated for 24 hours in 2 s steps (`simulators.site`: loads, solar, cars that ramp, fill up
and leave) three ways, in the same run:

- Powershare: `Balancer.step` every step, on what the meters and chargers report.
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
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from benchmarks._machine import machine_lines
from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargingMode,
    Phase,
    Snapshot,
    Wiring,
)
from simulators.scenario import Scenario, format_clock, load_scenario, parse_time
from simulators.site import Offer, Site, StepReport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from custom_components.powershare.engine import SiteConfig
    from simulators.car import CarSpec

ROOT = Path(__file__).resolve().parent.parent
SITES = (
    ("reference home", ROOT / "scenarios" / "reference_home.yaml", ("17:15", "18:15")),
    ("reference building", ROOT / "scenarios" / "reference_building.yaml", ("17:00", "18:00")),
)
ORACLE_INTERVAL_S = 60.0
NOTES = """
  Static sharing may deliver more than the oracle: it ignores the other loads and overloads
  the fuses to do it. Charger starts include the re-offers to full cars (the car does not
  draw); car draw starts count the car itself starting."""


# --- bookkeeping shared by the controllers -------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What one controller achieved on one site."""

    name: str
    energy_wh: dict[str, float] = field(default_factory=dict)
    sustained_as: float = 0.0
    reaction_as: float = 0.0
    worst_over_a: float = 0.0
    import_wh: float = 0.0
    export_wh: float = 0.0
    solar_wh: float = 0.0
    solar_mode_import_wh: float = 0.0
    starts: dict[str, int] = field(default_factory=dict)
    stops: dict[str, int] = field(default_factory=dict)
    draw_starts: dict[str, int] = field(default_factory=dict)
    commands: int = 0
    hours: float = 0.0
    seconds_per_step: float | None = None


class ModeClock:
    """The charging mode of each charger at a time (scenario mode changes applied)."""

    def __init__(self, scenario: Scenario) -> None:
        self._changes = sorted(scenario.mode_changes, key=lambda item: item[0])
        self._base = {charger.id: charger.mode for charger in scenario.config.chargers}

    def modes(self, moment: float) -> dict[str, ChargingMode]:
        """Return the mode of every charger at `moment`."""
        changed = {charger_id: mode for when, charger_id, mode in self._changes if when <= moment}
        return {**self._base, **changed}


def _account(
    outcome: Outcome, site: Site, report: StepReport, solar_chargers: set[str], voltage: float
) -> None:
    outcome.worst_over_a = max([outcome.worst_over_a, *(amps for _, _, amps in report.overloaded)])
    if solar_chargers:
        solar_ev_w = 0.0
        for charger_id in solar_chargers:
            car = site.car_at(charger_id, report.time)
            if car is not None:
                solar_ev_w += voltage * car.drawn * len(car.drawing_phases)
        outcome.solar_mode_import_wh += min(solar_ev_w, max(report.grid_w, 0.0)) * report.dt / 3600


def _finish(outcome: Outcome, site: Site, hours: float) -> Outcome:
    totals = site.totals
    outcome.energy_wh = {car.spec.id: car.energy_wh for car in site.cars}
    outcome.sustained_as = totals.sustained_overload_as
    outcome.reaction_as = totals.reaction_overload_as
    outcome.import_wh = totals.import_wh
    outcome.export_wh = totals.export_wh
    outcome.solar_wh = totals.solar_wh
    outcome.starts = dict(totals.starts)
    outcome.stops = dict(totals.stops)
    outcome.draw_starts = dict(totals.draw_starts)
    outcome.commands = totals.commands
    outcome.hours = hours
    return outcome


def _loop(
    name: str,
    scenario: Scenario,
    window: tuple[float, float],
    decide: Callable[[Site, Snapshot], None],
) -> Outcome:
    """Run one controller over the window: snapshot, decide (sets the offers), advance."""
    start, end = window
    site = scenario.build_site()
    clock = ModeClock(scenario)
    outcome = Outcome(name)
    voltage = scenario.config.voltage
    steps = math.ceil((end - start) / scenario.step - 1e-9)
    spent = 0.0
    for index in range(steps):
        moment = start + index * scenario.step
        site.now = moment
        snapshot = site.snapshot()
        began = time.perf_counter()
        decide(site, snapshot)
        spent += time.perf_counter() - began
        report = site.advance(scenario.step)
        solar = {
            charger_id
            for charger_id, mode in clock.modes(moment).items()
            if mode is ChargingMode.SOLAR
        }
        _account(outcome, site, report, solar, voltage)
    outcome.seconds_per_step = spent / max(steps, 1)
    return _finish(outcome, site, (end - start) / 3600.0)


def run_powershare(scenario: Scenario, window: tuple[float, float]) -> Outcome:
    """Run the engine in the loop (mode changes reconfigure it, as the user would)."""
    balancer = Balancer(scenario.config_at(window[0]))
    changes = sorted({when for when, _, _ in scenario.mode_changes if when > window[0]})

    def decide(site: Site, snapshot: Snapshot) -> None:
        while changes and changes[0] <= snapshot.now:
            changes.pop(0)
            balancer.reconfigure(scenario.config_at(snapshot.now))
        site.apply(balancer.step(snapshot))

    return _loop("Powershare", scenario, window, decide)


def static_offers(config: SiteConfig, snapshot: Snapshot) -> dict[str, Offer]:
    """Return the static-sharing baseline's offers: fuse / cars plugged in, no meter."""
    parent = {group.id: group.parent_id for group in config.groups}
    fuses = {group.id: min(group.fuse) - config.margin_a for group in config.groups}
    plugged: dict[str, int] = dict.fromkeys(parent, 0)
    chains: dict[str, list[str]] = {}
    for charger in config.chargers:
        chain: list[str] = []
        group: str | None = charger.group_id
        while group is not None:
            chain.append(group)
            group = parent[group]
        chains[charger.id] = chain
        state = snapshot.chargers.get(charger.id)
        if state is not None and state.connected:
            for member in chain:
                plugged[member] += 1
    offers: dict[str, Offer] = {}
    for charger in config.chargers:
        state = snapshot.chargers.get(charger.id)
        phases = (Phase.L1,) if charger.wiring is Wiring.ONE_PHASE else PHASES
        if state is None or not state.connected or charger.mode is ChargingMode.OFF:
            offers[charger.id] = Offer(0, phases)
            continue
        share = min(fuses[group] / plugged[group] for group in chains[charger.id])
        amps = min(math.floor(share), charger.max_current)
        offers[charger.id] = Offer(amps if amps >= charger.min_current else 0, phases)
    return offers


def run_static(scenario: Scenario, window: tuple[float, float]) -> Outcome:
    """Run the static-sharing baseline in the same loop."""

    def decide(site: Site, snapshot: Snapshot) -> None:
        site.set_offers(static_offers(scenario.config, snapshot))

    return _loop("static sharing", scenario, window, decide)


# --- the oracle --------------------------------------------------------------------------------


def _car_site_phases(scenario: Scenario, car: CarSpec) -> tuple[Phase, ...]:
    charger = next(c for c in scenario.config.chargers if c.id == car.charger_id)
    wired = (Phase.L1,) if charger.wiring is Wiring.ONE_PHASE else PHASES
    return tuple(charger.rotation.site_phase(phase) for phase in wired if phase in car.phases)


class _OracleProgram:
    """The oracle's linear programme, built minute by minute (see `run_oracle`)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        config = scenario.config
        self.chargers = {charger.id: charger for charger in config.chargers}
        self.fuses = {group.id: group.fuse for group in config.groups}
        parent = {group.id: group.parent_id for group in config.groups}
        self.chains: dict[str, list[str]] = {}
        for charger in config.chargers:
            chain: list[str] = []
            group: str | None = charger.group_id
            while group is not None:
                chain.append(group)
                group = parent[group]
            self.chains[charger.id] = chain
        self.phases = {car.id: _car_site_phases(scenario, car) for car in scenario.cars}
        self.rows: dict[tuple[int, str, Phase], int] = {}
        self.capacities: list[float] = []
        self.columns: list[tuple[str, float, float]] = []  # (car, amps bound, Wh per amp)
        self.entries: list[tuple[int, int, float]] = []  # (row, column, coefficient)
        self.energy_rows: dict[str, int] = {}

    def add_minute(
        self,
        minute: int,
        moment: float,
        dt: float,
        house: dict[str, tuple[float, float, float]],
        modes: dict[str, ChargingMode],
    ) -> None:
        """Add the variables and fuse and surplus constraints of one time slot."""
        config = self.scenario.config
        voltage = config.voltage
        solar_row = self._row(
            max(
                0.0,
                -sum(house[config.root.id])
                + (config.import_allowance_w - config.solar_reserve_w) / voltage,
            )
        )
        for car in self.scenario.cars:
            mode = modes[car.charger_id]
            if not car.present(moment) or not self.phases[car.id] or mode is ChargingMode.OFF:
                continue
            charger = self.chargers[car.charger_id]
            top = min(float(charger.max_current), car.accepts.at(moment))
            wh_per_amp = len(self.phases[car.id]) * voltage * dt / 3600.0
            if mode is ChargingMode.MIN_SOLAR:
                minimum = min(float(charger.min_current), top)
                pieces = [(minimum, False), (top - minimum, True)]
            else:
                pieces = [(top, mode is ChargingMode.SOLAR)]
            for bound, on_surplus in pieces:
                column = len(self.columns)
                self.columns.append((car.id, bound, wh_per_amp))
                self._fuse_entries(minute, car, column, house)
                if on_surplus:
                    self.entries.append((solar_row, column, float(len(self.phases[car.id]))))
                if car.energy_wh is not None:
                    if car.id not in self.energy_rows:
                        self.energy_rows[car.id] = self._row(car.energy_wh)
                    self.entries.append((self.energy_rows[car.id], column, wh_per_amp))

    def _row(self, capacity: float) -> int:
        self.capacities.append(capacity)
        return len(self.capacities) - 1

    def _fuse_entries(
        self, minute: int, car: CarSpec, column: int, house: dict[str, tuple[float, float, float]]
    ) -> None:
        margin = self.scenario.config.margin_a
        for group_id in self.chains[car.charger_id]:
            for phase in self.phases[car.id]:
                key = (minute, group_id, phase)
                if key not in self.rows:
                    free = self.fuses[group_id][phase] - margin - house[group_id][phase]
                    self.rows[key] = self._row(max(0.0, free))
                self.entries.append((self.rows[key], column, 1.0))

    def solve(self) -> dict[str, float]:
        """Return the energy per car of the optimum, in Wh."""
        delivered = {car.id: 0.0 for car in self.scenario.cars}
        if not self.columns:
            return delivered
        matrix = sparse.coo_matrix(
            (
                [value for _, _, value in self.entries],
                ([row for row, _, _ in self.entries], [column for _, column, _ in self.entries]),
            ),
            shape=(len(self.capacities), len(self.columns)),
        ).tocsr()
        result = linprog(
            np.array([-wh for _, _, wh in self.columns]),
            A_ub=matrix,
            b_ub=np.array(self.capacities),
            bounds=[(0.0, max(bound, 0.0)) for _, bound, _ in self.columns],
            method="highs",
        )
        if not result.success:  # the zero vector is always feasible
            raise RuntimeError(f"oracle LP failed: {result.message}")
        for (car_id, _, wh_per_amp), amps in zip(self.columns, result.x, strict=True):
            delivered[car_id] += float(amps) * wh_per_amp
        return delivered


def run_oracle(scenario: Scenario, window: tuple[float, float]) -> Outcome:
    """Return the most energy any controller could deliver: one LP over the whole window.

    Variables: per car and minute it is plugged in, its current (amps per phase; min+solar
    cars get a second variable for the part above their minimum). Constraints: every fuse
    and phase each minute (fuse - margin - the true non-EV load, its lowest in the minute),
    each car's energy, and per minute the solar-mode current within the house's own surplus
    (not reduced by fast charging: a relaxation). No minimum current, no whole amps, no ramps,
    no pacing: an upper bound, up to the one-minute resolution.
    """
    start, end = window
    site = scenario.build_site()
    clock = ModeClock(scenario)
    program = _OracleProgram(scenario)
    minute = 0
    moment = start
    while moment < end - 1e-9:
        dt = min(ORACLE_INTERVAL_S, end - moment)
        program.add_minute(minute, moment, dt, _lowest_house(site, moment, dt), clock.modes(moment))
        minute += 1
        moment += dt
    outcome = Outcome("oracle")
    outcome.energy_wh = program.solve()
    outcome.hours = (end - start) / 3600.0
    return outcome


def _lowest_house(site: Site, moment: float, dt: float) -> dict[str, tuple[float, float, float]]:
    """Return per group the lowest subtree non-EV load over a minute (start and end)."""
    first, _ = site.subtree_currents(site.non_ev_currents(moment), {})
    last, _ = site.subtree_currents(site.non_ev_currents(moment + dt - 1e-6), {})
    return {
        group: (
            min(first[group][0], last[group][0]),
            min(first[group][1], last[group][1]),
            min(first[group][2], last[group][2]),
        )
        for group in first
    }


# --- the table -------------------------------------------------------------------------------


def _wanted_wh(scenario: Scenario, window: tuple[float, float]) -> float:
    start, end = window
    total = 0.0
    for car in scenario.cars:
        if car.arrive < end and (car.leave is None or car.leave > start):
            total += car.energy_wh if car.energy_wh is not None else 0.0
    return total


def _per_car(counts: dict[str, int], cars: int) -> str:
    if cars == 0:
        return "-"
    values = list(counts.values())
    return f"{sum(values) / cars:.1f} / {max(values, default=0)}"


def _rows(
    outcomes: Sequence[Outcome], oracle: Outcome, scenario: Scenario, window: tuple[float, float]
) -> list[tuple[str, list[str]]]:
    oracle_wh = sum(oracle.energy_wh.values())
    cars = sum(
        1
        for car in scenario.cars
        if car.arrive < window[1] and (car.leave is None or car.leave > window[0])
    )
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str], oracle_value: str = "-") -> None:
        rows.append((label, [*values, oracle_value]))

    add("sustained fuse overload (A.s; goal 0)", [f"{o.sustained_as:.1f}" for o in outcomes])
    add("overload within one cycle of reaction (A.s)", [f"{o.reaction_as:.1f}" for o in outcomes])
    add("worst sustained overload (A over a fuse)", [f"{o.worst_over_a:.1f}" for o in outcomes])
    add(
        "EV energy delivered (kWh)",
        [f"{sum(o.energy_wh.values()) / 1000:.1f}" for o in outcomes],
        f"{oracle_wh / 1000:.1f}",
    )
    add(
        "  share of the oracle",
        [
            f"{100 * sum(o.energy_wh.values()) / oracle_wh:.1f} %" if oracle_wh else "-"
            for o in outcomes
        ],
        "100 %",
    )
    add(
        "  energy the cars wanted (kWh)",
        [f"{_wanted_wh(scenario, window) / 1000:.1f}"] * 2,
        f"{_wanted_wh(scenario, window) / 1000:.1f}",
    )
    add(
        "solar self-consumption",
        [
            f"{100 * (o.solar_wh - o.export_wh) / o.solar_wh:.1f} %" if o.solar_wh else "-"
            for o in outcomes
        ],
    )
    add("grid import (kWh)", [f"{o.import_wh / 1000:.1f}" for o in outcomes])
    add(
        "EV grid import in solar mode (kWh)",
        [f"{o.solar_mode_import_wh / 1000:.2f}" for o in outcomes],
    )
    add(
        f"charger starts per car, mean / max ({cars} cars)",
        [_per_car(o.starts, cars) for o in outcomes],
    )
    add("charger stops per car, mean / max", [_per_car(o.stops, cars) for o in outcomes])
    add("car draw starts per car, mean / max", [_per_car(o.draw_starts, cars) for o in outcomes])
    add("commands per hour", [f"{o.commands / o.hours:.1f}" for o in outcomes])
    add(
        "controller time per step (ms)",
        [
            f"{1000 * o.seconds_per_step:.3f}" if o.seconds_per_step is not None else "-"
            for o in outcomes
        ],
    )
    return rows


def _table(title: str, header: Sequence[str], rows: Sequence[tuple[str, list[str]]]) -> str:
    width = max(len(label) for label, _ in rows)
    columns = [
        max(len(header[i]), *(len(values[i]) for _, values in rows)) for i in range(len(header))
    ]
    lines = [
        title,
        f"  {'':<{width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(header, columns, strict=True)),
    ]
    lines.extend(
        f"  {label:<{width}}  "
        + "  ".join(f"{v:>{w}}" for v, w in zip(values, columns, strict=True))
        for label, values in rows
    )
    return "\n".join(lines)


def run_site(name: str, path: Path, quick_window: tuple[str, str] | None) -> tuple[str, Outcome]:
    """Simulate one site three ways and return its table and Powershare's outcome."""
    scenario = load_scenario(path)
    if quick_window is not None:
        window = (parse_time(quick_window[0], "window"), parse_time(quick_window[1], "window"))
    else:
        window = (0.0, scenario.duration)
    scenario = replace(scenario, duration=window[1])
    began = time.perf_counter()
    powershare = run_powershare(scenario, window)
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
        ("Powershare", "static sharing", "oracle"),
        _rows((powershare, static), oracle, scenario, window),
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


if __name__ == "__main__":
    sys.exit(main())
