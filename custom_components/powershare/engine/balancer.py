"""The balancer: one decision per snapshot, with memory between cycles.

`Balancer(config).step(snapshot)` applies the rules of the README's "How balancing decides",
in that order, each a stage in a module named after what it decides:

====  ================================================  ======================================
rule  stage                                             writes to memory
====  ================================================  ======================================
1     meters and non-EV load (`loads`), a charger out   meter history, obedience
      of control counted as load (`obedience`), a car
      ramping up unseen (`ramps`)
2     cars: sessions, draw-less, phases used (`cars`)   session, request, car phases
3     caps: charger, user, schedule, car, failsafe
      (`caps`); the room (`room`); keep order
      (`keep_order`)
4, 5  fair fill, minimums admitted in keep order
      (`sharing`, `allocation`)
7     1 or 3 phases (`phase_switching`)                 phase timers, one phase, switches
5, 6  pause and rotation, solar start and stop          solar timers
      (`minimum.settle`, `solar`)
8     whole amps (`allocation.round_to_amps`), pacing   recent decreases
      (`pacing`)
9     reasons (`explain`), group figures (`figures`)
-     remember what was decided (`remember`)            target, its timers, ended sessions
====  ================================================  ======================================

All memory lives in `BalancerState` (inspectable, plain data): the same state and the same
snapshot give the same decision.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from . import solar
from .allocation import round_to_amps
from .caps import ask
from .cars import observe_cars
from .cycle import Cycle
from .explain import Explainer
from .figures import group_figures
from .keep_order import keep_order
from .loads import (
    charger_site_currents,
    estimate_loads,
    forget_loads_of_new_chargers,
    subtree_sums,
    uncontrolled_sums,
)
from .memory import BalancerState, ChargerMemory, RampDown
from .minimum import settle
from .model import Decision
from .obedience import check_obedience
from .pacing import pace, told_before
from .phase_switching import switch_phases
from .plan import Plan
from .ramps import ramp_allowances
from .remember import remember
from .room import Room
from .sharing import Sharer
from .topology import Topology

if TYPE_CHECKING:
    from .model import SiteConfig, Snapshot

__all__ = ["Balancer", "BalancerState", "ChargerMemory", "RampDown"]


class Balancer:
    """Decides charger currents, one snapshot at a time."""

    def __init__(self, config: SiteConfig, state: BalancerState | None = None) -> None:
        self._topology = Topology(config)
        self._room = Room(self._topology)
        self._sharer = Sharer(self._topology)
        self._explainer = Explainer(self._topology)
        self.state = state if state is not None else BalancerState()

    @property
    def config(self) -> SiteConfig:
        """Return the site configuration in use."""
        return self._topology.config

    @property
    def topology(self) -> Topology:
        """Return the indexes over the configuration."""
        return self._topology

    def reconfigure(self, config: SiteConfig) -> None:
        """Use a new configuration (user settings changed), keeping what still applies.

        The meters above a charger new to the site forget their load history: what it drew
        before it was a charger was counted as house load, and must not stay held as such.
        """
        had = {charger.id for charger in self._topology.chargers}
        self._topology = Topology(config)
        self._room = Room(self._topology)
        self._sharer = Sharer(self._topology)
        self._explainer = Explainer(self._topology)
        known = {charger.id for charger in config.chargers}
        for by_charger in (self.state.chargers, self.state.obedience):
            for charger_id in list(by_charger):
                if charger_id not in known:
                    del by_charger[charger_id]
        forget_loads_of_new_chargers(self._topology, self.state.meters, added=known - had)

    def step(self, snapshot: Snapshot) -> Decision:
        """Decide every charger's current for this snapshot (the rules, in order)."""
        topology, state, now = self._topology, self.state, snapshot.now
        # 1. Non-EV load: the house from the meters, and every charger out of control.
        currents = charger_site_currents(topology, snapshot)
        usage = subtree_sums(topology, currents)  # what the chargers below each group draw
        out_of_control = check_obedience(topology, snapshot, currents, state)
        unresponsive = frozenset(
            index
            for index, charger in enumerate(topology.chargers)
            if (reported := snapshot.chargers.get(charger.id)) is not None and reported.unresponsive
        )
        uncontrolled = uncontrolled_sums(topology, currents, out_of_control)
        ramps = ramp_allowances(topology, snapshot, currents, state.chargers)
        ramping = None if ramps is None else subtree_sums(topology, ramps)
        loads = estimate_loads(topology, snapshot, usage, uncontrolled, state.meters, ramping)
        # 2. Cars: who is connected, what each draws and on which phases.
        cars = observe_cars(topology, snapshot, state.chargers)
        sessions = cars.sessions
        # 3. What each asks for, the room they share, and who is kept first.
        asks = ask(topology, snapshot, sessions, loads)
        order = keep_order(topology, sessions, now)
        cycle = Cycle(
            topology=topology,
            now=now,
            room=self._room.limits(
                loads,
                snapshot.peak_power_w,
                snapshot.peak_house_w,
                snapshot.power_voltage(topology.config.voltage),
            ),
            sessions=sessions,
            asks=asks,
            keep_position=order.position,
            sharer=self._sharer,
            waited=order.waited,
            running=order.running,
            out_of_control=out_of_control,
            unresponsive=unresponsive,
        )
        plan = Plan.start(asks.candidates, cars.phases)
        plan = solar.wait_for_surplus(cycle, plan)
        # 4-5. Fair shares, the minimums admitted in keep order.
        shares = cycle.share_out(plan)
        # 7. One phase or three.
        switched = switch_phases(topology, plan, shares, cycle.room, sessions, now)
        if switched is not None:
            plan = switched
            shares = cycle.share_out(plan)
        # 5-6. Pauses and rotation, solar holds and starts.
        plan, shares = settle(cycle, plan, shares)
        # 8. Whole amps, then pacing.
        amps = round_to_amps(
            shares.demands,
            cycle.room,
            shares.fill.totals,
            shares.demands_of,
            asks.cap,
            cycle.keep_position,
        )
        before = told_before(topology, state, sessions)
        paced = pace(cycle, state, amps, plan.phases, before)
        # 9. Reasons and figures, then remember what was decided.
        decisions = self._explainer.explain(cycle, plan, shares, amps, before, paced)
        remember(topology, state, sessions, paced, plan.phases, now)
        return Decision(
            now=now,
            chargers=MappingProxyType(decisions),
            groups=MappingProxyType(group_figures(topology, loads, decisions, usage)),
            stale_meters=loads.stale_meters,
            implausible_meters=loads.implausible_meters,
            out_of_control=tuple(
                topology.chargers[index].id for index in sorted(out_of_control - unresponsive)
            ),
            surplus_w=loads.surplus_w,
        )
