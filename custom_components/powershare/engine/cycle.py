"""The facts of one cycle that every rule reads, gathered once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .allocation import Limit
    from .caps import Asks
    from .memory import ChargerMemory
    from .plan import Plan
    from .sharing import Sharer, Shares
    from .topology import Topology
    from .tunables import Tunables


@dataclass(frozen=True, slots=True)
class Cycle:
    """What one cycle knows before sharing: the site, the time, the room, the asks, the order."""

    topology: Topology
    now: float
    room: Sequence[Limit]
    """Every allocator limit (`room.Room.limits`)."""
    sessions: Sequence[ChargerMemory | None]
    """Per charger: its session, None without a car."""
    asks: Asks
    keep_position: Sequence[int]
    """Per charger: its place in the keep order (`keep_order`)."""
    sharer: Sharer
    waited: frozenset[int] = frozenset()
    """The chargers that waited a full turn (`keep_order.KeepOrder.waited`)."""
    running: frozenset[int] = frozenset()
    """The chargers charging now."""
    out_of_control: frozenset[int] = frozenset()
    """The chargers out of control (`obedience`), the unresponsive ones included."""
    unresponsive: frozenset[int] = frozenset()
    """The chargers that do not answer (`ChargerState.unresponsive`)."""

    @property
    def tunables(self) -> Tunables:
        """Return the site's tunables."""
        return self.topology.config.tunables

    def share_out(self, plan: Plan) -> Shares:
        """Fill the plan (`Sharer.share_out`)."""
        return self.sharer.share_out(
            self.room,
            plan,
            self.asks,
            self.keep_position,
            waited=self.waited,
            running=self.running,
            blocked=plan.blocked,
        )
