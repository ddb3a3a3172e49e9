"""The planner on small sites whose best plan is known by hand: each rule and each goal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.plans.baselines import alone
from custom_components.powershare.planner import (
    PHASES,
    Car,
    Group,
    Phase,
    PlanRequest,
    goals,
    plan_charging,
)
from tests.planner.reference import violations

L1, L2, L3 = PHASES
KWH_PER_AMP = 230 * 0.25 / 1000
"""The energy one amp gives one phase in a quarter-hour (0.0575 kWh)."""


def fuse(amps: float, slots: int, group_id: str = "main", parent: str | None = None) -> Group:
    return Group(group_id, parent, (np.full(slots, amps),) * 3)


def three_phase(car_id: str, need: float, departure: int, max_a: float = 16.0) -> Car:
    return Car(car_id, "main", PHASES, max_a, need, departure)


def test_two_cars_that_want_the_same_cheap_slot_both_meet_their_targets() -> None:
    # Each car alone picks slot 0 at 32 A; on a shared 32 A fuse each gets half and both
    # miss (the peers' way). Planned together, one slot each (or halves of both): both full.
    full_slot = 32 * 3 * KWH_PER_AMP
    cars = (three_phase("a", full_slot, 2, 32), three_phase("b", full_slot, 2, 32))
    request = PlanRequest((fuse(32, 4),), cars, (0.05, 0.20, 0.40, 0.40))
    plan = plan_charging(request)
    assert [car.shortfall_kwh for car in plan.cars] == pytest.approx([0, 0], abs=1e-6)
    assert plan.total_cost == pytest.approx(full_slot * (0.05 + 0.20), rel=1e-6)
    assert plan.limits[:2] == (("fuse main L1",), ("fuse main L1",))
    assert plan.limits[2:] == ((), ())
    peers = alone(request)
    assert full_slot - peers.sum(axis=0) == pytest.approx([full_slot / 2] * 2)


def test_when_the_fuse_cannot_fill_every_car_it_delivers_the_most_filling_the_least_first() -> None:
    slot_kwh = 10 * KWH_PER_AMP  # a 10 A fuse on L1
    cars = (
        Car("big", "main", (L1,), 16, 2.0, 2),
        Car("small", "main", (L1,), 16, 0.5, 2),
    )
    plan = plan_charging(PlanRequest((fuse(10, 2),), cars, (0.1, 0.2)))
    assert plan.delivered_kwh == pytest.approx(2 * slot_kwh, abs=1e-6)
    assert plan.car("small").shortfall_kwh == pytest.approx(0, abs=1e-4)
    assert plan.car("big").shortfall_kwh == pytest.approx(2.5 - 2 * slot_kwh, abs=1e-4)
    assert plan.solves >= 2  # the second program proves no plan delivers more


def test_negative_prices_are_used_first() -> None:
    per_slot = 16 * 3 * KWH_PER_AMP  # 2.76 kWh
    request = PlanRequest((fuse(math.inf, 4),), (three_phase("a", 4.0, 4),), (0.3, -0.1, 0.1, 0.2))
    plan = plan_charging(request)
    assert plan.car("a").energy_kwh == pytest.approx((0, per_slot, 4 - per_slot, 0), abs=1e-6)
    assert plan.total_cost == pytest.approx(-0.1 * per_slot + 0.1 * (4 - per_slot), abs=1e-6)
    assert plan.limits == ((), (), (), ())  # only the car's own maximum binds


def test_the_solar_surplus_costs_the_feed_in_price() -> None:
    request = PlanRequest(
        (fuse(32, 4),),
        (three_phase("a", 2.0, 4),),
        (0.30,) * 4,
        solar_kw=(0, 0, 4.0, 0),
        feed_in_price=0.05,
    )
    plan = plan_charging(request)
    assert plan.solar_kwh == pytest.approx((0, 0, 1.0, 0), abs=1e-6)
    assert plan.total_cost == pytest.approx(1.0 * 0.05 + 1.0 * 0.30, abs=1e-6)
    # The grid's kWh costs the same in every slot: the earliest is taken (goal 5).
    assert plan.car("a").energy_kwh == pytest.approx((1.0, 0, 1.0, 0), abs=1e-4)


def test_at_equal_cost_the_solar_surplus_wins() -> None:
    request = PlanRequest(
        (fuse(32, 4),),
        (three_phase("a", 1.0, 4),),
        (0.30,) * 4,
        solar_kw=(0, 0, 4.0, 0),
        feed_in_price=0.30,
    )
    plan = plan_charging(request)
    assert plan.car("a").energy_kwh == pytest.approx((0, 0, 1.0, 0), abs=1e-4)


def test_a_feed_in_price_above_the_price_costs_the_price() -> None:
    request = PlanRequest(
        (fuse(32, 2),),
        (three_phase("a", 1.0, 2),),
        (-0.10, 0.30),
        solar_kw=(4.0, 0),
        feed_in_price=0.08,
    )
    plan = plan_charging(request)
    assert plan.car("a").energy_kwh == pytest.approx((1.0, 0), abs=1e-6)
    assert plan.total_cost == pytest.approx(-0.10, abs=1e-6)


def test_flat_prices_charge_as_early_as_possible() -> None:
    per_slot = 16 * 3 * KWH_PER_AMP
    plan = plan_charging(PlanRequest((fuse(32, 4),), (three_phase("a", 3.0, 4),), (0.25,) * 4))
    assert plan.car("a").energy_kwh == pytest.approx((per_slot, 3 - per_slot, 0, 0), abs=1e-4)
    assert plan.car("a").current_a[0] == pytest.approx(16.0, abs=1e-3)


def test_the_peak_budget_caps_every_slot() -> None:
    request = PlanRequest(
        (fuse(32, 4),),
        (three_phase("a", 3.0, 4),),
        (0.1, 0.2, 0.3, 0.4),
        peak_kw=(4.0,) * 4,
    )
    plan = plan_charging(request)
    assert plan.car("a").energy_kwh == pytest.approx((1, 1, 1, 0), abs=1e-6)
    assert plan.load_kw == pytest.approx((4, 4, 4, 0), abs=1e-5)
    assert plan.car("a").current_a[0] == pytest.approx(4000 / (3 * 230), abs=1e-5)
    assert plan.limits[:3] == (("peak budget",),) * 3


def test_a_sub_groups_power_cap_and_the_fuse_above_it() -> None:
    groups = (fuse(20, 2), Group("garage", "main", ((16.0,) * 2,) * 3, max_power_kw=(3.68, 50)))
    cars = (Car("a", "garage", PHASES, 16, 10.0, 2), Car("b", "main", (L1,), 16, 10.0, 2))
    request = PlanRequest(groups, cars, (0.1, 0.2))
    plan = plan_charging(request)
    assert violations(request, plan) == []
    # Slot 0: the garage's 3.68 kW (5.33 A a phase for a) leaves b the rest of L1's 20 A.
    assert plan.car("a").current_a[0] == pytest.approx(3680 / (3 * 230), abs=1e-5)
    assert plan.car("b").current_a[0] == pytest.approx(20 - 3680 / (3 * 230), abs=1e-5)
    assert set(plan.limits[0]) == {"max power garage", "fuse main L1"}
    # Slot 1: a takes the garage's 16 A, b what L1 leaves.
    assert plan.car("a").current_a[1] == pytest.approx(16, abs=1e-5)
    assert plan.car("b").current_a[1] == pytest.approx(4, abs=1e-5)


def test_single_phase_cars_on_different_phases_do_not_share() -> None:
    one_slot = 16 * KWH_PER_AMP
    spread = tuple(Car(f"on {phase.name}", "main", (phase,), 16, one_slot, 1) for phase in PHASES)
    plan = plan_charging(PlanRequest((fuse(16, 1),), spread, (0.2,)))
    assert plan.shortfall_kwh == pytest.approx(0, abs=1e-6)
    stacked = tuple(Car(f"{name}", "main", (Phase.L1,), 16, one_slot, 1) for name in "ab")
    plan = plan_charging(PlanRequest((fuse(16, 1),), stacked, (0.2,)))
    assert plan.delivered_kwh == pytest.approx(one_slot, abs=1e-6)


def test_the_house_over_the_fuse_shuts_the_slot() -> None:
    group = Group("main", None, ((10, -3, 10), (10, 10, 10), (10, 10, 10)))
    plan = plan_charging(PlanRequest((group,), (Car("a", "main", (L1,), 16, 5.0, 3),), (0.1,) * 3))
    assert plan.car("a").current_a == pytest.approx((10, 0, 10), abs=1e-6)


def test_a_car_charges_only_during_its_stay() -> None:
    car = Car("a", "main", PHASES, 16, 100.0, departure_slot=3, arrival_slot=1)
    plan = plan_charging(PlanRequest((fuse(32, 4),), (car,), (0.1,) * 4))
    assert plan.car("a").current_a == pytest.approx((0, 16, 16, 0), abs=1e-6)
    assert plan.car("a").shortfall_kwh == pytest.approx(100 - 2 * 16 * 3 * KWH_PER_AMP)


def test_nothing_to_plan() -> None:
    plan = plan_charging(PlanRequest((fuse(32, 3),), (), (0.1,) * 3))
    assert (plan.cars, plan.total_cost, plan.solves) == ((), 0.0, 0)
    assert plan.load_kw == (0.0, 0.0, 0.0)
    parked = (three_phase("full", 0.0, 3), Car("gone", "main", PHASES, 16, 5.0, 1, 1))
    plan = plan_charging(PlanRequest((fuse(32, 3),), parked, (0.1,) * 3))
    assert plan.solves == 0
    assert plan.car("full").shortfall_kwh == 0
    assert plan.car("gone").shortfall_kwh == 5.0


def test_the_cars_costs_add_up_and_a_car_is_found_by_id() -> None:
    cars = (three_phase("a", 3.0, 4), Car("b", "main", (L2,), 32, 4.0, 4))
    request = PlanRequest((fuse(25, 4),), cars, (0.3, 0.1, 0.2, 0.4), solar_kw=(0, 3, 3, 0))
    plan = plan_charging(request)
    assert sum(car.cost for car in plan.cars) == pytest.approx(plan.total_cost)
    assert plan.car("b") is plan.cars[1]
    with pytest.raises(KeyError):
        plan.car("c")


def test_too_low_a_delivery_weight_is_raised_until_the_plan_delivers_the_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = PlanRequest((fuse(32, 2),), (three_phase("a", 5.0, 2),), (0.1, 0.9))
    monkeypatch.setattr(goals, "_delivery_weight", lambda _layout: 0.5)
    plan = plan_charging(request)
    assert plan.delivered_kwh == pytest.approx(5.0, abs=1e-6)
    assert plan.solves == 3  # 0.5 leaves the 0.9 slot out; the most; then 5 is enough
    assert plan.total_cost == pytest.approx(2.76 * 0.1 + (5 - 2.76) * 0.9, abs=1e-6)
    monkeypatch.setattr(goals, "RAISES", 0)
    plan = plan_charging(request)
    assert plan.delivered_kwh == pytest.approx(5.0, abs=1e-6)  # goal 1's plan, as a fallback
    assert plan.solves == 2
