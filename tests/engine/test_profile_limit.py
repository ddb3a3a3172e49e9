"""A charging profile's slot caps one charger's power, by the phases it uses."""

from __future__ import annotations

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
