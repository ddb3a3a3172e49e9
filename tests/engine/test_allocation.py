"""The allocator: unit cases, properties, and comparisons with linear programs (scipy)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog  # type: ignore[import-untyped]

from custom_components.powershare.engine.allocation import (
    CAPPED,
    EPSILON,
    Admission,
    Demand,
    Limit,
    allocate,
    choose_victims,
    fill,
    owner_bottleneck,
    round_to_amps,
    whole_amp_usage,
)

TOLERANCE = 1e-6


def one(limit: int, cap: float, owner: int, tier: int = 0, coefficient: float = 1.0) -> Demand:
    return Demand(owner=owner, tier=tier, cap=cap, terms=((limit, coefficient),))


# --- unit cases -------------------------------------------------------------------------------


def test_equal_shares_on_one_limit() -> None:
    result = fill([Limit(40.0)], [one(0, 32, 0), one(0, 32, 1)], 2)
    assert result.totals == (20.0, 20.0)
    assert result.bottlenecks == (0, 0)
    assert result.usage == (40.0,)


def test_a_capped_owner_leaves_the_rest_to_others() -> None:
    result = fill([Limit(40.0)], [one(0, 10, 0), one(0, 32, 1)], 2)
    assert result.totals == (10.0, 30.0)
    assert result.bottlenecks == (CAPPED, 0)


def test_lower_tiers_first_and_bases_carry_over() -> None:
    demands = [one(0, 32, 0, tier=0), one(0, 6, 1, tier=0), one(0, 26, 1, tier=1), one(0, 32, 2, 1)]
    result = fill([Limit(30.0)], demands, 3)
    # Tier 0: owner 0 gets 24, owner 1 its 6. Tier 1: nothing left.
    assert result.totals == (24.0, 6.0, 0.0)
    demands = [one(0, 6, 1, tier=0), one(0, 26, 1, tier=1), one(0, 32, 2, tier=1)]
    result = fill([Limit(20.0)], demands, 3)
    # Owner 2 rises alone from 0 to 6, then both rise together: 13 + 7... fair on totals.
    assert result.totals == (0.0, 10.0, 10.0)


def test_a_limit_enforced_from_a_later_tier_counts_earlier_load() -> None:
    limits = [Limit(100.0), Limit(10.0, from_tier=1)]
    demands = [
        Demand(owner=0, tier=0, cap=8.0, terms=((0, 1.0), (1, 1.0))),
        Demand(owner=1, tier=1, cap=32.0, terms=((0, 1.0), (1, 1.0))),
    ]
    result = fill(limits, demands, 2)
    assert result.totals == (8.0, 2.0)
    assert result.bottlenecks == (CAPPED, 1)


def test_negative_capacity_gives_zero() -> None:
    result = fill([Limit(-5.0)], [one(0, 32, 0)], 1)
    assert result.totals == (0.0,)
    assert result.bottlenecks == (0,)


def test_coefficients_weigh_the_load() -> None:
    # A power cap in phase-amps: a 3-phase owner counts three times.
    limits = [Limit(30.0)]
    demands = [one(0, 32, 0, coefficient=3.0), one(0, 32, 1, coefficient=1.0)]
    result = fill(limits, demands, 2)
    assert result.totals == pytest.approx((7.5, 7.5))


def test_allocate_pauses_the_lowest_ranked_and_refills() -> None:
    demands = [one(0, 32, owner) for owner in range(3)]
    result = allocate([Limit(14.0)], demands, [6.0] * 3, [32] * 3, [2, 0, 1])
    assert result.paused == (0,)
    assert result.amps == (0, 7, 7)


def test_admission_keeps_owners_in_keep_order_while_their_minimum_fits() -> None:
    demands = [one(0, 32, owner) for owner in range(5)]
    admission = Admission([6.0] * 5, keep_position=[4, 3, 2, 1, 0])
    result = fill([Limit(20.0)], demands, 5, admission=admission)
    # Keep order 4, 3, 2, 1, 0: three minimums of 6 A fit in 20 A, a fourth does not.
    assert dict(result.refused) == {0: 0, 1: 0}
    assert result.totals == pytest.approx((0.0, 0.0, 20 / 3, 20 / 3, 20 / 3))
    assert result.usage == pytest.approx((20.0,))


def test_admission_counts_what_earlier_tiers_took() -> None:
    # Owner 0 (tier 0) takes 10 of 20 A first; of the tier-1 owners only one minimum fits.
    demands = [one(0, 10, 0, tier=0), one(0, 32, 1, tier=1), one(0, 32, 2, tier=1)]
    admission = Admission([6.0] * 3, keep_position=[0, 2, 1])
    result = fill([Limit(20.0)], demands, 3, admission=admission)
    assert dict(result.refused) == {1: 0}
    assert result.totals == (10.0, 0.0, 10.0)


def test_admission_of_alike_owners_one_by_one() -> None:
    # Owner 0 stands for itself and owners 1 and 2; only two of the three minimums fit, and
    # the keep order puts owner 0 itself last: its demand now carries owners 1 and 2.
    limits = [Limit(14.0), Limit(100.0)]
    demands = [Demand(owner=0, tier=0, cap=32.0, terms=((0, 1.0), (1, 1.0)))]
    admission = Admission([6.0] * 3, keep_position=[2, 0, 1])
    result = fill(limits, demands, 3, alike={0: [1, 2]}, admission=admission)
    assert dict(result.refused) == {0: 0}
    assert result.totals == (0.0, 7.0, 7.0)
    assert result.usage == pytest.approx((14.0, 14.0))


def test_admission_weighs_unequal_minimums_one_by_one() -> None:
    # 20 A: 12 A and 6 A fit; then 6 A more does not. A 10 A minimum does not fit after 12.
    demands = [one(0, 32, owner) for owner in range(4)]
    admission = Admission([12.0, 6.0, 10.0, 6.0], keep_position=[0, 1, 2, 3])
    result = fill([Limit(20.0)], demands, 4, admission=admission)
    assert dict(result.refused) == {2: 0, 3: 0}
    # Admitted, but fair shares do not know minimums: 10 A each, 12 is not reached (the
    # balancer's `choose_victims` pass deals with that).
    assert result.totals == (10.0, 10.0, 0.0, 0.0)
    # Everyone first: 5 A each, so not kept; the admission then gives the same as above.
    shortcut = dataclasses.replace(admission, everyone_first=True)
    assert fill([Limit(20.0)], demands, 4, admission=shortcut) == result


def test_everyone_first_is_kept_when_all_reach_their_minimum() -> None:
    demands = [one(0, 32, owner) for owner in range(3)]
    admission = Admission([6.0] * 3, keep_position=[0, 1, 2], everyone_first=True)
    result = fill([Limit(20.0)], demands, 3, admission=admission)
    assert not result.refused
    assert result == fill([Limit(20.0)], demands, 3)


def test_choose_victims_keeps_as_many_as_fit() -> None:
    demands = [one(0, 32, owner) for owner in range(5)]
    limits = [Limit(20.0)]
    result = fill(limits, demands, 5)
    victims = choose_victims(
        demands,
        limits,
        result,
        [0, 1, 2, 3, 4],
        [[i] for i in range(5)],
        [6.0] * 5,
        [0, 1, 2, 3, 4],
    )
    assert victims == [3, 4]


def test_choose_victims_pauses_owners_capped_below_their_minimum() -> None:
    demands = [one(0, 4, 0), one(0, 32, 1)]
    limits = [Limit(100.0)]
    result = fill(limits, demands, 2)
    assert owner_bottleneck(result, [0]) == CAPPED
    assert choose_victims(demands, limits, result, [0], [[0], [1]], [6.0] * 2, [0, 1]) == [0]


def test_choose_victims_weighs_owners_by_their_coefficient_on_the_bottleneck() -> None:
    # Owner 0 (a minimum piece then the rest, on one phase) and owner 1 (three phases, so
    # three amps per amp on the power cap): 5 A each fill the 20 A cap. Keeping owner 0 at
    # 6 A leaves 14 A, not 18 A for owner 1's minimum: owner 1 is paused.
    limits = [Limit(20.0)]
    demands = [
        one(0, 6, 0, tier=0),
        one(0, 26, 0, tier=1),
        one(0, 32, 1, tier=0, coefficient=3.0),
    ]
    result = fill(limits, demands, 2)
    assert result.totals == pytest.approx((5.0, 5.0))
    victims = choose_victims(demands, limits, result, [0, 1], [[0, 1], [2]], [6.0] * 2, [0, 1])
    assert victims == [1]


def test_choose_victims_always_pauses_one_of_those_below() -> None:
    # Owners said to be below their minimum whose minimums fit after all (rounding at the
    # edge): the last in keep order is paused anyway, so the caller's loop always ends.
    demands = [one(0, 32, owner) for owner in range(2)]
    limits = [Limit(12.0)]
    result = fill(limits, demands, 2)
    victims = choose_victims(demands, limits, result, [0, 1], [[0], [1]], [6.0] * 2, [1, 0])
    assert victims == [0]


def test_rounding_hands_out_whole_amps_within_limits() -> None:
    demands = [one(0, 32, owner) for owner in range(3)]
    limits = [Limit(20.0)]
    result = fill(limits, demands, 3)
    amps = round_to_amps(demands, limits, result.totals, [[0], [1], [2]], [32] * 3, [0, 1, 2])
    assert sorted(amps) == [6, 7, 7]
    assert sum(amps) == 20


# --- random instances ---------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    limits: list[Limit]
    demands: list[Demand]
    owners: int
    caps: list[float]


@st.composite
def tree_instances(draw: st.DrawFn, *, homogeneous: bool = False) -> Instance:
    """A 1-3 level tree of per-phase fuses with chargers on 1 or 3 phases."""
    group_count = draw(st.integers(1, 6))
    parents = [None] + [draw(st.integers(0, index - 1)) for index in range(1, group_count)]
    # Half amps, as real fuses and meters go (and clear of the LP solvers' tolerances).
    fuses = [[draw(st.integers(0, 160)) / 2 for _ in range(3)] for _ in range(group_count)]
    limits = [Limit(fuses[group][phase]) for group in range(group_count) for phase in range(3)]
    owners = draw(st.integers(1, 10))
    all_three = draw(st.booleans())
    demands: list[Demand] = []
    caps: list[float] = []
    for owner in range(owners):
        group = draw(st.integers(0, group_count - 1))
        phases: tuple[int, ...]
        if homogeneous:
            phases = (0, 1, 2) if all_three else (draw(st.integers(0, 2)),)
        else:
            phases = draw(st.sampled_from([(0, 1, 2), (0,), (1,), (2,), (0, 1)]))
        chain = [group]
        while parents[chain[-1]] is not None:
            chain.append(parents[chain[-1]])  # type: ignore[arg-type]
        terms = tuple((ancestor * 3 + phase, 1.0) for ancestor in chain for phase in phases)
        cap = float(draw(st.integers(1, 32)))
        caps.append(cap)
        demands.append(Demand(owner=owner, tier=0, cap=cap, terms=terms))
    return Instance(limits, demands, owners, caps)


def matrix(instance: Instance) -> tuple[Any, Any]:
    a = np.zeros((len(instance.limits), instance.owners))
    for demand in instance.demands:
        for limit, coefficient in demand.terms:
            a[limit, demand.owner] += coefficient
    b = np.array([limit.capacity for limit in instance.limits])
    return a, b


def reference_max_min(instance: Instance) -> list[float]:
    """Max-min fair vector by iterated linear programs (slow, obviously correct)."""
    a, b = matrix(instance)
    n = instance.owners
    fixed: dict[int, float] = {}
    bounds_x = [(0.0, cap) for cap in instance.caps]
    while len(fixed) < n:
        free = [i for i in range(n) if i not in fixed]
        # Variables: x_0..x_{n-1}, t. Maximise t with x_i >= t for free owners.
        c = np.zeros(n + 1)
        c[n] = -1.0
        a_ub = [np.append(row, 0.0) for row in a]
        b_ub = list(b)
        for i in free:
            row = np.zeros(n + 1)
            row[i] = -1.0
            row[n] = 1.0
            a_ub.append(row)
            b_ub.append(0.0)
        bounds: list[tuple[float, float | None]] = [
            (fixed[i], fixed[i]) if i in fixed else bounds_x[i] for i in range(n)
        ]
        bounds.append((0.0, None))
        level = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, bounds=bounds, method="highs")
        assert level.status == 0
        t = level.x[n]
        # Any free owner that cannot exceed t while the others keep t is frozen at t.
        frozen_now = []
        for i in free:
            c_i = np.zeros(n + 1)
            c_i[i] = -1.0
            # A hair below t so that the solver's tolerance cannot make this infeasible.
            floor = max(t - 1e-9, 0.0)
            bounds_i: list[tuple[float, float | None]] = [
                (fixed[j], fixed[j]) if j in fixed else (min(floor, bounds_x[j][1]), bounds_x[j][1])
                for j in range(n)
            ]
            bounds_i.append((0.0, None))
            best = linprog(
                c_i, A_ub=np.array(a_ub)[: len(b)], b_ub=b, bounds=bounds_i, method="highs"
            )
            assert best.status == 0
            if best.x[i] <= t + 1e-7:
                frozen_now.append(i)
        assert frozen_now
        for i in frozen_now:
            fixed[i] = t
    return [fixed[i] for i in range(n)]


def lp_optimum(instance: Instance) -> float:
    a, b = matrix(instance)
    result = linprog(
        -np.ones(instance.owners),
        A_ub=a,
        b_ub=b,
        bounds=[(0.0, cap) for cap in instance.caps],
        method="highs",
    )
    assert result.status == 0
    return float(-result.fun)


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(tree_instances())
def test_fill_is_feasible_capped_and_pareto_efficient(instance: Instance) -> None:
    result = fill(instance.limits, instance.demands, instance.owners)
    for limit, used in zip(instance.limits, result.usage, strict=True):
        assert used <= max(limit.capacity, 0.0) + TOLERANCE
    for demand, value, bottleneck in zip(
        instance.demands, result.values, result.bottlenecks, strict=True
    ):
        assert -TOLERANCE <= value <= demand.cap + TOLERANCE
        if bottleneck == CAPPED:
            assert value == pytest.approx(demand.cap)
        else:
            # Pareto: the bottleneck is full, and no one using it has more (max-min fairness).
            limit = instance.limits[bottleneck]
            assert result.usage[bottleneck] >= limit.capacity - 1e-6
            for other in instance.demands:
                if any(term[0] == bottleneck for term in other.terms):
                    assert result.totals[other.owner] <= value + TOLERANCE


@PROPERTY_SETTINGS
@given(tree_instances())
def test_fill_equals_the_reference_max_min_fair_vector(instance: Instance) -> None:
    result = fill(instance.limits, instance.demands, instance.owners)
    reference = reference_max_min(instance)
    assert list(result.totals) == pytest.approx(reference, abs=1e-5)


@PROPERTY_SETTINGS
@given(tree_instances(), st.lists(st.integers(0, 3), min_size=10, max_size=10))
def test_alike_owners_weigh_and_share_like_their_own_demands(
    instance: Instance, copies: list[int]
) -> None:
    # Each owner gets 0-3 copies; with `alike` the copies are left out of the demands.
    demands = list(instance.demands)
    alike: dict[int, list[int]] = {}
    owners = instance.owners
    for demand in instance.demands:
        for _ in range(copies[demand.owner]):
            demands.append(
                Demand(owner=owners, tier=demand.tier, cap=demand.cap, terms=demand.terms)
            )
            alike.setdefault(demand.owner, []).append(owners)
            owners += 1
    explicit = fill(instance.limits, demands, owners)
    grouped = fill(instance.limits, instance.demands, owners, alike)
    assert list(grouped.totals) == pytest.approx(explicit.totals, abs=1e-6)
    assert list(grouped.usage) == pytest.approx(explicit.usage, abs=1e-6)
    assert grouped.bottlenecks == explicit.bottlenecks[: len(instance.demands)]


# The issue asks for two things of the continuous allocation: max-min fair shares equal to the
# reference, and a total within 1 % of the LP optimum of the same constraints. Both hold, and
# exactly, where every charger draws on the same phases (all on three, or all on one phase each):
# then each phase's fuses form a tree (a laminar family) of unit-coefficient constraints, a
# polymatroid, and there the max-min fair vector is also a maximum-total one (the greedy /
# water-filling base of a polymatroid). Mixing one- and three-phase chargers breaks the tree
# shape (a three-phase car shares L1 with one car and L2 with another): the max-min fair vector
# is still unique and Pareto-optimal, but no longer of maximum total, so no allocator can meet
# both there (next test). Powershare keeps fairness (the rule 2, and what a user sees).


@PROPERTY_SETTINGS
@given(tree_instances(homogeneous=True))
def test_total_is_within_one_percent_of_the_lp_optimum(instance: Instance) -> None:
    # Where fairness costs nothing (see above): within 1 %, and in fact equal.
    result = fill(instance.limits, instance.demands, instance.owners)
    optimum = lp_optimum(instance)
    assert sum(result.totals) >= 0.99 * optimum - TOLERANCE
    assert sum(result.totals) == pytest.approx(optimum, rel=1e-6, abs=1e-6)


def test_mixed_phases_can_trade_total_for_fairness() -> None:
    # Where fairness costs throughput, and must: one 3-phase car between 1-phase cars on L1 and
    # L2, 20 A per phase. Max-min gives each 10 A (30 A in total). The LP optimum starves the
    # 3-phase car to give the others 20 A each (40 A). The max-min vector is unique and leaves
    # nothing over (L1 and L2 are full), so "fair, then fill the leftovers" cannot close the gap:
    # any amp more in total is an amp taken from the car that has the least. Weighing by phases
    # (fair in power, not current) does not either: 15 / 5 / 15 A, 35 A. The gap is 25 %.
    limits = [Limit(20.0), Limit(20.0), Limit(20.0)]
    demands = [
        Demand(owner=0, tier=0, cap=32.0, terms=((0, 1.0),)),
        Demand(owner=1, tier=0, cap=32.0, terms=((0, 1.0), (1, 1.0), (2, 1.0))),
        Demand(owner=2, tier=0, cap=32.0, terms=((1, 1.0),)),
    ]
    instance = Instance(limits, demands, 3, [32.0] * 3)
    result = fill(limits, demands, 3)
    assert result.totals == (10.0, 10.0, 10.0)
    assert list(result.totals) == pytest.approx(reference_max_min(instance))
    assert all(result.usage[phase] == pytest.approx(20.0) for phase in (0, 1))  # no leftovers
    assert lp_optimum(instance) == pytest.approx(40.0)
    assert sum(result.totals) < 0.99 * lp_optimum(instance)


@PROPERTY_SETTINGS
@given(tree_instances(), st.floats(1.0, 10.0))
def test_allocate_gives_zero_or_at_least_the_minimum_in_whole_amps(
    instance: Instance, minimum: float
) -> None:
    minimum = float(math.floor(minimum))
    caps = [max(int(cap), int(minimum)) for cap in instance.caps]
    demands = [
        Demand(owner=d.owner, tier=d.tier, cap=float(caps[d.owner]), terms=d.terms)
        for d in instance.demands
    ]
    owners = instance.owners
    result = allocate(instance.limits, demands, [minimum] * owners, caps, list(range(owners)))
    usage = [0.0] * len(instance.limits)
    for demand in demands:
        amps = result.amps[demand.owner]
        assert amps == 0 or minimum <= amps <= caps[demand.owner]
        for limit, coefficient in demand.terms:
            usage[limit] += coefficient * amps
    for bound, used in zip(instance.limits, usage, strict=True):
        assert used <= max(bound.capacity, 0.0) + TOLERANCE
    assert (
        allocate(instance.limits, demands, [minimum] * owners, caps, list(range(owners))) == result
    )


@PROPERTY_SETTINGS
@given(
    tree_instances(),
    st.lists(st.integers(0, 2), min_size=10, max_size=10),
    st.integers(1, 10),
    st.randoms(use_true_random=False),
)
def test_admission_is_greedy_in_keep_order_and_every_admitted_reaches_its_minimum(
    instance: Instance, copies: list[int], minimum: int, random: Any
) -> None:
    # Owners with 0-2 alike copies each, a shuffled keep order, one minimum for all.
    alike: dict[int, list[int]] = {}
    explicit = list(instance.demands)
    owners = instance.owners
    for demand in instance.demands:
        for _ in range(copies[demand.owner]):
            alike.setdefault(demand.owner, []).append(owners)
            explicit.append(
                Demand(owner=owners, tier=demand.tier, cap=demand.cap, terms=demand.terms)
            )
            owners += 1
    demands = [
        Demand(owner=d.owner, tier=d.tier, cap=max(d.cap, minimum), terms=d.terms)
        for d in instance.demands
    ]
    explicit = [
        Demand(owner=d.owner, tier=d.tier, cap=max(d.cap, minimum), terms=d.terms) for d in explicit
    ]
    order = list(range(owners))
    random.shuffle(order)
    keep_position = [0] * owners
    for position, owner in enumerate(order):
        keep_position[owner] = position
    result = fill(
        instance.limits,
        demands,
        owners,
        alike,
        admission=Admission([float(minimum)] * owners, keep_position),
    )
    terms_of = {demand.owner: demand.terms for demand in explicit}
    # Greedy in keep order: each refused owner's minimum did not fit on its refusing limit on
    # top of the minimums admitted before it; each admitted one fitted everywhere.
    load = [0.0] * len(instance.limits)
    for owner in order:
        terms = terms_of[owner]
        if owner in result.refused:
            limit = result.refused[owner]
            coefficient = dict(terms)[limit]
            assert load[limit] + coefficient * minimum > instance.limits[limit].capacity + EPSILON
            assert result.totals[owner] == 0.0
            continue
        for limit, coefficient in terms:
            load[limit] += coefficient * minimum
            assert load[limit] <= instance.limits[limit].capacity + EPSILON
        # One minimum for all: the admitted reach it.
        assert result.totals[owner] >= minimum - 1e-6
    # And the admitted share exactly as if they were alone.
    admitted_only = [demand for demand in explicit if demand.owner not in result.refused]
    alone = fill(instance.limits, admitted_only, owners)
    assert list(result.totals) == pytest.approx(alone.totals, abs=1e-6)
    assert list(result.usage) == pytest.approx(alone.usage, abs=1e-6)
    # Trying everyone first is only a shortcut: the same result, whether or not all fit.
    shortcut = Admission([float(minimum)] * owners, keep_position, everyone_first=True)
    assert fill(instance.limits, demands, owners, alike, admission=shortcut) == result


def test_whole_amp_usage_sums_per_terms_like_per_owner() -> None:
    shared = ((0, 1.0), (2, 3.0))
    alone = ((1, 1.0), (2, 1.0))
    terms_of = [shared, alone, shared, (), shared]
    amps = [6, 10, 7, 0, 0]
    naive = [0.0, 0.0, 0.0]
    for terms, owner_amps in zip(terms_of, amps, strict=True):
        for limit, coefficient in terms:
            naive[limit] += coefficient * owner_amps
    assert whole_amp_usage(3, terms_of, amps) == naive == [13.0, 10.0, 49.0]


def test_unequal_minimums_pause_until_every_owner_left_has_its_minimum() -> None:
    # 35 phase-amps; two three-phase owners (minimum 6 A: 18 of them each) and a one-phase
    # owner whose minimum is 16 A. Admission alone leaves someone under a minimum, so the
    # loop pauses again and fills again: everyone left gets at least its minimum, in the limit.
    minimum = [6.0, 16.0, 6.0]
    demands = [one(0, 32, 0, coefficient=3.0), one(0, 32, 1), one(0, 32, 2, coefficient=3.0)]
    result = allocate([Limit(35.0)], demands, minimum, [32] * 3, [0, 1, 2])
    running = [owner for owner in range(3) if owner not in result.paused]
    assert result.paused  # not everyone fits
    assert all(result.amps[owner] >= minimum[owner] for owner in running)
    assert all(result.amps[owner] == 0 for owner in result.paused)
    assert 3 * result.amps[0] + result.amps[1] + 3 * result.amps[2] <= 35
