"""Pausing after the fact: whom to pause when admitted owners fall short of their minimum.

Only unequal minimums leave an admitted owner short (a large one next to small ones). Per
bottleneck with an owner short, every owner it stopped (short or not) is kept in keep order
while the level they would share there still gives each kept one its minimum; the rest are
paused. So the owner with the large minimum is paused only when it is the lowest kept: when
the rotation puts it first, the small ones make room, and it does not starve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .problem import CAPPED, EPSILON, owner_bottleneck

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
    others: Sequence[int] = (),
) -> list[int]:
    """Choose the owners to pause so the others can reach their minimum.

    `below` are the owners under their minimum, `others` the rest of the owners taking part
    (they may be paused instead), `demands_of[owner]` its demand indexes in tier order,
    `keep_position[owner]` its place in the keep order (0 = keep first: highest priority, then
    whoever the rotation favours). See the module docstring for the rule. Returns at least one
    owner when `below` is not empty.
    """
    short = {owner_bottleneck(result, demands_of[owner]) for owner in below}
    by_limit: dict[int, list[int]] = {}
    for owner in (*below, *others):
        bottleneck = owner_bottleneck(result, demands_of[owner])
        if bottleneck in short and (bottleneck != CAPPED or owner in below):
            by_limit.setdefault(bottleneck, []).append(owner)
    victims: list[int] = []
    for limit, stopped in sorted(by_limit.items()):
        owners = sorted(set(stopped), key=keep_position.__getitem__)
        if limit == CAPPED:
            victims.extend(owners)  # capped below their own minimum
            continue
        coefficient = _coefficients(demands, demands_of, owners, limit)
        room = (
            limits[limit].capacity
            - result.usage[limit]
            + sum(coefficient[owner] * result.totals[owner] for owner in owners)
        )
        # They share the limit at one level: it must reach the largest minimum kept.
        weight = level = 0.0
        group_victims = []
        for owner in owners:
            if (weight + coefficient[owner]) * max(level, minimum[owner]) <= room + EPSILON:
                weight += coefficient[owner]
                level = max(level, minimum[owner])
            else:
                group_victims.append(owner)
        if not group_victims:
            group_victims.append(next(o for o in reversed(owners) if o in below))
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
