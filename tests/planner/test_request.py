"""A request refuses what cannot be planned, with a message that says why."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from custom_components.powershare.planner import PHASES, Car, Group, Phase, PlanRequest

SLOTS = 4


def group(group_id: str = "main", parent: str | None = None, **changes: Any) -> Group:
    fields: dict[str, Any] = {"amps_left": ((10.0,) * SLOTS,) * 3}
    fields.update(changes)
    return Group(group_id, parent, **fields)


def car(**changes: Any) -> Car:
    fields: dict[str, Any] = {
        "id": "a",
        "group_id": "main",
        "phases": PHASES,
        "max_current_a": 16.0,
        "energy_kwh": 5.0,
        "departure_slot": SLOTS,
    }
    fields.update(changes)
    return Car(**fields)


def request(**changes: Any) -> PlanRequest:
    fields: dict[str, Any] = {"groups": (group(),), "cars": (car(),), "price": (0.1,) * SLOTS}
    fields.update(changes)
    return PlanRequest(**fields)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: car(energy_kwh=-1.0), "car a: energy must be finite and >= 0"),
        (lambda: car(energy_kwh=math.nan), "car a: energy must be finite"),
        (lambda: car(max_current_a=-6.0), "car a: max current must be finite and >= 0"),
        (lambda: car(phases=()), "car a: phases must be distinct and at least one"),
        (lambda: car(phases=(Phase.L1, Phase.L1)), "phases must be distinct"),
        (lambda: car(phases=(5,)), "5 is not a valid Phase"),
        (lambda: car(arrival_slot=-1), "car a: arrival slot -1 is negative"),
        (lambda: car(arrival_slot=3, departure_slot=2), r"car a: departs \(slot 2\) before"),
        (lambda: group(amps_left=((1.0,) * SLOTS,) * 2), "one series per phase"),
        (lambda: group(amps_left=((1.0, math.nan, 1.0, 1.0),) * 3), "amps left on L1: slot 1"),
        (lambda: group(amps_left=((1.0, -math.inf, 1, 1),) * 3), r"only \+inf means no limit"),
        (lambda: group(max_power_kw=(1.0, -1.0, 1.0, 1.0)), "max power: slot 1 is negative"),
        (lambda: request(price=()), "at least one slot"),
        (lambda: request(price=(0.1, math.inf, 0.1, 0.1)), r"price: slot 1 is inf"),
        (lambda: request(price=np.array([0.1, np.nan, 0.1, 0.1])), "price: slot 1 is NaN"),
        (lambda: request(solar_kw=(1.0,) * 3), "solar surplus: 3 values for 4 slots"),
        (lambda: request(solar_kw=(1.0, -1.0, 0, 0)), "solar surplus: slot 1 is negative"),
        (lambda: request(peak_kw=(1.0,) * 5), "peak budget: 5 values for 4 slots"),
        (lambda: request(feed_in_price=math.nan), "feed-in price must be finite"),
        (lambda: request(voltage=0.0), "must be positive"),
        (lambda: request(slot_s=-900.0), "must be positive"),
        (lambda: request(groups=(group(amps_left=((1.0,) * 3,) * 3),)), "L1: 3 values for 4"),
        (lambda: request(groups=(group(max_power_kw=(1.0,) * 5),)), "max power: 5 values"),
        (lambda: request(groups=(group(), group())), "group ids must be unique"),
        (lambda: request(groups=(group(), group("b"))), "exactly one root"),
        (lambda: request(groups=(group(), group("b", "nowhere"))), "b: unknown parent nowhere"),
        (
            lambda: request(groups=(group(), group("b", "c"), group("c", "b"))),
            "b: its parents form a cycle",
        ),
        (lambda: request(cars=(car(), car())), "car ids must be unique"),
        (lambda: request(cars=(car(group_id="garage"),)), "car a: unknown group garage"),
        (lambda: request(cars=(car(departure_slot=5),)), "departs at slot 5, after the plan's 4"),
    ],
)
def test_impossible_requests_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_request_keeps_its_series_as_tuples_of_floats() -> None:
    amps = np.array([10, 10, 10, 10])
    made = request(
        groups=(group(amps_left=(amps, amps, [math.inf] * SLOTS), max_power_kw=[5] * SLOTS),),
        price=np.array([1, 2, 3, 4]),
        solar_kw=[0, 1, 2, 0],
        cars=(car(phases=[0]),),
    )
    assert made.price == (1.0, 2.0, 3.0, 4.0)
    assert made.groups[0].amps_left[2] == (math.inf,) * SLOTS
    assert made.groups[0].max_power_kw == (5.0,) * SLOTS
    assert made.cars[0].phases == (Phase.L1,)
    assert made.slots == SLOTS
    assert made.slot_h == 0.25
    amps[0] = 0  # the request took a copy
    assert made.groups[0].amps_left[0][0] == 10.0


def test_below_finds_a_group_and_everything_under_it() -> None:
    made = request(
        groups=(group("leaf", "mid"), group(), group("mid", "main"), group("side", "main"))
    )
    assert made.below("main") == {"main", "mid", "leaf", "side"}
    assert made.below("mid") == {"mid", "leaf"}
    assert made.below("leaf") == {"leaf"}
