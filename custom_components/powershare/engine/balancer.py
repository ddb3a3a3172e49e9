"""The balancer: one decision per snapshot, with memory between cycles.

`Balancer(config).step(snapshot)` runs one cycle:

1. non-EV load per group and phase from the metering points (`loads`), stale meters found;
2. per charger: session, what the car draws (lowered request, phases it uses, re-offers),
   its cap (charger, user, schedule, car, failsafe) and the site phases it uses;
3. a max-min fair fill in which chargers are admitted in keep order while their minimum
   still fits (the minimum-current rule); 1p/3p switches are decided from it (a switch fills
   again);
4. the chargers left out are paused (a running solar charge holds its minimum for a while
   instead, which fills again), and solar starts are held back until their delay is over;
5. whole amps, pacing (decreases at once, increases after `increase_delay_s`), reasons and
   the per-group figures.

All memory lives in `BalancerState` (inspectable, plain data). Same state and same snapshot
give the same decision.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from .allocation import (
    CAPPED,
    EPSILON,
    Admission,
    Demand,
    EnforcedCache,
    Fill,
    Limit,
    choose_victims,
    fill,
    owner_bottleneck,
    round_to_amps,
    whole_amp_usage,
)
from .loads import LoadEstimate, MeterMemory, charger_site_currents, estimate_loads
from .model import (
    PHASE_COUNT,
    PHASES,
    Action,
    ChargerDecision,
    ChargingMode,
    Decision,
    GroupFigures,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
    Wiring,
)
from .phases import best_phase, one_phase_headroom, three_phase_level
from .topology import LimitKind, Topology

if TYPE_CHECKING:
    from .model import ChargerConfig, ChargerState, SiteConfig, Snapshot

HOUR_S = 3600.0


@dataclass(slots=True)
class ChargerMemory:
    """What the engine remembers of one charger's session (forgotten when the car leaves)."""

    session_start: float
    paused_since: float | None
    target: int = 0
    site_phases: tuple[Phase, ...] = ()
    last_change: float | None = None
    running_since: float | None = None
    ever_started: bool = False
    request: int | None = None
    """Lowered request of a car that draws less (None = full share)."""
    request_lowered_at: float | None = None
    drawn_when_lowered: float = 0.0
    reoffered_at: float | None = None
    """When the running periodic re-offer began (None = none running)."""
    reoffers_declined: int = 0
    """Periodic re-offers declined in a row (the back-off exponent)."""
    drawless_since: float | None = None
    car_phases: frozenset[Phase] | None = None
    """Charger phases the car was seen drawing on."""
    one_phase: Phase | None = None
    """The site phase while switched to one phase (None = three phases)."""
    switch_times: list[float] = field(default_factory=list)
    phase_down_since: float | None = None
    phase_up_since: float | None = None
    solar_running: bool = False
    solar_ok_since: float | None = None
    solar_deficit_since: float | None = None


@dataclass(frozen=True, slots=True)
class RampDown:
    """A charger told to draw less, which may still draw its old current until `until`."""

    until: float
    current: int
    site_phases: tuple[Phase, ...]


@dataclass(slots=True)
class BalancerState:
    """Everything the balancer carries from one cycle to the next."""

    chargers: dict[str, ChargerMemory] = field(default_factory=dict)
    meters: dict[str, MeterMemory] = field(default_factory=dict)
    ramping_down: dict[str, RampDown] = field(default_factory=dict)
    """Recent decreases: their old current still counts when increases are paced."""


class Balancer:
    """Decides charger currents, one snapshot at a time."""

    def __init__(self, config: SiteConfig, state: BalancerState | None = None) -> None:
        self._topology = Topology(config)
        self._memo = _Memo(self._topology)
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
        """Use a new configuration (user settings changed), keeping what still applies."""
        self._topology = Topology(config)
        self._memo = _Memo(self._topology)
        known = {charger.id for charger in config.chargers}
        for charger_id in list(self.state.chargers):
            if charger_id not in known:
                del self.state.chargers[charger_id]

    def step(self, snapshot: Snapshot) -> Decision:
        """Decide every charger's current for this snapshot."""
        return _Cycle(self._topology, self.state, snapshot, self._memo).run()


class _Memo:
    """What one configuration's cycles can share: derived once, or reused while unchanged.

    Nothing here is memory in the sense of `BalancerState`: dropping it (a new `Balancer` on
    the same state) gives the same decisions, only slower.
    """

    def __init__(self, topology: Topology) -> None:
        chargers = topology.chargers
        priorities = sorted({charger.priority for charger in chargers}, reverse=True)
        self.tier_count = len(priorities)
        rank = {priority: index for index, priority in enumerate(priorities)}
        self.priority_rank = [rank[charger.priority] for charger in chargers]
        self.demands: list[tuple[bool, int, tuple[Phase, ...], tuple[Demand, ...], int] | None] = [
            None
        ] * len(chargers)
        """Per charger: (held, cap, site phases, its demands, their shape) when last built."""
        self.enforced: EnforcedCache = {}
        """The allocator's filtered terms (`fill`'s `enforced_cache`)."""
        self.shapes: dict[tuple[object, ...], int] = {}
        """Demand shapes (tiers, amounts and terms, not the owner), numbered: chargers with
        the same shape are alike for the allocator."""
        ids = sorted(range(len(chargers)), key=lambda index: chargers[index].id)
        self.by_id = ids
        """The chargers in id order (the last tie-break of the keep order)."""
        self.decisions: list[tuple[_DecisionKey, ChargerDecision] | None] = [None] * len(chargers)
        """Per charger: the last decision built and what it was built from."""
        self.switchable = [
            charger.wiring is Wiring.THREE_PHASE and charger.can_switch_phases
            for charger in chargers
        ]
        """Per charger: whether it may switch between one and three phases."""
        self.minimum = [float(charger.min_current) for charger in chargers]
        """Per charger: its minimum current."""
        self.all_admitted = True
        """Whether the last fill admitted every charger (`Admission.everyone_first`)."""
        self.limits: list[Limit] = []
        """The last cycle's limits (reused where the capacity is unchanged)."""
        self.figures: list[GroupFigures | None] = [None] * len(topology.groups)
        """Per group: the last figures built (reused while unchanged)."""


