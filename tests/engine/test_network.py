"""Sites on 3 x 230 V without neutral (Belgium, Norway): chargers between lines, line currents.

Each test holds the same site against the 3 x 400 V network with neutral where the two
differ, so a test cannot pass because the setting is ignored.
"""

from __future__ import annotations

import math

import pytest

from custom_components.powershare.engine import (
    Balancer,
    ChargerConfig,
    ChargerState,
    ChargingMode,
    Decision,
    GroupConfig,
    MeterReading,
    Network,
    Phase,
    PhaseRotation,
    SiteConfig,
    Snapshot,
    Wiring,
)

WITH_NEUTRAL = Network.THREE_PHASE_WITH_NEUTRAL
WITHOUT_NEUTRAL = Network.THREE_LINES_WITHOUT_NEUTRAL


def _site(
    network: Network,
    charger: ChargerConfig,
    *,
    fuse: float = 25.0,
    max_power_w: float | None = None,
) -> SiteConfig:
    root = GroupConfig(id="main", fuse=(fuse,) * 3, meter_id="m", max_power_w=max_power_w)
    return SiteConfig(groups=(root,), chargers=(charger,), network=network)


type Triple = tuple[float, float, float]


def _snapshot(now: float, meter: Triple, drawn: Triple) -> Snapshot:
    """The meter "m" and the charger "c", which reports `drawn` (per charger phase)."""
    return Snapshot(
        now=now,
        meters={"m": MeterReading(meter, now)},
        chargers={"c": ChargerState(connected=True, charging=True, currents=drawn)},
    )


def _step(config: SiteConfig, meter: Triple, drawn: Triple) -> Decision:
    """The first decision of a new balancer for the site."""
    return Balancer(config).step(_snapshot(100.0, meter, drawn))


ONE_PHASE_L2_L3 = ChargerConfig(
    id="c", group_id="main", wiring=Wiring.ONE_PHASE, rotation=PhaseRotation.L2L3L1
)
"""Its L1 on line L2 and its neutral terminal on line L3."""


def test_a_single_phase_charger_between_two_lines_is_limited_by_both() -> None:
    # The house takes 20 A on L3 only: 25 - 1 - 20 = 4 A there. Between L2 and L3 the car
    # gets nothing (less than its 6 A minimum); with a neutral it is on L2 alone and free.
    without = _step(_site(WITHOUT_NEUTRAL, ONE_PHASE_L2_L3), (0.0, 0.0, 20.0), (0.0,) * 3)
    with_neutral = _step(_site(WITH_NEUTRAL, ONE_PHASE_L2_L3), (0.0, 0.0, 20.0), (0.0,) * 3)
    verdict = without.chargers["c"]
    assert verdict.site_phases == (Phase.L2, Phase.L3)
    assert verdict.target_current == 0
    assert with_neutral.chargers["c"].target_current == 24


def test_its_current_is_subtracted_from_both_lines() -> None:
    # The charger is told its current, reports it on its L1, and the meter sees it on L2 and
    # on L3 beside a house of 3 A on L1: the house is 3 A on L1 and nothing on L2 or L3.
    # With a neutral the same readings leave the car's current as "house" on L3.
    for network, house in ((WITHOUT_NEUTRAL, (3.0, 0.0, 0.0)), (WITH_NEUTRAL, None)):
        balancer = Balancer(_site(network, ONE_PHASE_L2_L3))
        told = 0.0
        decision = None
        for now in (0.0, 2.0):
            decision = balancer.step(_snapshot(now, (3.0, told, told), (told, 0.0, 0.0)))
            told = float(decision.chargers["c"].target_current)
        assert decision is not None
        figure = decision.groups["main"].non_ev_load
        if house is not None:
            assert figure == pytest.approx(house)
        else:
            assert figure[2] > 5.0


