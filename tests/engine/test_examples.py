"""The worked examples of seed 003 (Volt Time, "Dynamic Power Sharing explained")."""

from __future__ import annotations

from custom_components.powershare.engine import (
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Phase,
    PhaseRotation,
    Reason,
    SiteConfig,
    Tunables,
    Wiring,
)
from tests.engine.sim import Car, Loop, one_group_site

TWO = (ChargerConfig(id="a", group_id="main"), ChargerConfig(id="b", group_id="main"))


def test_two_chargers_on_40_a_get_20_each() -> None:
    loop = Loop(one_group_site(40.0, TWO), cars={"a": Car(), "b": Car()})
    loop.run(30)
    assert loop.amps() == {"a": 20, "b": 20}


def test_one_charger_alone_gets_its_max() -> None:
    loop = Loop(one_group_site(40.0, TWO), cars={"a": Car()})
    loop.run(30)
    assert loop.amps() == {"a": 32, "b": 0}


def test_other_devices_at_10_a_leave_15_each() -> None:
    loop = Loop(one_group_site(40.0, TWO), cars={"a": Car(), "b": Car()}, base={"m": (10, 10, 10)})
    decision = loop.run(30)
    assert loop.amps() == {"a": 15, "b": 15}
    figures = decision.groups["main"]
    assert figures.non_ev_load == (10.0, 10.0, 10.0)
    assert figures.available == (30.0, 30.0, 30.0)
    assert figures.allocated == (30.0, 30.0, 30.0)
    assert figures.meter == (40.0, 40.0, 40.0)


def test_20_a_solar_surplus_gives_10_each_in_solar_mode() -> None:
    chargers = tuple(
        ChargerConfig(id=name, group_id="main", mode=ChargingMode.SOLAR) for name in "ab"
    )
    loop = Loop(
        one_group_site(40.0, chargers),
        cars={"a": Car(), "b": Car()},
        base={"m": (-20.0, -20.0, -20.0)},
    )
    first = loop.step()
    assert first.chargers["a"].reason is Reason.WAITING_FOR_SURPLUS
    assert first.chargers["a"].target_current == 0
    decision = loop.run(120)
    assert loop.amps() == {"a": 10, "b": 10}
    assert decision.chargers["a"].reason is Reason.SOLAR_SURPLUS
    # Net usage of the site is zero.
    assert decision.groups["main"].meter == (0.0, 0.0, 0.0)


def test_slower_car_at_16_a_gives_the_other_24() -> None:
    # With no margin above what the car draws, as in the seed's example.
    tunables = Tunables(drawless_margin_a=0.0, reoffer_rise_a=0.5)
    loop = Loop(
        one_group_site(40.0, TWO, tunables=tunables),
        cars={"a": Car(), "b": Car(max_current=16.0)},
    )
    loop.run(30)
    assert loop.amps() == {"a": 20, "b": 20}
    decision = loop.run(200)
    assert loop.amps() == {"a": 24, "b": 16}
    assert decision.chargers["b"].reason is Reason.CAR_DRAWS_LESS


def test_slower_car_with_default_margin_keeps_room_to_show_it_wants_more() -> None:
    loop = Loop(one_group_site(40.0, TWO), cars={"a": Car(), "b": Car(max_current=16.0)})
    loop.run(200)
    assert loop.amps() == {"a": 22, "b": 18}
    # The car wants more again: it draws up to its offer, and gets its full share back.
    loop.cars["b"].max_current = 32.0
    loop.run(30)
    assert loop.amps() == {"a": 20, "b": 20}


def test_full_car_gives_the_other_its_max_and_is_offered_again_later() -> None:
    loop = Loop(one_group_site(40.0, TWO), cars={"a": Car(), "b": Car(max_current=0.0)})
    decision = loop.run(200)
    assert loop.amps() == {"a": 32, "b": 0}
    assert decision.chargers["b"].reason is Reason.CAR_NOT_DRAWING
    # Offered again after the interval (900 s after it was lowered, at about 135 s) ...
    loop.run(850)
    assert loop.amps() == {"a": 20, "b": 20}
    # ... and, still not drawing, lowered again after the short re-offer check.
    loop.run(60)
    assert loop.amps() == {"a": 32, "b": 0}


