"""Non-EV load per group and phase, from the metering points, conservatively.

The non-EV load of a group is what its fuse carries besides the chargers under control:
the house (every device without a charger in it, solar as negative load) plus every charger
out of control below it (`obedience`), whatever the meters say of that charger.

The house part, for a group whose meter has a reading to believe:
- meter includes the chargers: house = meter - measured charger currents of the subtree
  (charger phases mapped to site phases through each charger's rotation);
- meter excludes them (house circuit only): house = meter;
- a charger read before the meter, whose car may still be ramping up to a current it was
  given less than `obey_within_s` earlier, may draw up to that current at the meter's instant
  (`ramps`): what the meter shows more, up to that, is taken to be the car, and the
  house figure stays at its last value unless the meter says otherwise whatever the car drew
  (with a static house, an increase is followed by no cut). A house load that rises during
  a ramp is seen once the charger's reading shows the car at its current, or once its
  current has not changed for `obey_within_s`;
- the figure used is the highest of the last `load_hold_s` seconds (a charger ramping up
  between the meter's and the charger's reading would otherwise look like the house load
  dropping).
The meter is the authority on its own group: export it measures (solar on that board) is
counted there, also when sub-meters below report load.

A group without a meter carries the house parts its metered sub-groups report (devices
connected directly to an unmetered group are invisible: give such a group a meter).

A reading not to believe is as if it never came (the last believed one stands in, and the
meter goes stale `meter_timeout_s` after that one was taken): a value that is NaN or infinite, or an
export beyond what the group's fuse can carry (`PLAUSIBLE_EXPORT`). A large import is
believed: it is bad news, not nonsense.

A stale meter (no believed reading for `meter_timeout_s`, none at all since start, or a meter
entry that is gone) keeps the larger of
its last fresh house figure and zero (solar may have gone while we could not see), and its
whole subtree is put on the failsafe share by the balancer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import PHASES
from .network import load_power_amps

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

    from .model import MeterReading, Snapshot
    from .topology import Topology

type Currents = tuple[float, float, float]
ZERO: Currents = (0.0, 0.0, 0.0)


PLAUSIBLE_EXPORT = 1.13
"""An export above this many times the group's fuse rating, on a phase, cannot be real: 1.13 is
the conventional non-tripping current of IEC 60898-1 breakers (and 1.25 of gG fuses is
close), so more would have opened the fuse the meter sits behind."""


@dataclass(slots=True)
class MeterMemory:
    """What the engine remembers of one metering point between cycles."""

    history: list[tuple[float, Currents]] = field(default_factory=list)
    """Recent (time, house figure) pairs, for the hold window."""
    last_fresh: Currents | None = None
    """The last house figure computed from a fresh reading."""
    believed: MeterReading | None = None
    """The last reading believed (stands in for one that is not)."""


@dataclass(frozen=True, slots=True)
class LoadEstimate:
    """The outcome for one cycle."""

    non_ev: tuple[Currents, ...]
    """Per group: the non-EV load per site phase used for its fuse."""
    meter: tuple[Currents | None, ...]
    """Per group: the fresh meter reading, None without a meter or when stale."""
    stale: tuple[bool, ...]
    """Per group: True when the group or one above it has a stale meter."""
    stale_meters: tuple[str, ...]
    """Meter ids without a fresh reading."""
    implausible_meters: tuple[str, ...]
    """Meter ids whose latest reading is not believed (NaN, infinite, an impossible export)."""
    surplus_w: float | None
    """Export at the root, in watts (negative when importing); None without a fresh root."""


def on_phases(amps: float, phases: Collection[int]) -> Currents:
    """Return `amps` on each of the site `phases`, nothing on the others."""
    return (
        amps if PHASES[0] in phases else 0.0,
        amps if PHASES[1] in phases else 0.0,
        amps if PHASES[2] in phases else 0.0,
    )


def charger_site_currents(topology: Topology, snapshot: Snapshot) -> list[Currents]:
    """Return each charger's measured current per SITE phase (zero when not reported).

    A single-phase charger between two lines (no neutral) reports its current as its L1's;
    it flows on both lines.
    """
    result: list[Currents] = []
    states = snapshot.chargers
    for index, (charger, on_site) in enumerate(
        zip(topology.chargers, topology.charger_phase_of, strict=True)
    ):
        state = states.get(charger.id)
        if state is None:
            result.append(ZERO)
            continue
        if state.unresponsive:
            # Nobody knows what it draws: the most it may, on every line it is wired to.
            result.append(on_phases(float(charger.max_current), topology.wired_phases[index]))
            continue
        currents = state.currents
        if topology.between_lines[index]:
            result.append(on_phases(currents[0], topology.wired_phases[index]))
            continue
        if on_site == PHASES:
            result.append(currents)
            continue
        # Site phase p carries the charger phase on_site[p] (rotations are permutations).
        result.append((currents[on_site[0]], currents[on_site[1]], currents[on_site[2]]))
    return result


def estimate_loads(
    topology: Topology,
    snapshot: Snapshot,
    charger_sum: Sequence[Currents],
    uncontrolled: Sequence[Currents] | None,
    memory: dict[str, MeterMemory],
    ramping: Sequence[Currents] | None = None,
) -> LoadEstimate:
    """Compute the non-EV load of every group (see the module docstring).

    `charger_sum` is, per group, what all the chargers below it draw; `uncontrolled` what
    those out of control draw, `ramping` how much more those ramping up may draw than their
    readings show (each None when there is nothing): `subtree_sums` of those currents.
    """
    config = topology.config
    tunables = config.tunables
    now = snapshot.now
    count = len(topology.groups)
    house: list[Currents] = [ZERO] * count
    meter_values: list[Currents | None] = [None] * count
    own_stale = [False] * count
    stale_meters: list[str] = []
    implausible: list[str] = []
    known = [False] * count  # whether a group's figure comes from at least one meter
    for group in topology.bottom_up:
        metered_children = [child for child in topology.children[group] if known[child]]
        below = _sum(house[child] for child in metered_children) if metered_children else None
        meter_id = topology.groups[group].meter_id
        if meter_id is None:
            if below is not None:
                house[group] = below
                known[group] = True
            continue
        known[group] = True
        meter_memory = memory.get(meter_id) or memory.setdefault(meter_id, MeterMemory())
        reading = snapshot.meters.get(meter_id)  # None: never answered, or removed
        if reading is not None and _refused(meter_memory, reading, topology.groups[group].fuse):
            implausible.append(meter_id)
            reading = meter_memory.believed
        if reading is None or now - reading.timestamp > tunables.meter_timeout_s:
            own_stale[group] = True
            stale_meters.append(meter_id)
            house[group] = _stale_load(meter_memory, below)
            continue
        meter_values[group] = reading.currents
        derived = reading.currents
        if topology.groups[group].meter_includes_chargers:
            derived = _sub(reading.currents, charger_sum[group])
            # Only at a meter read at the instant the chargers were lined up with (the newest
            # reading): a charger reading may be newer than an older meter's.
            lined_up = reading.timestamp >= snapshot.measured_at
            if ramping is not None and lined_up and meter_memory.last_fresh is not None:
                derived = _ramp_aware(derived, ramping[group], meter_memory.last_fresh)
        house[group] = _held_load(meter_memory, derived, now, tunables.load_hold_s)
    non_ev = house if uncontrolled is None else list(map(_add, house, uncontrolled))
    stale = [any(own_stale[above] for above in topology.ancestors[group]) for group in range(count)]
    root = topology.root
    surplus_w: float | None = None
    if topology.groups[root].meter_id is not None and not own_stale[root]:
        surplus_w = -config.voltage * load_power_amps(config.network, sum(non_ev[root]))
    return LoadEstimate(
        non_ev=tuple(non_ev),
        meter=tuple(meter_values),
        stale=tuple(stale),
        stale_meters=tuple(sorted(stale_meters)),
        implausible_meters=tuple(sorted(implausible)),
        surplus_w=surplus_w,
    )


def _refused(meter_memory: MeterMemory, reading: MeterReading, fuse: Currents) -> bool:
    """Remember a reading that can be real; return True for one that cannot."""
    if _believable(reading, fuse):
        meter_memory.believed = reading
        return False
    return True


def _believable(reading: MeterReading, fuse: Currents) -> bool:
    """Whether a reading can be real (see the module docstring)."""
    for value, rating in zip(reading.currents, fuse, strict=True):
        if not math.isfinite(value) or value < -PLAUSIBLE_EXPORT * rating:
            return False
    return math.isfinite(reading.timestamp)


def _stale_load(meter_memory: MeterMemory, below: Currents | None) -> Currents:
    """Return what a silent meter's group is taken to carry: its last load, at least zero.

    Solar may have gone while we could not see; a sub-meter that says more wins.
    """
    meter_memory.history.clear()
    assumed = _max(meter_memory.last_fresh or ZERO, ZERO)
    return assumed if below is None else _max(assumed, below)


def _held_load(meter_memory: MeterMemory, derived: Currents, now: float, hold_s: float) -> Currents:
    """Remember a fresh figure and return the highest of the last `hold_s` seconds."""
    meter_memory.last_fresh = derived
    history = [entry for entry in meter_memory.history if now - entry[0] < hold_s]
    history.append((now, derived))
    meter_memory.history = history
    held = derived
    for _, values in history:
        held = _max(held, values)
    return held


def _ramp_aware(derived: Currents, allowance: Currents, last: Currents) -> Currents:
    """Return the house figure closest to the last one that the meter allows.

    `derived` counts the ramping chargers at their readings (the most the house can be),
    `derived - allowance` at the currents they were given (the least).
    """
    return (
        max(derived[0] - allowance[0], min(derived[0], last[0])),
        max(derived[1] - allowance[1], min(derived[1], last[1])),
        max(derived[2] - allowance[2], min(derived[2], last[2])),
    )


def uncontrolled_sums(
    topology: Topology, currents: Sequence[Currents], out_of_control: frozenset[int]
) -> list[Currents] | None:
    """Return, per group, what the chargers out of control below it draw (None: none is)."""
    if not out_of_control:
        return None
    drawn = [amps if index in out_of_control else ZERO for index, amps in enumerate(currents)]
    return subtree_sums(topology, drawn)


def forget_loads_of_new_chargers(
    topology: Topology, memory: dict[str, MeterMemory], added: Iterable[str]
) -> None:
    """Clear the load history of every meter above a charger new to the site."""
    for charger_id in added:
        group = topology.charger_group[topology.charger_index[charger_id]]
        for ancestor in topology.ancestors[group]:
            meter_id = topology.groups[ancestor].meter_id
            if meter_id is not None and meter_id in memory:
                memory[meter_id].history.clear()


def subtree_sums(topology: Topology, charger_currents: Sequence[Currents]) -> list[Currents]:
    """Return, per group, the sum of the currents of the chargers below it (per site phase).

    Each charger into its own group, then each group into its parent (children first): three
    additions per charger instead of three per charger and ancestor.
    """
    sums = [[0.0, 0.0, 0.0] for _ in topology.groups]
    charger_group = topology.charger_group
    for charger, currents in enumerate(charger_currents):
        if currents == ZERO:
            continue
        row = sums[charger_group[charger]]
        row[0] += currents[0]
        row[1] += currents[1]
        row[2] += currents[2]
    parent_of = topology.parent
    for group in topology.bottom_up:
        parent = parent_of[group]
        if parent is not None:
            row = sums[group]
            above = sums[parent]
            above[0] += row[0]
            above[1] += row[1]
            above[2] += row[2]
    return [(row[0], row[1], row[2]) for row in sums]


def _sum(items: Iterable[Currents]) -> Currents:
    total = [0.0, 0.0, 0.0]
    for values in items:
        for phase in PHASES:
            total[phase] += values[phase]
    return (total[0], total[1], total[2])


def _sub(left: Currents, right: Currents) -> Currents:
    return (left[0] - right[0], left[1] - right[1], left[2] - right[2])


def _max(left: Currents, right: Currents) -> Currents:
    return (max(left[0], right[0]), max(left[1], right[1]), max(left[2], right[2]))


def _add(left: Currents, right: Currents) -> Currents:
    return (left[0] + right[0], left[1] + right[1], left[2] + right[2])
