"""One test (or a few) per behaviour rule of the balancing issue."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from custom_components.powershare.engine import (
    Action,
    Balancer,
    BalancerState,
    ChargerConfig,
    ChargerState,
    ChargingMode,
    GroupConfig,
    MeterReading,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
    SiteConfig,
    Snapshot,
    Tunables,
    Wiring,
)
from tests.engine.sim import Car, Loop, one_group_site


def chargers(count: int, **settings: object) -> tuple[ChargerConfig, ...]:
    return tuple(
        ChargerConfig(id=f"c{index}", group_id="main", **settings)  # type: ignore[arg-type]
        for index in range(count)
    )


# --- 1. safety and 8. pacing ------------------------------------------------------------------


def test_a_cut_happens_in_the_cycle_that_sees_the_need() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car()})
    loop.run(30)
    assert loop.amps() == {"c0": 20, "c1": 20}
    loop.base["m"] = (20.0, 0.0, 0.0)
    decision = loop.step()
    assert loop.amps() == {"c0": 10, "c1": 10}
    assert decision.chargers["c0"].action is Action.ADJUST
    assert decision.chargers["c0"].changed


def test_increases_wait_for_the_meter_and_nothing_is_sent_without_change() -> None:
    loop = Loop(
        one_group_site(40.0, chargers(2)),
        cars={"c0": Car(), "c1": Car()},
        base={"m": (20.0, 20.0, 20.0)},
    )
    loop.run(30)
    assert loop.amps() == {"c0": 10, "c1": 10}
    quiet = loop.step()
    assert quiet.commands == ()
    loop.base["m"] = (0.0, 0.0, 0.0)
    loop.step_s = 2.0
    decision = loop.step()  # the charger changed >= 10 s ago, no decrease: may increase now
    assert loop.amps() == {"c0": 20, "c1": 20}
    assert decision.chargers["c0"].action is Action.ADJUST
    # A decrease holds every increase on the site for increase_delay_s.
    loop.base["m"] = (30.0, 30.0, 30.0)
    loop.step()
    assert loop.amps() == {"c0": 10, "c1": 0}  # 5 + 5 would be below the minimum
    decreased_at = loop.now - loop.step_s
    loop.base["m"] = (0.0, 0.0, 0.0)
    paced = loop.step()
    while paced.chargers["c1"].reason is Reason.PAUSED_FOR_OTHERS:  # the held peak (5 s)
        paced = loop.step()
    assert paced.chargers["c1"].reason is Reason.PACED
    assert paced.chargers["c1"].target_current == 0
    assert paced.now - decreased_at < 10.0
    loop.run(12)
    assert loop.amps() == {"c0": 20, "c1": 20}


def test_the_margin_is_kept_free() -> None:
    loop = Loop(one_group_site(40.0, chargers(2), margin=2.0), cars={"c0": Car(), "c1": Car()})
    decision = loop.run(30)
    assert loop.amps() == {"c0": 19, "c1": 19}
    assert decision.groups["main"].available == (38.0, 38.0, 38.0)


def test_whole_leftover_amps_are_handed_out_deterministically() -> None:
    loop = Loop(one_group_site(41.0, chargers(3)), cars={f"c{i}": Car() for i in range(3)})
    loop.run(30)
    assert sorted(loop.amps().values()) == [13, 14, 14]
    again = Loop(one_group_site(41.0, chargers(3)), cars={f"c{i}": Car() for i in range(3)})
    again.run(30)
    assert again.amps() == loop.amps()


def test_the_non_ev_estimate_holds_its_peak_for_a_few_seconds() -> None:
    loop = Loop(one_group_site(40.0, chargers(1)), cars={"c0": Car()}, step_s=1.0)
    loop.run(15)
    assert loop.amps() == {"c0": 32}
    loop.base["m"] = (20.0, 20.0, 20.0)
    loop.step()
    loop.base["m"] = (0.0, 0.0, 0.0)
    held = loop.step()
    assert held.groups["main"].non_ev_load == (20.0, 20.0, 20.0)
    loop.run(20)
    assert loop.amps() == {"c0": 32}


# --- 2. fair shares, priorities ---------------------------------------------------------------


def test_priorities_are_served_first() -> None:
    config = one_group_site(
        40.0,
        (
            ChargerConfig(id="vip", group_id="main", priority=1),
            ChargerConfig(id="c1", group_id="main"),
            ChargerConfig(id="c2", group_id="main"),
        ),
    )
    loop = Loop(config, cars={"vip": Car(), "c1": Car(), "c2": Car()})
    loop.run(30)
    # 8 A left: not enough for two at 6 A, so one of them waits.
    assert loop.amps()["vip"] == 32
    assert sorted([loop.amps()["c1"], loop.amps()["c2"]]) == [0, 8]
    loop.base["m"] = (-10.0, -10.0, -10.0)  # ten more amps: both lower ones can charge
    loop.run(30)
    assert loop.amps() == {"vip": 32, "c1": 9, "c2": 9}


# --- 3. minimum current and rotation -------------------------------------------------------------


def test_pause_the_fewest_so_the_others_reach_their_minimum() -> None:
    loop = Loop(one_group_site(16.0, chargers(3)), cars={f"c{i}": Car() for i in range(3)})
    decision = loop.run(30)
    amps = loop.amps()
    assert sorted(amps.values()) == [0, 8, 8]
    paused = next(name for name, value in amps.items() if value == 0)
    assert decision.chargers[paused].reason is Reason.PAUSED_FOR_OTHERS
    assert "phase" in decision.chargers[paused].detail


def test_a_large_minimum_the_fair_shares_leave_short_is_paused_after_all() -> None:
    # 20 A: c1's 6 A and c2's 12 A minimums fit, c0's does not. But fair shares give c1 and
    # c2 10 A each: c2, last in keep order (ids break the tie), falls short of 12 and is
    # paused, and then c0 and c1 both fit.
    config = one_group_site(
        20.0,
        (
            ChargerConfig(id="c0", group_id="main"),
            ChargerConfig(id="c1", group_id="main"),
            ChargerConfig(id="c2", group_id="main", min_current=12),
        ),
    )
    loop = Loop(config, cars={f"c{i}": Car() for i in range(3)})
    decision = loop.run(30)
    assert loop.amps() == {"c0": 10, "c1": 10, "c2": 0}
    assert decision.chargers["c2"].reason is Reason.PAUSED_FOR_OTHERS


def test_a_large_minimum_first_in_keep_order_is_kept_and_the_small_ones_make_room() -> None:
    # Before the safety issue only the charger short of its minimum could be paused, so a large
    # minimum next to small ones was paused at every turn of the rotation and starved. First in
    # keep order (ids break the tie), c0 is kept: the level it shares must reach 12 A.
    config = one_group_site(
        20.0,
        (
            ChargerConfig(id="c0", group_id="main", min_current=12),
            ChargerConfig(id="c1", group_id="main"),
            ChargerConfig(id="c2", group_id="main"),
        ),
        tunables=Tunables(rotation_period_s=300.0),
    )
    loop = Loop(config, cars={f"c{i}": Car() for i in range(3)})
    loop.run(30)
    assert loop.amps() == {"c0": 20, "c1": 0, "c2": 0}
    # The next turn is the small ones'.
    loop.run(330)
    assert loop.amps() == {"c0": 0, "c1": 10, "c2": 10}


def test_paused_cars_take_turns() -> None:
    tunables = Tunables(rotation_period_s=600.0)
    loop = Loop(
        one_group_site(16.0, chargers(3), tunables=tunables),
        cars={f"c{i}": Car() for i in range(3)},
    )
    paused_steps = dict.fromkeys(("c0", "c1", "c2"), 0)
    swaps = 0
    previous: str | None = None
    steps = 0
    while loop.now < 3600:
        loop.step()
        amps = loop.amps()
        paused = [name for name, value in amps.items() if value == 0]
        # Two are paused only for the pacing delay at a swap; never fewer than one.
        assert len(paused) in {1, 2}
        assert sum(amps.values()) <= 16
        if len(paused) == 1:
            paused_steps[paused[0]] += 1
            if previous is not None and paused[0] != previous:
                swaps += 1
            previous = paused[0]
        steps += 1
    # Every car waits its turn, and they swap about once per period (not more often).
    assert all(count >= steps / 6 for count in paused_steps.values())
    assert 3 <= swaps <= 7


def test_limits_below_the_minimum_mean_zero() -> None:
    config = one_group_site(
        40.0,
        (
            ChargerConfig(id="user", group_id="main", user_limit=4),
            ChargerConfig(id="schedule", group_id="main", schedule_limit=0),
            ChargerConfig(id="off", group_id="main", mode=ChargingMode.OFF),
            ChargerConfig(id="capped", group_id="main", user_limit=10, schedule_limit=12),
        ),
    )
    loop = Loop(config, cars={name: Car() for name in ("user", "schedule", "off", "capped")})
    decision = loop.run(30)
    assert loop.amps() == {"user": 0, "schedule": 0, "off": 0, "capped": 10}
    assert decision.chargers["user"].reason is Reason.USER_LIMIT
    assert decision.chargers["schedule"].reason is Reason.SCHEDULE_LIMIT
    assert decision.chargers["off"].reason is Reason.MODE_OFF
    assert decision.chargers["capped"].reason is Reason.USER_LIMIT
    assert decision.groups["main"].requested == (14.0, 14.0, 14.0)


def test_the_plans_slot_caps_a_charger_and_the_fuse_still_wins() -> None:
    config = one_group_site(
        20.0,
        (
            ChargerConfig(id="waits", group_id="main", plan_limit=0),
            ChargerConfig(id="planned", group_id="main", plan_limit=30),
            ChargerConfig(id="slow", group_id="main", plan_limit=8, schedule_limit=10),
        ),
    )
    loop = Loop(config, cars={name: Car() for name in ("waits", "planned", "slow")})
    decision = loop.run(30)
    assert loop.amps()["waits"] == 0
    assert decision.chargers["waits"].reason is Reason.PLAN_LIMIT
    assert loop.amps()["slow"] == 8
    assert decision.chargers["slow"].reason is Reason.PLAN_LIMIT
    # The plan allows 30 A; the 20 A fuse, less the other car, does not.
    assert loop.amps()["planned"] == 20 - 8
    assert decision.chargers["planned"].reason is Reason.GROUP_FUSE


def test_the_chargers_own_limit_caps_it() -> None:
    config = one_group_site(40.0, chargers(1))
    balancer = Balancer(config)
    state = ChargerState(connected=True, max_current=13)
    decision = balancer.step(
        Snapshot(now=0.0, meters={"m": MeterReading((0, 0, 0), 0.0)}, chargers={"c0": state})
    )
    assert decision.chargers["c0"].target_current == 13
    assert decision.chargers["c0"].reason is Reason.CHARGER_LIMIT
    assert decision.chargers["c0"].requested == 13


def test_a_car_leaving_stops_the_charger_once() -> None:
    loop = Loop(one_group_site(40.0, chargers(1)), cars={"c0": Car()})
    loop.run(30)
    loop.cars["c0"].connected = False
    decision = loop.step()
    assert decision.chargers["c0"].action is Action.STOP
    assert decision.chargers["c0"].target_current == 0
    assert decision.chargers["c0"].reason is Reason.NO_CAR
    assert loop.step().chargers["c0"].action is Action.NONE
    assert "c0" not in loop.balancer.state.chargers


# --- 4. cars that draw less --------------------------------------------------------------------


def test_a_car_drawing_less_is_noticed_only_after_the_settle_time() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car(max_current=10)})
    loop.run(100)
    assert loop.amps() == {"c0": 20, "c1": 20}
    loop.run(60)
    assert loop.amps() == {"c0": 28, "c1": 12}


def test_a_two_phase_car_frees_its_third_phase() -> None:
    groups = (GroupConfig(id="main", fuse=(40.0,) * 3, meter_id="m"),)
    config = SiteConfig(
        groups=groups,
        chargers=(
            ChargerConfig(id="two", group_id="main"),
            ChargerConfig(
                id="one",
                group_id="main",
                wiring=dataclasses.replace(ChargerConfig("x", "main")).wiring,
            ),
        ),
        margin_a=0.0,
    )
    loop = Loop(config, cars={"two": Car(phases=frozenset({Phase.L1, Phase.L2})), "one": Car()})
    decision = loop.run(60)
    assert decision.chargers["two"].site_phases == (Phase.L1, Phase.L2)
    assert decision.groups["main"].allocated[Phase.L3] == decision.chargers["one"].target_current


def offers(loop: Loop, charger_id: str, seconds: float) -> list[tuple[float, float]]:
    """Run the loop and return each (start, stop) time span the charger was offered current."""
    spans: list[tuple[float, float]] = []
    began: float | None = None
    end = loop.now + seconds
    while loop.now < end:
        now = loop.now
        target = loop.step().chargers[charger_id].target_current
        if target > 0 and began is None:
            began = now
        elif target == 0 and began is not None:
            spans.append((began, now))
            began = None
    if began is not None:
        spans.append((began, loop.now))
    return spans


def test_re_offers_to_a_full_car_back_off_and_are_short() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car(max_current=0)})
    spans = offers(loop, "c1", 4 * 3600)
    starts = [start for start, _ in spans]
    # The first offer (on arrival) is held for the draw-less settle time; each re-offer only
    # for the short check (about a minute), the waits doubling: 15, 30, 60 then 120 minutes.
    assert spans[0][1] - spans[0][0] == pytest.approx(135, abs=10)
    assert all(stop - start <= 70 for start, stop in spans[1:])
    lowered = [stop for _, stop in spans]
    waits = [start - before for start, before in zip(starts[1:], lowered, strict=False)]
    assert waits == pytest.approx([900, 1800, 3600, 7200], abs=15)
    assert len(spans) == 5  # capped at 2 hours: the next one would come after 6 h 10 min
    # Meanwhile the other car had (almost) everything.
    assert loop.amps() == {"c0": 32, "c1": 0}


def test_the_re_offer_back_off_starts_over_when_the_car_draws_again() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car(max_current=0)})
    offers(loop, "c1", 3000)
    memory = loop.balancer.state.chargers["c1"]
    assert memory.reoffers_declined == 2
    # The car wants current again (its own timer, preconditioning): it takes the next offer.
    loop.cars["c1"].max_current = 32.0
    spans = offers(loop, "c1", 4000)
    assert spans[0][1] == loop.now  # offered at the next re-offer and kept since
    assert loop.amps() == {"c0": 20, "c1": 20}
    assert memory.reoffers_declined == 0
    # Full again: the waits start over from the first interval.
    loop.cars["c1"].max_current = 0.0
    spans = offers(loop, "c1", 1200)
    assert spans[-1][0] - spans[0][1] == pytest.approx(900, abs=10)


def test_a_slower_car_declining_re_offers_backs_off_too() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car(max_current=16.0)})
    loop.run(200)
    assert loop.amps() == {"c0": 22, "c1": 18}
    spans = offers(loop, "c1", 900 + 1800 + 300)
    assert len(spans) == 1  # it keeps charging at its lowered request ...
    memory = loop.balancer.state.chargers["c1"]
    assert memory.reoffers_declined == 2  # ... and declined two re-offers, 30 min apart
    assert loop.amps() == {"c0": 22, "c1": 18}


def test_the_re_offer_tunables_are_checked() -> None:
    with pytest.raises(ValueError, match="reoffer_backoff"):
        Tunables(reoffer_backoff=0.5)
    assert Tunables(reoffer_backoff=1.0).reoffer_backoff == 1.0


def test_car_phases_reported_by_the_charger_are_used_at_once() -> None:
    config = one_group_site(40.0, chargers(1))
    balancer = Balancer(config)
    state = ChargerState(connected=True, car_phases=frozenset({Phase.L2}))
    decision = balancer.step(
        Snapshot(now=0.0, meters={"m": MeterReading((0, 0, 0), 0.0)}, chargers={"c0": state})
    )
    assert decision.chargers["c0"].site_phases == (Phase.L2,)


# --- 5. one phase / three phases ------------------------------------------------------------


def switching_loop(policy: PhasePolicy = PhasePolicy.AUTO, **tunables: float) -> Loop:
    config = one_group_site(
        16.0,
        (ChargerConfig(id="c0", group_id="main", can_switch_phases=True, phase_policy=policy),),
        tunables=Tunables(**tunables),  # type: ignore[arg-type]
    )
    return Loop(config, cars={"c0": Car()}, base={"m": (12.0, 0.0, 3.0)})


def test_switch_to_the_phase_with_most_headroom_when_three_cannot_give_min() -> None:
    loop = switching_loop()
    decision = loop.step()
    # Not started yet: the switch is immediate.
    assert decision.chargers["c0"].site_phases == (Phase.L2,)
    assert decision.chargers["c0"].target_current == 16
    assert decision.chargers["c0"].charger_phases == (Phase.L2,)


def test_a_charger_left_out_on_three_phases_charges_on_the_one_with_room() -> None:
    # 10/10/16 A free: c0 (first in keep order) takes its minimum on all three, which leaves
    # 4/4/10 A: c1 does not fit on three phases, but its minimum fits on L3 alone.
    config = one_group_site(
        16.0,
        (
            ChargerConfig(id="c0", group_id="main"),
            ChargerConfig(id="c1", group_id="main", can_switch_phases=True),
        ),
    )
    loop = Loop(config, cars={"c0": Car(), "c1": Car()}, base={"m": (6.0, 6.0, 0.0)})
    decision = loop.step()
    assert decision.chargers["c1"].site_phases == (Phase.L3,)
    assert loop.amps() == {"c0": 8, "c1": 8}  # L3 shared fairly once both are in


def test_back_to_three_phases_after_the_up_delay_and_no_oscillation() -> None:
    loop = switching_loop()
    loop.run(30)
    loop.base["m"] = (0.0, 0.0, 0.0)
    loop.run(250)
    assert loop.phases("c0") == (Phase.L2,)
    loop.run(100)
    assert loop.phases("c0") == (Phase.L1, Phase.L2, Phase.L3)
    assert loop.amps() == {"c0": 16}
    # Load on L1 flickers around the boundary every 20 s: the hourly cap bounds the switches.
    switches = 0
    previous = loop.phases("c0")
    for index in range(180):
        loop.base["m"] = (11.0, 0.0, 0.0) if index % 4 < 2 else (0.0, 0.0, 0.0)
        loop.step()
        if loop.phases("c0") != previous:
            switches += 1
            previous = loop.phases("c0")
    assert switches <= 4


def test_down_switch_waits_for_its_delay_once_charging() -> None:
    loop = switching_loop()
    loop.base["m"] = (0.0, 0.0, 0.0)
    loop.run(30)
    assert len(loop.phases("c0")) == 3
    loop.base["m"] = (12.0, 0.0, 3.0)
    loop.run(120)
    assert loop.amps() == {"c0": 0}
    assert len(loop.phases("c0")) == 3
    loop.run(90)
    assert loop.phases("c0") == (Phase.L2,)
    assert loop.amps() == {"c0": 16}


def test_a_one_phase_car_is_not_tried_on_three_phases_again() -> None:
    # Reference home, 18:30-18:55: a one-phase car arrives while L1 is busy and is switched to
    # L2 before it ever drew; later three phases look possible and the engine tries them: the
    # car draws on L1 only. From then on the engine knows it for the whole session.
    loop = switching_loop()
    loop.cars["c0"] = Car(phases=frozenset({Phase.L1}))
    loop.run(30)
    assert loop.phases("c0") == (Phase.L2,)
    loop.base["m"] = (0.0, 0.0, 0.0)
    loop.run(400)
    assert loop.phases("c0") == (Phase.L1,)  # tried on three: it draws on its plug's L1
    assert loop.amps() == {"c0": 16}
    # L1 gets busy again: the car moves to the phase with room (one-phase mode picks it)
    # instead of being paused on L1, and the engine remembers it is a one-phase car ...
    loop.base["m"] = (12.0, 0.0, 3.0)
    loop.run(250)
    assert loop.phases("c0") == (Phase.L2,)
    assert loop.amps() == {"c0": 16}
    switches = len(loop.balancer.state.chargers["c0"].switch_times)
    # ... so three phases, which would only move it back to L1, are never tried again.
    loop.base["m"] = (0.0, 0.0, 0.0)
    for _ in range(360):
        loop.step()
        assert loop.phases("c0") == (Phase.L2,)
    assert len(loop.balancer.state.chargers["c0"].switch_times) == switches


def test_a_one_phase_car_already_on_the_best_phase_is_not_switched() -> None:
    loop = switching_loop()
    loop.cars["c0"] = Car(phases=frozenset({Phase.L1}))
    loop.base["m"] = (0.0, 0.0, 0.0)
    loop.run(60)
    assert loop.phases("c0") == (Phase.L1,)
    # L2 and L3 are busier than L1: one-phase mode on another phase would be worse.
    loop.base["m"] = (8.0, 12.0, 12.0)
    loop.run(600)
    assert loop.phases("c0") == (Phase.L1,)
    assert loop.amps() == {"c0": 8}
    assert loop.balancer.state.chargers["c0"].switch_times == []


def test_fixed_policies() -> None:
    one = switching_loop(PhasePolicy.ONE)
    one.base["m"] = (0.0, 5.0, 0.0)
    one.run(30)
    assert one.phases("c0") == (Phase.L1,)
    three = switching_loop(PhasePolicy.THREE)
    decision = three.run(400)
    assert len(three.phases("c0")) == 3
    assert decision.chargers["c0"].target_current == 0


# --- 6. solar ------------------------------------------------------------------------------------


def solar_loop(*modes: ChargingMode, surplus: float = 10.0, **settings: Any) -> Loop:
    config = one_group_site(
        40.0,
        tuple(
            ChargerConfig(id=f"c{index}", group_id="main", mode=mode)
            for index, mode in enumerate(modes)
        ),
        **settings,
    )
    return Loop(
        config,
        cars={f"c{index}": Car() for index in range(len(modes))},
        base={"m": (-surplus, -surplus, -surplus)},
    )


def test_solar_waits_for_the_start_delay_then_charges_from_surplus() -> None:
    loop = solar_loop(ChargingMode.SOLAR)
    loop.run(50)
    assert loop.amps() == {"c0": 0}
    decision = loop.run(30)
    assert loop.amps() == {"c0": 10}
    assert decision.surplus_w == pytest.approx(6900.0)


def test_solar_holds_min_through_a_short_deficit_then_stops() -> None:
    loop = solar_loop(ChargingMode.SOLAR)
    loop.run(90)
    loop.base["m"] = (-2.0, -2.0, -2.0)
    decision = loop.run(100)
    assert loop.amps() == {"c0": 6}
    assert decision.chargers["c0"].reason is Reason.SOLAR_HOLDING_MIN
    loop.base["m"] = (-8.0, -8.0, -8.0)
    loop.run(20)
    assert loop.amps() == {"c0": 8}
    loop.base["m"] = (-2.0, -2.0, -2.0)
    loop.run(290)
    assert loop.amps() == {"c0": 6}
    decision = loop.run(20)
    assert loop.amps() == {"c0": 0}
    assert decision.chargers["c0"].reason is Reason.WAITING_FOR_SURPLUS


def test_min_solar_gives_min_and_adds_surplus() -> None:
    loop = solar_loop(ChargingMode.MIN_SOLAR, surplus=0.0)
    loop.run(30)
    assert loop.amps() == {"c0": 6}
    loop.base["m"] = (-12.0, -12.0, -12.0)
    loop.run(30)
    assert loop.amps() == {"c0": 12}


def test_several_solar_chargers_share_fairly_and_fast_takes_its_part_first() -> None:
    loop = solar_loop(ChargingMode.SOLAR, ChargingMode.SOLAR, surplus=16.0)
    loop.run(90)
    assert loop.amps() == {"c0": 8, "c1": 8}
    mixed = solar_loop(ChargingMode.FAST, ChargingMode.SOLAR, surplus=16.0)
    mixed.run(90)
    # Fast takes its share of the fuse (20 A); the surplus left is 16 - 20 < 6: no solar.
    assert mixed.amps() == {"c0": 32, "c1": 0}


def test_import_allowance_and_reserve() -> None:
    allowance = solar_loop(ChargingMode.SOLAR, surplus=4.0, import_allowance_w=3 * 230 * 3.0)
    allowance.run(90)
    assert allowance.amps() == {"c0": 7}
    reserve = solar_loop(ChargingMode.SOLAR, surplus=10.0, solar_reserve_w=3 * 230 * 2.0)
    reserve.run(90)
    assert reserve.amps() == {"c0": 8}


def test_solar_without_a_root_meter_does_not_charge() -> None:
    groups = (GroupConfig(id="main", fuse=(40.0,) * 3),)
    config = SiteConfig(
        groups=groups, chargers=(ChargerConfig(id="c0", group_id="main", mode=ChargingMode.SOLAR),)
    )
    loop = Loop(config, cars={"c0": Car()})
    decision = loop.run(120)
    assert loop.amps() == {"c0": 0}
    assert decision.surplus_w is None


def test_a_solar_charger_that_can_switch_starts_on_one_phase_with_little_surplus() -> None:
    config = one_group_site(
        40.0,
        (ChargerConfig(id="c0", group_id="main", mode=ChargingMode.SOLAR, can_switch_phases=True),),
    )
    loop = Loop(config, cars={"c0": Car()}, base={"m": (-3.0, -3.0, -3.0)})
    loop.run(120)
    assert len(loop.phases("c0")) == 1
    assert loop.amps() == {"c0": 9}


# --- 7. stale data ---------------------------------------------------------------------------


def test_a_silent_meter_puts_its_subtree_on_the_failsafe_share_and_recovers() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car()})
    loop.run(30)
    loop.silent_meters.add("m")
    loop.run(10)
    assert loop.amps() == {"c0": 20, "c1": 20}  # not stale yet (15 s)
    decision = loop.run(10)
    assert loop.amps() == {"c0": 6, "c1": 6}
    assert decision.chargers["c0"].reason is Reason.FAILSAFE_METER_STALE
    assert decision.stale_meters == ("m",)
    assert decision.groups["main"].meter_stale
    assert decision.groups["main"].meter is None
    loop.silent_meters.clear()
    loop.run(30)
    assert loop.amps() == {"c0": 20, "c1": 20}


def test_failsafe_zero_pauses_and_a_never_seen_meter_is_stale() -> None:
    config = one_group_site(40.0, chargers(1), tunables=Tunables(failsafe_current_a=0))
    balancer = Balancer(config)
    decision = balancer.step(
        Snapshot(now=100.0, meters={}, chargers={"c0": ChargerState(connected=True)})
    )
    assert decision.chargers["c0"].target_current == 0
    assert decision.chargers["c0"].reason is Reason.FAILSAFE_METER_STALE


def test_stale_meter_keeps_its_last_load_and_never_assumes_export() -> None:
    loop = Loop(
        one_group_site(40.0, chargers(1), tunables=Tunables(failsafe_current_a=32)),
        cars={"c0": Car()},
        base={"m": (-30.0, 10.0, 0.0)},
    )
    loop.run(30)
    loop.silent_meters.add("m")
    decision = loop.run(30)
    assert decision.groups["main"].non_ev_load == (0.0, 10.0, 0.0)
    assert loop.amps() == {"c0": 30}


# --- meters and groups ------------------------------------------------------------------------


def test_a_meter_on_the_house_circuit_only_is_the_non_ev_load() -> None:
    groups = (
        GroupConfig(id="main", fuse=(40.0,) * 3, meter_id="m", meter_includes_chargers=False),
    )
    config = SiteConfig(groups=groups, chargers=chargers(2), margin_a=0.0)
    loop = Loop(config, cars={"c0": Car(), "c1": Car()}, base={"m": (10.0, 10.0, 10.0)})
    decision = loop.run(30)
    assert loop.amps() == {"c0": 15, "c1": 15}
    assert decision.groups["main"].meter == (10.0, 10.0, 10.0)


def test_a_groups_meter_is_the_authority_on_its_fuse() -> None:
    # Export on the main board is counted there, also when a sub-meter below reports load
    # (before the safety issue the larger of the two won, phase by phase, and export was lost).
    groups = (
        GroupConfig(id="main", fuse=(36.0,) * 3, meter_id="m"),
        GroupConfig(id="sub", parent_id="main", fuse=(40.0,) * 3, meter_id="s"),
        GroupConfig(id="plain", parent_id="main", fuse=(40.0,) * 3),
    )
    config = SiteConfig(
        groups=groups, chargers=(ChargerConfig(id="c0", group_id="plain"),), margin_a=0.0
    )
    balancer = Balancer(config)
    snapshot = Snapshot(
        now=0.0,
        # The sub-meter sees 12 A on L1; the main meter 5 A: 7 A of export elsewhere on main.
        meters={"m": MeterReading((5.0, 0.0, 0.0), 0.0), "s": MeterReading((12.0, 0, 0), 0.0)},
        chargers={"c0": ChargerState(connected=True)},
    )
    decision = balancer.step(snapshot)
    assert decision.groups["main"].non_ev_load == (5.0, 0.0, 0.0)
    assert decision.groups["sub"].non_ev_load == (12.0, 0.0, 0.0)
    assert decision.groups["plain"].non_ev_load == (0.0, 0.0, 0.0)
    assert decision.chargers["c0"].target_current == 31  # 36 - 5


def test_group_max_power() -> None:
    groups = (GroupConfig(id="main", fuse=(40.0,) * 3, meter_id="m", max_power_w=230 * 3 * 20.0),)
    config = SiteConfig(groups=groups, chargers=chargers(2), margin_a=0.0)
    loop = Loop(config, cars={"c0": Car(), "c1": Car()})
    decision = loop.run(30)
    assert loop.amps() == {"c0": 10, "c1": 10}
    assert decision.chargers["c0"].reason is Reason.GROUP_POWER
    assert "max power" in decision.chargers["c0"].detail


def test_reconfigure_keeps_the_state_of_chargers_that_remain() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car()})
    loop.run(30)
    state = loop.balancer.state
    assert isinstance(state, BalancerState)
    assert set(state.chargers) == {"c0", "c1"}
    loop.balancer.reconfigure(one_group_site(40.0, chargers(1, user_limit=10)))
    assert set(state.chargers) == {"c0"}
    assert loop.balancer.config.chargers[0].user_limit == 10
    decision = loop.step()
    assert decision.chargers["c0"].target_current == 10
    assert decision.chargers["c0"].action is Action.ADJUST


def test_same_state_same_input_same_output() -> None:
    config = one_group_site(16.0, chargers(3))
    snapshot = Snapshot(
        now=0.0,
        meters={"m": MeterReading((1.0, 2.0, 3.0), 0.0)},
        chargers={f"c{i}": ChargerState(connected=True) for i in range(3)},
    )
    first = Balancer(config).step(snapshot)
    second = Balancer(config).step(snapshot)
    assert first == second


def test_a_charger_drawing_more_than_told_has_the_excess_counted_as_load() -> None:
    loop = Loop(one_group_site(40.0, chargers(2)), cars={"c0": Car(), "c1": Car()})
    loop.run(30)
    assert loop.amps() == {"c0": 20, "c1": 20}
    # c1 ignores its commands (set from its own app) and draws 26 A on every phase.
    snapshot = loop.snapshot()
    states = dict(snapshot.chargers)
    states["c1"] = dataclasses.replace(states["c1"], currents=(26.0, 26.0, 26.0))
    meters = {"m": MeterReading((46.0, 46.0, 46.0), loop.now)}
    decision = loop.balancer.step(Snapshot(now=loop.now, meters=meters, chargers=states))
    # Out of control: all its draw counts as non-EV load, and the site is safe at once.
    assert decision.groups["main"].non_ev_load == (26.0, 26.0, 26.0)
    assert decision.chargers["c0"].target_current == 7
    assert 26.0 + decision.chargers["c0"].target_current <= 40.0
    assert decision.groups["main"].usage == (46.0, 46.0, 46.0)


@pytest.mark.parametrize("meter_after_the_cut", [False, True])
def test_a_reading_from_before_a_cut_is_no_disobedience(*, meter_after_the_cut: bool) -> None:
    # Increases at once (no pacing), and no time to follow: only the reading's age counts.
    config = one_group_site(
        32.0,
        chargers(1, max_current=16),
        margin=1.0,
        tunables=Tunables(increase_delay_s=0.0, obey_within_s=0.0),
    )
    loop = Loop(config, cars={"c0": Car()})
    loop.run(30)
    assert loop.amps() == {"c0": 16}
    loop.base["m"] = (24.0, 24.0, 24.0)  # the oven: 32 - 1 - 24 = 7 A left
    before_cut = loop.now
    assert loop.step().chargers["c0"].target_current == 7
    # The next cycle still sees the car at 16 A: in the meter's reading of 40 A, and in the
    # charger reading lined up with it. Taken before the cut, that is what the car drew then.
    meter_time = loop.now if meter_after_the_cut else before_cut
    meters = {"m": MeterReading((40.0, 40.0, 40.0), meter_time)}
    drawing = {"c0": ChargerState(connected=True, charging=True, currents=(16.0, 16.0, 16.0))}
    decision = loop.balancer.step(Snapshot(now=loop.now, meters=meters, chargers=drawing))
    if meter_after_the_cut:
        # Measured after the cut, the car ignored it: all its draw counts as non-EV load.
        assert decision.groups["main"].non_ev_load == (40.0, 40.0, 40.0)
        assert decision.chargers["c0"].target_current == 0
    else:
        assert decision.groups["main"].non_ev_load == (24.0, 24.0, 24.0)
        assert decision.chargers["c0"].target_current == 7
        assert decision.chargers["c0"].reason is Reason.GROUP_FUSE


def test_no_room_for_the_minimum_even_alone_is_not_blamed_on_others() -> None:
    loop = Loop(one_group_site(16.0, chargers(1)), cars={"c0": Car()}, base={"m": (12, 0, 0)})
    decision = loop.run(30)
    assert loop.amps() == {"c0": 0}
    assert decision.chargers["c0"].reason is Reason.BELOW_MIN
    assert decision.chargers["c0"].limit_group == "main"
    assert decision.chargers["c0"].limit_phase is Phase.L1
    assert "minimum" in decision.chargers["c0"].detail


def test_a_stale_sub_meter_only_affects_its_own_subtree() -> None:
    groups = (
        GroupConfig(id="main", fuse=(63.0,) * 3, meter_id="m"),
        GroupConfig(id="garage", parent_id="main", fuse=(32.0,) * 3, meter_id="g"),
        GroupConfig(id="yard", parent_id="main", fuse=(32.0,) * 3),
    )
    config = SiteConfig(
        groups=groups,
        chargers=(
            ChargerConfig(id="inside", group_id="garage"),
            ChargerConfig(id="outside", group_id="yard"),
        ),
        margin_a=0.0,
    )
    loop = Loop(config, cars={"inside": Car(), "outside": Car()})
    loop.run(30)
    assert sorted(loop.amps().values()) == [31, 32]  # 31.5 each on the 63 A main
    loop.silent_meters.add("g")
    decision = loop.run(30)
    assert decision.stale_meters == ("g",)
    assert loop.amps() == {"inside": 6, "outside": 32}
    assert decision.groups["garage"].meter_stale
    assert not decision.groups["yard"].meter_stale


def test_the_lowest_priority_is_paused_first() -> None:
    config = one_group_site(
        16.0,
        (
            ChargerConfig(id="low", group_id="main", priority=0),
            ChargerConfig(id="high", group_id="main", priority=2, max_current=10),
            ChargerConfig(id="mid", group_id="main", priority=1),
        ),
    )
    loop = Loop(config, cars={"low": Car(), "high": Car(), "mid": Car()})
    decision = loop.run(30)
    assert loop.amps() == {"low": 0, "high": 10, "mid": 6}
    assert decision.chargers["low"].reason is Reason.PAUSED_FOR_OTHERS


def two_garages(b_limit: int) -> SiteConfig:
    groups = (
        GroupConfig(id="main", fuse=(100.0,) * 3, meter_id="m"),
        GroupConfig(id="ga", parent_id="main", fuse=(32.0,) * 3, meter_id="ma"),
        GroupConfig(id="gb", parent_id="main", fuse=(32.0,) * 3),
    )
    return SiteConfig(
        groups=groups,
        chargers=(
            ChargerConfig(id="a", group_id="ga"),
            ChargerConfig(id="b", group_id="gb", user_limit=b_limit),
        ),
        margin_a=0.0,
    )


def test_a_decrease_does_not_hold_increases_where_there_is_room() -> None:
    loop = Loop(two_garages(10), cars={"a": Car(), "b": Car()})
    loop.run(30)
    assert loop.amps() == {"a": 32, "b": 10}
    # In the same cycle: garage A's other devices need 10 A, and b's user limit goes up.
    loop.base["ma"] = (10.0, 10.0, 10.0)
    loop.base["m"] = (10.0, 10.0, 10.0)
    loop.balancer.reconfigure(two_garages(32))
    decision = loop.step()
    assert loop.amps() == {"a": 22, "b": 32}
    assert decision.chargers["b"].action is Action.ADJUST


def test_an_increase_into_room_still_held_by_a_ramping_charger_waits() -> None:
    loop = Loop(one_group_site(40.0, chargers(2, user_limit=32)), cars={"c0": Car(), "c1": Car()})
    loop.run(30)
    assert loop.amps() == {"c0": 20, "c1": 20}
    # c0's user limit drops to 8: c1 may take the room only once c0 had time to ramp down.
    config = one_group_site(
        40.0,
        (
            ChargerConfig(id="c0", group_id="main", user_limit=8),
            ChargerConfig(id="c1", group_id="main", user_limit=32),
        ),
    )
    loop.balancer.reconfigure(config)
    loop.step_s = 2.0
    decision = loop.step()
    assert loop.amps() == {"c0": 8, "c1": 20}
    assert decision.chargers["c1"].reason is Reason.PACED
    assert "c0" in loop.balancer.state.ramping_down
    loop.run(10)
    assert loop.amps() == {"c0": 8, "c1": 32}
    assert "c0" not in loop.balancer.state.ramping_down


# --- speed caches ----------------------------------------------------------------------------


def test_a_fresh_balancer_on_the_same_state_decides_the_same() -> None:
    # The balancer reuses what did not change from one cycle to the next (terms, demands,
    # decisions); a new one on a copy of the state, without those, must agree every cycle.
    groups = (
        GroupConfig(id="main", fuse=(32.0, 32.0, 32.0), meter_id="m"),
        GroupConfig(id="garage", fuse=(20.0, 25.0, 20.0), parent_id="main"),
    )
    chargers = (
        ChargerConfig(id="a", group_id="garage", can_switch_phases=True),
        ChargerConfig(id="b", group_id="garage", priority=1),
        ChargerConfig(id="c", group_id="main", mode=ChargingMode.MIN_SOLAR),
        ChargerConfig(id="d", group_id="main", wiring=Wiring.ONE_PHASE),
        ChargerConfig(id="e", group_id="garage", rotation=PhaseRotation.L2L3L1),
    )
    config = SiteConfig(groups=groups, chargers=chargers, margin_a=0.0)
    cars = {
        "a": Car(phases=frozenset({Phase.L1})),
        "b": Car(max_current=0.0),
        "c": Car(),
        "d": Car(max_current=10.0),
        "e": Car(max_current=16.0),
    }
    loop = Loop(config, cars=cars, base={"m": (8.0, 2.0, 4.0)})
    for index in range(400):
        # Load steps with a little noise (shares move, whole amps mostly not), and a car
        # leaving and coming back.
        step = ((8.0, 2.0, 4.0), (2.0, 12.0, 0.0), (14.0, 0.0, 6.0))[index // 50 % 3]
        noise = 0.1 * (index % 7)
        loop.base["m"] = (step[0] + noise, step[1], step[2] + noise)
        if index % 50 == 0:
            loop.cars["e"].connected = index % 100 != 0
        snapshot = loop.snapshot()
        fresh = Balancer(config, copy.deepcopy(loop.balancer.state)).step(snapshot)
        assert loop.step() == fresh
