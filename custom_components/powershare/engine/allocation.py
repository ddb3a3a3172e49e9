"""The pure allocator: max-min fair progressive filling under linear constraints.

The problem, in its general form:

- *owners* (chargers) receive current; fairness is judged on each owner's total current;
- *demands* are pieces of an owner's current: each has a tier (lower tiers are served first),
  a cap (how much it may add on top of what the owner got in earlier tiers) and terms
  `(limit index, coefficient >= 0)` saying which limits it loads and how much per amp;
- *limits* are linear constraints `sum(coefficient * value) <= capacity`; a limit may be
  enforced only from a given tier on (the solar budget binds only the surplus tiers, but
  counts what earlier tiers took).

Within a tier every owner's total rises at the same pace from where earlier tiers left it (an
owner that already has more starts rising only when the water reaches it). A demand stops at
its cap, or when one of its limits is full; that limit is its *bottleneck*. This is
progressive filling: the result is the max-min fair vector (no owner can get more without
taking from one that has no more than it), and it is Pareto-optimal within each tier.

It is event driven. A limit's load is linear in the water level between events
(`fixed + rate * level - offset`), so each limit knows the level at which it fills; a heap
holds the next cap, activation and saturation events (a saturation entry is checked against
the limit's present fill level when it comes up). Each demand is activated and frozen once
and each limit saturates at most once per tier, so a tier costs O(terms * log(terms)).

The minimum-current rule rides on the fill (`Admission`): before each tier, the owners arriving
in it are admitted in keep order while their minimum still fits on every limit, and only those
take part. With equal minimums every admitted owner reaches its minimum, so one fill decides;
`choose_victims` (pause, per bottleneck, the lowest ranked of those stopped below their
minimum) handles what unequal minimums leave over. Last comes the rounding to whole amps
(`round_to_amps`). `allocate` chains them for callers that need no solar hysteresis.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CAPPED = -1
"""Bottleneck marker: the demand stopped at its own cap."""
EPSILON = 1e-9
"""Tolerance on currents, far below what a charger or a meter resolves."""

type Terms = tuple[tuple[int, float], ...]
type EnforcedCache = dict[tuple[int, int], tuple[Terms, Terms, tuple[int, ...]]]
"""Per (terms' identity, first tier of an enforced set): the terms, those enforced there and
their limits."""


_CAP = 0  # event kinds, in the order they are handled at equal levels
_SATURATE = 1
_ACTIVATE = 2

_WAITING = 0  # demand states
_RISING = 1
_FROZEN = 2


@dataclass(frozen=True, slots=True)
class Limit:
    """A linear constraint: the sum of its terms must stay at or below `capacity`."""

    capacity: float
    from_tier: int = 0


@dataclass(frozen=True, slots=True)
class Demand:
    """A piece of an owner's current in one tier (at most one demand per owner and tier)."""

    owner: int
    tier: int
    cap: float
    terms: tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class Fill:
    """The outcome of progressive filling."""

    totals: tuple[float, ...]
    """Per owner: the sum of its demands."""
    values: tuple[float, ...]
    """Per demand: what it got."""
    bottlenecks: tuple[int, ...]
    """Per demand: the limit that stopped it, or CAPPED."""
    usage: tuple[float, ...]
    """Per limit: the left-hand side of the constraint."""
    refused: Mapping[int, int] = MappingProxyType({})
    """Per owner left out by the admission (`fill`'s `admission`): the limit that had no
    room for its minimum."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The minimum-current rule, applied while filling (`fill`'s `admission`).

    Before each tier, the owners whose first demand is in it are admitted in keep order
    while `minimum[owner]` still fits, on every limit enforced in that tier, on top of what
    earlier tiers took and the minimums admitted before it; the others are left out (given
    nothing). Within a tier every admitted owner rises from zero at the same pace, so when
    the minimums are equal each one reaches its minimum: a limit fills at a level no lower
    than its admitted minimums allow.
    """

    minimum: Sequence[float]
    """Per owner."""
    keep_position: Sequence[int]
    """Per owner: its place in the keep order (0 = the first to keep)."""
    everyone_first: bool = False
    """Fill with every owner first, and keep that if each reaches its minimum in its first
    tier: it is then what admitting them all gives (their minimums fit together), without the
    owner by owner check. Cheaper when all fit (as they mostly do when they did last time);
    the result is the same either way."""


class _Filler:
    """The state of one `fill` call (flat lists indexed by limit or demand, for speed)."""

    def __init__(
        self,
        limits: Sequence[Limit],
        demands: Sequence[Demand],
        owners: int,
        alike: Mapping[int, Sequence[int]] | None,
        enforced_cache: EnforcedCache | None,
        admission: Admission | None,
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
        self.totals = [0.0] * owners
        self.values = [0.0] * len(demands)
        self.bottlenecks = [CAPPED] * len(demands)
        self.state = [_WAITING] * len(demands)
        self.base = [0.0] * len(demands)
        self.enforced: list[tuple[tuple[int, float], ...]] = [()] * len(demands)
        self.enforced_limits: list[tuple[int, ...]] = [()] * len(demands)
        """Per class leader: the limits of its enforced terms (marked dirty as one)."""
        self.owner_weight = [1] * len(demands)
        """Per demand: how many owners it stands for (its own and those `alike` to it)."""
        if alike:
            owner_weight = self.owner_weight
            for index, demand in enumerate(demands):
                others = alike.get(demand.owner)
                if others:
                    owner_weight[index] += len(others)
        self.weight = list(self.owner_weight)
        """Per class leader: how many owners its class stands for."""
        self.followers: dict[int, list[int]] = {}
        self.level = 0.0
        self.dirty: set[int] = set()
        self.heap: list[tuple[float, int, int]] = []
        self.starts = sorted(set(self.from_tier))
        """The tiers from which some limit is enforced (the enforced set changes there)."""
        self.enforced_of: EnforcedCache = {} if enforced_cache is None else enforced_cache
        self.admission = admission
        self.refused: dict[int, int] = {}
        """Per owner left out by the admission: the limit without room for its minimum."""
        self.admitted: dict[int, int] = {}
        """Per owner with demands (a leader of alike owners): how many of the owners it stands
        for were admitted."""

    def run(self) -> Fill:
        by_tier: dict[int, list[int]] = {}
        for index, demand in enumerate(self.demands):
            found = by_tier.get(demand.tier)
            if found is None:
                by_tier[demand.tier] = [index]
            else:
                found.append(index)
        if self.admission is None:
            for tier in sorted(by_tier):
                self._fill_tier(tier, by_tier[tier])
        else:
            self._fill_admitted(by_tier, self.admission)
        totals = self.totals
        if self.alike:
            for owner, others in self.alike.items():
                total = totals[owner]
                for other in others:
                    totals[other] = total
        for owner in self.refused:
            totals[owner] = 0.0
        return Fill(
            totals=tuple(totals),
            values=tuple(self.values),
            bottlenecks=tuple(self.bottlenecks),
            usage=tuple(self.fixed),
            refused=MappingProxyType(self.refused),
        )

    def _fill_admitted(self, by_tier: dict[int, list[int]], admission: Admission) -> None:
        """Fill tier by tier, each with the owners admitted so far (see `Admission`)."""
        first = set(_first_demands(self.demands).values())
        for tier in sorted(by_tier):
            arriving = [index for index in by_tier[tier] if index in first]
            if arriving:
                self._admit(
                    tier, self._arrivals(arriving, admission.keep_position), admission.minimum
                )
            self._fill_tier(tier, self._admitted_demands(by_tier[tier]))

    def _arrivals(self, arriving: list[int], keep_position: Sequence[int]) -> list[tuple[int, int]]:
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
        return [
            (owner, first_of[owner]) for owner in sorted(first_of, key=keep_position.__getitem__)
        ]

    def _admit(
        self, tier: int, arriving: Sequence[tuple[int, int]], minimum: Sequence[float]
    ) -> None:
        """Admit the owners arriving in `tier`, in keep order, while their minimum fits."""
        from_tier = self.from_tier
        demands = self.demands
        # What is left on each limit: its capacity less what earlier tiers took (all settled
        # by now) and the minimums admitted so far.
        room = [capacity - load for capacity, load in zip(self.capacity, self.fixed, strict=True)]
        admitted = self.admitted
        refused = self.refused
        for index in {index for _owner, index in arriving}:
            admitted.setdefault(demands[index].owner, 0)
        loads_of: dict[int, tuple[float, list[tuple[int, float]]]] = {}
        # Room only shrinks here: once a minimum does not fit for some demands, neither does
        # it, nor any larger one, for any later owner with the same demands (skip the check).
        full: dict[int, tuple[float, int]] = {}
        for owner, index in arriving:
            need = minimum[owner]
            failed = full.get(index)
            if failed is not None and need >= failed[0]:
                refused[owner] = failed[1]
                continue
            found = loads_of.get(index)
            if found is not None and found[0] == need:
                loads = found[1]
            else:  # the first owner with these demands (alike owners mostly share a minimum)
                loads = [
                    (limit, coefficient * need)
                    for limit, coefficient in demands[index].terms
                    if from_tier[limit] <= tier
                ]
                loads_of[index] = (need, loads)
            # Taken as it goes and given back on a refusal (rare: once per demands and need).
            for done, (limit, load) in enumerate(loads):
                left = room[limit] - load
                if left < -EPSILON:
                    for taken, load_back in loads[:done]:
                        room[taken] += load_back
                    full[index] = (need, limit)
                    refused[owner] = limit
                    break
                room[limit] = left
            else:
                leader = demands[index].owner
                admitted[leader] += 1

    def _admitted_demands(self, indexes: list[int]) -> list[int]:
        """Return the demands of a tier with admitted owners, weighed by their number."""
        admitted = self.admitted
        demands = self.demands
        owner_weight = self.owner_weight
        weight = self.weight
        kept: list[int] = []
        for index in indexes:
            count = admitted[demands[index].owner]  # decided in the owner's first tier
            if count == owner_weight[index]:
                kept.append(index)  # all of them admitted
            elif count:
                owner_weight[index] = weight[index] = count
                kept.append(index)
            else:  # none admitted (the owner itself neither): nothing, and no load
                self.bottlenecks[index] = self.refused[demands[index].owner]
        return kept

    def _fill_tier(self, tier: int, indexes: list[int]) -> None:  # noqa: C901, PLR0912 - the event loop is inlined: it runs once per event, the hot path
        """Fill one tier."""
        self.level = 0.0
        members, starting = self._classify(tier, indexes)
        heap = self.heap
        for index in starting:
            self._activate(index)
        if self.dirty:
            self._schedule()
        schedule = self._schedule
        freeze = self._freeze
        activate = self._activate
        pop = heapq.heappop
        full_at = self.full_at
        saturated = self.saturated
        state = self.state
        push = heapq.heappush
        while heap:
            level, kind, item = pop(heap)
            while True:
                # The event kinds, inline (this loop runs once per event).
                if kind == _SATURATE:
                    if saturated[item]:
                        pass  # an earlier entry of the same limit saturated it
                    elif full_at[item] <= level:
                        self.level = max(self.level, level)
                        saturated[item] = True
                        for index in members[item]:
                            if state[index] == _RISING:
                                freeze(index, item)
                    elif full_at[item] < math.inf:
                        # It fills later than when this entry was made: wait until then.
                        push(heap, (max(self.level, full_at[item]), _SATURATE, item))
                elif kind == _CAP:
                    if state[item] == _RISING:
                        self.level = max(self.level, level)
                        freeze(item, CAPPED)
                else:
                    self.level = max(self.level, level)
                    activate(item)
                # Everything that happens at this same level is handled before rescheduling:
                # events at one level do not change any limit's load at that level.
                if not heap or heap[0][0] > level:
                    break
                _, kind, item = pop(heap)
            if self.dirty:
                schedule()
        saturated[:] = [False] * len(saturated)

    def _classify(self, tier: int, indexes: list[int]) -> tuple[list[list[int]], list[int]]:
        """Group a tier's demands into classes and prepare their activation.

        Demands with the same cap, terms and starting point get the same share, so each such
        class is filled as one demand weighted by its size (in a building most chargers of a
        group are alike: this divides the work by the group size). Returns, per enforced limit,
        the class leaders loading it, and the leaders rising from zero (activated at once; the
        others wait in the heap for the water to reach them).
        """
        members: list[list[int]] = [[] for _ in self.capacity]
        heap: list[tuple[float, int, int]] = []
        from_tier = self.from_tier
        # Terms are compared by identity: callers that build alike demands share one tuple
        # (the balancer's topology interns them), and hashing long tuples costs more than the
        # rest of the classification. Equal terms in distinct tuples only lose the grouping.
        classes: dict[tuple[float, float, int], list[int]] = {}
        demands = self.demands
        totals = self.totals
        find = classes.get
        for index in indexes:
            demand = demands[index]
            key = (totals[demand.owner], demand.cap, id(demand.terms))
            alike = find(key)
            if alike is None:
                classes[key] = [index]
            else:
                alike.append(index)
        enforced_of = self.enforced_of
        # Tiers with the same enforced limits share the filtered terms (usually only the solar
        # budget starts late: the first tiers share one set, the surplus tiers another).
        since = max((start for start in self.starts if start <= tier), default=-1)
        starting: list[int] = []
        followers = self.followers
        followers.clear()
        bases = self.base
        weight = self.weight
        owner_weight = self.owner_weight
        enforced_by_demand = self.enforced
        enforced_limits = self.enforced_limits
        # Usually only the solar budget starts late; in its tiers every term is enforced.
        all_enforced = max(from_tier, default=0) <= tier
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
            terms = demands[index].terms
            found = enforced_of.get((terms_id, since))
            if found is None or found[0] is not terms:
                enforced = (
                    terms
                    if all_enforced
                    else tuple(term for term in terms if from_tier[term[0]] <= tier)
                )
                found = (terms, enforced, tuple(limit for limit, _coefficient in enforced))
                enforced_of[terms_id, since] = found
            _terms, enforced, enforced_limits[index] = found
            enforced_by_demand[index] = enforced
            for limit, _coefficient in enforced:
                members[limit].append(index)
        heapq.heapify(heap)
        self.heap = heap
        return members, starting

    def _activate(self, index: int) -> None:
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
        if base:
            for limit, coefficient in enforced:
                rising_count[limit] += 1
                weighted = coefficient * weight
                rate[limit] += weighted
                offset[limit] += weighted * base
        else:  # rising from zero (the usual case): the offsets do not move
            for limit, coefficient in enforced:
                rising_count[limit] += 1
                rate[limit] += coefficient * weight
        self.dirty.update(self.enforced_limits[index])
        self.state[index] = _RISING
        heapq.heappush(self.heap, (base + demand.cap, _CAP, index))

    def _settle(self, index: int, value: float, bottleneck: int) -> None:
        """Give a demand and the rest of its class their final value."""
        demands = self.demands
        self.state[index] = _FROZEN
        values = self.values
        totals = self.totals
        bottlenecks = self.bottlenecks
        values[index] = value
        totals[demands[index].owner] += value
        bottlenecks[index] = bottleneck
        followers = self.followers.get(index)
        if followers is not None:
            for member in followers:
                values[member] = value
                totals[demands[member].owner] += value
                bottlenecks[member] = bottleneck
        if value:
            fixed = self.fixed
            load = value * self.weight[index]
            for limit, coefficient in demands[index].terms:
                fixed[limit] += coefficient * load

    def _freeze(self, index: int, bottleneck: int) -> None:
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
            elif base:
                weighted = coefficient * weight
                rate[limit] -= weighted
                offset[limit] -= weighted * base
            else:  # rose from zero: its offsets were zero
                rate[limit] -= coefficient * weight
        self.dirty.update(self.enforced_limits[index])

    def _schedule(self) -> None:
        """Work out when the limits whose load changed fill up.

        Only a limit that fills earlier than it did gets a new heap entry; one that fills
        later keeps its early entry, which is moved when it comes up (most changes are
        freezes, which only make limits fill later: this saves most heap traffic).
        """
        level = self.level
        rate = self.rate
        push = heapq.heappush
        heap = self.heap
        saturated = self.saturated
        rising_count = self.rising_count
        capacity = self.capacity
        fixed = self.fixed
        offset = self.offset
        full_at = self.full_at
        for limit in self.dirty:
            if saturated[limit] or rising_count[limit] == 0:
                full_at[limit] = math.inf
                continue
            fills = (capacity[limit] - fixed[limit] + offset[limit]) / rate[limit]
            if fills < full_at[limit]:
                push(heap, (max(level, fills), _SATURATE, limit))
            full_at[limit] = fills
        self.dirty.clear()


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
        everyone = _Filler(limits, demands, owners, alike, enforced_cache, None).run()
        if _all_reach_minimum(everyone, demands, alike or {}, admission.minimum):
            return everyone
    return _Filler(limits, demands, owners, alike, enforced_cache, admission).run()


def _first_demands(demands: Sequence[Demand]) -> dict[int, int]:
    """Return, per owner with demands, its first one (lowest tier): it is admitted with it."""
    first: dict[int, int] = {}
    for index, demand in enumerate(demands):
        known = first.get(demand.owner)
        if known is None or demand.tier < demands[known].tier:
            first[demand.owner] = index
    return first


def _all_reach_minimum(
    result: Fill,
    demands: Sequence[Demand],
    alike: Mapping[int, Sequence[int]],
    minimum: Sequence[float],
) -> bool:
    """Return whether every owner got at least its minimum from its first demand."""
    values = result.values
    for owner, index in _first_demands(demands).items():
        others = alike.get(owner)
        need = max(minimum[owner], *map(minimum.__getitem__, others)) if others else minimum[owner]
        if values[index] < need - EPSILON:
            return False
    return True


def owner_bottleneck(result: Fill, owner_demands: Sequence[int]) -> int:
    """Return the limit that stopped the owner (its first demand not stopped by its cap)."""
    for index in owner_demands:
        if result.bottlenecks[index] != CAPPED:
            return result.bottlenecks[index]
    return CAPPED


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
        paused.update(
            choose_victims(active, limits, result, below, demands_of, minimum, keep_position)
        )
    amps = round_to_amps(active, limits, result.totals, demands_of, caps, keep_position)
    return Allocation(
        amps=tuple(amps),
        continuous=result.totals,
        paused=tuple(sorted(paused)),
        fill=result,
    )
