"""Fair shares: who takes part, on which phases, and the max-min fair fill among them.

A `Plan` (`plan.py`) says who shares this cycle; the rules of the cycle change it (phase
switches, pauses, solar holds), and `Sharer.share_out` fills it again after each change.

Each charger asks in priority tiers (`allocation.fill`): fast charging asks for its cap in its
priority's tier; minimum + solar (and a solar charge holding its minimum) for its minimum
there and the rest in the surplus tier; solar only for its cap in the surplus tier. Surplus
tiers come after every priority tier, so surplus is what fast charging leaves. Chargers are
admitted in keep order while their minimum fits (`allocation.Admission`).

Chargers whose demands have the same shape (tiers, amounts and allocator terms) are alike:
the allocator fills one demand for all of them, weighed by their number. A large site has
many alike chargers (the same group, mode and phases); this is what keeps a fill of 1,000
chargers near 1 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .allocation import CAPPED, Admission, Demand, EnforcedCache, Fill, Limit, Terms, fill
from .model import ChargingMode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .caps import Asks
    from .model import Phase
    from .plan import Plan
    from .topology import Topology

_NO_DEMANDS = range(0)
type _Pieces = tuple[tuple[int, float], ...]
"""A charger's demands as (tier, amount) pieces."""


@dataclass(frozen=True, slots=True)
class Shares:
    """One fill of a plan: the allocator's result and which demands are whose."""

    fill: Fill
    demands: Sequence[Demand]
    demands_of: Sequence[range]
    """Per charger: the indexes of its demands (alike chargers share their leader's)."""

    def total(self, index: int) -> float:
        """Return a charger's share."""
        return self.fill.totals[index]

    def bottleneck(self, index: int) -> int:
        """Return the limit that stopped the charger (its first demand not capped), or CAPPED."""
        bottlenecks = self.fill.bottlenecks
        for demand in self.demands_of[index]:
            if bottlenecks[demand] != CAPPED:
                return bottlenecks[demand]
        return CAPPED


type _Asked = tuple[int, tuple[Phase, ...], bool]
"""What a charger's demands follow from: its cap, its site phases, whether it holds its
minimum (the rest is configuration)."""


class Sharer:
    """Fills plans for one configuration (`share_out`), remembering what makes fills cheap.

    Nothing it keeps changes a result:
    - each charger's demands, built again only when what they follow from changes (`_Asked`):
      most chargers ask the same from cycle to cycle; measured side by side
      (`benchmarks.engine_side_by_side`), a decision takes 0.79x the time with it at 1,000
      chargers contended (0.82x ample, 0.86x at 100);
    - the allocator's filtered terms (`fill`'s `enforced_cache`);
    - whether the last fill admitted everyone (`Admission.everyone_first`, which gives the
      same result either way).
    """

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.enforced: EnforcedCache = {}
        self.all_admitted = True
        self._built: list[tuple[_Asked, int, tuple[Demand, ...]] | None] = [None] * len(
            topology.chargers
        )
        """Per charger: what it asked, the number of its shape, and its demands."""
        self._shapes: dict[tuple[_Pieces, Terms], int] = {}
        """Demand shapes (tiers, amounts and terms, not the owner), numbered."""

    def share_out(
        self,
        room: Sequence[Limit],
        plan: Plan,
        asks: Asks,
        keep_position: Sequence[int],
        *,
        waited: frozenset[int] = frozenset(),
        running: frozenset[int] = frozenset(),
        blocked: tuple[int, int] | None = None,
    ) -> Shares:
        """Fill the plan: every charger sharing gets its max-min fair share.

        `waited` (a full turn), `running` and `blocked` are the admission's turns
        (`allocation.Admission`).
        """
        topology = self.topology
        demands, demands_of, alike = self._demands(plan, asks)
        admission = Admission(
            topology.minimum,
            keep_position,
            waited=waited,
            running=running,
            blocked=blocked,
            # Everyone first would start the chargers a block holds back when all fit.
            everyone_first=self.all_admitted and blocked is None,
        )
        result = fill(room, demands, len(topology.chargers), alike, self.enforced, admission)
        self.all_admitted = not result.refused
        return Shares(result, demands, demands_of)

    def _demands(
        self, plan: Plan, asks: Asks
    ) -> tuple[list[Demand], list[range], dict[int, list[int]]]:
        """Return the demands of the plan, each charger's demands, and the alike chargers.

        The last is `fill`'s `alike`: per charger whose demands are in the list, the others
        with the same shape, which share its demands.
        """
        demands: list[Demand] = []
        demands_of = [_NO_DEMANDS] * len(self.topology.chargers)
        leader_of: dict[int, int] = {}
        alike: dict[int, list[int]] = {}
        for index in plan.sharing:
            asked = (asks.cap[index], plan.phases[index], index in plan.holding)
            built = self._built[index]
            if built is None or built[0] != asked:
                built = self._build(index, asked)
            shape = built[1]
            leader = leader_of.get(shape)
            if leader is not None:
                demands_of[index] = demands_of[leader]
                alike.setdefault(leader, []).append(index)
                continue
            leader_of[shape] = index
            start = len(demands)
            demands.extend(built[2])
            demands_of[index] = range(start, len(demands))
        return demands, demands_of, alike

    def _build(self, index: int, asked: _Asked) -> tuple[_Asked, int, tuple[Demand, ...]]:
        cap, phases, holding = asked
        pieces = _pieces(self.topology, index, cap, holding=holding)
        terms = self.topology.terms(index, phases)
        shape = self._shapes.setdefault((pieces, terms), len(self._shapes))
        own = tuple(Demand(index, tier, amount, terms) for tier, amount in pieces)
        built = (asked, shape, own)
        self._built[index] = built
        return built


def _pieces(topology: Topology, index: int, cap: int, *, holding: bool) -> _Pieces:
    """Return a charger's (tier, amount) pieces (see the module docstring)."""
    charger = topology.chargers[index]
    rank = topology.priority_rank[index]
    surplus_tier = topology.tier_count + rank
    if charger.mode is ChargingMode.FAST:
        return ((rank, float(cap)),)
    minimum = float(charger.min_current)
    if charger.mode is ChargingMode.MIN_SOLAR or holding:
        return ((rank, minimum), (surplus_tier, cap - minimum))
    return ((surplus_tier, float(cap)),)