def test_100_a_main_with_a_30_a_sub_group() -> None:
    groups = (
        GroupConfig(id="main", fuse=(100.0,) * 3, meter_id="m"),
        GroupConfig(id="garage", parent_id="main", fuse=(30.0,) * 3),
    )
    chargers = (
        ChargerConfig(id="a", group_id="garage"),
        ChargerConfig(id="b", group_id="garage"),
        ChargerConfig(id="c", group_id="main"),
    )
    config = SiteConfig(groups=groups, chargers=chargers, margin_a=0.0)
    loop = Loop(config, cars={"a": Car(), "b": Car(), "c": Car()}, base={"m": (20, 20, 20)})
    decision = loop.run(30)
    assert loop.amps() == {"a": 15, "b": 15, "c": 32}
    assert decision.chargers["a"].reason is Reason.GROUP_FUSE
    assert "garage" in decision.chargers["a"].detail
    # The building's other devices grow: now the main fuse binds everyone.
    loop.base["m"] = (70.0, 70.0, 70.0)
    decision = loop.run(30)
    assert loop.amps() == {"a": 10, "b": 10, "c": 10}
    assert decision.chargers["c"].reason is Reason.GROUP_FUSE
    assert "main" in decision.chargers["c"].detail


def test_phase_rotation_maps_load_on_the_right_site_phase() -> None:
    # Two one-phase chargers: a's L1 is on site L1, b's L1 is on site L2.
    chargers = (
        ChargerConfig(id="a", group_id="main", wiring=Wiring.ONE_PHASE),
        ChargerConfig(
            id="b", group_id="main", wiring=Wiring.ONE_PHASE, rotation=PhaseRotation.L2L3L1
        ),
    )
    loop = Loop(one_group_site(40.0, chargers), cars={"a": Car(), "b": Car()})
    loop.base["m"] = (30.0, 0.0, 0.0)
    decision = loop.run(30)
    assert loop.amps() == {"a": 10, "b": 32}
    assert decision.chargers["b"].site_phases == (Phase.L2,)
    assert decision.chargers["b"].charger_phases == (Phase.L1,)
    assert decision.groups["main"].allocated == (10.0, 32.0, 0.0)
    assert decision.groups["main"].usage == (10.0, 32.0, 0.0)


def test_rotated_three_phase_charger_load_is_subtracted_on_its_site_phases() -> None:
    chargers = (ChargerConfig(id="a", group_id="main", rotation=PhaseRotation.L3L1L2),)
    loop = Loop(one_group_site(40.0, chargers), cars={"a": Car(phases=frozenset({Phase.L1}))})
    loop.base["m"] = (5.0, 6.0, 7.0)
    decision = loop.run(60)
    # The car draws on charger L1 = site L3 only; the rest of the meter is non-EV load.
    assert decision.groups["main"].non_ev_load == (5.0, 6.0, 7.0)
    assert decision.chargers["a"].site_phases == (Phase.L3,)


def test_one_phase_car_frees_its_other_phases_for_a_lateral_group() -> None:
    groups = (
        GroupConfig(id="main", fuse=(40.0,) * 3, meter_id="m"),
        GroupConfig(id="g1", parent_id="main", fuse=(32.0,) * 3),
        GroupConfig(id="g2", parent_id="main", fuse=(32.0,) * 3),
    )
    chargers = (
        ChargerConfig(id="three", group_id="g1"),
        ChargerConfig(
            id="one", group_id="g2", wiring=Wiring.ONE_PHASE, rotation=PhaseRotation.L2L1L3
        ),
    )
    config = SiteConfig(groups=groups, chargers=chargers, margin_a=0.0)
    loop = Loop(config, cars={"three": Car(phases=frozenset({Phase.L1})), "one": Car()})
    loop.step()
    assert loop.amps() == {"three": 20, "one": 20}  # both on site L2 while unknown
    decision = loop.run(60)
    # The 3-phase charger's car only draws on L1: L2 is free for the 1-phase charger.
    assert decision.chargers["three"].site_phases == (Phase.L1,)
    assert loop.amps() == {"three": 32, "one": 32}
    assert decision.groups["main"].allocated == (32.0, 32.0, 0.0)
