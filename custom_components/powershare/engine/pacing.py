"""Pacing: decreases at once, increases only into room that is already free.

A charger told to draw less may still draw its old current for `increase_delay_s`, or its own
response time when longer (cars ramp in a few seconds, meters report every 1-10 s, a cloud
charger follows in tens of seconds): that old current keeps counting on its limits until then
(`BalancerState.ramping_down`). An increase (a start included) goes ahead, in keep order, only
where it fits on top of everything else and those ramping-down currents, and not within
`increase_delay_s` of the charger's own last change, or its shortest write interval when
longer (a rate-limited charger); else it waits (`Paced.waiting`). A change of phases counts
as a decrease on the phases it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .allocation import EPSILON, whole_amp_usage
from .memory import RampDown

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .cycle import Cycle
    from .memory import BalancerState, ChargerMemory
    from .model import Phase
    from .topology import Topology


@dataclass(frozen=True, slots=True)
class Before:
    """Per charger: what it was told last cycle (a car that just left says 0 once)."""

    target: Sequence[int]
    phases: Sequence[tuple[Phase, ...]]


@dataclass(frozen=True, slots=True)
class Paced:
    """What pacing lets through: per charger the current to send now, and who waits."""

    targets: Sequence[int]
    changed: Sequence[bool]
    """A change of current, or of phases while charging: a command to send."""
    waiting: frozenset[int]


def told_before(
    topology: Topology, state: BalancerState, sessions: Sequence[ChargerMemory | None]
) -> Before:
    """Return what each charger was told last cycle, from its session (or the one just gone)."""
    targets: list[int] = []
    phases: list[tuple[Phase, ...]] = []
    for charger, memory in zip(topology.chargers, sessions, strict=True):
        told = memory if memory is not None else state.chargers.get(charger.id)
        targets.append(0 if told is None else told.target)
        phases.append(() if told is None else told.site_phases)
    return Before(targets, phases)


def pace(
    cycle: Cycle,
    state: BalancerState,
    amps: Sequence[int],
    phases: Sequence[tuple[Phase, ...]],
    before: Before,
) -> Paced:
    """Return the currents to send now (see the module docstring); records new ramp-downs."""
    topology, now, room = cycle.topology, cycle.now, cycle.room
    tunables = cycle.tunables
    targets = list(amps)
    waiting: set[int] = set()
    increasing: list[int] = []
    for index, charger in enumerate(topology.chargers):
        was, was_on = before.target[index], before.phases[index]
        wanted = amps[index]
        if wanted == was and (wanted == 0 or phases[index] == was_on):
            continue  # nothing changes
        if wanted < was or (was > 0 and phases[index] != was_on):
            state.ramping_down[charger.id] = RampDown(now + charger.settle_s(tunables), was, was_on)
            continue
        memory = cycle.sessions[index]
        if memory is None:
            continue
        targets[index] = was  # until it is shown to fit
        if memory.last_change is not None and now - memory.last_change < charger.increase_wait_s(
            tunables
        ):
            waiting.add(index)
        else:
            increasing.append(index)
    if increasing:
        usage = _usage_with_ramps(topology, state, len(room), targets, phases, now)
        solar = topology.solar_limit
        for index in sorted(increasing, key=cycle.keep_position.__getitem__):
            step = amps[index] - targets[index]
            terms = topology.terms(index, phases[index])
            if all(
                usage[limit] + coefficient * step <= room[limit].capacity + EPSILON
                for limit, coefficient in terms
                if limit != solar
            ):
                targets[index] = amps[index]
                for limit, coefficient in terms:
                    usage[limit] += coefficient * step
            else:
                waiting.add(index)
    changed = [
        target != was or (target > 0 and site_phases != was_on)
        for target, site_phases, was, was_on in zip(
            targets, phases, before.target, before.phases, strict=True
        )
    ]
    return Paced(targets, changed, frozenset(waiting))


def _usage_with_ramps(
    topology: Topology,
    state: BalancerState,
    count: int,
    targets: Sequence[int],
    phases: Sequence[tuple[Phase, ...]],
    now: float,
) -> list[float]:
    """Return each limit's load: the targets so far plus what ramping chargers still draw."""
    running = [index for index, target in enumerate(targets) if target]
    usage = whole_amp_usage(
        count,
        [topology.terms(index, phases[index]) for index in running],
        [targets[index] for index in running],
    )
    for charger_id, ramp in list(state.ramping_down.items()):
        found = topology.charger_index.get(charger_id)
        if ramp.until <= now or found is None:
            del state.ramping_down[charger_id]
            continue
        now_terms = dict(topology.terms(found, phases[found])) if targets[found] else {}
        for limit, coefficient in topology.terms(found, ramp.site_phases):
            extra = ramp.current * coefficient - targets[found] * now_terms.get(limit, 0.0)
            if extra > 0:
                usage[limit] += extra
    return usage
