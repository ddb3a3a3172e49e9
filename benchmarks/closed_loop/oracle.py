"""The oracle: the most energy any controller could deliver, as one linear programme (HiGHS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from custom_components.powershare.engine import PHASES, ChargingMode, Phase, Wiring

from .controllers import ModeClock, Outcome

if TYPE_CHECKING:
    from simulators.car import CarSpec
    from simulators.scenario import Scenario
    from simulators.site import Site

ORACLE_INTERVAL_S = 60.0


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
