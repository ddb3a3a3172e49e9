"""One phase or three: when a charger that can switch should.

Down to one phase (the site phase with the most headroom) when three phases cannot give the
minimum (the share is below min - `phase_down_threshold_a`) and one phase could, for
`phase_down_delay_s`. Back to three when three would give min + `phase_up_threshold_a` and
no less power, for `phase_up_delay_s`. A settle time after each switch
(`phase_switch_settle_s`) and at most `max_phase_switches_per_hour` keep it from oscillating;
before the first start of a session a switch is free, unless the charger draws already (its
car charged before its entry was added): then it waits like any other.

The phase policy can pin a charger: one phase (on the phase with the most headroom when it
first goes there) or three. A car known to draw on one phase is never moved up to three (it
would only be pinned to its plug's L1), but may move, like a switch down, to the one site
phase with room when its own cannot give its minimum. A car seen on two phases switches like a
three-phase one: one phase may carry its minimum when two cannot.

Both estimates read a fill of the chargers sharing: what is left on each limit (slack) plus
what the charger itself holds tells what it could get if it moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cars import site_phases
from .model import PHASE_COUNT, PHASES, ChargingMode, Phase, PhasePolicy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .allocation import Limit
    from .memory import ChargerMemory
    from .plan import Plan
    from .sharing import Shares
    from .topology import Topology

HOUR_S = 3600.0


def switch_phases(
    topology: Topology,
    plan: Plan,
    shares: Shares,
    room: Sequence[Limit],
    sessions: Sequence[ChargerMemory | None],
    now: float,
) -> Plan | None:
    """Return the plan with the chargers that switch on their new phases (None: none switch).

    Writes the phase memory of the chargers it considers: the wanted-since timers, and for
    those that switch `one_phase` and `switch_times` (their draw-less timer starts over).
    """
    moved: dict[int, tuple[Phase, ...]] = {}
    for index in plan.sharing:
        memory = sessions[index]
        if not topology.switchable[index] or memory is None:
            continue
        wanted = _wanted_phase(topology, index, memory, plan, shares, room, now)
        if wanted == memory.one_phase:
            continue
        memory.one_phase = wanted
        memory.switch_times.append(now)
        memory.phase_down_since = None
        memory.phase_up_since = None
        memory.drawless_since = None
        # The car's phases are kept: the car stays the same across switches while it is
        # connected (a one-phase car must not be "tried" on three phases again).
        moved[index] = site_phases(topology, index, memory)
    return plan.move(moved) if moved else None


def _wanted_phase(
    topology: Topology,
    index: int,
    memory: ChargerMemory,
    plan: Plan,
    shares: Shares,
    room: Sequence[Limit],
    now: float,
) -> Phase | None:
    """Return the site phase to charge on alone, or None for three phases."""
    charger = topology.chargers[index]
    if charger.phase_policy is PhasePolicy.THREE:
        return None
    solar = charger.mode is ChargingMode.SOLAR
    if charger.phase_policy is PhasePolicy.ONE:
        if memory.one_phase is not None:
            return memory.one_phase
        return best_phase(one_phase_headroom(topology, index, plan, shares, room, solar=solar))
    if memory.one_phase is None:
        return _wanted_down(topology, index, memory, plan, shares, room, now)
    return _wanted_up(topology, index, memory, shares, room, now)


def _wanted_down(
    topology: Topology,
    index: int,
    memory: ChargerMemory,
    plan: Plan,
    shares: Shares,
    room: Sequence[Limit],
    now: float,
) -> Phase | None:
    """On three phases: the phase to go to when three cannot give the minimum."""
    tunables = topology.config.tunables
    charger = topology.chargers[index]
    memory.phase_up_since = None
    if shares.total(index) >= charger.min_current - tunables.phase_down_threshold_a:
        memory.phase_down_since = None  # three phases give the minimum: nothing to do
        return None
    solar = charger.mode is ChargingMode.SOLAR
    headroom = one_phase_headroom(topology, index, plan, shares, room, solar=solar)
    best = best_phase(headroom)
    phases = plan.phases[index]
    if phases == (best,):
        # A one-phase car already on the best phase: one-phase mode would change nothing.
        memory.phase_down_since = None
        return None
    if headroom[best] < charger.min_current:
        memory.phase_down_since = None
        return None
    if memory.phase_down_since is None:
        memory.phase_down_since = now
    if _may_switch(topology, memory, memory.phase_down_since, tunables.phase_down_delay_s, now):
        return best
    return None


def _wanted_up(
    topology: Topology,
    index: int,
    memory: ChargerMemory,
    shares: Shares,
    room: Sequence[Limit],
    now: float,
) -> Phase | None:
    """On one phase: None (three phases) once three give min + threshold and more power."""
    tunables = topology.config.tunables
    charger = topology.chargers[index]
    phase = memory.one_phase
    assert phase is not None  # noqa: S101 - only called on one phase
    memory.phase_down_since = None
    if memory.one_phase_car:
        # Three-phase mode would give a one-phase car nothing more, only pin it to the
        # phase of its plug's L1 (the 18:55 switch of the reference home).
        memory.phase_up_since = None
        return phase
    share = shares.total(index)
    solar = charger.mode is ChargingMode.SOLAR
    level = three_phase_level(topology, index, share, phase, room, shares.fill.usage, solar=solar)
    if level < charger.min_current + tunables.phase_up_threshold_a or PHASE_COUNT * level < share:
        memory.phase_up_since = None
        return phase
    if memory.phase_up_since is None:
        memory.phase_up_since = now
    if _may_switch(topology, memory, memory.phase_up_since, tunables.phase_up_delay_s, now):
        return None
    return phase


def _may_switch(
    topology: Topology, memory: ChargerMemory, since: float, delay: float, now: float
) -> bool:
    """Return whether a switch wanted since `since` may happen now (see the docstring)."""
    tunables = topology.config.tunables
    memory.switch_times = [time for time in memory.switch_times if now - time < HOUR_S]
    if len(memory.switch_times) >= tunables.max_phase_switches_per_hour:
        return False
    if memory.switched_within(now, tunables.phase_switch_settle_s):
        return False
    # Before a session's first start nothing draws, so a switch costs nothing: no delay. A car
    # drawing without Powershare's start (its charger was added while it charged) waits.
    free = not memory.ever_started and not memory.drawing
    return free or now - since >= delay


def one_phase_headroom(
    topology: Topology,
    index: int,
    plan: Plan,
    shares: Shares,
    room: Sequence[Limit],
    *,
    solar: bool,
) -> dict[Phase, float]:
    """Estimate, per site phase, the current the charger could draw on that phase alone.

    It keeps its own share (freed from its other phases) plus the slack of every fuse above it
    on that phase; power caps and, for solar charging, the surplus are counted in phase-amps.
    """
    usage = shares.fill.usage
    share = shares.total(index)
    phases = plan.phases[index]
    # The lowest of the shared limits' slack (power caps, the surplus), plus what it frees.
    shared = min(
        (room[limit].capacity - usage[limit] for limit in topology.power_limits(index)),
        default=None,
    )
    if solar:
        surplus = room[topology.solar_limit].capacity - usage[topology.solar_limit]
        shared = surplus if shared is None else min(shared, surplus)
    freed = None if shared is None else shared + len(phases) * share
    headroom: dict[Phase, float] = {}
    for phase in PHASES:
        own = share if phase in phases else 0.0
        # min(own + slack) is own + min(slack): rounded addition is monotonic.
        fits = own + min(
            room[limit].capacity - usage[limit] for limit in topology.fuse_limits(index, phase)
        )
        headroom[phase] = fits if freed is None else min(fits, freed)
    return headroom


def three_phase_level(
    topology: Topology,
    index: int,
    share: float,
    phase: Phase,
    room: Sequence[Limit],
    usage: Sequence[float],
    *,
    solar: bool,
) -> float:
    """Estimate the per-phase current the charger, now on site `phase` alone, would get on 3."""

    def slack(limit: int) -> float:
        return room[limit].capacity - usage[limit]

    candidates = [(slack(limit) + share) / 3.0 for limit in topology.power_limits(index)]
    if solar:
        candidates.append((slack(topology.solar_limit) + share) / 3.0)
    for other in PHASES:
        own = share if other == phase else 0.0
        candidates.extend(own + slack(limit) for limit in topology.fuse_limits(index, other))
    return min(candidates)


def best_phase(headroom: dict[Phase, float]) -> Phase:
    """Return the phase with the most headroom (the lowest-numbered on ties)."""
    return max(PHASES, key=lambda phase: (headroom[phase], -phase))
