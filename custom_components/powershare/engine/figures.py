"""The group figures of seed 003, per group and site phase, from the decisions.

- Meter: what the group's meter measures (+ import, - export), when fresh.
- Available: what is left for the chargers below: fuse - margin - non-EV load.
- Requested: what the chargers below want (their cap; nothing in mode off).
- Allocated: what they are given now.
- Usage: what they draw.

Each charger adds to its own group; each group then adds to its parent, children first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import ChargingMode, GroupFigures

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .loads import Currents, LoadEstimate
    from .model import ChargerDecision
    from .topology import Topology


def group_figures(
    topology: Topology,
    loads: LoadEstimate,
    decisions: Mapping[str, ChargerDecision],
    usage: Sequence[Currents],
) -> dict[str, GroupFigures]:
    """Return every group's figures (see the module docstring).

    `decisions` are in the chargers' order, as `Explainer.explain` makes them; `usage` is
    what the chargers below each group draw (`loads.subtree_sums`).
    """
    count = len(topology.groups)
    requested = [[0.0, 0.0, 0.0] for _ in range(count)]
    allocated = [[0.0, 0.0, 0.0] for _ in range(count)]
    off = ChargingMode.OFF
    for charger, group, decision in zip(
        topology.chargers, topology.charger_group, decisions.values(), strict=True
    ):
        wants = 0 if charger.mode is off else decision.requested
        given = decision.target_current
        if wants or given:
            wanted_row, given_row = requested[group], allocated[group]
            for phase in decision.site_phases:
                wanted_row[phase] += wants
                given_row[phase] += given
    for group in topology.bottom_up:  # children before parents
        parent = topology.parent[group]
        if parent is None:
            continue
        for sums in (requested, allocated):
            child, above = sums[group], sums[parent]
            for on in range(len(above)):
                above[on] += child[on]
    margin = topology.config.margin_a
    return {
        group.id: GroupFigures(
            group_id=group.id,
            meter=loads.meter[index],
            non_ev_load=loads.non_ev[index],
            available=_available(group.fuse, margin, loads.non_ev[index]),
            requested=_triple(requested[index]),
            allocated=_triple(allocated[index]),
            usage=usage[index],
            meter_stale=loads.stale[index],
        )
        for index, group in enumerate(topology.groups)
    }


def _available(fuse: Currents, margin: float, load: Currents) -> Currents:
    return (fuse[0] - margin - load[0], fuse[1] - margin - load[1], fuse[2] - margin - load[2])


def _triple(row: list[float]) -> Currents:
    return (row[0], row[1], row[2])
