"""Cars that may be ramping up unseen: a charger read before the meters misses them.

A charger is read every 2 s and a meter every second, so the charger reading lined up with a
meter's (`ChargerState.measured_at`) can be up to 2 s older. A car raised to a higher current
shortly before is ramping meanwhile (IEC 61851-1 gives it seconds to follow, and cars take
them): the meter shows more than the reading explains. `loads.estimate_loads` takes that much
more, up to the current the car was given, to be the car and not the house.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loads import ZERO
from .model import PHASES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .loads import Currents
    from .memory import ChargerMemory
    from .model import Snapshot
    from .topology import Topology


def ramp_allowances(
    topology: Topology,
    snapshot: Snapshot,
    currents: Sequence[Currents],
    sessions: Mapping[str, ChargerMemory],
) -> list[Currents] | None:
    """Return, per charger, how much more than its reading it may draw at the meters' instant.

    Only a charger read before the meters (`ChargerState.measured_at`) whose current changed
    less than `obey_within_s` before them may be ramping, and only by those changes: from
    what it drew, or the lowest current those changes replaced if that is more, up to its
    current now, on the phases it was given. A car that draws less than it is offered is thus
    given no more than what its current rose by in that time, however often it changes.
    None when no charger may be ramping.
    """
    moment = snapshot.measured_at
    tunables = topology.config.tunables
    states = snapshot.chargers
    allowances: list[Currents] | None = None
    for index, charger in enumerate(topology.chargers):
        state = states.get(charger.id)
        memory = sessions.get(charger.id)
        if state is None or state.measured_at is None or state.measured_at >= moment:
            continue
        if memory is None:
            continue
        window = charger.follow_s(tunables)
        recent = [replaced for when, replaced in memory.replaced if moment - when < window]
        if not recent or memory.target <= min(recent):
            continue
        target, before, drawn = float(memory.target), float(min(recent)), currents[index]
        given = memory.site_phases
        allowance = (
            max(target - max(drawn[0], before), 0.0) if PHASES[0] in given else 0.0,
            max(target - max(drawn[1], before), 0.0) if PHASES[1] in given else 0.0,
            max(target - max(drawn[2], before), 0.0) if PHASES[2] in given else 0.0,
        )
        if allowance == ZERO:
            continue
        if allowances is None:
            allowances = [ZERO] * len(topology.chargers)
        allowances[index] = allowance
    return allowances
