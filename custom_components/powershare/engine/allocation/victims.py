"""Pausing after the fact: whom to pause when admitted owners fall short of their minimum.

Only unequal minimums leave an admitted owner short (a large one next to small ones): per
bottleneck, the owners it stopped are kept in keep order while their minimums fit in what
they share there; the rest are paused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .problem import CAPPED, EPSILON

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .problem import Demand, Fill, Limit


def choose_victims(
    demands: Sequence[Demand],
    limits: Sequence[Limit],
    result: Fill,
    below: Sequence[int],
    demands_of: Sequence[Sequence[int]],
    minimum: Sequence[float],
    keep_position: Sequence[int],
) -> list[int]:
    """Choose the owners to pause so the others can reach their minimum.

    `below` are the owners under their minimum, `demands_of[owner]` its demand indexes in tier
    order, `keep_position[owner]` its place in the keep order (0 = keep first: highest
    priority, then whoever the rotation favours). Per bottleneck, the owners it stopped are
    kept in keep order while their minimums fit in what they share there; the rest are paused.
    Returns at least one owner when `below` is not empty.
    """
    by_limit: dict[int, list[int]] = {}
    bottlenecks = result.bottlenecks
    for owner in below:
        bottleneck = CAPPED  # `owner_bottleneck`, inline (once per owner below its minimum)
        for index in demands_of[owner]:
            bottleneck = bottlenecks[index]
            if bottleneck != CAPPED:
                break
        stopped = by_limit.get(bottleneck)
        if stopped is None:
            by_limit[bottleneck] = [owner]
        else:
            stopped.append(owner)
    victims: list[int] = []
    for limit, owners in sorted(by_limit.items()):
        owners.sort(key=keep_position.__getitem__)
        if limit == CAPPED:
            victims.extend(owners)
            continue
        coefficient = _coefficients(demands, demands_of, owners, limit)
        room = (
            limits[limit].capacity
            - result.usage[limit]
            + sum(coefficient[owner] * result.totals[owner] for owner in owners)
        )
        kept_load = 0.0
        group_victims = []
        for owner in owners:
            need = coefficient[owner] * minimum[owner]
            if kept_load + need <= room + EPSILON:
                kept_load += need
            else:
                group_victims.append(owner)
        if not group_victims:
            group_victims.append(owners[-1])
        victims.extend(group_victims)
    return sorted(set(victims))


def _coefficients(
    demands: Sequence[Demand], demands_of: Sequence[Sequence[int]], owners: list[int], limit: int
) -> dict[int, float]:
    """Return each owner's coefficient on `limit` (looked up once per terms tuple)."""
    result: dict[int, float] = {}
    by_terms: dict[int, float] = {}
    for owner in owners:
        indexes = demands_of[owner]
        if len(indexes) != 1:
            result[owner] = _coefficient(demands, indexes, limit)
            continue
        terms_id = id(demands[indexes[0]].terms)
        found = by_terms.get(terms_id)
        if found is None:
            found = _coefficient(demands, indexes, limit)
            by_terms[terms_id] = found
        result[owner] = found
    return result


def _coefficient(demands: Sequence[Demand], indexes: Sequence[int], limit: int) -> float:
    for index in indexes:
        for term_limit, coefficient in demands[index].terms:
            if term_limit == limit:
                return coefficient
    return 0.0
