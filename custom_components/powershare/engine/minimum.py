"""The minimum-current rule: a charger gets 0 or at least its minimum, never 1-5 A.

The fill admits chargers in keep order while their minimum fits (`allocation.Admission`): the
ones it refuses are paused. With equal minimums every admitted charger reaches its minimum.
Unequal minimums (a large one next to small ones) can leave an admitted charger short: then
the lowest kept of the chargers sharing that bottleneck are paused after the fact
(`allocation.choose_victims`) until the level they share gives each kept one its minimum, so
the large minimum is not paused for good when the rotation puts it first.

A pause names its bottleneck: "paused so others reach their minimum" when the limit could
hold the charger's minimum alone, "below minimum" when even alone it could not. A running
solar charge the surplus left short holds its minimum for a while instead (`solar`).

`settle` applies these rules and the solar start delay until none asks for a new fill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import solar
from .allocation import EPSILON, choose_victims
from .model import ChargingMode, Reason
from .network import power_amps
from .plan import LeftOut
from .room import is_fuse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .cycle import Cycle
    from .plan import Plan
    from .sharing import Shares

    type Rule = Callable[[Cycle, Plan, Shares], tuple[Plan, bool]]
    """A rule reads a fill and returns the plan it leaves and whether to fill again."""


def pause_short_of_minimum(cycle: Cycle, plan: Plan, shares: Shares) -> tuple[Plan, bool]:
    """Pause, per bottleneck with a charger short of its minimum, the lowest kept ones there."""
    refused = shares.fill.refused
    minimum = cycle.topology.minimum
    totals = shares.fill.totals
    below = [
        index
        for index in plan.sharing
        if index not in refused and totals[index] < minimum[index] - EPSILON
    ]
    if not below:
        return plan, False
    short = set(below)
    others = [index for index in plan.sharing if index not in refused and index not in short]
    victims = choose_victims(
        shares.demands,
        cycle.room,
        shares.fill,
        below,
        shares.demands_of,
        minimum,
        cycle.keep_position,
        others,
    )
    paused = pause(cycle, plan, ((victim, shares.bottleneck(victim)) for victim in victims))
    # One that waited a turn and could have its minimum alone holds back new starts, as a
    # refusal in the admission does: others starting in its place would starve it.
    for victim in victims:
        verdict = paused.left_out.get(victim)
        if victim in cycle.waited and verdict and verdict.reason is Reason.PAUSED_FOR_OTHERS:
            paused = paused.block_after(cycle.keep_position[victim], verdict.limit)
    return paused, True


def pause_refused(cycle: Cycle, plan: Plan, shares: Shares) -> tuple[Plan, bool]:
    """Pause the chargers the admission refused (they already have nothing in this fill).

    Only a running solar charge that now holds its minimum asks for a new fill.
    """
    if not shares.fill.refused:
        return plan, False
    paused = pause(cycle, plan, shares.fill.refused.items())
    return paused, paused.holding != plan.holding


RULES: tuple[Rule, ...] = (pause_short_of_minimum, pause_refused, solar.hold_back_starts)
"""In this order: pauses before starts, so a solar start is judged on the fill that is left."""


def settle(cycle: Cycle, plan: Plan, shares: Shares) -> tuple[Plan, Shares]:
    """Apply the rules, in order, until none asks to fill again; return the last plan and fill.

    A rule may change the plan without a new fill (pausing the chargers the admission already
    left out changes nobody's share). When one asks, the plan is filled again and the rules
    start over. Every pass that fills again moves at least one charger a step along sharing ->
    holding its minimum (solar) -> left out, and none ever moves back, so the loop ends: in
    practice after one to three fills.
    """
    while True:
        for rule in RULES:
            plan, fill_again = rule(cycle, plan, shares)
            if fill_again:
                shares = cycle.share_out(plan)
                break
        else:
            return plan, shares


_PAUSE_TEXT = {
    Reason.BELOW_MIN: "less than the minimum left on {}",
    Reason.PAUSED_FOR_OTHERS: "paused so others reach their minimum ({})",
    Reason.WAITING_FOR_SURPLUS: solar.WAITING,
}


def pause(cycle: Cycle, plan: Plan, chargers: Iterable[tuple[int, int]]) -> Plan:
    """Return the plan with the (charger, bottleneck) pairs paused, or holding their minimum."""
    left_out: dict[int, LeftOut] = {}
    holding: list[int] = []
    said: dict[tuple[Reason, int], LeftOut] = {}  # many chargers pause on one fuse: one verdict
    for index, bottleneck in chargers:
        reason = _pause_reason(cycle, plan, index, bottleneck)
        if reason is None:
            holding.append(index)
            continue
        verdict = said.get((reason, bottleneck))
        if verdict is None:
            text = _PAUSE_TEXT[reason].format(cycle.topology.limit_labels[bottleneck])
            verdict = said[reason, bottleneck] = LeftOut(reason, text, bottleneck)
        left_out[index] = verdict
    if holding:
        plan = plan.hold(holding)
    return plan.leave_out(left_out) if left_out else plan


def _pause_reason(cycle: Cycle, plan: Plan, index: int, bottleneck: int) -> Reason | None:
    """Return why a charger short of its minimum is paused (None: it holds its minimum)."""
    topology = cycle.topology
    charger = topology.chargers[index]
    memory = cycle.sessions[index]
    if memory is not None:
        if charger.mode is ChargingMode.SOLAR and bottleneck == topology.solar_limit:
            holds = solar.hold_minimum(cycle, plan, index, memory)
            return None if holds else Reason.WAITING_FOR_SURPLUS
        solar.stop(memory)
    # A fuse counts amps on one line; a power cap and the surplus the minimum's power.
    per_amp = (
        1.0
        if is_fuse(topology, bottleneck)
        else power_amps(topology.config.network, len(plan.phases[index]))
    )
    if cycle.room[bottleneck].capacity < charger.min_current * per_amp - EPSILON:
        return Reason.BELOW_MIN  # not even alone: nobody else is to blame
    return Reason.PAUSED_FOR_OTHERS
