"""Properties of the balancer over random trees, rotations, loads, modes and cars."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.powershare.engine import (
    PHASES,
    Balancer,
    ChargerConfig,
    ChargerState,
    ChargingMode,
    Decision,
    GroupConfig,
    MeterReading,
    Network,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
    SiteConfig,
    Snapshot,
    Wiring,
)
from custom_components.powershare.engine.network import load_power_amps, power_amps
from simulators.lines import line_currents
from tests.engine.sim import Car, Loop

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Case:
    config: SiteConfig
    snapshots: list[Snapshot]


@st.composite
def cases(draw: st.DrawFn, *, fast_only: bool = False) -> Case:
    group_count = draw(st.integers(1, 5))
    parents: list[int | None] = [None]
    for index in range(1, group_count):
        parent: int | None = draw(st.integers(0, index - 1))
        # At most three levels.
        while parent is not None and _depth(parents, parent) >= 2:
            parent = parents[parent]
        parents.append(parent)
    groups = []
    for index, parent in enumerate(parents):
        metered = index == 0 or draw(st.booleans())
        groups.append(
            GroupConfig(
                id=f"g{index}",
                parent_id=None if parent is None else f"g{parent}",
                fuse=tuple(draw(st.integers(10, 80)) * 1.0 for _ in PHASES),  # type: ignore[arg-type]
                meter_id=f"m{index}" if metered else None,
                meter_includes_chargers=draw(st.booleans()) if index else True,
                max_power_w=draw(st.one_of(st.none(), st.integers(3000, 60000).map(float))),
            )
        )
    modes = [ChargingMode.FAST] if fast_only else list(ChargingMode)
    chargers = []
    for index in range(draw(st.integers(1, 8))):
        minimum = draw(st.integers(6, 8))
        chargers.append(
            ChargerConfig(
                id=f"c{index}",
                group_id=f"g{draw(st.integers(0, group_count - 1))}",
                rotation=draw(st.sampled_from(list(PhaseRotation))),
                wiring=draw(st.sampled_from(list(Wiring))),
                min_current=minimum,
                max_current=draw(st.integers(minimum, 32)),
                priority=0 if fast_only else draw(st.integers(0, 2)),
                mode=draw(st.sampled_from(modes)),
                phase_policy=draw(st.sampled_from(list(PhasePolicy))),
                can_switch_phases=draw(st.booleans()),
                user_limit=draw(st.one_of(st.none(), st.integers(0, 32))),
            )
        )
    config = SiteConfig(
        groups=tuple(groups),
        chargers=tuple(chargers),
        margin_a=draw(st.sampled_from([0.0, 1.0, 2.0])),
        import_allowance_w=draw(st.sampled_from([0.0, 1000.0])),
        # With a neutral, or without: single-phase chargers then load two lines.
        network=draw(
            st.sampled_from([Network.THREE_PHASE_WITH_NEUTRAL, Network.THREE_LINES_WITHOUT_NEUTRAL])
        ),
    )
    snapshots = []
    now = 0.0
    for _ in range(draw(st.integers(1, 4))):
        now += draw(st.sampled_from([1.0, 5.0, 30.0, 200.0]))
        meters = {
            group.meter_id: MeterReading(
                tuple(draw(st.integers(-40, 60)) * 1.0 for _ in PHASES),  # type: ignore[arg-type]
                now - draw(st.sampled_from([0.0, 0.0, 0.0, 20.0])),
            )
            for group in groups
            if group.meter_id is not None
        }
        states = {
            charger.id: ChargerState(
                connected=draw(st.booleans()),
                currents=tuple(draw(st.integers(0, 32)) * 1.0 for _ in PHASES),  # type: ignore[arg-type]
                car_phases=draw(
                    st.one_of(st.none(), st.frozensets(st.sampled_from(PHASES), min_size=1))
                ),
                max_current=draw(st.one_of(st.none(), st.integers(0, 32))),
            )
            for charger in chargers
        }
        snapshots.append(Snapshot(now=now, meters=meters, chargers=states))
    return Case(config, snapshots)


def _depth(parents: list[int | None], index: int) -> int:
    depth = 0
    parent = parents[index]
    while parent is not None:
        depth += 1
        parent = parents[parent]
    return depth


def run(case: Case) -> list[Decision]:
    balancer = Balancer(case.config)
    return [balancer.step(snapshot) for snapshot in case.snapshots]


def below(config: SiteConfig, charger: ChargerConfig, group_id: str) -> bool:
    parents = {group.id: group.parent_id for group in config.groups}
    current: str | None = charger.group_id
    while current is not None:
        if current == group_id:
            return True
        current = parents[current]
    return False


def wired_lines(config: SiteConfig, charger: ChargerConfig) -> tuple[Phase, ...]:
    """The lines a charger's current flows on, worked out here from the wiring."""
    first = charger.rotation.site_phase(Phase.L1)
    if charger.wiring is Wiring.THREE_PHASE:
        return PHASES
    if config.network is Network.THREE_LINES_WITHOUT_NEUTRAL:
        return tuple(sorted((first, charger.rotation.site_phase(Phase.L2))))
    return (first,)


