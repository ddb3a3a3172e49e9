"""The allocation problem in its general form: limits, demands, and what a fill returns."""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Limit:
    """A linear constraint: the sum of its terms must stay at or below `capacity`."""

    capacity: float
    from_tier: int = 0
    """The first tier in which it is enforced (earlier tiers' load still counts)."""


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
    waited: frozenset[int] = frozenset()
    """Owners that waited a full turn of the rotation. When one is refused although its
    minimum fits the tier's room alone, no owner after it in keep order starts in that tier
    (`running` ones go on): the room it needs is freed as the turns before it end, instead of
    being taken by others starting one after another (which could starve it)."""
    running: frozenset[int] = frozenset()
    """Owners charging now."""
    blocked: tuple[int, int] | None = None
    """(keep position, limit): an owner that waited a turn, fits alone, and was paused after
    an earlier fill of the same cycle (short of its minimum at its fair share): owners after
    that place do not start, as after a refusal in the admission."""
    everyone_first: bool = False
    """Fill with every owner first, and keep that if each reaches its minimum in its first
    tier: it is then what admitting them all gives (their minimums fit together), without the
    owner by owner check. Cheaper when all fit (as they mostly do when they did last time);
    the result is the same either way."""


def owner_bottleneck(result: Fill, owner_demands: Sequence[int]) -> int:
    """Return the limit that stopped the owner (its first demand not stopped by its cap)."""
    for index in owner_demands:
        if result.bottlenecks[index] != CAPPED:
            return result.bottlenecks[index]
    return CAPPED
