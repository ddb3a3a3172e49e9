"""What a kind of charger can do shapes the engine: slow chargers, rate limits, silence.

`ChargerConfig.response_s` and `min_write_interval_s` come from the charger's capabilities
(a cloud service that polls, that rate-limits); `ChargerState.unresponsive` from a charger
without a watchdog that does not answer. Each rule changes nothing for a charger without them
(the golden traces stay as they were).
"""

from __future__ import annotations

from custom_components.powershare.engine import (
    Balancer,
    ChargerConfig,
    ChargerState,
    GroupConfig,
    MeterReading,
    Reason,
    SiteConfig,
    Snapshot,
    Tunables,
    Wiring,
)
from tests.engine.sim import Car, Loop, one_group_site


def test_increases_of_a_rate_limited_charger_wait_its_interval_decreases_do_not() -> None:
    chargers = (
        ChargerConfig(id="fast", group_id="main"),
        ChargerConfig(id="cloud", group_id="main", min_write_interval_s=60.0),
    )
    loop = Loop(one_group_site(40.0, chargers), cars={"fast": Car(), "cloud": Car()})
    loop.base["m"] = (20.0, 20.0, 20.0)
    loop.run(120)
    assert loop.amps() == {"fast": 10, "cloud": 10}
    # A rise of the house load cuts both at once: decreases never wait.
    loop.base["m"] = (24.0, 24.0, 24.0)
    decision = loop.step()
    assert decision.chargers["cloud"].changed
    assert loop.amps() == {"fast": 8, "cloud": 8}
    # It drops again 15 s later: the local charger rises after the site's 10 s, the cloud
    # one waits for its 60 s since its last change.
    loop.run(15)
    loop.base["m"] = (20.0, 20.0, 20.0)
    loop.run(10)
    assert loop.amps()["fast"] == 10
    assert loop.amps()["cloud"] == 8
    assert loop.last is not None
    assert loop.last.chargers["cloud"].reason is Reason.PACED
    loop.run(40)
    assert loop.amps()["cloud"] == 10


def _ignoring_pair(response_s: float) -> Loop:
    chargers = (
        ChargerConfig(id="local", group_id="main"),
        ChargerConfig(id="slow", group_id="main", response_s=response_s),
    )
    loop = Loop(one_group_site(40.0, chargers), cars={"local": Car(), "slow": Car()})
    loop.step_s = 2.0
    loop.run(30)
    assert loop.amps() == {"local": 20, "slow": 20}
    # Both are cut by a house load and neither follows (a car that ignores the cut).
    loop.cars["local"].ignores_at = 20.0
    loop.cars["slow"].ignores_at = 20.0
    loop.base["m"] = (10.0, 10.0, 10.0)
    return loop


def _counted_from(loop: Loop) -> dict[str, float]:
    """Run a minute; return when each charger was first counted out of control (from the cut)."""
    cut = loop.now
    seen: dict[str, float] = {}
    for _ in range(30):
        decision = loop.step()
        for charger_id in decision.out_of_control:
            seen.setdefault(charger_id, loop.now - cut)
    return seen


def test_a_slow_charger_has_its_response_time_to_follow_a_cut() -> None:
    seen = _counted_from(_ignoring_pair(response_s=30.0))
    # The local charger is out of control after the site's 10 s; the slow one after its 30 s.
    assert 10.0 < seen["local"] <= 14.0
    assert 30.0 < seen["slow"] <= 34.0


def test_without_a_response_time_both_are_counted_together() -> None:
    seen = _counted_from(_ignoring_pair(response_s=0.0))
    assert seen["slow"] == seen["local"]


def _garage(*, meter_includes_chargers: bool) -> SiteConfig:
    return SiteConfig(
        groups=(
            GroupConfig(id="main", fuse=(63.0, 63.0, 63.0), meter_id="m"),
            GroupConfig(
                id="garage",
                fuse=(32.0, 32.0, 32.0),
                parent_id="main",
                meter_id="g" if not meter_includes_chargers else None,
                meter_includes_chargers=False,
            ),
        ),
        chargers=(
            ChargerConfig(id="teltocharge", group_id="garage", max_current=32),
            ChargerConfig(id="silent", group_id="garage", max_current=16, wiring=Wiring.ONE_PHASE),
        ),
        margin_a=0.0,
        tunables=Tunables(increase_delay_s=0.0),
    )


def test_a_charger_that_does_not_answer_counts_at_its_maximum_where_no_meter_sees_it() -> None:
    # The garage's meter is on its house circuit only: nothing measures the chargers there.
    balancer = Balancer(_garage(meter_includes_chargers=False))
    decision = None
    for second in range(0, 20, 2):
        decision = balancer.step(
            Snapshot(
                now=float(second),
                meters={
                    "m": MeterReading((10.0, 10.0, 10.0), float(second)),
                    "g": MeterReading((0.0, 0.0, 0.0), float(second)),
                },
                chargers={
                    "teltocharge": ChargerState(connected=True, charging=True),
                    "silent": ChargerState(connected=False, unresponsive=True),
                },
            )
        )
    assert decision is not None
    # 16 A on L1 (its one wired phase) counts: the TeltoCharge gets 32 - 16 on three phases.
    assert decision.groups["garage"].non_ev_load == (16.0, 0.0, 0.0)
    assert decision.chargers["teltocharge"].target_current == 16
    assert decision.chargers["silent"].reason is Reason.UNRESPONSIVE
    assert decision.chargers["silent"].target_current == 0
    assert decision.out_of_control == ()  # not "draws more than told": it does not answer


def test_a_charger_that_answers_again_is_balanced_again() -> None:
    balancer = Balancer(_garage(meter_includes_chargers=False))
    meters = {"m": MeterReading((10.0, 10.0, 10.0), 0.0), "g": MeterReading((0.0,) * 3, 0.0)}
    silent = ChargerState(connected=False, unresponsive=True)
    answering = ChargerState(connected=True, charging=False)
    for second, state in ((0.0, silent), (2.0, answering), (4.0, answering)):
        stamped = {key: MeterReading(value.currents, second) for key, value in meters.items()}
        decision = balancer.step(
            Snapshot(
                now=second,
                meters=stamped,
                chargers={"teltocharge": ChargerState(connected=False), "silent": state},
            )
        )
    assert decision.groups["garage"].non_ev_load == (0.0, 0.0, 0.0)
    assert decision.chargers["silent"].target_current == 16
