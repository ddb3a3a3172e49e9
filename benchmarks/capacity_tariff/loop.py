"""The closed loop: the house, the cars, the grid meter, and a controller deciding each step.

Each step (`Clock.step_s`) the grid meter at the main fuse reads the house plus what the cars
draw; with a peak budget the tracker takes that reading and gives the budget
(`PeakTracker.observe`, then `budget`), which goes into the snapshot; the engine decides;
the cars follow at the next step (a car draws the lesser of its last target and what it
accepts, on the phases it was given, until it has its energy). The power read at a step is
held until the next one: the truth the windows are scored on (`Outcome.window_wh`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerState,
    GroupConfig,
    MeterReading,
    SiteConfig,
    Snapshot,
)
from custom_components.powershare.peak import PeakMode, PeakSample, PeakSettings, PeakTracker

from .cars import CHARGERS, GROUP
from .house import VOLTAGE

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from custom_components.powershare.engine import Phase

    from .cars import Session
    from .house import Clock, House

LIMIT_W = 4000.0
WINDOW_MIN = 15
FUSE_A = 25.0
MARGIN_A = 1.0
METER = "grid"

type Triple = tuple[float, float, float]


def site_config(charger_ids: tuple[str, ...], *, peak_budget: bool) -> SiteConfig:
    """Return the site: one main fuse metered at the grid, the chargers below it.

    With the peak budget the root has no power cap; without it (the peers' way) the root's
    max power is the limit, all the time.
    """
    group = GroupConfig(
        id=GROUP,
        fuse=(FUSE_A, FUSE_A, FUSE_A),
        meter_id=METER,
        max_power_w=None if peak_budget else LIMIT_W,
    )
    return SiteConfig(
        groups=(group,),
        chargers=tuple(CHARGERS[charger_id] for charger_id in charger_ids),
        margin_a=MARGIN_A,
        voltage=VOLTAGE,
        peak_budget=peak_budget,
    )


def windows_of(clock: Clock) -> tuple[int, int]:
    """Return the steps per quarter-hour and the number of quarter-hours in the month."""
    per_window = round(WINDOW_MIN * 60 / clock.step_s)
    return per_window, -(-clock.steps // per_window)


@dataclass(slots=True)
class Outcome:
    """What one controller achieved over the month."""

    name: str
    delivered_wh: list[float]
    """Per session (in the order of the sessions given)."""
    window_wh: NDArray[np.float64]
    """What the site imported in each quarter-hour."""
    ev_window_wh: NDArray[np.float64]
    hungry: NDArray[np.bool_]
    """Per quarter-hour: a car plugged in wanted more energy all through it."""
    starts: list[int] = field(default_factory=list)
    """Per session: the charger's target went from 0 A to more (empty: not a controller)."""
    draw_starts: list[int] = field(default_factory=list)
    """Per session: the car went from drawing nothing to drawing."""
    seconds_per_step: float | None = None
    """The controller's time per step: the tracker and the engine."""
    tracker_peak_w: float | None = None
    """The tracker's own record of the month's peak (a check on the scoring)."""
    budget_w: NDArray[np.float64] | None = None
    """Per step, the budget's site power given to the engine (NaN: none)."""
    ev_amps: NDArray[np.float64] | None = None
    """Per step and charger, the car's current per phase (A)."""
    ev_phases: NDArray[np.int64] | None = None
    """Per step and charger, the phases the car draws on."""


class _Loop:
    """One controller's month, step by step (`run` is the entry point)."""

    def __init__(
        self,
        clock: Clock,
        house: House,
        sessions: list[Session],
        charger_ids: tuple[str, ...],
        *,
        peak_budget: bool,
    ) -> None:
        self.clock = clock
        self.charger_ids = charger_ids
        self.balancer = Balancer(site_config(charger_ids, peak_budget=peak_budget))
        settings = PeakSettings(mode=PeakMode.FIXED, limit_w=LIMIT_W, window_min=WINDOW_MIN)
        self.tracker = PeakTracker(settings) if peak_budget else None
        self.house = [(float(l1), float(l2), float(l3)) for l1, l2, l3 in house.amps]
        count = len(charger_ids)
        table = np.full((clock.steps, count), -1, dtype=np.int64)
        for index, session in enumerate(sessions):
            table[session.arrive : session.leave, charger_ids.index(session.charger_id)] = index
        self.present = [[int(value) for value in row] for row in table]
        """Per step and charger, the index of the session plugged in (-1: none)."""
        self.remaining = [session.energy_wh for session in sessions]
        self.max_a = [session.max_a for session in sessions]
        self.targets = [0] * count
        self.phases: list[tuple[Phase, ...]] = [PHASES] * count
        self.drawing = [False] * count
        self.per_window, windows = windows_of(clock)
        self.hungry_steps = np.zeros(windows, dtype=np.int64)
        self.outcome = Outcome(
            "Powershare" if peak_budget else "cap",
            [0.0] * len(sessions),
            np.zeros(windows),
            np.zeros(windows),
            np.zeros(windows, dtype=np.bool_),
            starts=[0] * len(sessions),
            draw_starts=[0] * len(sessions),
            budget_w=np.full(clock.steps, np.nan),
            ev_amps=np.zeros((clock.steps, count)),
            ev_phases=np.zeros((clock.steps, count), dtype=np.int64),
        )

    def draws(self, step: int) -> list[Triple]:
        """Return what each car draws this step (per charger phase), counting its starts."""
        outcome = self.outcome
        draws: list[Triple] = []
        for index, session in enumerate(self.present[step]):
            amps = 0.0
            if session >= 0 and self.remaining[session] > 0.0 and self.targets[index] > 0:
                amps = min(float(self.targets[index]), self.max_a[session])
            phases = self.phases[index]
            draws.append(
                (
                    amps if PHASES[0] in phases else 0.0,
                    amps if PHASES[1] in phases else 0.0,
                    amps if PHASES[2] in phases else 0.0,
                )
            )
            if outcome.ev_amps is not None and outcome.ev_phases is not None:
                outcome.ev_amps[step, index] = amps
                outcome.ev_phases[step, index] = len(phases) if amps > 0.0 else 0
            if session >= 0 and amps > 0.0 and not self.drawing[index]:
                outcome.draw_starts[session] += 1
            self.drawing[index] = amps > 0.0
        return draws

    def decide(self, step: int, now: float, meter: Triple, draws: list[Triple]) -> None:
        """Give the tracker the reading, the engine the snapshot; keep the engine's targets."""
        site_w = VOLTAGE * sum(meter)
        peak_power_w: float | None = None
        peak_house_w: float | None = None
        if self.tracker is not None:
            at = datetime.fromtimestamp(now, self.clock.zone)
            ev_w = VOLTAGE * sum(sum(draw) for draw in draws)
            self.tracker.observe(PeakSample(at=at, import_power_w=site_w, ev_power_w=ev_w))
            budget = self.tracker.budget(at, site_w)
            if budget is not None and self.outcome.budget_w is not None:
                peak_power_w = self.outcome.budget_w[step] = budget.site_power_w
                peak_house_w = budget.house_w
        present = self.present[step]
        snapshot = Snapshot(
            now=now,
            meters={METER: MeterReading(meter, now)},
            chargers={
                charger_id: ChargerState(
                    connected=present[index] >= 0,
                    charging=self.drawing[index],
                    currents=draws[index],
                )
                for index, charger_id in enumerate(self.charger_ids)
            },
            peak_power_w=peak_power_w,
            peak_house_w=peak_house_w,
        )
        decision = self.balancer.step(snapshot)
        for index, charger_id in enumerate(self.charger_ids):
            verdict = decision.chargers[charger_id]
            session = present[index]
            if session >= 0 and self.targets[index] == 0 and verdict.target_current > 0:
                self.outcome.starts[session] += 1
            self.targets[index] = verdict.target_current
            self.phases[index] = verdict.site_phases

    def account(self, step: int, draws: list[Triple]) -> None:
        """Add this step's energy (held until the next step) to the sessions and windows."""
        dt = self.clock.step_s
        window = step // self.per_window
        outcome = self.outcome
        ev_wh = 0.0
        hungry = False
        for index, session in enumerate(self.present[step]):
            if session < 0:
                continue
            energy = min(VOLTAGE * sum(draws[index]) * dt / 3600.0, self.remaining[session])
            self.remaining[session] -= energy
            outcome.delivered_wh[session] += energy
            ev_wh += energy
            hungry = hungry or self.remaining[session] > 0.0
        outcome.window_wh[window] += VOLTAGE * sum(self.house[step]) * dt / 3600.0 + ev_wh
        outcome.ev_window_wh[window] += ev_wh
        self.hungry_steps[window] += hungry

    def run(self) -> Outcome:
        """Run the month and return the outcome."""
        clock = self.clock
        spent = 0.0
        for step in range(clock.steps):
            now = clock.start_ts + step * clock.step_s
            draws = self.draws(step)
            house = self.house[step]
            meter = (
                house[0] + sum(draw[0] for draw in draws),
                house[1] + sum(draw[1] for draw in draws),
                house[2] + sum(draw[2] for draw in draws),
            )
            began = time.perf_counter()
            self.decide(step, now, meter, draws)
            spent += time.perf_counter() - began
            self.account(step, draws)
        outcome = self.outcome
        outcome.seconds_per_step = spent / max(clock.steps, 1)
        outcome.hungry = self.hungry_steps == self.per_window
        if self.tracker is not None:
            at = datetime.fromtimestamp(clock.start_ts + clock.steps * clock.step_s, clock.zone)
            self.tracker.observe(PeakSample(at=at, import_power_w=0.0))  # closes the last window
            peak = self.tracker.month_peak
            outcome.tracker_peak_w = peak.average_w if peak is not None else None
        return outcome


def run(
    clock: Clock,
    house: House,
    sessions: list[Session],
    charger_ids: tuple[str, ...],
    *,
    peak_budget: bool,
) -> Outcome:
    """Run one controller over the month and score it.

    `peak_budget`: Powershare with the capacity tariff's budget (`PeakTracker`, fixed limit);
    without it, the peers' way: the root's max power at the limit, all the time.
    """
    return _Loop(clock, house, sessions, charger_ids, peak_budget=peak_budget).run()


def house_window_wh(clock: Clock, house: House) -> NDArray[np.float64]:
    """Return what the house alone imported in each quarter-hour (Wh)."""
    per_window, windows = windows_of(clock)
    padded = np.zeros(windows * per_window)
    padded[: clock.steps] = house.power_w
    return np.asarray(
        padded.reshape(windows, per_window).sum(axis=1) * clock.step_s / 3600.0,
        dtype=np.float64,
    )
