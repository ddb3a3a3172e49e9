"""The peak budget in the engine: one more power limit at the root, shared max-min fair."""

from __future__ import annotations

from custom_components.powershare.engine import ChargerConfig, Reason
from tests.engine.sim import Car, Loop, one_group_site

TWO = (ChargerConfig(id="a", group_id="main"), ChargerConfig(id="b", group_id="main"))


def test_the_budget_less_the_house_is_shared_fairly() -> None:
    # 11.04 kW for the site, 2 A per phase of house: 48 A - 6 A = 42 A x phases, 7 A each.
    loop = Loop(
        one_group_site(40.0, TWO, peak_budget=True),
        cars={"a": Car(), "b": Car()},
        base={"m": (2.0, 2.0, 2.0)},
        peak_power_w=230.0 * 48,
    )
    decision = loop.run(60)
    assert loop.amps() == {"a": 7, "b": 7}
    assert decision.chargers["a"].reason is Reason.PEAK_BUDGET
    assert decision.chargers["a"].detail == "limited by the peak budget"


def test_the_fuses_still_win_over_a_generous_budget() -> None:
    loop = Loop(
        one_group_site(16.0, TWO, peak_budget=True),
        cars={"a": Car(), "b": Car()},
        peak_power_w=50_000.0,
    )
    decision = loop.run(60)
    assert loop.amps() == {"a": 8, "b": 8}
    assert decision.chargers["a"].reason is Reason.GROUP_FUSE


def test_without_a_budget_this_cycle_only_the_fuses_limit() -> None:
    loop = Loop(one_group_site(40.0, TWO, peak_budget=True), cars={"a": Car(), "b": Car()})
    loop.run(60)
    assert loop.amps() == {"a": 20, "b": 20}


def test_a_budget_too_small_for_two_pauses_one_and_rotates() -> None:
    # 24 A x phases: one three-phase car at 8 A, the other paused (6 A each would need 36).
    loop = Loop(
        one_group_site(40.0, TWO, peak_budget=True),
        cars={"a": Car(), "b": Car()},
        peak_power_w=230.0 * 24,
    )
    decision = loop.run(60)
    assert sorted(loop.amps().values()) == [0, 8]
    paused = next(d for d in decision.chargers.values() if d.target_current == 0)
    assert paused.reason is Reason.PAUSED_FOR_OTHERS


def test_a_budget_under_three_phase_minimum_switches_to_one_phase() -> None:
    # 3 kW: too little for 6 A on three phases (4.1 kW), enough for 13 A on one.
    charger = ChargerConfig(id="a", group_id="main", can_switch_phases=True)
    loop = Loop(
        one_group_site(40.0, (charger,), peak_budget=True),
        cars={"a": Car()},
        peak_power_w=3000.0,
    )
    loop.run(600)
    assert len(loop.phases("a")) == 1
    assert loop.amps() == {"a": 13}


def test_a_house_over_the_budget_stops_the_cars() -> None:
    loop = Loop(
        one_group_site(40.0, TWO, peak_budget=True),
        cars={"a": Car(), "b": Car()},
        base={"m": (10.0, 10.0, 10.0)},
        peak_power_w=5000.0,
    )
    decision = loop.run(60)
    assert loop.amps() == {"a": 0, "b": 0}
    assert {d.reason for d in decision.chargers.values()} == {Reason.BELOW_MIN}
    assert decision.chargers["a"].limit_group == "main"


def test_the_house_is_planned_with_its_recent_high_when_that_is_more() -> None:
    # 2 A per phase now, but 20 A x phases (4.6 kW) of late: 48 - 20 = 28 A x phases, too
    # little for both minimums (36): one car at 9 A, the other paused.
    loop = Loop(
        one_group_site(40.0, TWO, peak_budget=True),
        cars={"a": Car(), "b": Car()},
        base={"m": (2.0, 2.0, 2.0)},
        peak_power_w=230.0 * 48,
        peak_house_w=230.0 * 20,
    )
    loop.run(60)
    assert sorted(loop.amps().values()) == [0, 9]
    # A recent high below the present load changes nothing: 7 A each, as without it.
    loop.peak_house_w = 230.0 * 3
    loop.run(60)
    assert loop.amps() == {"a": 7, "b": 7}
