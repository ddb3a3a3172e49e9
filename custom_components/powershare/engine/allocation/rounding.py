"""Whole amps: continuous shares rounded down, and leftover amps handed out where they fit."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .problem import EPSILON

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .problem import Demand, Limit


def round_to_amps(
    demands: Sequence[Demand],
    limits: Sequence[Limit],
    totals: Sequence[float],
    demands_of: Sequence[Sequence[int]],
    caps: Sequence[int],
    keep_position: Sequence[int],
) -> list[int]:
    """Turn continuous currents into whole amps without breaking any limit.

    Floor every owner, then hand out one more amp per owner (largest fractional part first,
    then keep order) wherever the owner's cap and every limit enforced on its last demand
    still allow it. Owners at zero stay at zero (starting them is the min rule's decision).
    """
    amps = [min(math.floor(total + 1e-6), cap) for total, cap in zip(totals, caps, strict=True)]
    # Every demand of an owner carries the same terms (the owner's phases and groups).
    terms_of: list[tuple[tuple[int, float], ...]] = [
        demands[indexes[0]].terms if indexes else () for indexes in demands_of
    ]
    usage = whole_amp_usage(len(limits), terms_of, amps)
    # Largest fractional part first, then keep order: two stable sorts on plain numbers
    # (keep order, then fraction) cost less than one on (fraction, keep position) tuples.
    order = sorted(
        [owner for owner in range(len(amps)) if 0 < amps[owner] < caps[owner]],
        key=keep_position.__getitem__,
    )
    fraction = [amps[owner] - totals[owner] for owner in range(len(amps))]
    order.sort(key=fraction.__getitem__)
    capacity = [limit.capacity + EPSILON for limit in limits]
    from_tier = [limit.from_tier for limit in limits]
    # Loads only grow in this loop: once an amp does not fit for some demands, it does not fit
    # for any later owner with the same demands either (skip the check). Alike owners share
    # one demand range object, so its identity is the key.
    full: set[int] = set()
    enforced_of: dict[int, tuple[tuple[tuple[int, float], ...], tuple[tuple[int, float], ...]]]
    enforced_of = {}
    for owner in order:
        indexes = demands_of[owner]
        checked = id(indexes)
        if checked in full:
            continue
        found = enforced_of.get(checked)
        if found is None:
            tier = demands[indexes[-1]].tier
            terms = terms_of[owner]
            found = (tuple(term for term in terms if from_tier[term[0]] <= tier), terms)
            enforced_of[checked] = found
        enforced, terms = found
        for limit, coefficient in enforced:
            if usage[limit] + coefficient > capacity[limit]:
                full.add(checked)
                break
        else:
            amps[owner] += 1
            for limit, coefficient in terms:
                usage[limit] += coefficient
    return amps


def whole_amp_usage(
    count: int, terms_of: Sequence[tuple[tuple[int, float], ...]], amps: Sequence[int]
) -> list[float]:
    """Return each of `count` limits' load from the owners' whole amps and terms.

    Whole amps are summed per terms tuple first (alike owners share one), then the limits
    are loaded once per tuple: integer sums, so the result is exact whatever the grouping.
    """
    usage = [0.0] * count
    sums: dict[int, int] = {}
    alike: dict[int, tuple[tuple[int, float], ...]] = {}
    find = sums.get
    for terms, owner_amps in zip(terms_of, amps, strict=True):
        if owner_amps:
            terms_id = id(terms)
            total = find(terms_id)
            if total is None:
                sums[terms_id] = owner_amps
                alike[terms_id] = terms
            else:
                sums[terms_id] = total + owner_amps
    for terms_id, total in sums.items():
        for limit, coefficient in alike[terms_id]:
            usage[limit] += coefficient * total
    return usage
