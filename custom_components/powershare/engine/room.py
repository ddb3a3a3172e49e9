"""The room the chargers share: one allocator limit per fuse and phase, power cap, and surplus.

- Fuse: for every group and site phase, the chargers below that draw on the phase may take
  at most fuse - margin - non-EV load.
- Power cap: a group's maximum power, in amps at the measured voltage (nominal when none is
  measured, or not within 10 % of nominal), less its non-EV load; a charger loads it by its
  current times the phases it uses.
- Charging profile: a charger's slot in force, in amps at the same voltage; only that charger
  loads it, by its current times the phases it uses.
- Peak budget (a capacity tariff): the average power the whole site may still import in this
  window, in amps at nominal voltage, less the root's non-EV load (or the house's recent high,
  if more); loaded like a power cap.
- Solar budget: export at the root - reserve + import allowance, in amps at nominal voltage.
  Every charger loads it, but it is enforced only on the surplus tiers (from the tier after
  the last priority), so what fast charging takes is no longer surplus.

A limit is known to the user by its label (`Topology.limit_labels`); its kind decides the
reason shown to the chargers it stops (`Topology.limit_reasons`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .allocation import CAPPED, Limit
from .loads import ZERO
from .model import PHASES, Phase
from .network import load_power_amps
from .topology import LimitKind

if TYPE_CHECKING:
    from .loads import LoadEstimate
    from .topology import Topology


NO_BUDGET_A = 1e9
"""The peak limit's capacity in a cycle without a budget: more than any site draws."""


class Room:
    """Makes each cycle's limits (`limits`) for one configuration.

    A group with no meter at it or below it has no non-EV load (`loads`) unless a charger below
    it is out of control: the room on its fuse is the fuse less the margin, cycle after cycle,
    so its limits are made once here. In a building most groups are such sub-groups.
    """

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        margin = topology.config.margin_a
        self._fuses = [
            (index, group, phase) for index, group in enumerate(topology.groups) for phase in PHASES
        ]
        """Every fuse limit, in limit order: its group's index and config, and its phase."""
        self._fixed = [
            Limit(group.fuse[phase] - margin) if topology.unmetered[index] else None
            for index, group, phase in self._fuses
        ]

    def limits(
        self,
        loads: LoadEstimate,
        peak_power_w: float | None = None,
        peak_house_w: float | None = None,
        power_voltage: float | None = None,
    ) -> list[Limit]:
        """Return every limit of this cycle, in `Topology.limit_keys` order.

        `peak_power_w` is the snapshot's peak budget (None: no budget this cycle), and
        `peak_house_w` the house's load to plan it with, when more than the non-EV load.
        `power_voltage` turns the user's power caps (a group's maximum power, a charging
        profile's slot) into currents: the measured voltage (`Snapshot.power_voltage`), or
        None for nominal.
        """
        topology = self.topology
        config = topology.config
        margin = config.margin_a
        non_ev = loads.non_ev
        limits = [
            fixed
            if fixed is not None and non_ev[index] == ZERO
            else Limit(group.fuse[phase] - margin - non_ev[index][phase])
            for (index, group, phase), fixed in zip(self._fuses, self._fixed, strict=True)
        ]
        for capped in topology.power_limit:
            max_power_w = topology.groups[capped].max_power_w or 0.0  # only capped groups here
            load = load_power_amps(config.network, sum(loads.non_ev[capped]))
            limits.append(Limit(max_power_w / (power_voltage or config.voltage) - load))
        for charger in topology.profile_limit:
            profile_w = topology.chargers[charger].profile_power_w or 0.0  # only with profiles
            limits.append(Limit(profile_w / (power_voltage or config.voltage)))
        if topology.peak_limit is not None:
            peak = NO_BUDGET_A
            if peak_power_w is not None:
                load = load_power_amps(config.network, sum(loads.non_ev[topology.root]))
                if peak_house_w is not None:
                    load = max(load, peak_house_w / config.voltage)
                peak = peak_power_w / config.voltage - load
            limits.append(Limit(peak))
        solar = 0.0
        if loads.surplus_w is not None:
            solar = (loads.surplus_w - config.solar_reserve_w + config.import_allowance_w) / (
                config.voltage
            )
        limits.append(Limit(solar, from_tier=topology.tier_count))
        return limits


def limit_place(topology: Topology, limit: int) -> tuple[str | None, Phase | None]:
    """Return the group id and site phase of a limit (None where it has none, or CAPPED)."""
    if limit == CAPPED:
        return None, None
    key = topology.limit_keys[limit]
    group = None if key.group is None else topology.groups[key.group].id
    return group, key.phase


def is_fuse(topology: Topology, limit: int) -> bool:
    """Whether a limit is a fuse on one phase (else it counts amps times phases)."""
    return topology.limit_keys[limit].kind is LimitKind.FUSE
