"""Balancing engine: the site model and the allocation (pure, synchronous, Home Assistant-free).

How a decision is made
======================

The site is a tree of groups (`GroupConfig`): each has a fuse per phase, optionally a max power
and a metering point; chargers (`ChargerConfig`) hang in groups with a phase rotation, a wiring
(1 or 3 phases), min/max current, a priority, a mode (off, fast, solar, min+solar) and limits.
`Balancer(config).step(snapshot)` turns one `Snapshot` (meter readings, charger states, the
time) into one `Decision` (per charger: whole amps, phases, start/stop, a reason; per group and
phase: Meter, Available, Requested, Allocated, Usage). The balancer keeps its memory in an
inspectable `BalancerState`; it reads no clock and does no I/O, so the same state and snapshot
always give the same decision.

1. Non-EV load. For each metering point: reading minus the measured charger currents below it
   (mapped through each charger's rotation), or the reading itself when the meter excludes the
   chargers. When a sub-meter says more, the larger figure wins; the highest value of the last
   few seconds is used. A charger that had time to follow its command but draws more than
   it is out of control: all its draw counts as non-EV load, so the rest stays safe. A meter
   silent for `meter_timeout_s` is stale: its subtree gets the static failsafe share
   (`failsafe_current_a` per charger, the same figure as the TeltoCharge's watchdog
   failsafe) and its last load, never less than zero, is assumed.
2. Constraints. For every group and site phase: the chargers below using that phase may take
   at most fuse - margin - non-EV load. A group max power and the solar budget (export at the
   root - reserve + import allowance, minus what fast charging takes) are constraints over
   amps x phases used.
3. What each charger asks. Its cap is the lowest of its max, the charger's own limit, the user
   and schedule limits, the failsafe share, and a lowered request when the car has drawn
   clearly less than offered for `drawless_settle_s` (what it draws + `drawless_margin_a`, or
   0 when it draws nothing). The full share comes back when the car draws more, and
   periodically: after `reoffer_interval_s`, the wait growing by `reoffer_backoff` with each
   re-offer the car declines (up to `reoffer_max_interval_s`); a re-offered car that does not
   take it within `reoffer_check_s` is lowered again at once. Phases the car does not draw on
   are freed for everyone, for the whole session (a one-phase car stays known as one across
   phase switches, so it is never tried on three phases again).
4. Max-min fair filling (`allocation.fill`). Priorities are served in tiers; fast charging
   and the minimum of min+solar come first, surplus-only charging after. Within a tier every
   charger's current rises together until it reaches its cap or one of its constraints is
   full (its bottleneck, which becomes the reason shown to the user).
5. Minimum current. A charger gets 0 or at least its minimum: when a bottleneck cannot give
   everyone their minimum, the fewest are paused, lowest priority first, then by a rotation
   that swaps paused and charging cars every `rotation_period_s`; then the rest is refilled.
   (A charger that could not have its minimum even alone is told which fuse is short.)
6. Solar. A solar charge starts when its share of the surplus carried its minimum for
   `solar_start_delay_s`, holds its minimum through a deficit for `solar_stop_delay_s`, then
   stops. Min+solar always has its minimum.
7. Phases. A charger that can switch goes to one phase (the site phase with the most
   headroom) when three phases cannot give its minimum for `phase_down_delay_s`, and back to
   three when three would give min + `phase_up_threshold_a` for `phase_up_delay_s` and more
   power; a settle time and an hourly cap prevent oscillation. A car known to draw on one
   phase is never moved up to three (it would only be pinned to its plug's L1), and may move,
   like a switch down, to the one site phase with room when its own cannot give its minimum.
8. Whole amps and pacing. Currents are floored, and leftover whole amps handed out where every
   constraint allows. Decreases are sent at once. A charger told to draw less still counts
   with its old current for `increase_delay_s` (it takes a few seconds to ramp down and the
   meter a few more to show it); increases, starts included, go ahead only where they fit on
   top of that, and not within `increase_delay_s` of the charger's own last change. A command
   is flagged only when the current or the phases change.
"""

from .allocation import Allocation, Demand, Fill, Limit, allocate, fill
from .balancer import Balancer, BalancerState, ChargerMemory
from .model import (
    PHASES,
    Action,
    ChargerConfig,
    ChargerDecision,
    ChargerState,
    ChargingMode,
    Decision,
    GroupConfig,
    GroupFigures,
    MeterReading,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
    SiteConfig,
    Snapshot,
    Wiring,
)
from .network import Network
from .tunables import Tunables

__all__ = [
    "PHASES",
    "Action",
    "Allocation",
    "Balancer",
    "BalancerState",
    "ChargerConfig",
    "ChargerDecision",
    "ChargerMemory",
    "ChargerState",
    "ChargingMode",
    "Decision",
    "Demand",
    "Fill",
    "GroupConfig",
    "GroupFigures",
    "Limit",
    "MeterReading",
    "Network",
    "Phase",
    "PhasePolicy",
    "PhaseRotation",
    "Reason",
    "SiteConfig",
    "Snapshot",
    "Tunables",
    "Wiring",
    "allocate",
    "fill",
]
