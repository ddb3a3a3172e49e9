"""The virtual site: meters, chargers, cars and fuses in simulated time."""

from __future__ import annotations

import pytest

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerConfig,
    GroupConfig,
    Phase,
    PhaseRotation,
    SiteConfig,
    Wiring,
)
from simulators.car import Car, CarSpec, StepFunction
from simulators.site import Offer, PhaseProfile, Site, SumProfile, solar_day, switched

L1_ONLY = frozenset({Phase.L1})


def _config(*, includes: bool = True) -> SiteConfig:
    return SiteConfig(
        groups=(
            GroupConfig("main", (40.0, 40.0, 40.0), meter_id="main_meter"),
            GroupConfig(
                "garage",
                (20.0, 20.0, 20.0),
                parent_id="main",
                meter_id="garage_meter",
                meter_includes_chargers=includes,
            ),
        ),
        chargers=(
            ChargerConfig("straight", "garage"),
            ChargerConfig("rotated", "main", rotation=PhaseRotation.L2L3L1),
        ),
        margin_a=0.0,
    )


def test_profiles() -> None:
    steps = PhaseProfile(((0.0, (1.0, 2.0, 3.0)), (60.0, (4.0, 5.0, 6.0))))
    assert steps.at(-5) == (1.0, 2.0, 3.0)
    assert steps.at(59.9) == (1.0, 2.0, 3.0)
    assert steps.at(60) == (4.0, 5.0, 6.0)
    ramp = PhaseProfile(((0.0, (0.0, 0.0, 0.0)), (10.0, (10.0, 20.0, 30.0))), interpolate=True)
    assert ramp.at(5) == (5.0, 10.0, 15.0)
    assert ramp.at(50) == (10.0, 20.0, 30.0)
    oven = switched((10.0, 0.0, 0.0), [(100.0, 200.0), (0.0, 50.0)])
    assert [oven.at(t)[0] for t in (0, 49, 50, 100, 199, 200)] == [10, 10, 0, 10, 10, 0]
    total = SumProfile((steps, oven))
    assert total.at(0) == (11.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="overlap"):
        switched((1.0, 1.0, 1.0), [(0.0, 100.0), (50.0, 150.0)])
    with pytest.raises(ValueError, match="increase"):
        PhaseProfile(((10.0, (0.0, 0.0, 0.0)), (5.0, (0.0, 0.0, 0.0))))


def test_solar_day_is_zero_at_night_and_peaks_at_noon() -> None:
    sun = solar_day(8.0, 6 * 3600, 20 * 3600, clouds=[(12 * 3600, 12.5 * 3600, 0.5)])
    assert sun.at(3 * 3600) == (0.0, 0.0, 0.0)
    assert sun.at(22 * 3600) == (0.0, 0.0, 0.0)
    assert sun.at(13 * 3600)[0] == pytest.approx(8.0, abs=0.01)
    assert sun.at(12 * 3600 + 600)[0] < 4.1


def test_car_follows_its_charger() -> None:
    car = Car(CarSpec("car", "c", 0.0, accepts=StepFunction(((0.0, 16.0), (100.0, 32.0)))))
    car.follow(20, PHASES, 0.0, 2.0)
    assert car.drawn == 4.0  # ramps at 2 A/s
    for step in range(5):
        car.follow(20, PHASES, 2.0 + 2 * step, 2.0)
    assert car.drawn == 16.0  # what it accepts
    car.follow(20, PHASES, 100.0, 2.0)
    assert car.drawn == 20.0
    car.follow(10, PHASES, 102.0, 2.0)
    assert car.drawn == 10.0  # a decrease is followed at once
    car.follow(5, PHASES, 104.0, 2.0)
    assert car.drawn == 0.0  # under 6 A a car does not charge
    assert car.charger_currents() == (0.0, 0.0, 0.0)


def test_one_phase_car_draws_only_where_it_can_and_a_full_car_stops() -> None:
    car = Car(CarSpec("car", "c", 0.0, phases=L1_ONLY, energy_wh=10.0, ramp_a_per_s=100.0))
    car.follow(16, PHASES, 0.0, 1.0)
    assert car.charger_currents() == (16.0, 0.0, 0.0)
    car.follow(16, (Phase.L2, Phase.L3), 1.0, 1.0)
    assert car.drawn == 0.0  # no power on its only pin
    car.energy_wh = 10.0
    car.follow(16, PHASES, 2.0, 1.0)
    assert car.full
    assert car.drawn == 0.0


def test_one_phase_mode_feeds_the_chosen_phase_to_every_car() -> None:
    one_phase_car = Car(CarSpec("a", "c", 0.0, phases=L1_ONLY, ramp_a_per_s=100.0))
    three_phase_car = Car(CarSpec("b", "c", 0.0, ramp_a_per_s=100.0))
    for car in (one_phase_car, three_phase_car):
        car.follow(10, (Phase.L2,), 0.0, 1.0)
        assert car.charger_currents() == (0.0, 10.0, 0.0)
    two_pin_car = Car(CarSpec("c", "c", 0.0, phases=frozenset({Phase.L2}), ramp_a_per_s=100.0))
    two_pin_car.follow(10, (Phase.L3,), 0.0, 1.0)
    assert two_pin_car.drawn == 0.0  # a car without pin L1 cannot charge on one phase


def test_car_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="leaves before"):
        CarSpec("car", "c", 100.0, leave=50.0)
    with pytest.raises(ValueError, match="phase"):
        CarSpec("car", "c", 0.0, phases=frozenset())
    with pytest.raises(ValueError, match="at least one point"):
        StepFunction(())


