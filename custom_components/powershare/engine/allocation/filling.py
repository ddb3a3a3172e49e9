"""Progressive filling of one set of demands, event by event (the method of `allocation`).

Within a tier the water level rises; every rising demand's value is the level less its base
(what its owner got in earlier tiers). A limit's load is linear in the level between events,
`fixed + rate * level - offset`, so each limit knows the level at which it fills
(`full_at`). A heap holds the next events: a demand reaching its cap, a limit filling up, a
waiting demand whose base the water reaches. At each event the demands concerned freeze (or
start rising), the rates of their limits change, and the limits whose fill level moved
earlier get a new heap entry; an entry found stale when it comes up is moved to the limit's
present fill level. Each demand is activated and frozen once and each limit saturates at most
once per tier: a tier costs O(terms * log(terms)).

Flat lists indexed by limit or by demand hold the state: this code runs once per event, and
a fill of 1,000 chargers has a few thousand of them.
"""

from __future__ import annotations

import heapq
import math
from types import MappingProxyType
from typing import TYPE_CHECKING

from .problem import CAPPED, EPSILON, Fill

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from .problem import Demand, EnforcedCache, Limit, Terms

_CAP = 0  # event kinds, in the order they are handled at equal levels
_SATURATE = 1
_ACTIVATE = 2

_WAITING = 0  # demand states
_RISING = 1
_FROZEN = 2