_Outcome = tuple[float, Reason, str, int]
"""Per charger, what the cycle concluded before pacing: share, reason, detail and the
allocator limit behind the reason (CAPPED if none).

A plain tuple: one is made per charger and cycle, and a tuple display costs a fraction of
a NamedTuple's Python-level constructor.
"""


_DecisionKey = tuple[int, tuple[Phase, ...], Action, bool, Reason, str, int, float, int]
"""What a charger's decision is built from: target, site phases, action, changed, reason,
detail, requested, share and the limit behind the reason."""

_NO_CAR: _Outcome = (0.0, Reason.NO_CAR, "no car connected", CAPPED)
_MODE_OFF: _Outcome = (0.0, Reason.MODE_OFF, "charging mode off", CAPPED)
_NO_DEMANDS = range(0)


class _Cycle:
    """One run of `Balancer.step` (holds the per-cycle working data)."""

    def __init__(
        self, topology: Topology, state: BalancerState, snapshot: Snapshot, memo: _Memo
    ) -> None:
        self.topology = topology
        self.memo = memo
        self.config = topology.config
        self.tunables = topology.config.tunables
        self.state = state
        self.snapshot = snapshot
        self.now = snapshot.now
        count = len(topology.chargers)
        self.caps = [0] * count
        self.cap_reason = [Reason.AT_REQUEST] * count
        self.phases: list[tuple[Phase, ...]] = list(topology.wired_phases)
        self.candidates: list[int] = []
        self.outcome = [_NO_CAR] * count
        self.tier_count = memo.tier_count
        self.priority_rank = memo.priority_rank
        self.keep_position = [0] * count
        self.held: set[int] = set()
        self.limit_reasons: dict[int, tuple[Reason, str]] = {}
        self.pause_reasons: dict[int, tuple[Reason, str, int]] = {}
        self.cycle_demands: list[
            tuple[bool, int, tuple[Phase, ...], tuple[Demand, ...], int] | None
        ] = [None] * count
        """Per charger: its demands in this cycle, as kept in `_Memo.demands` (None = not
        built yet or changed since)."""
        self.removed: dict[int, tuple[Reason, str, int]] = {}

    # --- the cycle -------------------------------------------------------------------------

    def run(self) -> Decision:
        currents = charger_site_currents(self.topology, self.snapshot)
        loads = estimate_loads(
            self.topology, self.snapshot, self._obeyed(currents), self.state.meters
        )
        memories = self._prepare_chargers(loads)
        limits = self._limits(loads)
        self._rank(memories)
        self._skip_hopeless_solar(memories, limits)
        first = self._fill(limits)
        if self._switch_phases(memories, limits, first):
            first = self._fill(limits)
        result = self._apply_minimum_rule(memories, limits, first)
        amps = self._round(limits, result)
        return self._finish(memories, limits, loads, currents, amps)

    def _obeyed(
        self, currents: list[tuple[float, float, float]]
    ) -> list[tuple[float, float, float]]:
        """Return the charger currents to take out of the meters' readings.

        A charger that had time to follow its last command but draws more than it on some
        phase (someone used its own app, a fault) is not under control: all of its draw counts
        as non-EV load, so the rest of the site is safe in this very cycle, whatever it does
        with its next command. `idle_current_a` per phase absorbs measurement noise. The time
        to follow is counted up to when the currents were measured, not to now: a reading
        from before a cut shows the old current, and that is no disobedience.
        """
        tunables = self.tunables
        idle = tunables.idle_current_a
        settled_before = self.snapshot.measured_at - tunables.increase_delay_s
        memories = self.state.chargers
        result = list(currents)
        for index, charger in enumerate(self.topology.chargers):
            drawn = currents[index]
            if drawn[0] <= idle and drawn[1] <= idle and drawn[2] <= idle:
                continue  # not drawing (beyond noise): nothing to take out anyway
            memory = memories.get(charger.id)
            if memory is None or memory.last_change is None:
                continue  # never commanded: nothing to compare with
            if memory.last_change >= settled_before:
                continue  # still following the last command
            commanded = memory.site_phases
            top = idle + memory.target
            if len(commanded) == PHASE_COUNT:  # the usual case, inline: all three at `top`
                over = drawn[0] > top or drawn[1] > top or drawn[2] > top
            else:
                over = any(drawn[phase] > (top if phase in commanded else idle) for phase in PHASES)
            if over:
                result[index] = (0.0, 0.0, 0.0)
        return result

    def _skip_hopeless_solar(
        self, memories: list[ChargerMemory | None], limits: list[Limit]
    ) -> None:
        """Hold back solar charges the surplus could not carry even alone (saves fills)."""
        surplus = limits[self.topology.solar_limit].capacity
        for index in self.candidates:
            charger = self.topology.chargers[index]
            memory = memories[index]
            if charger.mode is not ChargingMode.SOLAR or memory is None or memory.solar_running:
                continue
            phases = 1 if charger.can_switch_phases else len(self.phases[index])
            if surplus < phases * charger.min_current:
                memory.solar_ok_since = None
                self.removed[index] = (
                    Reason.WAITING_FOR_SURPLUS,
                    "waiting for solar surplus",
                    self.topology.solar_limit,
                )

    def _prepare_chargers(self, loads: LoadEstimate) -> list[ChargerMemory | None]:
        memories: list[ChargerMemory | None] = []
        states = self.snapshot.chargers
        remembered = self.state.chargers
        outcome = self.outcome
        caps = self.caps
        cap_reason = self.cap_reason
        phases = self.phases
        candidates = self.candidates
        stale = loads.stale
        charger_group = self.topology.charger_group
        wired_phases = self.topology.wired_phases
        one_phase_wiring = Wiring.ONE_PHASE
        for index, charger in enumerate(self.topology.chargers):
            state = states.get(charger.id)
            if state is None or not state.connected:
                memories.append(None)
                outcome[index] = _NO_CAR
                continue
            memory = remembered.get(charger.id)
            if memory is None:
                memory = ChargerMemory(session_start=self.now, paused_since=self.now)
                remembered[charger.id] = memory
            memories.append(memory)
            self._observe_car(charger, state, memory)
            # `_site_phases`, inline for the usual cases (once per charger per cycle).
            if charger.wiring is one_phase_wiring:
                phases[index] = wired_phases[index]
            elif memory.one_phase is not None:
                phases[index] = (memory.one_phase,)
            elif memory.car_phases:
                phases[index] = _car_site_phases(charger.rotation, memory.car_phases)
            else:
                phases[index] = PHASES
            cap, reason = self._cap(charger, state, memory, stale=stale[charger_group[index]])
            caps[index] = cap
            cap_reason[index] = reason
            if charger.mode is ChargingMode.OFF:
                outcome[index] = _MODE_OFF
            elif cap < charger.min_current:
                outcome[index] = (0.0, reason, self._cap_detail(index), CAPPED)
            else:
                candidates.append(index)
        return memories

    def _observe_car(
        self, charger: ChargerConfig, state: ChargerState, memory: ChargerMemory
    ) -> None:
        """Learn what the car draws: its phases, a lowered request, re-offers."""
        tunables = self.tunables
        if state.car_phases is not None:
            memory.car_phases = state.car_phases
        settled = (
            memory.target > 0
            and memory.last_change is not None
            and self.now - memory.last_change >= tunables.increase_delay_s
            # Not settling after a phase switch (`_switch_settling`, inline: once per charger).
            and (
                not memory.switch_times
                or self.now - memory.switch_times[-1] >= tunables.phase_switch_settle_s
            )
        )
        if settled:
            if (
                charger.wiring is Wiring.THREE_PHASE
                and memory.one_phase is None
                and state.car_phases is None
            ):
                known = memory.car_phases
                if known is None or len(known) < PHASE_COUNT:  # else nothing new to learn
                    idle = tunables.idle_current_a
                    currents = state.currents
                    new = [
                        phase
                        for phase in PHASES
                        if currents[phase] >= idle and (known is None or phase not in known)
                    ]
                    if new:
                        memory.car_phases = frozenset(new) | (known or frozenset())
            drawn = max(state.currents)
            if (
                memory.target - drawn <= tunables.drawless_threshold_a
                and memory.request is None
                and memory.reoffered_at is None
            ):
                memory.drawless_since = None  # the usual case, inline: it takes its offer
            else:
                self._observe_draw(charger, drawn, memory)
        if (
            memory.request is not None
            and memory.request_lowered_at is not None
            and self.now - memory.request_lowered_at >= self._reoffer_interval(memory)
        ):
            self._reoffer(memory)
            memory.reoffered_at = self.now

    def _reoffer_interval(self, memory: ChargerMemory) -> float:
        """Return the wait before the next re-offer: longer after each one declined."""
        tunables = self.tunables
        if not memory.reoffers_declined:
            return tunables.reoffer_interval_s
        interval = tunables.reoffer_interval_s * tunables.reoffer_backoff ** min(
            memory.reoffers_declined, 64
        )
        return min(interval, max(tunables.reoffer_max_interval_s, tunables.reoffer_interval_s))

    def _observe_draw(self, charger: ChargerConfig, drawn: float, memory: ChargerMemory) -> None:
        """Lower the request of a car that keeps drawing less; re-offer when it draws more."""
        tunables = self.tunables
        now = self.now
        reoffered = memory.reoffered_at is not None
        if memory.target - drawn > tunables.drawless_threshold_a:
            if memory.drawless_since is None:
                memory.drawless_since = now
            # A re-offered car gets a short check: it either takes the offer soon or declines.
            settle = tunables.reoffer_check_s if reoffered else tunables.drawless_settle_s
            if now - memory.drawless_since >= settle:
                lowered = (
                    0
                    if drawn < tunables.idle_current_a
                    else max(charger.min_current, math.ceil(drawn + tunables.drawless_margin_a))
                )
                if memory.request is None or lowered < memory.request:
                    if reoffered:
                        memory.reoffers_declined += 1
                        memory.reoffered_at = None
                    memory.request = lowered
                    memory.request_lowered_at = now
                    memory.drawn_when_lowered = drawn
        else:
            memory.drawless_since = None
        if drawn >= memory.drawn_when_lowered + tunables.reoffer_rise_a and (
            memory.request is not None or memory.reoffered_at is not None
        ):
            # The car draws more than when its request was lowered: it asks for more by
            # itself, or it took the re-offer. Full share, and the back-off starts over.
            self._reoffer(memory)
            memory.reoffered_at = None
            memory.reoffers_declined = 0

    @staticmethod
    def _reoffer(memory: ChargerMemory) -> None:
        memory.request = None
        memory.request_lowered_at = None
        memory.drawless_since = None

    def _switch_settling(self, memory: ChargerMemory) -> bool:
        return bool(memory.switch_times) and (
            self.now - memory.switch_times[-1] < self.tunables.phase_switch_settle_s
        )

    def _site_phases(
        self, index: int, charger: ChargerConfig, memory: ChargerMemory
    ) -> tuple[Phase, ...]:
        if charger.wiring is Wiring.ONE_PHASE:
            return self.topology.wired_phases[index]
        if memory.one_phase is not None:
            return (memory.one_phase,)
        if memory.car_phases:
            return _car_site_phases(charger.rotation, memory.car_phases)
        return PHASES

    def _cap(
        self, charger: ChargerConfig, state: ChargerState, memory: ChargerMemory, *, stale: bool
    ) -> tuple[int, Reason]:
        """Return the charger's cap for this cycle and the reason that sets it.

        On ties the later, more specific reason wins (a failsafe over a user limit).
        """
        cap, reason = charger.max_current, Reason.AT_REQUEST
        if state.max_current is not None and state.max_current <= cap:
            cap, reason = state.max_current, Reason.CHARGER_LIMIT
        if charger.user_limit is not None and charger.user_limit <= cap:
            cap, reason = charger.user_limit, Reason.USER_LIMIT
        if charger.schedule_limit is not None and charger.schedule_limit <= cap:
            cap, reason = charger.schedule_limit, Reason.SCHEDULE_LIMIT
        if memory.request is not None and memory.request <= cap:
            cap = memory.request
            reason = Reason.CAR_NOT_DRAWING if cap == 0 else Reason.CAR_DRAWS_LESS
        if stale and self.tunables.failsafe_current_a <= cap:
            cap, reason = self.tunables.failsafe_current_a, Reason.FAILSAFE_METER_STALE
        return max(cap, 0), reason

    def _cap_detail(self, index: int) -> str:
        """Return the user-facing text of the charger's cap."""
        cap = self.caps[index]
        reason = self.cap_reason[index]
        if reason is Reason.CAR_NOT_DRAWING:
            return "car not drawing; offered again later"
        return _CAP_TEXT[reason].format(cap)

    def _limits(self, loads: LoadEstimate) -> list[Limit]:
        config = self.config
        topology = self.topology
        margin = config.margin_a
        non_ev = loads.non_ev
        # Most groups' room is the same as last cycle (unmetered groups, steady loads): reuse
        # those (immutable) limits rather than make one per group and phase per cycle.
        previous = self.memo.limits
        limits: list[Limit] = []
        for group, config_group in enumerate(topology.groups):
            fuse = config_group.fuse
            load = non_ev[group]
            for phase in PHASES:
                capacity = fuse[phase] - margin - load[phase]
                index = len(limits)
                old = previous[index] if index < len(previous) else None
                limits.append(
                    old if old is not None and old.capacity == capacity else Limit(capacity)
                )
        for group in topology.power_limit:
            max_power_w = topology.groups[group].max_power_w
            assert max_power_w is not None  # noqa: S101 - power_limit only holds capped groups
            limits.append(Limit(max_power_w / config.voltage - sum(non_ev[group])))
        solar = 0.0
        if loads.surplus_w is not None:
            solar = (
                loads.surplus_w - config.solar_reserve_w + config.import_allowance_w
            ) / config.voltage
        limits.append(Limit(solar, from_tier=self.tier_count))
        self.memo.limits = limits
        return limits

    def _rank(self, memories: list[ChargerMemory | None]) -> None:
        """Order chargers for keeping when not all can reach their minimum.

        Highest priority first; then, so that no car starves: chargers running for less than
        a rotation period, then paused ones that waited a full period (longest first), then
        chargers running for longer (shortest first), then recently paused ones.
        """
        period = self.tunables.rotation_period_s
        now = self.now
        ranks = self.priority_rank
        # Stable sorts from the least significant key up (charger id order, then the time,
        # then priority rank and category as one number) cost less than one sort on tuples.
        categories = 5  # per priority rank, numbered 0 to 4 below
        category = [0] * len(memories)
        timing = [0.0] * len(memories)
        for index, memory in enumerate(memories):
            rank = ranks[index] * categories
            if memory is None:
                category[index] = rank + 4
            elif memory.target > 0 and memory.running_since is not None:
                running_for = now - memory.running_since
                category[index] = rank + (0 if running_for < period else 2)
                timing[index] = running_for
            else:
                paused_since = memory.paused_since if memory.paused_since is not None else now
                waited = now - paused_since
                category[index] = rank + (1 if waited >= period else 3)
                timing[index] = -waited
        order = list(self.memo.by_id)
        order.sort(key=timing.__getitem__)
        order.sort(key=category.__getitem__)
        keep_position = self.keep_position
        for position, index in enumerate(order):
            keep_position[index] = position

    def _demands(self) -> tuple[list[Demand], list[range], dict[int, list[int]]]:
        """Return the demands in play, per charger their indexes, and the alike chargers.

        The last is `fill`'s `alike`: per charger whose demands are in the list, the others
        with the same demand shape, which share its demands (the allocator then handles each
        shape once, however many chargers have it).
        """
        demands: list[Demand] = []
        # Ranges, not tuples: they are not tracked by the garbage collector (one per charger
        # and fill adds up, and collections of a large heap cost more than the fill).
        demands_of: list[range] = [_NO_DEMANDS] * len(self.topology.chargers)
        leader_of: dict[int, int] = {}
        alike: dict[int, list[int]] = {}
        removed = self.removed
        built = self.cycle_demands
        kept = self.memo.demands
        phases = self.phases
        caps = self.caps
        held = self.held
        for index in self.candidates:
            if index in removed:
                continue
            mine = built[index]
            if mine is None:  # first fill of the cycle, or its phases or solar hold changed
                cached = kept[index]
                if not (
                    cached is not None
                    and cached[2] == phases[index]
                    and cached[1] == caps[index]
                    and cached[0] == (index in held)
                ):  # changed since last built (else unchanged: the usual case)
                    cached = self._charger_demands(index)
                mine = built[index] = cached
            shape = mine[4]
            leader = leader_of.get(shape)
            if leader is not None:
                demands_of[index] = demands_of[leader]
                others = alike.get(leader)
                if others is None:
                    alike[leader] = [index]
                else:
                    others.append(index)
                continue
            leader_of[shape] = index
            start = len(demands)
            own = mine[3]
            demands_of[index] = range(start, start + len(own))
            if len(own) == 1:
                demands.append(own[0])
            else:
                demands.extend(own)
        return demands, demands_of, alike

    def _charger_demands(
        self, index: int
    ) -> tuple[bool, int, tuple[Phase, ...], tuple[Demand, ...], int]:
        """Build a charger's demands and shape, and keep them (`_Memo.demands`).

        They only change with the charger's cap, phases and solar hold, and several fills per
        cycle, and most cycles, reuse them.
        """
        held = index in self.held
        terms = self.topology.terms(index, self.phases[index])
        cap = self.caps[index]
        charger = self.topology.chargers[index]
        rank = self.priority_rank[index]
        surplus_tier = self.tier_count + rank
        minimum = float(charger.min_current)
        pieces: tuple[tuple[int, float], ...]
        if charger.mode is ChargingMode.FAST:
            pieces = ((rank, float(cap)),)
        elif charger.mode is ChargingMode.MIN_SOLAR or held:
            pieces = ((rank, minimum), (surplus_tier, cap - minimum))
        else:
            pieces = ((surplus_tier, float(cap)),)
        demands = tuple(
            Demand(owner=index, tier=tier, cap=amount, terms=terms) for tier, amount in pieces
        )
        shapes = self.memo.shapes
        shape = shapes.setdefault((pieces, terms), len(shapes))
        built = (held, cap, self.phases[index], demands, shape)
        self.memo.demands[index] = built
        return built

    def _terms(self, index: int) -> tuple[tuple[int, float], ...]:
        return self.topology.terms(index, self.phases[index])

    def _fill(self, limits: list[Limit]) -> tuple[Fill, list[Demand], list[range]]:
        demands, demands_of, alike = self._demands()
        result = fill(
            limits,
            demands,
            len(self.topology.chargers),
            alike,
            self.memo.enforced,
            Admission(self.memo.minimum, self.keep_position, everyone_first=self.memo.all_admitted),
        )
        self.memo.all_admitted = not result.refused
        return result, demands, demands_of

    # --- 1p / 3p -----------------------------------------------------------------------------

    def _switch_phases(
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        first: tuple[Fill, list[Demand], list[range]],
    ) -> bool:
        result = first[0]
        switched = False
        switchable = self.memo.switchable
        for index in self.candidates:
            if not switchable[index]:
                continue  # one-phase wiring or no switch: most chargers, so checked first
            charger = self.topology.chargers[index]
            memory = memories[index]
            if memory is None or index in self.removed:
                continue
            wanted = self._wanted_phase(index, charger, memory, limits, result)
            if wanted == memory.one_phase or (
                # A car on fewer phases already frees the others; but a one-phase car may move
                # to the site phase with the most room (one-phase mode picks the phase).
                wanted is not None
                and len(self.phases[index]) < PHASE_COUNT
                and not _one_phase_car(memory)
            ):
                continue
            memory.one_phase = wanted
            memory.switch_times.append(self.now)
            memory.phase_down_since = None
            memory.phase_up_since = None
            memory.drawless_since = None
            # The car's phases are kept: the car stays the same across switches while it is
            # connected (a one-phase car must not be "tried" on three phases again).
            self.phases[index] = self._site_phases(index, charger, memory)
            self.cycle_demands[index] = None
            switched = True
        return switched

    def _wanted_phase(
        self,
        index: int,
        charger: ChargerConfig,
        memory: ChargerMemory,
        limits: list[Limit],
        result: Fill,
    ) -> Phase | None:
        """Return the site phase to charge on alone, or None for three phases."""
        share = result.totals[index]
        solar = charger.mode is ChargingMode.SOLAR
        if charger.phase_policy is PhasePolicy.THREE:
            return None
        if charger.phase_policy is PhasePolicy.ONE:
            if memory.one_phase is not None:
                return memory.one_phase
            return best_phase(self._headroom(index, share, limits, result, solar=solar))
        if memory.one_phase is None:
            return self._wanted_down(index, memory, limits, result, solar=solar)
        return self._wanted_up(index, memory, limits, result, solar=solar)

    def _wanted_down(
        self, index: int, memory: ChargerMemory, limits: list[Limit], result: Fill, *, solar: bool
    ) -> Phase | None:
        """On three phases: the phase to go to when three cannot give the minimum."""
        tunables = self.tunables
        minimum = self.topology.chargers[index].min_current
        share = result.totals[index]
        memory.phase_up_since = None
        if share >= minimum - tunables.phase_down_threshold_a:
            memory.phase_down_since = None  # three phases give the minimum: nothing to do
            return None
        headroom = self._headroom(index, share, limits, result, solar=solar)
        best = best_phase(headroom)
        if len(self.phases[index]) < PHASE_COUNT and best in self.phases[index]:
            # A one-phase car already on the best phase: one-phase mode would change nothing.
            memory.phase_down_since = None
            return None
        if headroom[best] >= minimum:
            if memory.phase_down_since is None:
                memory.phase_down_since = self.now
            if self._may_switch(memory, memory.phase_down_since, tunables.phase_down_delay_s):
                return best
        else:
            memory.phase_down_since = None
        return None

    def _headroom(
        self, index: int, share: float, limits: list[Limit], result: Fill, *, solar: bool
    ) -> dict[Phase, float]:
        """Return `one_phase_headroom` for the charger on its present phases."""
        return one_phase_headroom(
            self.topology, index, share, self.phases[index], limits, result.usage, solar=solar
        )

    def _wanted_up(
        self, index: int, memory: ChargerMemory, limits: list[Limit], result: Fill, *, solar: bool
    ) -> Phase | None:
        """On one phase: None (three phases) once three give min + threshold and more power."""
        tunables = self.tunables
        minimum = self.topology.chargers[index].min_current
        share = result.totals[index]
        phase = memory.one_phase
        assert phase is not None  # noqa: S101 - only called on one phase
        memory.phase_down_since = None
        if _one_phase_car(memory):
            # Three-phase mode would give a one-phase car nothing more, only pin it to the
            # phase of its plug's L1 (the 18:55 switch of the reference home).
            memory.phase_up_since = None
            return phase
        level = three_phase_level(
            self.topology, index, share, phase, limits, result.usage, solar=solar
        )
        if level >= minimum + tunables.phase_up_threshold_a and PHASE_COUNT * level >= share:
            if memory.phase_up_since is None:
                memory.phase_up_since = self.now
            if self._may_switch(memory, memory.phase_up_since, tunables.phase_up_delay_s):
                return None
        else:
            memory.phase_up_since = None
        return phase

    def _may_switch(self, memory: ChargerMemory, since: float, delay: float) -> bool:
        """Return whether a switch wanted since `since` may happen now.

        Before the first start of a session the switch is free (nothing is charging yet);
        afterwards the delay, the settle time and the hourly cap apply.
        """
        now = self.now
        memory.switch_times = [t for t in memory.switch_times if now - t < HOUR_S]
        if len(memory.switch_times) >= self.tunables.max_phase_switches_per_hour:
            return False
        if self._switch_settling(memory):
            return False
        return not memory.ever_started or now - since >= delay

    # --- minimum current and solar ------------------------------------------------------------

    def _apply_minimum_rule(
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        first: tuple[Fill, list[Demand], list[range]],
    ) -> tuple[Fill, list[Demand], list[range]]:
        minimum = self.memo.minimum
        current = first
        while True:
            result, demands, demands_of = current
            refused = result.refused
            below = [
                index
                for index in self.candidates
                if index not in self.removed
                and index not in refused
                and result.totals[index] < minimum[index] - EPSILON
            ]
            if below:
                # Admitted, yet short of its minimum: only unequal minimums do this (a large
                # one next to small ones). Pause after the fact; those left out get another
                # chance in the next fill, now that the paused ones make room.
                victims = choose_victims(
                    demands, limits, result, below, demands_of, minimum, self.keep_position
                )
                for victim in victims:
                    bottleneck = owner_bottleneck(result, demands_of[victim])
                    self._pause(victim, memories[victim], bottleneck, limits)
                current = self._fill(limits)
                continue
            holding = len(self.held)
            for index, limit in refused.items():
                self._pause(index, memories[index], limit, limits)
            if len(self.held) != holding:
                # A running solar charge left out now holds its minimum: its demands changed.
                current = self._fill(limits)
                continue
            active = [index for index in self.candidates if index not in self.removed]
            if self._hold_back_solar_starts(active, memories):
                current = self._fill(limits)
                continue
            return current

    def _hold_back_solar_starts(
        self, active: list[int], memories: list[ChargerMemory | None]
    ) -> bool:
        """Start the solar charges whose surplus lasted the start delay; hold back the others.

        Returns whether any was held back (so the others may share what it leaves).
        """
        held_back = False
        for index in active:
            memory = memories[index]
            if self.topology.chargers[index].mode is not ChargingMode.SOLAR or memory is None:
                continue
            if memory.solar_running:
                if index not in self.held:
                    memory.solar_deficit_since = None
                continue
            if memory.solar_ok_since is None:
                memory.solar_ok_since = self.now
            left = self.tunables.solar_start_delay_s - (self.now - memory.solar_ok_since)
            if left > 0:
                held_back = True
                self.removed[index] = (
                    Reason.WAITING_FOR_SURPLUS,
                    f"surplus enough; starting in {math.ceil(left)} s",
                    self.topology.solar_limit,
                )
            else:
                memory.solar_running = True
                memory.solar_ok_since = None
        return held_back

    def _pause(
        self, index: int, memory: ChargerMemory | None, bottleneck: int, limits: list[Limit]
    ) -> None:
        """Pause a charger under its minimum (or, for a running solar charge, hold its min)."""
        charger = self.topology.chargers[index]
        on_surplus = bottleneck == self.topology.solar_limit
        if charger.mode is ChargingMode.SOLAR and memory is not None and on_surplus:
            if memory.solar_running and index not in self.held:
                if memory.solar_deficit_since is None:
                    memory.solar_deficit_since = self.now
                left = self.tunables.solar_stop_delay_s - (self.now - memory.solar_deficit_since)
                if left > 0:
                    self.held.add(index)
                    self.cycle_demands[index] = None
                    return
            memory.solar_running = False
            memory.solar_ok_since = None
            memory.solar_deficit_since = None
            self.removed[index] = (
                Reason.WAITING_FOR_SURPLUS,
                "waiting for solar surplus",
                bottleneck,
            )
            return
        if memory is not None:
            memory.solar_running = False
            memory.solar_ok_since = None
            memory.solar_deficit_since = None
        minimum = charger.min_current * (
            1
            if self.topology.limit_keys[bottleneck].kind is LimitKind.FUSE
            else len(self.phases[index])
        )
        if limits[bottleneck].capacity < minimum - EPSILON:
            # Not even alone: nobody else is to blame.
            detail = f"less than the minimum left on {self._limit_text(bottleneck)}"
            self.removed[index] = (Reason.BELOW_MIN, detail, bottleneck)
            return
        removal = self.pause_reasons.get(bottleneck)
        if removal is None:  # one text per bottleneck: many chargers may pause on one fuse
            removal = (
                Reason.PAUSED_FOR_OTHERS,
                f"paused so others reach their minimum ({self._limit_text(bottleneck)})",
                bottleneck,
            )
            self.pause_reasons[bottleneck] = removal
        self.removed[index] = removal

    def _limit_text(self, limit: int) -> str:
        if limit == CAPPED:  # pragma: no cover - caps are never below the minimum
            return "own cap"
        key = self.topology.limit_keys[limit]
        if key.kind is LimitKind.SOLAR:
            return "solar surplus"
        assert key.group is not None  # noqa: S101 - fuse and power limits name a group
        label = self.topology.groups[key.group].label
        if key.kind is LimitKind.POWER:
            return f"group {label} max power"
        assert key.phase is not None  # noqa: S101 - fuse limits name a phase
        return f"group {label} phase {key.phase.name}"

    def _round(
        self, limits: list[Limit], current: tuple[Fill, list[Demand], list[range]]
    ) -> list[int]:
        result, demands, demands_of = current
        removed = self.removed
        held = self.held
        totals = result.totals
        bottlenecks = result.bottlenecks
        outcome = self.outcome
        limit_reasons = self.limit_reasons
        for index in self.candidates:
            if index in removed:
                reason, detail, limit = removed[index]
                outcome[index] = (0.0, reason, detail, limit)
                continue
            # The owner's bottleneck (`owner_bottleneck`, inline: once per charger per cycle).
            bottleneck = CAPPED
            for demand in demands_of[index]:
                bottleneck = bottlenecks[demand]
                if bottleneck != CAPPED:
                    break
            share = totals[index]
            if bottleneck != CAPPED and bottleneck in limit_reasons and index not in held:
                # The usual case, inline: a charger stopped by a limit already described.
                reason, detail = limit_reasons[bottleneck]
                outcome[index] = (share, reason, detail, bottleneck)
            elif index in held:
                memory = self.state.chargers[self.topology.chargers[index].id]
                since = memory.solar_deficit_since or self.now
                left = self.tunables.solar_stop_delay_s - (self.now - since)
                outcome[index] = (
                    share,
                    Reason.SOLAR_HOLDING_MIN,
                    f"not enough surplus; holding minimum, stopping in {math.ceil(left)} s",
                    CAPPED,
                )
            elif bottleneck == CAPPED:
                outcome[index] = (share, self.cap_reason[index], self._cap_detail(index), CAPPED)
            else:
                reason, detail = self._limit_reason(bottleneck)
                outcome[index] = (share, reason, detail, bottleneck)
        return round_to_amps(
            demands, limits, result.totals, demands_of, self.caps, self.keep_position
        )

    def _limit_reason(self, limit: int) -> tuple[Reason, str]:
        """Return the reason and text for chargers stopped by `limit` (cached per cycle)."""
        cached = self.limit_reasons.get(limit)
        if cached is None:
            reason = {
                LimitKind.FUSE: Reason.GROUP_FUSE,
                LimitKind.POWER: Reason.GROUP_POWER,
                LimitKind.SOLAR: Reason.SOLAR_SURPLUS,
            }[self.topology.limit_keys[limit].kind]
            cached = (reason, f"limited by {self._limit_text(limit)}")
            self.limit_reasons[limit] = cached
        return cached

    # --- pacing and output ------------------------------------------------------------------

    def _finish(  # noqa: C901, PLR0912, PLR0915 - one pass per charger does every job (hot path)
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        loads: LoadEstimate,
        currents: list[tuple[float, float, float]],
        amps: list[int],
    ) -> Decision:
        state = self.state
        chargers = self.topology.chargers
        before = [
            (memory.target, memory.site_phases)
            if memory is not None
            else self._previous(charger.id, memory)
            for charger, memory in zip(chargers, memories, strict=True)
        ]
        final, paced = self._pace(memories, limits, amps, before)
        last = self.memo.decisions
        decisions: dict[str, ChargerDecision] = {}
        # The group figures are summed in the same pass (per charger's own group; parents
        # get their children's sums in `_figures`).
        group_count = len(self.topology.groups)
        wanted_sums = [[0.0, 0.0, 0.0] for _ in range(group_count)]
        allocated_sums = [[0.0, 0.0, 0.0] for _ in range(group_count)]
        usage_sums = [[0.0, 0.0, 0.0] for _ in range(group_count)]
        charger_group = self.topology.charger_group
        all_phases = self.phases
        outcomes = self.outcome
        caps = self.caps
        remembered = state.chargers
        mode_off = ChargingMode.OFF
        for index, charger in enumerate(chargers):
            memory = memories[index]
            target_before, phases_before = before[index]
            phases = all_phases[index]
            group = charger_group[index]
            drawn = currents[index]
            if drawn[0] or drawn[1] or drawn[2]:
                row = usage_sums[group]
                row[0] += drawn[0]
                row[1] += drawn[1]
                row[2] += drawn[2]
            share, reason, detail, limit = outcomes[index]
            target = final[index]
            if index in paced:
                reason = Reason.PACED
                detail = f"increase to {amps[index]} A after the meters catch up"
            changed = target != target_before or (target > 0 and phases != phases_before)
            if memory is not None:
                if changed or target != memory.target:
                    self._remember(memory, target, phases, changed=changed)
                else:  # the usual case, inline: nothing to remember but the phases
                    memory.site_phases = phases
                requested = caps[index]
            else:
                if charger.id in remembered:
                    del remembered[charger.id]
                requested = 0
            action = _action(target_before, target, changed=changed) if changed else Action.NONE
            wants = 0 if charger.mode is mode_off else requested
            if wants or target:
                wanted_row = wanted_sums[group]
                allocated_row = allocated_sums[group]
                if len(phases) == PHASE_COUNT:  # the usual case, unrolled
                    wanted_row[0] += wants
                    wanted_row[1] += wants
                    wanted_row[2] += wants
                    allocated_row[0] += target
                    allocated_row[1] += target
                    allocated_row[2] += target
                else:
                    for phase in phases:
                        wanted_row[phase] += wants
                        allocated_row[phase] += target
            # Most chargers get the same verdict as last cycle: reuse that (immutable) object
            # rather than build one per charger per cycle.
            key: _DecisionKey = (
                target,
                phases,
                action,
                changed,
                reason,
                detail,
                requested,
                share,
                limit,
            )
            previous = last[index]
            if previous is not None and previous[0] == key:
                decisions[charger.id] = previous[1]
                continue
            decision = self._decision(charger, key)
            last[index] = (key, decision)
            decisions[charger.id] = decision
        return Decision(
            now=self.now,
            chargers=MappingProxyType(decisions),
            groups=MappingProxyType(self._figures(loads, wanted_sums, allocated_sums, usage_sums)),
            stale_meters=loads.stale_meters,
            surplus_w=loads.surplus_w,
        )

    def _decision(self, charger: ChargerConfig, key: _DecisionKey) -> ChargerDecision:
        """Build a charger's decision from its key (as made in `_finish`)."""
        target, phases, action, changed, reason, detail, requested, share, limit = key
        limit_group, limit_phase = self._limit_place(limit)
        return ChargerDecision(
            charger_id=charger.id,
            target_current=target,
            site_phases=phases,
            charger_phases=_charger_phases(charger.rotation, phases),
            action=action,
            changed=changed,
            reason=reason,
            detail=detail,
            requested=requested,
            share=share,
            limit_group=limit_group,
            limit_phase=limit_phase,
        )

    def _pace(
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        amps: list[int],
        before: list[tuple[int, tuple[Phase, ...]]],
    ) -> tuple[list[int], set[int]]:
        """Apply decreases at once; let increases use only room that is already free.

        A charger told to draw less may still draw its old current for `increase_delay_s`
        (cars ramp in a few seconds, meters report every 1-10 s): that old current counts on
        its limits until then. An increase (a start included) goes ahead, in keep order, only
        where it fits on top of everything else and those ramping-down currents; and not within
        `increase_delay_s` of the charger's own last change. Returns the targets and the
        chargers whose increase waits.
        """
        now = self.now
        topology = self.topology
        ramping = self.state.ramping_down
        final = list(amps)
        paced: set[int] = set()
        increasing: list[int] = []
        phases = self.phases
        for index, charger in enumerate(topology.chargers):
            target_before, phases_before = before[index]
            wanted = amps[index]
            if wanted == target_before and (wanted == 0 or phases[index] == phases_before):
                continue  # nothing changes (the usual case)
            if wanted < target_before or (target_before > 0 and phases[index] != phases_before):
                ramping[charger.id] = RampDown(
                    now + self.tunables.increase_delay_s, target_before, phases_before
                )
            elif memories[index] is not None and wanted > target_before:
                final[index] = target_before
                memory = memories[index]
                if memory is not None and self._changed_recently(memory):
                    paced.add(index)
                else:
                    increasing.append(index)
        if not increasing:
            return final, paced
        usage = self._usage_with_ramps(len(limits), final)
        solar = topology.solar_limit
        for index in sorted(increasing, key=self.keep_position.__getitem__):
            step = amps[index] - final[index]
            terms = self._terms(index)
            if all(
                usage[limit] + coefficient * step <= limits[limit].capacity + EPSILON
                for limit, coefficient in terms
                if limit != solar
            ):
                final[index] = amps[index]
                for limit, coefficient in terms:
                    usage[limit] += coefficient * step
            else:
                paced.add(index)
        return final, paced

    def _usage_with_ramps(self, count: int, final: list[int]) -> list[float]:
        """Return each limit's load: the targets so far plus what ramping chargers still draw."""
        topology = self.topology
        terms = topology.terms
        phases = self.phases
        running = [index for index, target in enumerate(final) if target]
        usage = whole_amp_usage(
            count,
            [terms(index, phases[index]) for index in running],
            [final[index] for index in running],
        )
        ramping = self.state.ramping_down
        for charger_id, ramp in list(ramping.items()):
            found = topology.charger_index.get(charger_id)
            if ramp.until <= self.now or found is None:
                del ramping[charger_id]
                continue
            now_terms = dict(self._terms(found)) if final[found] else {}
            for limit, coefficient in topology.terms(found, ramp.site_phases):
                extra = ramp.current * coefficient - final[found] * now_terms.get(limit, 0.0)
                if extra > 0:
                    usage[limit] += extra
        return usage

    def _limit_place(self, limit: int) -> tuple[str | None, Phase | None]:
        if limit == CAPPED:
            return None, None
        key = self.topology.limit_keys[limit]
        group = None if key.group is None else self.topology.groups[key.group].id
        return group, key.phase

    def _changed_recently(self, memory: ChargerMemory) -> bool:
        return (
            memory.last_change is not None
            and self.now - memory.last_change < self.tunables.increase_delay_s
        )

    def _previous(
        self, charger_id: str, memory: ChargerMemory | None
    ) -> tuple[int, tuple[Phase, ...]]:
        if memory is not None:
            return memory.target, memory.site_phases
        gone = self.state.chargers.get(charger_id)
        if gone is not None:  # the car just left: say 0 once
            return gone.target, gone.site_phases
        return 0, ()

    def _remember(
        self, memory: ChargerMemory, target: int, phases: tuple[Phase, ...], *, changed: bool
    ) -> None:
        if target > 0 and memory.target == 0:
            memory.running_since = self.now
            memory.paused_since = None
            memory.ever_started = True
        elif target == 0 and memory.target > 0:
            memory.paused_since = self.now
            memory.running_since = None
        if changed:
            memory.last_change = self.now
        memory.target = target
        memory.site_phases = phases

    def _figures(
        self,
        loads: LoadEstimate,
        requested: list[list[float]],
        allocated: list[list[float]],
        usage: list[list[float]],
    ) -> dict[str, GroupFigures]:
        """Return the per-group figures from the sums of each group's own chargers."""
        topology = self.topology
        margin = self.config.margin_a
        for group in topology.bottom_up:  # children before parents: add each to its parent
            parent = topology.parent[group]
            if parent is None:
                continue
            for phase in PHASES:
                requested[parent][phase] += requested[group][phase]
                allocated[parent][phase] += allocated[group][phase]
                usage[parent][phase] += usage[group][phase]
        figures: dict[str, GroupFigures] = {}
        previous = self.memo.figures
        for group, config_group in enumerate(topology.groups):
            non_ev = loads.non_ev[group]
            wanted_row = requested[group]
            allocated_row = allocated[group]
            usage_row = usage[group]
            wanted = (wanted_row[0], wanted_row[1], wanted_row[2])
            given = (allocated_row[0], allocated_row[1], allocated_row[2])
            drawn = (usage_row[0], usage_row[1], usage_row[2])
            meter = loads.meter[group]
            stale = loads.stale[group]
            old = previous[group]
            if (
                old is not None
                and old.usage == drawn
                and old.non_ev_load == non_ev
                and old.allocated == given
                and old.requested == wanted
                and old.meter == meter
                and old.meter_stale == stale
            ):  # as last cycle (available follows from the load): reuse the immutable figures
                figures[config_group.id] = old
                continue
            fuse = config_group.fuse
            built = GroupFigures(
                group_id=config_group.id,
                meter=meter,
                non_ev_load=non_ev,
                available=(
                    fuse[0] - margin - non_ev[0],
                    fuse[1] - margin - non_ev[1],
                    fuse[2] - margin - non_ev[2],
                ),
                requested=wanted,
                allocated=given,
                usage=drawn,
                meter_stale=stale,
            )
            previous[group] = built
            figures[config_group.id] = built
        return figures