def site_currents(config: SiteConfig, charger: ChargerConfig, state: ChargerState) -> list[float]:
    site = [0.0, 0.0, 0.0]
    if charger.wiring is Wiring.ONE_PHASE and config.network.without_neutral:
        for line in wired_lines(config, charger):  # L1 to its neutral terminal: two lines
            site[line] += state.currents[Phase.L1]
        return site
    for phase in PHASES:
        site[charger.rotation.site_phase(phase)] += state.currents[phase]
    return site


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(cases())
def test_safety_bounds_and_no_current_to_disconnected_chargers(case: Case) -> None:
    for snapshot, decision in zip(case.snapshots, run(case), strict=True):
        check_groups(case.config, snapshot, decision)
        check_chargers(case.config, snapshot, decision)


def independent_non_ev(
    config: SiteConfig, group: GroupConfig, snapshot: Snapshot
) -> list[float] | None:
    """A fresh meter minus the chargers below it, computed here without the engine."""
    reading = snapshot.meters.get(group.meter_id) if group.meter_id else None
    if reading is None or snapshot.now - reading.timestamp > 15.0:
        return None
    result = list(reading.currents)
    if group.meter_includes_chargers:
        for charger in config.chargers:
            if below(config, charger, group.id):
                state = snapshot.chargers[charger.id]
                for index, amps in enumerate(site_currents(config, charger, state)):
                    result[index] -= amps
    return result


def check_groups(config: SiteConfig, snapshot: Snapshot, decision: Decision) -> None:
    """For every group and site phase: allocated + non-EV load <= fuse - margin."""
    for group in config.groups:
        figures = decision.groups[group.id]
        allocated = [0.0, 0.0, 0.0]
        for charger in config.chargers:
            if below(config, charger, group.id):
                verdict = decision.chargers[charger.id]
                for phase in verdict.site_phases:
                    allocated[phase] += verdict.target_current
        independent = independent_non_ev(config, group, snapshot)
        if group.meter_id in decision.implausible_meters:
            independent = None  # not believed: the last believed reading stands in
        for phase in PHASES:
            room = group.fuse[phase] - config.margin_a - figures.non_ev_load[phase]
            assert allocated[phase] <= max(room, 0.0) + TOLERANCE
            assert figures.allocated[phase] == allocated[phase]
            if independent is not None:
                # The engine's estimate is never below what the meter says (conservative).
                assert figures.non_ev_load[phase] >= independent[phase] - TOLERANCE


def check_chargers(config: SiteConfig, snapshot: Snapshot, decision: Decision) -> None:
    """0 or [min, max], within every limit, nothing to a disconnected charger."""
    for charger in config.chargers:
        verdict = decision.chargers[charger.id]
        state = snapshot.chargers[charger.id]
        amps = verdict.target_current
        assert amps == 0 or charger.min_current <= amps <= charger.max_current
        assert amps <= verdict.requested
        assert amps <= min(charger.user_limit or 32, state.max_current or 32)
        if not state.connected or charger.mode is ChargingMode.OFF:
            assert amps == 0
        if charger.wiring is Wiring.ONE_PHASE:
            assert verdict.site_phases == wired_lines(config, charger)
        if config.network.without_neutral:
            # Every line the current flows on is counted, the unmeasured neutral side included.
            assert verdict.site_phases == wired_lines(config, charger)
        if verdict.reason is Reason.FAILSAFE_METER_STALE:
            assert amps <= config.tunables.failsafe_current_a


@PROPERTY_SETTINGS
@given(cases())
def test_same_input_same_output(case: Case) -> None:
    assert run(case) == run(case)