def _site(*, includes: bool = True) -> Site:
    cars = [
        CarSpec("one_phase", "rotated", 0.0, phases=L1_ONLY, ramp_a_per_s=100.0),
        CarSpec("three_phase", "straight", 0.0, ramp_a_per_s=100.0),
    ]
    return Site(
        _config(includes=includes),
        cars,
        loads={
            "main": PhaseProfile.constant((5.0, 6.0, 7.0)),
            "garage": PhaseProfile.constant((1.0, 1.0, 1.0)),
        },
        solar={"main": PhaseProfile.constant((2.0, 2.0, 2.0))},
    )


def test_meters_see_their_subtree_and_rotation() -> None:
    site = _site()
    site.set_offers({"rotated": Offer(10, PHASES), "straight": Offer(8, PHASES)})
    site.advance(1.0)
    currents = site.charger_site_currents()
    # The rotated charger's L1 is on site L2: the one-phase car loads site L2.
    assert currents["rotated"] == (0.0, 10.0, 0.0)
    assert currents["straight"] == (8.0, 8.0, 8.0)
    meters = site.meter_currents()
    assert meters["garage_meter"] == (9.0, 9.0, 9.0)
    assert meters["main_meter"] == (5 - 2 + 1 + 8, 6 - 2 + 1 + 8 + 10, 7 - 2 + 1 + 8)


def test_a_meter_that_excludes_the_chargers_sees_only_the_rest() -> None:
    site = _site(includes=False)
    site.set_offers({"straight": Offer(8, PHASES)})
    site.advance(1.0)
    assert site.meter_currents()["garage_meter"] == (1.0, 1.0, 1.0)


def test_snapshot_reports_chargers_on_their_own_phases() -> None:
    site = _site()
    site.set_offers({"rotated": Offer(10, PHASES)})
    site.advance(1.0)
    snapshot = site.snapshot()
    assert snapshot.now == 1.0
    rotated = snapshot.chargers["rotated"]
    assert rotated.connected
    assert rotated.charging
    assert rotated.currents == (10.0, 0.0, 0.0)  # charger phases, as a charger reports
    assert rotated.car_phases is None
    assert snapshot.meters["main_meter"].timestamp == 1.0


def test_silent_meter_keeps_its_last_reading() -> None:
    config = _config()
    site = Site(config, [], silences={"garage": [(10.0, 20.0)]})
    site.now = 5.0
    assert site.snapshot().meters["garage_meter"].timestamp == 5.0
    site.now = 15.0
    snapshot = site.snapshot()
    assert snapshot.meters["garage_meter"].timestamp == 5.0
    assert snapshot.meters["main_meter"].timestamp == 15.0
    site.now = 20.0
    assert site.snapshot().meters["garage_meter"].timestamp == 20.0


def test_overload_is_counted_per_fuse_and_phase() -> None:
    site = _site()
    site.set_offers({"straight": Offer(25, PHASES)})
    report = site.advance(2.0)
    # garage: 25 + 1 on a 20 A fuse, every phase: 6 A over for 2 s on three phases.
    assert {(group, phase) for group, phase, _ in report.overloaded} == {
        ("garage", phase) for phase in PHASES
    }
    assert report.sustained_overload_as == pytest.approx(3 * 6.0 * 2.0)
    assert report.reaction_overload_as == 0.0  # before the command nothing flowed
    site.set_offers({"straight": Offer(10, PHASES)})
    report = site.advance(2.0)
    assert report.reaction_overload_as == pytest.approx(3 * 6.0 * 2.0)
    assert report.sustained_overload_as == 0.0
    assert site.totals.sustained_overload_as == pytest.approx(36.0)


def test_energy_commands_starts_and_stops() -> None:
    site = _site()
    site.set_offers({"straight": Offer(10, PHASES)})
    site.set_offers({"straight": Offer(10, PHASES)})  # unchanged: no command
    site.advance(3600.0)
    assert site.totals.ev_wh == pytest.approx(3 * 10 * 230)
    site.set_offers({"straight": Offer(0, PHASES)})
    site.advance(1.0)
    totals = site.totals
    assert totals.commands == 2
    assert totals.starts == {"three_phase": 1}
    assert totals.stops == {"three_phase": 1}
    assert totals.draw_starts == {"three_phase": 1}
    assert totals.solar_wh == pytest.approx(6 * 230 * 3601 / 3600)


def test_site_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown group attic"):
        Site(_config(), [], loads={"attic": PhaseProfile.constant((1.0, 1.0, 1.0))})
    with pytest.raises(ValueError, match="unknown charger"):
        Site(_config(), [CarSpec("car", "nowhere", 0.0)])
    with pytest.raises(ValueError, match="positive"):
        Site(_config(), []).advance(0.0)


def test_closed_loop_with_the_engine_keeps_the_fuses() -> None:
    config = SiteConfig(
        groups=(GroupConfig("main", (25.0, 25.0, 25.0), meter_id="m"),),
        chargers=(
            ChargerConfig("a", "main"),
            ChargerConfig("b", "main", wiring=Wiring.ONE_PHASE),
        ),
    )
    oven = switched((15.0, 0.0, 0.0), [(60.0, 180.0)])
    site = Site(
        config,
        [CarSpec("car_a", "a", 0.0), CarSpec("car_b", "b", 10.0, phases=L1_ONLY)],
        loads={"main": oven},
    )
    balancer = Balancer(config)
    for _ in range(150):
        site.apply(balancer.step(site.snapshot()))
        site.advance(2.0)
    assert site.totals.sustained_overload_as == 0.0
    assert site.totals.reaction_overload_as > 0.0  # the oven switching on
    assert site.totals.ev_wh > 0.0
