"""The proof's own tools can fail: the checker catches each broken rule, the reference is exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.plans.baselines import alone
from custom_components.powershare.planner import (
    PHASES,
    Car,
    Group,
    Plan,
    PlanRequest,
    plan_charging,
)
from tests.planner.reference import solve_exact, violations

L1 = PHASES[0]
KWH_PER_AMP = 230 * 0.25 / 1000


def story() -> PlanRequest:
    """Two three-phase cars, each needing one full slot of a shared 32 A fuse, by slot 2."""
    full_slot = 32 * 3 * KWH_PER_AMP
    return PlanRequest(
        (
            Group("main", None, ((32.0,) * 3,) * 3, max_power_kw=(50.0,) * 3),
            Group("garage", "main", ((32.0,) * 3,) * 3),
        ),
        (
            Car("a", "garage", PHASES, 32, full_slot, 2),
            Car("b", "main", PHASES, 32, full_slot, 2),
            Car("c", "garage", (L1,), 16, 0.5, 3, 2),
        ),
        (0.05, 0.20, 0.40),
        peak_kw=(50.0,) * 3,
    )


def broken(plan: Plan, car: int, slot: int, current: float) -> Plan:
    """Return `plan` with one car's current in one slot changed (energy and totals along)."""
    request = story()
    phases = len(request.cars[car].phases)
    target = plan.cars[car]
    amps = list(target.current_a)
    energy = list(target.energy_kwh)
    amps[slot] = current
    energy[slot] = current * phases * KWH_PER_AMP
    cars = list(plan.cars)
    cars[car] = dataclasses.replace(
        target,
        current_a=tuple(amps),
        energy_kwh=tuple(energy),
        delivered_kwh=sum(energy),
        shortfall_kwh=max(request.cars[car].energy_kwh - sum(energy), 0.0),
    )
    power = [
        sum(230 * len(request.cars[c].phases) * cars[c].current_a[t] / 1000 for c in range(3))
        for t in range(3)
    ]
    hours = 0.25
    total = sum(request.price[t] * power[t] * hours for t in range(3))  # no solar in the story
    return dataclasses.replace(plan, cars=tuple(cars), load_kw=tuple(power), total_cost=total)


def test_the_exact_optimum_of_the_story() -> None:
    exact = solve_exact(story())
    full_slot = 32 * 3 * KWH_PER_AMP
    assert exact.shortfall_kwh == pytest.approx([0, 0, 0], abs=1e-7)
    assert exact.cost == pytest.approx(full_slot * 0.05 + full_slot * 0.20 + 0.5 * 0.40)
    assert exact.current_a[2] == pytest.approx([0, 0, 0.5 / KWH_PER_AMP])


def test_the_planner_passes_the_checker_and_the_rules_it_would_break_are_caught() -> None:
    request = story()
    plan = plan_charging(request)
    assert violations(request, plan) == []
    over_fuse = broken(plan, 0, 0, plan.cars[0].current_a[0] + 1.0)
    assert any(v.startswith("fuse main L1 slot 0") for v in violations(request, over_fuse))
    assert "a: over its max current" in violations(request, broken(plan, 0, 1, 33.0))
    assert "c: charges outside its stay" in violations(request, broken(plan, 2, 0, 1.0))
    assert "c: more energy than it needs" in violations(request, broken(plan, 2, 2, 16.0))
    assert "c: negative current" in violations(request, broken(plan, 2, 2, -1.0))


def test_the_checker_catches_inconsistent_figures() -> None:
    request = story()
    plan = plan_charging(request)
    car = plan.cars[0]
    wrong_energy = dataclasses.replace(car, energy_kwh=tuple(e * 2 for e in car.energy_kwh))
    found = violations(request, dataclasses.replace(plan, cars=(wrong_energy, *plan.cars[1:])))
    assert "a: energy is not current x voltage x phases x time" in found
    wrong_totals = dataclasses.replace(car, delivered_kwh=0.0, shortfall_kwh=1.0)
    found = violations(request, dataclasses.replace(plan, cars=(wrong_totals, *plan.cars[1:])))
    assert "a: delivered is not the sum of its slots" in found
    assert "a: shortfall is not need - delivered" in found
    found = violations(request, dataclasses.replace(plan, load_kw=(0.0, 0.0, 0.0)))
    assert found == ["load_kw is not the cars' power"]
    found = violations(request, dataclasses.replace(plan, total_cost=plan.total_cost + 0.01))
    assert found[0].startswith("total cost")
    assert violations(request, dataclasses.replace(plan, cars=plan.cars[:2])) == [
        "the plan's cars are not the request's"
    ]


def test_the_checker_catches_sub_fuses_power_caps_and_the_budget() -> None:
    request = story()
    capped = dataclasses.replace(
        request,
        groups=(
            dataclasses.replace(request.groups[0], max_power_kw=(1.0,) * 3),
            dataclasses.replace(request.groups[1], amps_left=((1.0,) * 3,) * 3),
        ),
        peak_kw=(1.0,) * 3,
    )
    found = violations(capped, plan_charging(request))
    assert "max power main slot 0" in found
    assert "peak budget slot 0" in found
    assert any(v.startswith("fuse garage L1 slot") for v in found)


def test_the_peers_plan_is_caught_missing_targets() -> None:
    request = story()
    peers = alone(request)
    assert (np.array([car.energy_kwh for car in request.cars]) - peers.sum(axis=0) > 1).sum() == 2
