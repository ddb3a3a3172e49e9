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

from .problem import (
    CAPPED,
    EPSILON,
    Admission,
    Demand,
    EnforcedCache,
    Fill,
    Limit,
    Terms,
    owner_bottleneck,
)
from .rounding import round_to_amps, whole_amp_usage
from .solve import Allocation, allocate, fill
from .victims import choose_victims

__all__ = [
    "CAPPED",
    "EPSILON",
    "Admission",
    "Allocation",
    "Demand",
    "EnforcedCache",
    "Fill",
    "Limit",
    "Terms",
    "allocate",
    "choose_victims",
    "fill",
    "owner_bottleneck",
    "round_to_amps",
    "whole_amp_usage",
]
