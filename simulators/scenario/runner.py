"""Running a scenario: the closed loop through the engine, step by step, and its checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.powershare.engine import Balancer, Reason

from .peak import PeakMeter, WindowCheckResult, check_windows

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from custom_components.powershare.engine import Decision
    from custom_components.powershare.peak import PeakBudget, PeakRecord
    from simulators.site import Site, StepReport

    from .model import Currents, Expectation, Scenario


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One simulated cycle: the decision taken at `time` and what flowed until the next."""

    time: float
    decision: Decision
    report: StepReport
    draws: Mapping[str, Currents]
    """Per charger: what it drew per CHARGER phase after the decision."""
    cars: Mapping[str, str]
    """Per charger: the car plugged in (absent when none)."""
    events: tuple[str, ...]
    """Cars arriving and leaving at this step."""
    peak: PeakBudget | None = None
    """The peak budget the engine was given (`site.peak`)."""
    closed: PeakRecord | None = None
    """The tracker's record of a peak window this step's grid reading closed."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one `Expectation`."""

    expectation: Expectation
    current: int | None
    reason: Reason | None
    phases: int | None = None

    @property
    def passed(self) -> bool:
        """Return whether the decision matched."""
        wanted = self.expectation
        return (
            self.current == wanted.current
            and (wanted.reason is None or self.reason is wanted.reason)
            and (wanted.phases is None or self.phases == wanted.phases)
        )


def simulate(
    scenario: Scenario, site: Site | None = None, *, start: float | None = None
) -> Iterator[StepRecord]:
    """Run the scenario through the engine from `start` (default: its beginning).

    One `StepRecord` per cycle, until the scenario's end.
    """
    site = site if site is not None else scenario.build_site()
    start = scenario.begin if start is None else start
    balancer = Balancer(scenario.config_at(start))
    peak = PeakMeter(scenario, scenario.peak) if scenario.peak is not None else None
    steps = math.ceil((scenario.end - start) / scenario.step - 1e-9)
    present: set[str] = set()
    changes = sorted({when for when, _, _ in scenario.mode_changes if when > start})
    for index in range(steps):
        time = start + index * scenario.step
        site.now = time
        if changes and changes[0] <= time:
            while changes and changes[0] <= time:
                changes.pop(0)
            balancer.reconfigure(scenario.config_at(time))
        now_present = {car.spec.id for car in site.connected_cars()}
        events = tuple(
            [f"{car} arrives" for car in sorted(now_present - present)]
            + [f"{car} leaves" for car in sorted(present - now_present)]
        )
        present = now_present
        snapshot = site.snapshot()
        budget = closed = None
        if peak is not None:
            snapshot, budget, closed = peak.step(snapshot)
        decision = balancer.step(snapshot)
        site.apply(decision)
        report = site.advance(scenario.step)
        draws: dict[str, Currents] = {}
        cars: dict[str, str] = {}
        for charger in scenario.config.chargers:
            car = site.car_at(charger.id, time)
            draws[charger.id] = car.charger_currents() if car is not None else (0.0, 0.0, 0.0)
            if car is not None:
                cars[charger.id] = car.spec.id
        yield StepRecord(time, decision, report, draws, cars, events, budget, closed)


def check(
    scenario: Scenario, records: Sequence[StepRecord]
) -> list[CheckResult | WindowCheckResult]:
    """Compare each expectation with the last decision taken at or before its time.

    Then each window check with what flowed in its window (`peak.check_windows`).
    """
    results: list[CheckResult | WindowCheckResult] = []
    for expectation in scenario.expectations:
        chosen: StepRecord | None = None
        for record in records:
            if record.time <= expectation.time + 1e-9:
                chosen = record
        verdict = chosen.decision.chargers.get(expectation.charger_id) if chosen else None
        results.append(
            CheckResult(
                expectation,
                verdict.target_current if verdict else None,
                verdict.reason if verdict else None,
                len(verdict.site_phases) if verdict else None,
            )
        )
    results.extend(check_windows(scenario, records))
    return results
