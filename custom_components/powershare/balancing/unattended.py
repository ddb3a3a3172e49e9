"""What the site would carry if Home Assistant stopped: every charger at what it would hold.

A charger with a watchdog falls back to its failsafe current; one without keeps the last limit
it was given (`apply.held_if_silent`). Where those currents alone exceed a group's fuse on a
line, and a charger without a watchdog is among them, a stopped Home Assistant could trip that
fuse: the service raises a repair naming the group and those chargers. (The house load is left
out: it is not known in advance; the chargers' share alone exceeding the fuse is certain.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.powershare.engine import PHASES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custom_components.powershare.engine.topology import Topology


@dataclass(frozen=True, slots=True)
class Held:
    """What one charger would hold if Home Assistant stopped."""

    amps: int
    watchdog: bool


@dataclass(frozen=True, slots=True)
class UnattendedOverload:
    """A group whose fuse the held currents exceed, on its worst line."""

    group_id: str
    chargers: tuple[str, ...]
    """The chargers without a watchdog below it that hold a current."""
    line: int
    amps: float
    fuse: float


def unattended_overloads(
    topology: Topology, held: Mapping[str, Held]
) -> dict[str, UnattendedOverload]:
    """Return, by group id, the groups a stopped Home Assistant could overload.

    `topology` is the balancer's: its tree and wiring, indexed once per configuration.
    """
    found: dict[str, UnattendedOverload] = {}
    for group_index, group in enumerate(topology.groups):
        load = [0.0, 0.0, 0.0]
        unguarded: list[str] = []
        for index, charger in enumerate(topology.chargers):
            holds = held.get(charger.id)
            if (
                holds is None
                or group_index not in topology.ancestors[topology.charger_group[index]]
            ):
                continue
            for phase in topology.wired_phases[index]:
                load[phase] += holds.amps
            if not holds.watchdog and holds.amps > 0:
                unguarded.append(charger.id)
        worst = max(PHASES, key=lambda phase: load[phase] - group.fuse[phase])
        if unguarded and load[worst] > group.fuse[worst]:
            found[group.id] = UnattendedOverload(
                group.id, tuple(unguarded), int(worst), load[worst], group.fuse[worst]
            )
    return found