_CAP_TEXT: dict[Reason, str] = {
    Reason.AT_REQUEST: "at its maximum {} A",
    Reason.CHARGER_LIMIT: "charger limit {} A",
    Reason.USER_LIMIT: "user limit {} A",
    Reason.SCHEDULE_LIMIT: "schedule limit {} A",
    Reason.CAR_DRAWS_LESS: "car draws less; offered {} A",
    Reason.FAILSAFE_METER_STALE: "failsafe {} A: meter silent",
}


def _one_phase_car(memory: ChargerMemory) -> bool:
    """Return whether the car was seen drawing on one phase only (in this session)."""
    return memory.car_phases is not None and len(memory.car_phases) == 1


@functools.cache
def _car_site_phases(rotation: PhaseRotation, car_phases: frozenset[Phase]) -> tuple[Phase, ...]:
    return tuple(sorted(rotation.site_phase(phase) for phase in car_phases))


@functools.cache
def _charger_phases(rotation: PhaseRotation, phases: tuple[Phase, ...]) -> tuple[Phase, ...]:
    return tuple(sorted(rotation.charger_phase(phase) for phase in phases))


def _action(before: int, target: int, *, changed: bool) -> Action:
    if not changed:
        return Action.NONE
    if before == 0:
        return Action.START
    if target == 0:
        return Action.STOP
    return Action.ADJUST
