"""What a stopped Home Assistant would leave: chargers at what they hold, against the fuses."""

from __future__ import annotations

from custom_components.powershare.balancing.unattended import Held, unattended_overloads
from custom_components.powershare.engine import ChargerConfig, GroupConfig, SiteConfig, Wiring
from custom_components.powershare.engine.topology import Topology


def _site() -> SiteConfig:
    return SiteConfig(
        groups=(
            GroupConfig(id="main", fuse=(40.0, 40.0, 40.0)),
            GroupConfig(id="garage", fuse=(20.0, 20.0, 20.0), parent_id="main"),
        ),
        chargers=(
            ChargerConfig(id="ocpp", group_id="garage"),
            ChargerConfig(id="teltocharge", group_id="garage"),
            ChargerConfig(id="single", group_id="main", wiring=Wiring.ONE_PHASE),
        ),
    )


def test_a_last_limit_with_the_others_failsafe_over_a_fuse_is_found() -> None:
    # The OCPP charger keeps its 16 A, the paused TeltoCharge's watchdog gives it 6 A: 22 A on
    # a 20 A fuse.
    held = {
        "ocpp": Held(16, watchdog=False),
        "teltocharge": Held(6, watchdog=True),
        "single": Held(0, watchdog=False),
    }
    found = unattended_overloads(Topology(_site()), held)
    assert set(found) == {"garage"}
    assert found["garage"].chargers == ("ocpp",)
    assert (found["garage"].amps, found["garage"].fuse) == (22.0, 20.0)


def test_within_the_fuse_or_all_with_a_watchdog_is_not() -> None:
    assert unattended_overloads(Topology(_site()), {"ocpp": Held(14, watchdog=False)}) == {}
    # Only watchdogs over the fuse: their failsafe is the user's setting, not a last limit.
    watchdogs = {"ocpp": Held(16, watchdog=True), "teltocharge": Held(16, watchdog=True)}
    assert unattended_overloads(Topology(_site()), watchdogs) == {}


def test_a_single_phase_charger_counts_on_its_one_line() -> None:
    held = {"single": Held(32, watchdog=False), "ocpp": Held(10, watchdog=False)}
    found = unattended_overloads(Topology(_site()), held)
    assert set(found) == {"main"}  # L1: 32 + 10 on 40 A; the garage holds 10 on 20 A
    assert found["main"].line == 0
    assert found["main"].amps == 42.0
