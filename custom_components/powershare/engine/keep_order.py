"""The keep order: who keeps charging when not every car can have its minimum.

Highest priority first; then, so that no car starves, within each priority:

1. chargers running for less than a rotation period (`rotation_period_s`), the most
   recently started first (their turn has just begun);
2. paused ones that waited a full period, longest wait first;
3. chargers running for longer, shortest first;
4. recently paused ones, longest wait first;
5. chargers without a car.

Ties go by charger id, so the order is the same for the same state. A running car is thus
kept for a period, then yields to one that waited a period: paused and charging cars swap
every `rotation_period_s`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .memory import ChargerMemory
    from .topology import Topology

_CATEGORIES = 5  # per priority rank: the five places of the module docstring, numbered 0-4
_RUNNING, _WAITED, _RUNNING_LONG, _PAUSED, _NO_CAR = range(_CATEGORIES)


class KeepOrder(NamedTuple):
    """The keep order, and the turns the admission needs (`allocation.Admission`)."""

    position: list[int]
    """Per charger: its place (0 = the first to keep)."""
    waited: frozenset[int]
    """The chargers paused for a full rotation period (place 2 of the module docstring)."""
    running: frozenset[int]
    """The chargers charging now."""


def keep_order(
    topology: Topology, sessions: Sequence[ChargerMemory | None], now: float
) -> KeepOrder:
    """Return each charger's position in the keep order, and who waited or runs."""
    period = topology.config.tunables.rotation_period_s
    category = [0] * len(sessions)
    timing = [0.0] * len(sessions)
    waited_turn: list[int] = []
    running: list[int] = []
    for index, memory in enumerate(sessions):
        rank = topology.priority_rank[index] * _CATEGORIES
        if memory is None:
            category[index] = rank + _NO_CAR
        elif memory.target > 0 and memory.running_since is not None:
            running_for = now - memory.running_since
            category[index] = rank + (_RUNNING if running_for < period else _RUNNING_LONG)
            timing[index] = running_for
            running.append(index)
        else:
            paused_since = memory.paused_since if memory.paused_since is not None else now
            waited = now - paused_since
            if waited >= period:
                category[index] = rank + _WAITED
                waited_turn.append(index)
            else:
                category[index] = rank + _PAUSED
            timing[index] = -waited
    # Stable sorts from the least significant key up (id order, then timing, then category)
    # give the order of one sort on (category, timing, id) tuples, without the tuples.
    order = list(topology.id_order)
    order.sort(key=timing.__getitem__)
    order.sort(key=category.__getitem__)
    position = [0] * len(sessions)
    for place, index in enumerate(order):
        position[index] = place
    return KeepOrder(position, frozenset(waited_turn), frozenset(running))
