"""Solving: `fill` (max-min fair, optionally with the admission) and `allocate` (all steps).

`allocate` chains the steps for callers that need no solar hysteresis: a fill with the
admission, `choose_victims` while an owner is still short of its minimum (unequal minimums),
then `round_to_amps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .admission import AdmittingFiller, first_demands
from .filling import Filler
from .problem import EPSILON, Admission
from .rounding import round_to_amps
from .victims import choose_victims

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .problem import Demand, EnforcedCache, Fill, Limit


def fill(
    limits: Sequence[Limit],
    demands: Sequence[Demand],
    owners: int,
    alike: Mapping[int, Sequence[int]] | None = None,
    enforced_cache: EnforcedCache | None = None,
    admission: Admission | None = None,
) -> Fill:
    """Fill `demands` (owner indexes below `owners`) max-min fairly under `limits`.

    `alike` maps an owner to others whose demands would be the same as its own (same tiers,
    caps and terms): they are left out of `demands`, weigh on the limits through the owner's,
    and get the same total. A large site has many alike chargers; this saves handling each.

    `enforced_cache`, kept by a caller that fills limits with the same `from_tier` again and
    again, saves filtering the same terms for the same tiers in every fill.

    `admission` applies the minimum-current rule as the fill goes (see `Admission`): owners
    left out get nothing and are listed in the result's `refused`. Without it every owner
    takes part, and `choose_victims` picks whom to pause after the fact.
    """
    if admission is not None and admission.everyone_first:
        everyone = Filler(limits, demands, owners, alike, enforced_cache).run()
        if _all_reach_minimum(everyone, demands, alike or {}, admission.minimum):
            return everyone
    if admission is None:
        return Filler(limits, demands, owners, alike, enforced_cache).run()
    return AdmittingFiller(limits, demands, owners, alike, enforced_cache, admission).run()


def _all_reach_minimum(
    result: Fill,
    demands: Sequence[Demand],
    alike: Mapping[int, Sequence[int]],
    minimum: Sequence[float],
) -> bool:
    """Return whether every owner got at least its minimum from its first demand."""
    values = result.values
    for owner, index in first_demands(demands).items():
        others = alike.get(owner)
        need = max(minimum[owner], *map(minimum.__getitem__, others)) if others else minimum[owner]
        if values[index] < need - EPSILON:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of `allocate`: whole amps per owner and how it came about."""

    amps: tuple[int, ...]
    continuous: tuple[float, ...]
    paused: tuple[int, ...]
    fill: Fill


def allocate(
    limits: Sequence[Limit],
    demands: Sequence[Demand],
    minimum: Sequence[float],
    caps: Sequence[int],
    keep_position: Sequence[int],
) -> Allocation:
    """Fill with the minimum-current admission, then round to whole amps.

    Owners still under their minimum (only unequal minimums leave any) are paused with
    `choose_victims` and the rest filled again until none is.
    """
    owners = len(minimum)
    admission = Admission(minimum, keep_position)
    paused: set[int] = set()
    while True:
        active = [demand for demand in demands if demand.owner not in paused]
        demands_of: list[list[int]] = [[] for _ in range(owners)]
        for index in sorted(range(len(active)), key=lambda index: active[index].tier):
            demands_of[active[index].owner].append(index)
        result = fill(limits, active, owners, admission=admission)
        paused.update(result.refused)
        below = [
            owner
            for owner in range(owners)
            if owner not in paused
            and demands_of[owner]
            and result.totals[owner] < minimum[owner] - EPSILON
        ]
        if not below:
            break
        short = set(below)
        others = [
            owner
            for owner in range(owners)
            if owner not in paused and demands_of[owner] and owner not in short
        ]
        paused.update(
            choose_victims(
                active, limits, result, below, demands_of, minimum, keep_position, others
            )
        )
    amps = round_to_amps(active, limits, result.totals, demands_of, caps, keep_position)
    return Allocation(
        amps=tuple(amps),
        continuous=result.totals,
        paused=tuple(sorted(paused)),
        fill=result,
    )
