"""Estimates behind the 1-phase / 3-phase switch.

Both look at a fill of the admitted chargers (their fair shares): what is left on each limit
(slack) plus what the charger itself holds tells what it could get if it moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import PHASES, Phase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .allocation import Limit
    from .topology import Topology


def _slack(limits: Sequence[Limit], usage: Sequence[float], limit: int) -> float:
    return limits[limit].capacity - usage[limit]


def one_phase_headroom(
    topology: Topology,
    charger: int,
    share: float,
    site_phases: tuple[Phase, ...],
    limits: Sequence[Limit],
    usage: Sequence[float],
    *,
    solar: bool,
) -> dict[Phase, float]:
    """Estimate, per site phase, the current the charger could draw on that phase alone.

    It keeps its own `share` (freed from its other phases) plus the slack of every fuse above it
    on that phase; power caps and, for solar charging, the surplus are counted in phase-amps.
    """
    used = float(len(site_phases))
    # The lowest of the shared limits' slack (power caps, the surplus), plus what it frees.
    shared = min(
        (limits[limit].capacity - usage[limit] for limit in topology.power_limits(charger)),
        default=None,
    )
    if solar:
        surplus = limits[topology.solar_limit].capacity - usage[topology.solar_limit]
        shared = surplus if shared is None else min(shared, surplus)
    freed = None if shared is None else shared + used * share
    headroom: dict[Phase, float] = {}
    for phase in PHASES:
        own = share if phase in site_phases else 0.0
        # min(own + slack) is own + min(slack): rounded addition is monotonic.
        room = own + min(
            limits[limit].capacity - usage[limit] for limit in topology.fuse_limits(charger, phase)
        )
        headroom[phase] = room if freed is None else min(room, freed)
    return headroom


def three_phase_level(
    topology: Topology,
    charger: int,
    share: float,
    phase: Phase,
    limits: Sequence[Limit],
    usage: Sequence[float],
    *,
    solar: bool,
) -> float:
    """Estimate the per-phase current the charger, now on site `phase` alone, would get on 3."""
    candidates = [
        (_slack(limits, usage, limit) + share) / 3.0 for limit in topology.power_limits(charger)
    ]
    if solar:
        candidates.append((_slack(limits, usage, topology.solar_limit) + share) / 3.0)
    for other in PHASES:
        own = share if other == phase else 0.0
        candidates.extend(
            own + _slack(limits, usage, limit) for limit in topology.fuse_limits(charger, other)
        )
    return min(candidates)


def best_phase(headroom: dict[Phase, float]) -> Phase:
    """Return the phase with the most headroom (the lowest-numbered on ties)."""
    return max(PHASES, key=lambda phase: (headroom[phase], -phase))