@PROPERTY_SETTINGS
@given(cases(fast_only=True))
def test_no_charger_below_another_on_its_own_bottleneck(case: Case) -> None:
    """Fairness at the first decision: equal priority, fast mode, same bottleneck.

    A charger limited by group X phase P has no less (continuous share) than any other
    charger drawing on P below X, unless that one was paused or is limited elsewhere first.
    """
    config = case.config
    decision = Balancer(config).step(case.snapshots[0])
    for charger in config.chargers:
        verdict = decision.chargers[charger.id]
        if verdict.reason is not Reason.GROUP_FUSE:
            continue
        assert verdict.limit_group is not None
        assert verdict.limit_phase is not None
        for other in config.chargers:
            other_verdict = decision.chargers[other.id]
            if (
                other.id != charger.id
                and below(config, other, verdict.limit_group)
                and verdict.limit_phase in other_verdict.site_phases
            ):
                assert other_verdict.share <= verdict.share + TOLERANCE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.randoms(use_true_random=False))
def test_closed_loop_physical_currents_stay_within_every_fuse(
    case: Case, rng: random.Random
) -> None:
    """Cars and loads change every cycle; what really flows after each decision stays safe.

    The house load seen at decision time, plus what the cars then draw (never more than their
    target), must fit every fuse minus the margin, on every phase.
    """
    config = case.config
    loop = Loop(config)
    for step in range(30):
        for charger in config.chargers:
            if rng.random() < 0.1 or step == 0:
                car = Car(
                    max_current=float(rng.choice([0, 10, 16, 32])),
                    phases=rng.choice([frozenset(PHASES), frozenset({Phase.L1})]),
                )
                loop.cars[charger.id] = car if rng.random() < 0.7 else Car(connected=False)
        for group in config.groups:
            if group.meter_id is not None and (step == 0 or rng.random() < 0.3):
                # Export is bounded by the fuse it flows through (more is not believed).
                loop.base[group.meter_id] = (
                    rng.uniform(-min(20, group.fuse[0]), 30),
                    rng.uniform(-min(20, group.fuse[1]), 30),
                    rng.uniform(-min(20, group.fuse[2]), 30),
                )
        loop.step()
        draws = loop.draws()
        for group in config.groups:
            flowing = _flowing(config, group, loop, draws)
            if flowing is None:
                continue
            for phase in PHASES:
                assert (
                    flowing[phase]
                    <= max(group.fuse[phase] - config.margin_a, _house(loop, group)[phase])
                    + TOLERANCE
                )


def _house(loop: Loop, group: GroupConfig) -> tuple[float, float, float]:
    return loop.base.get(group.meter_id or "", (0.0, 0.0, 0.0))


def _flowing(
    config: SiteConfig, group: GroupConfig, loop: Loop, draws: dict[str, tuple[float, float, float]]
) -> list[float] | None:
    """House load plus car draws through a metered group's fuse (None without a meter)."""
    if group.meter_id is None:
        return None
    total = list(_house(loop, group))
    for charger in config.chargers:
        if below(config, charger, group.id):
            for index, amps in enumerate(
                line_currents(config.network, charger.rotation, draws[charger.id])
            ):
                total[index] += amps
    return total


@PROPERTY_SETTINGS
@given(
    cases(),
    st.lists(st.one_of(st.none(), st.integers(-5000, 40_000).map(float)), min_size=4, max_size=4),
)
def test_a_peak_budget_holds_and_the_fuses_still_win(
    case: Case, budgets: list[float | None]
) -> None:
    """The chargers' power stays within the budget less the house; every fuse still holds."""
    config = replace(case.config, peak_budget=True)
    balancer = Balancer(config)
    for seen, budget in zip(case.snapshots, budgets, strict=False):
        snapshot = replace(seen, peak_power_w=budget)
        decision = balancer.step(snapshot)
        check_groups(config, snapshot, decision)
        check_chargers(config, snapshot, decision)
        if budget is None:
            continue
        house = load_power_amps(config.network, sum(decision.groups["g0"].non_ev_load))
        cars = sum(
            power_amps(config.network, len(verdict.site_phases)) * verdict.target_current
            for verdict in decision.chargers.values()
        )
        assert cars <= max(budget / config.voltage - house, 0.0) + TOLERANCE
