"""A charging profile's slot caps one charger's power, by the phases it uses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from custom_components.powershare.engine import ChargerConfig, Phase, Reason, SiteConfig, Wiring
from tests.engine.sim import Car, Loop, one_group_site


def test_the_slot_caps_power_by_the_phases_in_use() -> None:
    chargers = (
        ChargerConfig(id="three", group_id="main", profile_power_w=7400.0),
        ChargerConfig(id="one", group_id="main", wiring=Wiring.ONE_PHASE, profile_power_w=2300.0),
        ChargerConfig(id="free", group_id="main", max_current=16),
    )
    loop = Loop(
        one_group_site(63.0, chargers),
        cars={"three": Car(), "one": Car(phases=frozenset({Phase.L1})), "free": Car()},
    )
    decision = loop.run(60)
    # 7.4 kW on three phases: 10.7 A; 2.3 kW on one: 10 A; the other is not capped.
    assert loop.amps() == {"three": 10, "one": 10, "free": 16}
    assert decision.chargers["three"].reason is Reason.PROFILE_LIMIT
    assert decision.chargers["three"].detail == "limited by its charging profile (three)"
    assert decision.chargers["one"].reason is Reason.PROFILE_LIMIT


def test_the_fuse_still_wins_over_a_generous_slot() -> None:
    chargers = (ChargerConfig(id="a", group_id="main", profile_power_w=22_000.0),)
    loop = Loop(one_group_site(16.0, chargers), cars={"a": Car()})
    decision = loop.run(60)
    assert loop.amps() == {"a": 16}
    assert decision.chargers["a"].reason is Reason.GROUP_FUSE


def test_a_slot_of_zero_stops_the_charger_and_a_negative_one_is_refused() -> None:
    chargers = (ChargerConfig(id="a", group_id="main", profile_power_w=0.0),)
    loop = Loop(one_group_site(32.0, chargers), cars={"a": Car()})
    loop.run(60)
    assert loop.amps() == {"a": 0}
    with pytest.raises(ValueError, match="profile"):
        SiteConfig(
            groups=one_group_site(32.0).groups,
            chargers=(ChargerConfig(id="a", group_id="main", profile_power_w=-1.0),),
        )


@pytest.mark.parametrize(
    ("measured_v", "amps"),
    [
        (None, 16),  # 3680 W at the nominal 230 V: 16 A
        (245.0, 15),  # measured: 3680 W / 245 V = 15.0 A
        (215.0, 17),  # 3680 W / 215 V = 17.1 A (low voltage: more current, the same power)
        (300.0, 16),  # not a plausible voltage (over 10 % off): nominal
        (190.0, 16),
    ],
)
def test_a_slot_and_a_group_power_are_turned_into_amps_at_the_measured_voltage(
    measured_v: float | None, amps: int
) -> None:
    profiled = ChargerConfig(
        id="a", group_id="main", wiring=Wiring.ONE_PHASE, profile_power_w=3680.0
    )
    loop = Loop(one_group_site(63.0, (profiled,)), cars={"a": Car(phases=frozenset({Phase.L1}))})
    loop.voltage_v = measured_v
    decision = loop.run(60)
    assert loop.amps() == {"a": amps}
    assert decision.chargers["a"].reason is Reason.PROFILE_LIMIT

    capped = replace(one_group_site(63.0).groups[0], max_power_w=3680.0)
    free = ChargerConfig(id="a", group_id="main", wiring=Wiring.ONE_PHASE, max_current=32)
    loop = Loop(
        SiteConfig(groups=(capped,), chargers=(free,)),
        cars={"a": Car(phases=frozenset({Phase.L1}), max_current=32.0)},
    )
    loop.voltage_v = measured_v
    loop.run(60)
    assert loop.amps() == {"a": amps}
