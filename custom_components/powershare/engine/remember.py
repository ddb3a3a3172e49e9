"""Remembering what was decided: each session's target, when it changed, and who left.

A charger that starts is running since now (and has started in this session); one that
stops is paused since now; any command sent is its last change (and the targets the changes
of the last `obey_within_s` replaced are kept: `ChargerMemory.replaced`). The session of a charger
whose car left is forgotten (after its decision said 0 once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .memory import BalancerState, ChargerMemory
    from .model import Phase
    from .pacing import Paced
    from .topology import Topology


def remember(
    topology: Topology,
    state: BalancerState,
    sessions: Sequence[ChargerMemory | None],
    paced: Paced,
    phases: Sequence[tuple[Phase, ...]],
    now: float,
) -> None:
    """Write the decision into the sessions; forget the sessions that ended."""
    tunables = topology.config.tunables
    for index, charger in enumerate(topology.chargers):
        memory = sessions[index]
        if memory is None:
            state.chargers.pop(charger.id, None)
            continue
        target = paced.targets[index]
        if target > 0 and memory.target == 0:
            memory.running_since = now
            memory.paused_since = None
            memory.ever_started = True
        elif target == 0 and memory.target > 0:
            memory.paused_since = now
            memory.running_since = None
        if paced.changed[index]:
            window = charger.follow_s(tunables)
            memory.replaced = [
                *(change for change in memory.replaced if now - change[0] < window),
                (now, memory.target),
            ]
            memory.last_change = now
        memory.target = target
        memory.site_phases = phases[index]
