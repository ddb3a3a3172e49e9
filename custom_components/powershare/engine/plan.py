"""The plan of a cycle: who shares, on which site phases, and who is left out and why.

The candidates are the chargers that may charge (a car, a mode, a cap of at least the
minimum). The rules of the cycle change the plan, each by returning a new one: a phase switch
moves a charger to other phases, a pause leaves it out with its reason, a running solar charge
short of surplus holds its minimum instead. A charger only ever moves one way, from sharing to
holding its minimum to left out, which is why `minimum.settle` ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .model import Phase, Reason


class LeftOut(NamedTuple):
    """Why a charger gets nothing this cycle."""

    reason: Reason
    detail: str
    limit: int
    """The allocator limit behind it (CAPPED for none)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Who shares this cycle (see the module docstring)."""

    candidates: tuple[int, ...]
    """The chargers that could charge, in index order."""
    phases: tuple[tuple[Phase, ...], ...]
    """Per charger: the site phases it draws on."""
    sharing: tuple[int, ...]
    """The candidates that take part in the fill (index order): those not left out."""
    left_out: Mapping[int, LeftOut] = MappingProxyType({})
    """Per candidate left out of the sharing: why."""
    holding: frozenset[int] = frozenset()
    """Running solar charges that hold their minimum through a deficit."""
    blocked: tuple[int, int] | None = None
    """(keep position, limit) of the first charger that waited a turn and was paused although
    its minimum fits alone: no charger after it starts (`allocation.Admission.blocked`)."""

    @classmethod
    def start(cls, candidates: tuple[int, ...], phases: tuple[tuple[Phase, ...], ...]) -> Plan:
        """Return the first plan of a cycle: every candidate shares, on its phases."""
        return cls(candidates, phases, candidates)

    def leave_out(self, more: Mapping[int, LeftOut]) -> Plan:
        """Return the plan with `more` chargers left out."""
        sharing = tuple(index for index in self.sharing if index not in more)
        left_out = MappingProxyType({**self.left_out, **more})
        return replace(self, sharing=sharing, left_out=left_out)

    def hold(self, more: Iterable[int]) -> Plan:
        """Return the plan with `more` solar charges holding their minimum."""
        holding = self.holding | frozenset(more)
        return replace(self, holding=holding)

    def move(self, moved: Mapping[int, tuple[Phase, ...]]) -> Plan:
        """Return the plan with chargers on other site phases."""
        phases = list(self.phases)
        for index, site_phases in moved.items():
            phases[index] = site_phases
        return replace(self, phases=tuple(phases))

    def block_after(self, position: int, limit: int) -> Plan:
        """Return the plan with no start after `position` in keep order (the first one stays)."""
        if self.blocked is not None and self.blocked[0] <= position:
            return self
        return replace(self, blocked=(position, limit))
