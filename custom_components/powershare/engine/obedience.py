"""Obedience: a charger that draws more than it was told is out of control until it obeys.

A charger is told a current on the site phases it was given: its target, or 0 when it has
none (no car seen, mode off, never commanded, told to pause). It obeys while it draws at most
that plus `idle_current_a` on each of those phases, and at most `idle_current_a` on the others.

- A car needs time to follow a lower current: IEC 61851-1 gives it 5 s after the pilot changes,
  and the charger and the readings add their own delays (`obey_within_s`). So a charger drawing
  more than told is out of control once `obey_within_s` passed since it was first told less
  after the last reading that showed it obeying once that time was over; at once when it was
  not told less at all (it raised its own draw). Further cuts meanwhile give it no more time:
  a car lagging behind a series of cuts is counted after `obey_within_s` like one that ignores
  them. A reading that shows it obeying within that time does not end it: a car told to start
  and at once to stop may still start, late, at the first current (a charger driven through
  its integration takes seconds), and that is following, not raising its own draw. A higher
  current needs no time: drawing less is always obedient.
- Out of control lasts until a reading shows the charger obeying again: a car that ignores
  every command stays counted through every turn of the rotation.
- While out of control, all of its draw counts as load nobody controls, in every group above
  it, whatever the meters there measure (`loads.estimate_loads`): under a meter that includes
  it, under a house-only meter, and in a group without a meter alike.

The time to follow is counted up to when the currents were measured (`Snapshot.measured_at`),
not to now: a reading from before a cut shows the old current, and that is no disobedience.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loads import ZERO, on_phases
from .memory import Obedience

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .loads import Currents
    from .memory import BalancerState
    from .model import Snapshot
    from .topology import Topology


def check_obedience(
    topology: Topology, snapshot: Snapshot, currents: Sequence[Currents], state: BalancerState
) -> frozenset[int]:
    """Return the chargers out of control (see the module docstring); remembers who is."""
    tunables = topology.config.tunables
    tolerance = tunables.idle_current_a
    out: set[int] = set()
    for index, charger in enumerate(topology.chargers):
        reported = snapshot.chargers.get(charger.id)
        if reported is not None and reported.unresponsive:
            out.add(index)  # its maximum counts until it answers (`ChargerState.unresponsive`)
            continue
        follow_until = snapshot.measured_at - charger.follow_s(tunables)
        record = state.obedience.get(charger.id)
        drawn = currents[index]
        if record is None:
            if max(drawn) <= tolerance:
                continue  # told nothing, draws nothing: nothing to remember
            record = state.obedience[charger.id] = Obedience()
        memory = state.chargers.get(charger.id)
        allowed = ZERO if memory is None else on_phases(float(memory.target), memory.site_phases)
        told_less = any(now < was for now, was in zip(allowed, record.allowed, strict=True))
        if told_less and record.told_less_at is None:
            changed_at = memory.last_change if memory is not None else None
            record.told_less_at = snapshot.now if changed_at is None else changed_at
        record.allowed = allowed
        if all(amps <= told + tolerance for amps, told in zip(drawn, allowed, strict=True)):
            record.out_of_control = False
            if record.told_less_at is not None and record.told_less_at < follow_until:
                record.told_less_at = None  # its time to follow is over: the cut is done
        else:
            cut = record.told_less_at
            record.out_of_control = cut is None or cut < follow_until
        if record.out_of_control:
            out.add(index)
    return frozenset(out)
