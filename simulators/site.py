"""A virtual site in simulated time, to close the loop around the balancing engine.

The site has the engine's own `SiteConfig` (groups, fuses, meters, chargers) plus what the
engine cannot know: per group the non-EV load and the solar production connected directly to
it (per site phase, over time), and the cars that come and go (`simulators.car`).

One cycle, as the runner and the benchmarks drive it::

    snapshot = site.snapshot()          # meters and chargers as they read now
    decision = balancer.step(snapshot)  # the engine decides
    site.apply(decision)                # the chargers take the new currents and phases
    report = site.advance(dt)           # cars follow, energy and overload are counted

What a meter reads: the non-EV load minus solar of its group's whole subtree, plus the
chargers' currents below it (mapped through their rotation) when it includes the chargers.
The fuse of a group always carries both. A meter can be made silent for a while: the engine
then keeps seeing its last reading with the old timestamp, as a real integration would.

Overload is counted twice per step (amps over the fuse x seconds, summed over groups and
phases): "reaction" overload is the new loads with the chargers' old currents (what flows
until the engine's answer to that very reading takes effect: one cycle), "sustained" overload
is what still flows after the engine answered. A safe engine has zero sustained overload.

The load and solar profiles live in `simulators.profiles`; their names are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from custom_components.powershare.engine import (
    PHASES,
    ChargerState,
    MeterReading,
    Phase,
    SiteConfig,
    Snapshot,
    Wiring,
)

from .car import Car, CarSpec
from .lines import line_currents
from .profiles import (
    ZERO,
    Currents,
    PhaseProfile,
    Profile,
    SumProfile,
    _add,
    solar_day,
    switched,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from custom_components.powershare.engine import Decision

__all__ = [
    "IDLE_A",
    "ZERO",
    "Currents",
    "Offer",
    "PhaseProfile",
    "Profile",
    "Site",
    "SiteTotals",
    "StepReport",
    "SumProfile",
    "solar_day",
    "switched",
]

IDLE_A = 0.5
"""Below this a charger reports that it is not charging."""


@dataclass(frozen=True, slots=True)
class StepReport:
    """What happened during one step of `Site.advance`."""

    time: float
    dt: float
    reaction_overload_as: float
    sustained_overload_as: float
    overloaded: tuple[tuple[str, Phase, float], ...]
    """(group, site phase, amps over the fuse) still flowing after the engine answered."""
    grid_w: float
    """Net power at the root (+ import, - export)."""
    solar_w: float
    ev_w: float


@dataclass(slots=True)
class SiteTotals:
    """Running totals over the whole simulation (energies in Wh, overload in A.s)."""

    reaction_overload_as: float = 0.0
    sustained_overload_as: float = 0.0
    import_wh: float = 0.0
    export_wh: float = 0.0
    solar_wh: float = 0.0
    ev_wh: float = 0.0
    commands: int = 0
    starts: dict[str, int] = field(default_factory=dict)
    """Per car: how often its charger went from 0 to a current while it was plugged in
    (re-offers to a full car count too: the charger starts, the car does not draw)."""
    stops: dict[str, int] = field(default_factory=dict)
    draw_starts: dict[str, int] = field(default_factory=dict)
    """Per car: how often the car itself started drawing (what wears contactor and car)."""


@dataclass(frozen=True, slots=True)
class Offer:
    """What a charger is set to: a current and the charger phases it switches on."""

    current: int
    charger_phases: tuple[Phase, ...]


class Site:
    """The virtual site: loads, solar, cars, chargers and meters in simulated time."""

    def __init__(
        self,
        config: SiteConfig,
        cars: Sequence[CarSpec],
        *,
        loads: Mapping[str, Profile] | None = None,
        solar: Mapping[str, Profile] | None = None,
        silences: Mapping[str, Sequence[tuple[float, float]]] | None = None,
        start: float = 0.0,
    ) -> None:
        """Build a site; `loads`, `solar` and `silences` (of meters) are keyed by group id."""
        self.config = config
        self.now = start
        self.loads = dict(loads or {})
        self.solar = dict(solar or {})
        self.silences = {key: tuple(value) for key, value in (silences or {}).items()}
        group_ids = {group.id for group in config.groups}
        charger_ids = {charger.id for charger in config.chargers}
        for key in (*self.loads, *self.solar, *self.silences):
            if key not in group_ids:
                raise ValueError(f"unknown group {key}")
        for spec in cars:
            if spec.charger_id not in charger_ids:
                raise ValueError(f"car {spec.id}: unknown charger {spec.charger_id}")
        self.cars = [Car(spec) for spec in cars]
        self._cars_by_charger: dict[str, list[Car]] = {}
        for car in self.cars:
            self._cars_by_charger.setdefault(car.spec.charger_id, []).append(car)
        self._chargers = {charger.id: charger for charger in config.chargers}
        self.offers: dict[str, Offer] = {
            charger.id: Offer(0, _wired_charger_phases(charger.wiring))
            for charger in config.chargers
        }
        self._parent = {group.id: group.parent_id for group in config.groups}
        self._ancestors = {group.id: self._chain(group.id) for group in config.groups}
        self._last_readings: dict[str, MeterReading] = {}
        self.totals = SiteTotals()

    def _chain(self, group_id: str) -> tuple[str, ...]:
        chain: list[str] = []
        current: str | None = group_id
        while current is not None:
            chain.append(current)
            current = self._parent[current]
        return tuple(chain)

    # --- what is plugged in ------------------------------------------------------------------

    def car_at(self, charger_id: str, time: float | None = None) -> Car | None:
        """Return the car plugged into a charger at `time` (default now), if any."""
        moment = self.now if time is None else time
        for car in self._cars_by_charger.get(charger_id, ()):
            if car.spec.present(moment):
                return car
        return None

    def connected_cars(self) -> list[Car]:
        """Return the cars plugged in now."""
        return [car for car in self.cars if car.spec.present(self.now)]

    # --- physics -----------------------------------------------------------------------------

    def charger_site_currents(self) -> dict[str, Currents]:
        """Return what each charger draws, per SITE phase (line: `lines.line_currents`)."""
        network = self.config.network
        result: dict[str, Currents] = {}
        for charger_id, charger in self._chargers.items():
            car = self.car_at(charger_id)
            draw = ZERO if car is None else car.charger_currents()
            result[charger_id] = line_currents(network, charger.rotation, draw)
        return result

    def non_ev_currents(self, time: float | None = None) -> dict[str, Currents]:
        """Return per group the non-EV load minus solar connected DIRECTLY to it."""
        moment = self.now if time is None else time
        result: dict[str, Currents] = {}
        for group in self.config.groups:
            load = self.loads[group.id].at(moment) if group.id in self.loads else ZERO
            sun = self.solar[group.id].at(moment) if group.id in self.solar else ZERO
            result[group.id] = (load[0] - sun[0], load[1] - sun[1], load[2] - sun[2])
        return result

    def subtree_currents(
        self, non_ev: Mapping[str, Currents], chargers: Mapping[str, Currents]
    ) -> tuple[dict[str, Currents], dict[str, Currents]]:
        """Return per group (non-EV of the subtree, chargers of the subtree), per site phase."""
        house = {group.id: [0.0, 0.0, 0.0] for group in self.config.groups}
        ev = {group.id: [0.0, 0.0, 0.0] for group in self.config.groups}
        for group_id, values in non_ev.items():
            for ancestor in self._ancestors[group_id]:
                _add(house[ancestor], values)
        for charger_id, values in chargers.items():
            for ancestor in self._ancestors[self._chargers[charger_id].group_id]:
                _add(ev[ancestor], values)
        return (
            {key: (row[0], row[1], row[2]) for key, row in house.items()},
            {key: (row[0], row[1], row[2]) for key, row in ev.items()},
        )

    def meter_currents(self) -> dict[str, Currents]:
        """Return what each metering point measures now, by meter id."""
        house, ev = self.subtree_currents(self.non_ev_currents(), self.charger_site_currents())
        result: dict[str, Currents] = {}
        for group in self.config.groups:
            if group.meter_id is None:
                continue
            values = house[group.id]
            if group.meter_includes_chargers:
                values = _plus(values, ev[group.id])
            result[group.meter_id] = values
        return result

    def overloads(
        self, non_ev: Mapping[str, Currents], chargers: Mapping[str, Currents]
    ) -> list[tuple[str, Phase, float]]:
        """Return (group, site phase, amps over the fuse) for every overloaded fuse."""
        house, ev = self.subtree_currents(non_ev, chargers)
        result: list[tuple[str, Phase, float]] = []
        for group in self.config.groups:
            total = _plus(house[group.id], ev[group.id])
            for phase in PHASES:
                excess = total[phase] - group.fuse[phase]
                if excess > 1e-9:
                    result.append((group.id, phase, excess))
        return result

    # --- the engine's view ---------------------------------------------------------------------

    def _silent(self, group_id: str) -> bool:
        return any(start <= self.now < end for start, end in self.silences.get(group_id, ()))

    def snapshot(self) -> Snapshot:
        """Return what the meters and chargers report now."""
        meters: dict[str, MeterReading] = {}
        currents = self.meter_currents()
        for group in self.config.groups:
            meter_id = group.meter_id
            if meter_id is None:
                continue
            if not self._silent(group.id):
                self._last_readings[meter_id] = MeterReading(currents[meter_id], self.now)
            if meter_id in self._last_readings:
                meters[meter_id] = self._last_readings[meter_id]
        chargers: dict[str, ChargerState] = {}
        for charger_id in self._chargers:
            car = self.car_at(charger_id)
            if car is None:
                chargers[charger_id] = ChargerState(connected=False)
                continue
            measured = car.charger_currents()
            chargers[charger_id] = ChargerState(
                connected=True,
                charging=max(measured) >= IDLE_A,
                currents=measured,
                car_phases=car.spec.phases if car.spec.report_phases else None,
            )
        return Snapshot(now=self.now, meters=meters, chargers=chargers)

    # --- control -------------------------------------------------------------------------------

    def apply(self, decision: Decision) -> None:
        """Set every charger to what the engine decided."""
        self.set_offers(
            {
                charger_id: Offer(verdict.target_current, verdict.charger_phases)
                for charger_id, verdict in decision.chargers.items()
            }
        )

    def set_offers(self, offers: Mapping[str, Offer]) -> None:
        """Set chargers to new currents and phases (missing chargers keep theirs).

        Counts a command for every charger whose current or phases change, and a start or stop
        for the car plugged in when its charger goes from 0 to a current or back.
        """
        totals = self.totals
        for charger_id, offer in offers.items():
            before = self.offers[charger_id]
            phases = offer.charger_phases or before.charger_phases
            after = Offer(offer.current, phases)
            if after.current == before.current and (
                after.current == 0 or after.charger_phases == before.charger_phases
            ):
                continue
            totals.commands += 1
            self.offers[charger_id] = after
            car = self.car_at(charger_id)
            if car is None:
                continue
            if before.current == 0 and after.current > 0:
                totals.starts[car.spec.id] = totals.starts.get(car.spec.id, 0) + 1
            elif before.current > 0 and after.current == 0:
                totals.stops[car.spec.id] = totals.stops.get(car.spec.id, 0) + 1

    def advance(self, dt: float) -> StepReport:
        """Let `dt` seconds pass: cars follow their chargers; energy and overload are counted.

        The step's energy uses the currents at its end (a car ramping up is counted at its
        new current for the whole step: a slight overestimate, the same for every controller).
        """
        if dt <= 0:
            raise ValueError("a step must last a positive time")
        voltage = self.config.voltage
        non_ev = self.non_ev_currents()
        reaction = sum(excess for _, _, excess in self.overloads(non_ev, self._draws()))
        for car in self.cars:
            was_drawing = car.drawn > 0
            if car.spec.present(self.now):
                offer = self.offers[car.spec.charger_id]
                car.follow(offer.current, offer.charger_phases, self.now, dt)
            else:
                car.follow(0, (), self.now, dt)
            if car.drawn > 0 and not was_drawing:
                self.totals.draw_starts[car.spec.id] = (
                    self.totals.draw_starts.get(car.spec.id, 0) + 1
                )
        draws = self._draws()
        overloaded = tuple(self.overloads(non_ev, draws))
        sustained = sum(excess for _, _, excess in overloaded)
        ev_w = voltage * sum(sum(values) for values in draws.values())
        for car in self.cars:
            car.energy_wh += voltage * car.drawn * len(car.drawing_phases) * dt / 3600.0
        sun = [0.0, 0.0, 0.0]
        for profile in self.solar.values():
            _add(sun, profile.at(self.now))
        solar_w = voltage * sum(sun)
        grid_w = voltage * sum(sum(values) for values in non_ev.values()) + ev_w
        totals = self.totals
        totals.reaction_overload_as += reaction * dt
        totals.sustained_overload_as += sustained * dt
        totals.import_wh += max(grid_w, 0.0) * dt / 3600.0
        totals.export_wh += max(-grid_w, 0.0) * dt / 3600.0
        totals.solar_wh += solar_w * dt / 3600.0
        totals.ev_wh += ev_w * dt / 3600.0
        report = StepReport(
            time=self.now,
            dt=dt,
            reaction_overload_as=reaction * dt,
            sustained_overload_as=sustained * dt,
            overloaded=overloaded,
            grid_w=grid_w,
            solar_w=solar_w,
            ev_w=ev_w,
        )
        self.now += dt
        return report

    def _draws(self) -> dict[str, Currents]:
        return self.charger_site_currents()


def _wired_charger_phases(wiring: Wiring) -> tuple[Phase, ...]:
    return (Phase.L1,) if wiring is Wiring.ONE_PHASE else PHASES


def _plus(left: Currents, right: Currents) -> Currents:
    return (left[0] + right[0], left[1] + right[1], left[2] + right[2])
