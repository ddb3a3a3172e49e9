"""The controllers of the closed loop: Powershare's engine and the static-sharing baseline.

Both run in the same loop (`_loop`: snapshot, decide, advance) and are scored the same way
(`Outcome`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from custom_components.powershare.engine import PHASES, Balancer, ChargingMode, Phase, Wiring
from simulators.site import Offer

if TYPE_CHECKING:
    from collections.abc import Callable

    from custom_components.powershare.engine import SiteConfig, Snapshot
    from simulators.scenario import Scenario
    from simulators.site import Site, StepReport


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


def run_powershare(
    scenario: Scenario, window: tuple[float, float], *, chargers_late: bool = False
) -> Outcome:
    """Run the engine in the loop (mode changes reconfigure it, as the user would).

    `chargers_late`: the engine sees each charger as it was one step (2 s) before the meters,
    as the integration does with a charger read every 2 s beside a meter read every second
    (at worst): a car ramping up is not in the charger's reading yet.
    """
    balancer = Balancer(scenario.config_at(window[0]))
    changes = sorted({when for when, _, _ in scenario.mode_changes if when > window[0]})
    earlier: list[Snapshot] = []

    def decide(site: Site, snapshot: Snapshot) -> None:
        while changes and changes[0] <= snapshot.now:
            changes.pop(0)
            balancer.reconfigure(scenario.config_at(snapshot.now))
        if chargers_late:
            if earlier:
                before = earlier.pop()
                late = {
                    charger_id: replace(state, measured_at=before.now)
                    for charger_id, state in before.chargers.items()
                }
                earlier.append(snapshot)
                snapshot = replace(snapshot, chargers=late)
            else:
                earlier.append(snapshot)
        site.apply(balancer.step(snapshot))

    name = "chargers read late" if chargers_late else "Powershare"
    return _loop(name, scenario, window, decide)


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