class Filler:
    """The state of one `fill` call."""

    def __init__(
        self,
        limits: Sequence[Limit],
        demands: Sequence[Demand],
        owners: int,
        alike: Mapping[int, Sequence[int]] | None,
        enforced_cache: EnforcedCache | None,
    ) -> None:
        count = len(limits)
        self.demands = demands
        self.alike = alike
        self.capacity = [limit.capacity for limit in limits]
        self.from_tier = [limit.from_tier for limit in limits]
        self.fixed = [0.0] * count
        self.rate = [0.0] * count
        self.offset = [0.0] * count
        self.rising_count = [0] * count
        self.full_at = [math.inf] * count
        """Per limit: the level at which it fills at the present rates (inf: it does not)."""
        self.saturated = [False] * count
        self.members: list[list[int]] = []
        """Per limit: the class leaders of this tier loading it."""
        self.totals = [0.0] * owners
        self.values = [0.0] * len(demands)
        self.bottlenecks = [CAPPED] * len(demands)
        self.state = [_WAITING] * len(demands)
        self.base = [0.0] * len(demands)
        self.enforced: list[Terms] = [()] * len(demands)
        self.enforced_limits: list[tuple[int, ...]] = [()] * len(demands)
        """Per class leader: the limits of its enforced terms (marked dirty as one)."""
        self.owner_weight = [1] * len(demands)
        """Per demand: how many owners it stands for (its own and those `alike` to it)."""
        if alike:
            for index, demand in enumerate(demands):
                others = alike.get(demand.owner)
                if others:
                    self.owner_weight[index] += len(others)
        self.weight = list(self.owner_weight)
        """Per class leader: how many owners its class stands for."""
        self.followers: dict[int, list[int]] = {}
        self.level = 0.0
        self.dirty: set[int] = set()
        self.heap: list[tuple[float, int, int]] = []
        self.starts = sorted(set(self.from_tier))
        """The tiers from which some limit is enforced (the enforced set changes there)."""
        self.enforced_of: EnforcedCache = {} if enforced_cache is None else enforced_cache
        self.refused: dict[int, int] = {}
        """Per owner left out (by an admission): the limit without room for its minimum."""
        self._handlers: tuple[Callable[[int, float], None], ...] = (
            self._on_cap,
            self._on_saturate,
            self._on_activate,
        )
        """Per event kind (`_CAP`, `_SATURATE`, `_ACTIVATE`): what happens."""

    def run(self) -> Fill:
        """Fill every tier, lowest first, and return the result."""
        by_tier: dict[int, list[int]] = {}
        for index, demand in enumerate(self.demands):
            found = by_tier.get(demand.tier)
            if found is None:
                by_tier[demand.tier] = [index]
            else:
                found.append(index)
        self.fill_tiers(by_tier)
        totals = self.totals
        for owner, others in (self.alike or {}).items():
            for other in others:
                totals[other] = totals[owner]
        for owner in self.refused:
            totals[owner] = 0.0
        return Fill(
            totals=tuple(totals),
            values=tuple(self.values),
            bottlenecks=tuple(self.bottlenecks),
            usage=tuple(self.fixed),
            refused=MappingProxyType(self.refused),
        )

    def fill_tiers(self, by_tier: dict[int, list[int]]) -> None:
        """Fill the tiers in order, every demand taking part."""
        for tier in sorted(by_tier):
            self.fill_tier(tier, by_tier[tier])

    def fill_tier(self, tier: int, indexes: list[int]) -> None:
        """Fill one tier: raise the water until every demand is frozen."""
        self.level = 0.0
        starting = self._classify(tier, indexes)
        for index in starting:
            self._activate(index)
        if self.dirty:
            self._schedule()
        heap = self.heap
        handlers = self._handlers
        pop = heapq.heappop
        while heap:
            level = heap[0][0]
            # Everything that happens at one level is handled before rescheduling: events at
            # one level do not change any limit's load at that level.
            while heap and heap[0][0] <= level:
                _, kind, item = pop(heap)
                handlers[kind](item, level)
            if self.dirty:
                self._schedule()
        self.saturated = [False] * len(self.saturated)

    def _on_cap(self, index: int, level: float) -> None:
        """Freeze a rising demand that reaches its cap."""
        if self.state[index] == _RISING:
            self.level = max(self.level, level)
            self._freeze(index, CAPPED)

    def _on_saturate(self, limit: int, level: float) -> None:
        """Freeze the rising demands of a limit that is full, or move a stale entry."""
        full_at = self.full_at[limit]
        if self.saturated[limit]:
            return  # an earlier entry of the same limit saturated it
        if full_at <= level:
            self.level = max(self.level, level)
            self.saturated[limit] = True
            state = self.state
            for index in self.members[limit]:
                if state[index] == _RISING:
                    self._freeze(index, limit)
        elif full_at < math.inf:
            # It fills later than when this entry was made: wait until then.
            heapq.heappush(self.heap, (max(self.level, full_at), _SATURATE, limit))

    def _on_activate(self, index: int, level: float) -> None:
        """Start a waiting demand rising: the water reached its base."""
        self.level = max(self.level, level)
        self._activate(index)

    def _classify(self, tier: int, indexes: list[int]) -> list[int]:
        """Group a tier's demands into classes and prepare their activation.

        Demands with the same cap, terms and starting point get the same share, so each such
        class is filled as one demand weighted by its size (in a building most chargers of a
        group are alike: this divides the work by the group size). Sets, per enforced limit,
        the class leaders loading it (`members`); returns the leaders rising from zero
        (activated at once; the others wait in the heap for the water to reach them).
        """
        # Terms are compared by identity: callers that build alike demands share one tuple
        # (the balancer's topology interns them), and hashing long tuples costs more than the
        # rest of the classification. Equal terms in distinct tuples only lose the grouping.
        classes: dict[tuple[float, float, int], list[int]] = {}
        demands, totals = self.demands, self.totals
        for index in indexes:
            demand = demands[index]
            key = (totals[demand.owner], demand.cap, id(demand.terms))
            found = classes.get(key)
            if found is None:
                classes[key] = [index]
            else:
                found.append(index)
        members: list[list[int]] = [[] for _ in self.capacity]
        self.members = members
        followers, bases, weight, owner_weight = (
            self.followers,
            self.base,
            self.weight,
            self.owner_weight,
        )
        followers.clear()
        # The enforced set changes only at the tiers where some limit starts being enforced.
        since = max((start for start in self.starts if start <= tier), default=-1)
        heap: list[tuple[float, int, int]] = []
        starting: list[int] = []
        for (base, _cap, terms_id), alike in classes.items():
            index = alike[0]  # the leader: the first of its class in demand order
            bases[index] = base
            if len(alike) > 1:
                weight[index] = sum([owner_weight[member] for member in alike])
                followers[index] = alike[1:]
            if base > 0.0:
                heap.append((base, _ACTIVATE, index))
            else:
                starting.append(index)
            enforced, limits = self._enforced(demands[index].terms, terms_id, tier, since)
            self.enforced[index] = enforced
            self.enforced_limits[index] = limits
            for limit in limits:
                members[limit].append(index)
        heapq.heapify(heap)
        self.heap = heap
        return starting

    def _enforced(
        self, terms: Terms, terms_id: int, tier: int, since: int
    ) -> tuple[Terms, tuple[int, ...]]:
        """Return the terms enforced in `tier`, and their limits.

        Tiers with the same enforced limits (the same `since`) share the filtered terms
        (usually only the solar budget starts late: the first tiers share one set, the
        surplus tiers another), kept by the terms' identity in `enforced_of` across fills.
        """
        found = self.enforced_of.get((terms_id, since))
        if found is None or found[0] is not terms:
            enforced = tuple(term for term in terms if self.from_tier[term[0]] <= tier)
            found = (terms, enforced, tuple(limit for limit, _coefficient in enforced))
            self.enforced_of[terms_id, since] = found
        return found[1], found[2]

    def _activate(self, index: int) -> None:
        """Start a demand rising, or settle it at zero when a limit of it has no room."""
        # Lists are read into locals here and in the other per-event methods: they run once
        # per event, thousands of times per fill, and a local costs less than an attribute.
        demand = self.demands[index]
        enforced = self.enforced[index]
        level = self.level
        capacity = self.capacity
        fixed = self.fixed
        rate = self.rate
        offset = self.offset
        saturated = self.saturated
        for limit, _coefficient in enforced:
            if (
                saturated[limit]
                or capacity[limit] - fixed[limit] - (rate[limit] * level - offset[limit]) <= EPSILON
            ):
                self._settle(index, 0.0, limit)
                return
        if demand.cap <= EPSILON:
            self._settle(index, 0.0, CAPPED)
            return
        base = self.base[index]
        weight = self.weight[index]
        rising_count = self.rising_count
        for limit, coefficient in enforced:
            rising_count[limit] += 1
            weighted = coefficient * weight
            rate[limit] += weighted
            if base:  # rising from zero (most demands) leaves the offsets as they are
                offset[limit] += weighted * base
        self.dirty.update(self.enforced_limits[index])
        self.state[index] = _RISING
        heapq.heappush(self.heap, (base + demand.cap, _CAP, index))

    def _settle(self, index: int, value: float, bottleneck: int) -> None:
        """Give a demand and the rest of its class their final value."""
        demands = self.demands
        values = self.values
        totals = self.totals
        bottlenecks = self.bottlenecks
        self.state[index] = _FROZEN
        values[index] = value
        totals[demands[index].owner] += value
        bottlenecks[index] = bottleneck
        for member in self.followers.get(index, ()):
            values[member] = value
            totals[demands[member].owner] += value
            bottlenecks[member] = bottleneck
        if value:
            fixed = self.fixed
            load = value * self.weight[index]
            for limit, coefficient in demands[index].terms:
                fixed[limit] += coefficient * load

    def _freeze(self, index: int, bottleneck: int) -> None:
        """Stop a rising demand at the present level."""
        base = self.base[index]
        self._settle(index, min(max(self.level - base, 0.0), self.demands[index].cap), bottleneck)
        weight = self.weight[index]
        rising_count = self.rising_count
        rate = self.rate
        offset = self.offset
        for limit, coefficient in self.enforced[index]:
            left = rising_count[limit] - 1
            rising_count[limit] = left
            if left == 0:
                # Reset exactly rather than accumulate rounding errors.
                rate[limit] = 0.0
                offset[limit] = 0.0
                continue
            weighted = coefficient * weight
            rate[limit] -= weighted
            if base:  # a demand rising from zero added nothing to the offsets
                offset[limit] -= weighted * base
        self.dirty.update(self.enforced_limits[index])

    def _schedule(self) -> None:
        """Work out when the limits whose load changed fill up.

        Only a limit that fills earlier than it did gets a new heap entry; one that fills
        later keeps its early entry, which is moved when it comes up (most changes are
        freezes, which only make limits fill later: this saves most heap traffic).
        """
        level = self.level
        heap = self.heap
        full_at = self.full_at
        saturated = self.saturated
        rising_count = self.rising_count
        capacity = self.capacity
        fixed = self.fixed
        offset = self.offset
        rate = self.rate
        for limit in self.dirty:
            if saturated[limit] or rising_count[limit] == 0:
                full_at[limit] = math.inf
                continue
            fills = (capacity[limit] - fixed[limit] + offset[limit]) / rate[limit]
            if fills < full_at[limit]:
                heapq.heappush(heap, (max(level, fills), _SATURATE, limit))
            full_at[limit] = fills
        self.dirty.clear()