def test_a_three_phase_charger_weighs_sqrt_3_times_230_w_per_amp_on_a_power_cap() -> None:
    # A 6.9 kW cap: 6900 / (sqrt(3) x 230) = 17.3 A without neutral, 6900 / 690 = 10 A with.
    three_phase = ChargerConfig(id="c", group_id="main")
    for network, expected in ((WITHOUT_NEUTRAL, 17), (WITH_NEUTRAL, 10)):
        site = _site(network, three_phase, fuse=63.0, max_power_w=6900.0)
        decision = _step(site, (0.0, 0.0, 0.0), (0.0,) * 3)
        assert decision.chargers["c"].target_current == expected, network


def test_a_three_phase_charger_does_not_free_lines_its_car_leaves_unmeasured() -> None:
    # A single-phase car on a three-phase charger: the charger measures its L1 only, but the
    # current returns on the line its neutral terminal is on. Without neutral all three lines
    # stay counted; with a neutral the car's one phase is learnt and the others freed.
    three_phase = ChargerConfig(id="c", group_id="main")
    for network, lines in ((WITHOUT_NEUTRAL, 3), (WITH_NEUTRAL, 1)):
        balancer = Balancer(_site(network, three_phase, fuse=40.0))
        decision = None
        for now in range(0, 60, 2):
            decision = balancer.step(_snapshot(float(now), (16.0, 0.0, 0.0), (16.0, 0.0, 0.0)))
        assert decision is not None
        assert len(decision.chargers["c"].site_phases) == lines, network


def test_the_surplus_without_neutral_is_never_overstated() -> None:
    # 10 A exported on L1 and on L3: between 2300 W (a load between two lines) and 2655 W
    # (balanced three-phase). Solar charging takes the lower figure.
    solar = ChargerConfig(
        id="c",
        group_id="main",
        wiring=Wiring.ONE_PHASE,
        rotation=PhaseRotation.L1L3L2,
        mode=ChargingMode.SOLAR,
    )
    decision = _step(_site(WITHOUT_NEUTRAL, solar), (-10.0, 0.0, -10.0), (0.0,) * 3)
    assert decision.surplus_w == pytest.approx(230.0 * 20.0 / 2.0)
    with_neutral = _step(_site(WITH_NEUTRAL, solar), (-10.0, 0.0, -10.0), (0.0,) * 3)
    assert with_neutral.surplus_w == pytest.approx(230.0 * 20.0)
    assert math.isclose(230.0 * math.sqrt(3.0) * 20.0 / 3.0, 2655.8, rel_tol=1e-3)


def test_phase_switching_is_off_without_neutral() -> None:
    switching = ChargerConfig(id="c", group_id="main", can_switch_phases=True)
    assert Balancer(_site(WITHOUT_NEUTRAL, switching)).topology.switchable == [False]
    assert Balancer(_site(WITH_NEUTRAL, switching)).topology.switchable == [True]


def test_a_single_phase_network_refuses_a_three_phase_charger() -> None:
    with pytest.raises(ValueError, match="three-phase on a single-phase network"):
        _site(Network.SINGLE_PHASE, ChargerConfig(id="c", group_id="main"))


def test_solar_starts_a_charger_between_two_lines_on_its_own_power() -> None:
    # 8 A exported on L1 and on L3: 1840 W at the lower estimate, 8 A at 230 V. A charger
    # between L1 and L3 draws 230 W per amp: its 6 A minimum (1380 W) fits, and it starts
    # after the solar start delay. Before, its two lines made it wait for twice the surplus.
    solar = ChargerConfig(
        id="c",
        group_id="main",
        wiring=Wiring.ONE_PHASE,
        rotation=PhaseRotation.L1L3L2,
        mode=ChargingMode.SOLAR,
    )
    balancer = Balancer(_site(WITHOUT_NEUTRAL, solar))
    told = 0.0
    decision = None
    for now in range(0, 120, 2):
        meter = (-8.0 + told, 0.0, -8.0 + told)
        decision = balancer.step(_snapshot(float(now), meter, (told, 0.0, 0.0)))
        told = float(decision.chargers["c"].target_current)
    assert decision is not None
    assert decision.chargers["c"].target_current >= 6
