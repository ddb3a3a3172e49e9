"""The minimum-current rule inside the fill: owners admitted in keep order while they fit.

Before each tier, the owners whose first demand is in it are admitted in keep order while
their minimum still fits on every limit enforced in that tier, on top of what earlier tiers
took and the minimums admitted before them; the others are refused (given nothing). An owner
that waited a full turn and is refused although it would fit alone stops the owners after it
from starting (`Admission.waited`), so that it gets in when the turns before it end; so does
one paused after an earlier fill of the cycle (`Admission.blocked`). Only the admitted take
part in the tier's filling. Within a tier every admitted owner rises from zero at the same
pace, so when the minimums are equal each one reaches its minimum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .filling import Filler
from .problem import EPSILON

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .problem import Admission, Demand, EnforcedCache, Limit

type _Loads = list[tuple[int, float]]
"""A minimum's load on each limit: (limit, amps)."""


class AdmittingFiller(Filler):
    """A `Filler` that applies an `Admission` before each tier."""

    def __init__(
        self,
        limits: Sequence[Limit],
        demands: Sequence[Demand],
        owners: int,
        alike: Mapping[int, Sequence[int]] | None,
        enforced_cache: EnforcedCache | None,
        admission: Admission,
    ) -> None:
        super().__init__(limits, demands, owners, alike, enforced_cache)
        self.admission = admission
        self.admitted: dict[int, int] = {}
        """Per owner with demands (a leader of alike owners): how many of the owners it stands
        for were admitted."""

    def fill_tiers(self, by_tier: dict[int, list[int]]) -> None:
        """Fill tier by tier, each with the owners admitted so far."""
        first = set(first_demands(self.demands).values())
        for tier in sorted(by_tier):
            arriving = [index for index in by_tier[tier] if index in first]
            if arriving:
                self._admit(tier, self._arrivals(arriving))
            self.fill_tier(tier, self._admitted_demands(by_tier[tier]))

    def _arrivals(self, arriving: list[int]) -> list[tuple[int, int]]:
        """Return the owners of the first demands `arriving`, in keep order.

        Each comes as (owner, its first demand): alike owners are admitted one by one but
        share their leader's demands.
        """
        demands = self.demands
        alike = self.alike or {}
        first_of: dict[int, int] = {}
        for index in arriving:
            owner = demands[index].owner
            first_of[owner] = index
            for other in alike.get(owner, ()):
                first_of[other] = index
        in_keep_order = sorted(first_of, key=self.admission.keep_position.__getitem__)
        return [(owner, first_of[owner]) for owner in in_keep_order]

    def _admit(self, tier: int, arriving: Sequence[tuple[int, int]]) -> None:
        """Admit the owners arriving in `tier`, in keep order, while their minimum fits."""
        # What is left on each limit: its capacity less what earlier tiers took (all settled
        # by now) and the minimums admitted so far.
        room = [capacity - load for capacity, load in zip(self.capacity, self.fixed, strict=True)]
        demands, minimum, from_tier = self.demands, self.admission.minimum, self.from_tier
        admitted, refused = self.admitted, self.refused
        for index in {index for _owner, index in arriving}:
            admitted.setdefault(demands[index].owner, 0)
        loads_of: dict[int, tuple[float, _Loads]] = {}
        # Room only shrinks here: once a minimum does not fit for some demands, neither does
        # it, nor any larger one, for any later owner with the same demands (skip the check).
        full: dict[int, tuple[float, int]] = {}
        running, blocked = self.admission.running, self.admission.blocked
        keep_position = self.admission.keep_position
        blocked_at: int | None = None  # a refused owner that waited a turn blocks new starts
        for owner, index in arriving:
            need = minimum[owner]
            if blocked is not None and blocked_at is None and keep_position[owner] > blocked[0]:
                blocked_at = blocked[1]
            if blocked_at is not None and owner not in running:
                refused[owner] = blocked_at
                continue
            failed = full.get(index)
            if failed is not None and need >= failed[0]:
                blocking = self._refuse(owner, index, failed[1], tier)
                blocked_at = blocking if blocked_at is None else blocked_at
                continue
            found = loads_of.get(index)
            if found is None or found[0] != need:
                # The first owner with these demands (alike owners mostly share a minimum):
                # what its minimum loads on each limit enforced in this tier.
                loads = [
                    (limit, coefficient * need)
                    for limit, coefficient in demands[index].terms
                    if from_tier[limit] <= tier
                ]
                found = loads_of[index] = (need, loads)
            loads = found[1]
            # Taken as it goes and given back on a refusal (rare: once per demands and need).
            for done, (limit, load) in enumerate(loads):
                left = room[limit] - load
                if left < -EPSILON:
                    for taken, load_back in loads[:done]:
                        room[taken] += load_back
                    full[index] = (need, limit)
                    blocking = self._refuse(owner, index, limit, tier)
                    blocked_at = blocking if blocked_at is None else blocked_at
                    break
                room[limit] = left
            else:
                admitted[demands[index].owner] += 1

    def _refuse(self, owner: int, index: int, limit: int, tier: int) -> int | None:
        """Refuse an owner (stopped by `limit`); return the limit when it blocks new starts.

        It blocks when it waited a full turn and its minimum fits the tier's room alone: the
        capacity less what earlier tiers took (the admission itself fixes nothing).
        """
        self.refused[owner] = limit
        if owner not in self.admission.waited:
            return None
        need = self.admission.minimum[owner]
        fits = all(
            self.capacity[term] - self.fixed[term] - coefficient * need >= -EPSILON
            for term, coefficient in self.demands[index].terms
            if self.from_tier[term] <= tier
        )
        return limit if fits else None

    def _admitted_demands(self, indexes: list[int]) -> list[int]:
        """Return the demands of a tier with admitted owners, weighed by their number."""
        demands, admitted, owner_weight, weight = (
            self.demands,
            self.admitted,
            self.owner_weight,
            self.weight,
        )
        kept: list[int] = []
        for index in indexes:
            owner = demands[index].owner
            count = admitted[owner]  # decided in the owner's first tier
            if count == owner_weight[index]:
                kept.append(index)  # all of them admitted
            elif count:
                owner_weight[index] = weight[index] = count
                kept.append(index)
            else:  # none admitted (the owner itself neither): nothing, and no load
                self.bottlenecks[index] = self.refused[owner]
        return kept


def first_demands(demands: Sequence[Demand]) -> dict[int, int]:
    """Return, per owner with demands, its first one (lowest tier): it is admitted with it."""
    first: dict[int, int] = {}
    for index, demand in enumerate(demands):
        known = first.get(demand.owner)
        if known is None or demand.tier < demands[known].tier:
            first[demand.owner] = index
    return first
