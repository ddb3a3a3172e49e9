"""The balancer: one decision per snapshot, with memory between cycles.

`Balancer(config).step(snapshot)` runs one cycle:

1. non-EV load per group and phase from the metering points (`loads`), stale meters found;
2. per charger: session, what the car draws (lowered request, phases it uses, re-offers),
   its cap (charger, user, schedule, car, failsafe) and the site phases it uses;
3. a first max-min fair fill with every candidate, from which 1p/3p switches are decided;
4. the minimum-current rule and solar start/stop, pausing chargers and filling again until
   every charger left has at least its minimum;
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
    Demand,
    Fill,
    Limit,
    choose_victims,
    fill,
    owner_bottleneck,
    round_to_amps,
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
    from collections.abc import Iterable

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
        known = {charger.id for charger in config.chargers}
        for charger_id in list(self.state.chargers):
            if charger_id not in known:
                del self.state.chargers[charger_id]

    def step(self, snapshot: Snapshot) -> Decision:
        """Decide every charger's current for this snapshot."""
        return _Cycle(self._topology, self.state, snapshot).run()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """Per charger, what the cycle concluded before pacing."""

    share: float = 0.0
    reason: Reason = Reason.NO_CAR
    detail: str = ""
    limit: int = CAPPED
    """The allocator limit behind the reason, if any."""


_NO_CAR = _Outcome(reason=Reason.NO_CAR, detail="no car connected")


class _Cycle:
    """One run of `Balancer.step` (holds the per-cycle working data)."""

    def __init__(self, topology: Topology, state: BalancerState, snapshot: Snapshot) -> None:
        self.topology = topology
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
        priorities = sorted({charger.priority for charger in topology.chargers}, reverse=True)
        self.tier_count = len(priorities)
        rank = {priority: index for index, priority in enumerate(priorities)}
        self.priority_rank = [rank[charger.priority] for charger in topology.chargers]
        self.keep_position = [0] * count
        self.held: set[int] = set()
        self.limit_reasons: dict[int, tuple[Reason, str]] = {}
        self.demand_cache: dict[int, tuple[bool, tuple[Demand, ...]]] = {}
        self.terms_cache: dict[int, tuple[tuple[Phase, ...], tuple[tuple[int, float], ...]]] = {}
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
        with its next command. `idle_current_a` per phase absorbs measurement noise.
        """
        tunables = self.tunables
        result = list(currents)
        for index, charger in enumerate(self.topology.chargers):
            memory = self.state.chargers.get(charger.id)
            if memory is None or memory.last_change is None:
                continue  # never commanded: nothing to compare with
            if self.now - memory.last_change < tunables.increase_delay_s:
                continue  # still following the last command
            allowed = [tunables.idle_current_a] * 3
            for phase in memory.site_phases:
                allowed[phase] += memory.target
            if any(currents[index][phase] > allowed[phase] for phase in PHASES):
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
        for index, charger in enumerate(self.topology.chargers):
            state = self.snapshot.chargers.get(charger.id)
            if state is None or not state.connected:
                memories.append(None)
                self.outcome[index] = _NO_CAR
                continue
            memory = self.state.chargers.get(charger.id)
            if memory is None:
                memory = ChargerMemory(session_start=self.now, paused_since=self.now)
                self.state.chargers[charger.id] = memory
            memories.append(memory)
            self._observe_car(charger, state, memory)
            self.phases[index] = self._site_phases(index, charger, memory)
            stale = loads.stale[self.topology.charger_group[index]]
            cap, reason = self._cap(charger, state, memory, stale=stale)
            self.caps[index] = cap
            self.cap_reason[index] = reason
            if charger.mode is ChargingMode.OFF:
                self.outcome[index] = _Outcome(reason=Reason.MODE_OFF, detail="charging mode off")
            elif cap < charger.min_current:
                self.outcome[index] = _Outcome(reason=reason, detail=self._cap_detail(index))
            else:
                self.candidates.append(index)
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
            and not self._switch_settling(memory)
        )
        if settled:
            if (
                charger.wiring is Wiring.THREE_PHASE
                and memory.one_phase is None
                and state.car_phases is None
            ):
                seen = frozenset(
                    phase for phase in PHASES if state.currents[phase] >= tunables.idle_current_a
                )
                if seen:
                    memory.car_phases = seen | (memory.car_phases or frozenset())
            self._observe_draw(charger, max(state.currents), memory)
        if (
            memory.request is not None
            and memory.request_lowered_at is not None
            and self.now - memory.request_lowered_at >= tunables.reoffer_interval_s
        ):
            self._reoffer(memory)

    def _observe_draw(self, charger: ChargerConfig, drawn: float, memory: ChargerMemory) -> None:
        """Lower the request of a car that keeps drawing less; re-offer when it draws more."""
        tunables = self.tunables
        now = self.now
        if memory.target - drawn > tunables.drawless_threshold_a:
            if memory.drawless_since is None:
                memory.drawless_since = now
            if now - memory.drawless_since >= tunables.drawless_settle_s:
                lowered = (
                    0
                    if drawn < tunables.idle_current_a
                    else max(charger.min_current, math.ceil(drawn + tunables.drawless_margin_a))
                )
                if memory.request is None or lowered < memory.request:
                    memory.request = lowered
                    memory.request_lowered_at = now
                    memory.drawn_when_lowered = drawn
        else:
            memory.drawless_since = None
        if (
            memory.request is not None
            and drawn >= memory.drawn_when_lowered + tunables.reoffer_rise_a
        ):
            self._reoffer(memory)

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
            return tuple(sorted(charger.rotation.site_phase(phase) for phase in memory.car_phases))
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
        return {
            Reason.AT_REQUEST: f"at its maximum {cap} A",
            Reason.CHARGER_LIMIT: f"charger limit {cap} A",
            Reason.USER_LIMIT: f"user limit {cap} A",
            Reason.SCHEDULE_LIMIT: f"schedule limit {cap} A",
            Reason.CAR_NOT_DRAWING: "car not drawing; offered again later",
            Reason.CAR_DRAWS_LESS: f"car draws less; offered {cap} A",
            Reason.FAILSAFE_METER_STALE: f"failsafe {cap} A: meter silent",
        }[self.cap_reason[index]]

    def _limits(self, loads: LoadEstimate) -> list[Limit]:
        config = self.config
        topology = self.topology
        limits: list[Limit] = []
        for group, config_group in enumerate(topology.groups):
            limits.extend(
                Limit(config_group.fuse[phase] - config.margin_a - loads.non_ev[group][phase])
                for phase in PHASES
            )
        for group in topology.power_limit:
            max_power_w = topology.groups[group].max_power_w
            assert max_power_w is not None  # noqa: S101 - power_limit only holds capped groups
            limits.append(Limit(max_power_w / config.voltage - sum(loads.non_ev[group])))
        solar = 0.0
        if loads.surplus_w is not None:
            solar = (
                loads.surplus_w - config.solar_reserve_w + config.import_allowance_w
            ) / config.voltage
        limits.append(Limit(solar, from_tier=self.tier_count))
        return limits

    def _rank(self, memories: list[ChargerMemory | None]) -> None:
        """Order chargers for keeping when not all can reach their minimum.

        Highest priority first; then, so that no car starves: chargers running for less than
        a rotation period, then paused ones that waited a full period (longest first), then
        chargers running for longer (shortest first), then recently paused ones.
        """
        period = self.tunables.rotation_period_s
        now = self.now

        def key(index: int) -> tuple[int, int, float, str]:
            memory = memories[index]
            charger_id = self.topology.chargers[index].id
            rank = self.priority_rank[index]
            if memory is None:
                return (rank, 4, 0.0, charger_id)
            if memory.target > 0 and memory.running_since is not None:
                running_for = now - memory.running_since
                return (rank, 0 if running_for < period else 2, running_for, charger_id)
            paused_since = memory.paused_since if memory.paused_since is not None else now
            waited = now - paused_since
            if waited >= period:
                return (rank, 1, -waited, charger_id)
            return (rank, 3, -waited, charger_id)

        order = sorted(range(len(self.topology.chargers)), key=key)
        for position, index in enumerate(order):
            self.keep_position[index] = position

    def _demands(self) -> tuple[list[Demand], list[list[int]]]:
        demands: list[Demand] = []
        demands_of: list[list[int]] = [[] for _ in self.topology.chargers]
        for index in self.candidates:
            if index in self.removed:
                continue
            for demand in self._charger_demands(index):
                demands_of[index].append(len(demands))
                demands.append(demand)
        return demands, demands_of

    def _charger_demands(self, index: int) -> tuple[Demand, ...]:
        """Return a charger's demands (cached: several fills per cycle reuse them)."""
        held = index in self.held
        terms = self._terms(index)
        cached = self.demand_cache.get(index)
        if cached is not None and cached[0] == held and cached[1][0].terms is terms:
            return cached[1]
        charger = self.topology.chargers[index]
        rank = self.priority_rank[index]
        surplus_tier = self.tier_count + rank
        cap = float(self.caps[index])
        minimum = float(charger.min_current)
        pieces: list[tuple[int, float]]
        if charger.mode is ChargingMode.FAST:
            pieces = [(rank, cap)]
        elif charger.mode is ChargingMode.MIN_SOLAR or held:
            pieces = [(rank, minimum), (surplus_tier, cap - minimum)]
        else:
            pieces = [(surplus_tier, cap)]
        demands = tuple(
            Demand(owner=index, tier=tier, cap=amount, terms=terms) for tier, amount in pieces
        )
        self.demand_cache[index] = (held, demands)
        return demands

    def _terms(self, index: int) -> tuple[tuple[int, float], ...]:
        phases = self.phases[index]
        cached = self.terms_cache.get(index)
        if cached is None or cached[0] != phases:
            cached = (phases, self.topology.terms(index, phases))
            self.terms_cache[index] = cached
        return cached[1]

    def _fill(self, limits: list[Limit]) -> tuple[Fill, list[Demand], list[list[int]]]:
        demands, demands_of = self._demands()
        return fill(limits, demands, len(self.topology.chargers)), demands, demands_of

    # --- 1p / 3p -----------------------------------------------------------------------------

    def _switch_phases(
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        first: tuple[Fill, list[Demand], list[list[int]]],
    ) -> bool:
        result = first[0]
        switched = False
        for index in self.candidates:
            charger = self.topology.chargers[index]
            memory = memories[index]
            if (
                memory is None
                or index in self.removed
                or charger.wiring is not Wiring.THREE_PHASE
                or not charger.can_switch_phases
            ):
                continue
            wanted = self._wanted_phase(index, charger, memory, limits, result)
            if wanted == memory.one_phase or (
                wanted is not None and len(self.phases[index]) < PHASE_COUNT
            ):
                continue
            memory.one_phase = wanted
            memory.switch_times.append(self.now)
            memory.phase_down_since = None
            memory.phase_up_since = None
            memory.drawless_since = None
            memory.car_phases = None
            self.phases[index] = self._site_phases(index, charger, memory)
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
            headroom = one_phase_headroom(
                self.topology, index, share, self.phases[index], limits, result.usage, solar=solar
            )
            return best_phase(headroom)
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
        headroom = one_phase_headroom(
            self.topology, index, share, self.phases[index], limits, result.usage, solar=solar
        )
        best = best_phase(headroom)
        if share < minimum - tunables.phase_down_threshold_a and headroom[best] >= minimum:
            if memory.phase_down_since is None:
                memory.phase_down_since = self.now
            if self._may_switch(memory, memory.phase_down_since, tunables.phase_down_delay_s):
                return best
        else:
            memory.phase_down_since = None
        return None

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
        first: tuple[Fill, list[Demand], list[list[int]]],
    ) -> tuple[Fill, list[Demand], list[list[int]]]:
        minimum = [float(charger.min_current) for charger in self.topology.chargers]
        current = first
        while True:
            result, demands, demands_of = current
            active = [index for index in self.candidates if index not in self.removed]
            below = [index for index in active if result.totals[index] < minimum[index] - EPSILON]
            if below:
                victims = choose_victims(
                    demands, limits, result, below, demands_of, minimum, self.keep_position
                )
                for victim in victims:
                    bottleneck = owner_bottleneck(result, demands_of[victim])
                    self._pause(victim, memories[victim], bottleneck, limits)
                current = self._fill(limits)
                continue
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
        self.removed[index] = (
            Reason.PAUSED_FOR_OTHERS,
            f"paused so others reach their minimum ({self._limit_text(bottleneck)})",
            bottleneck,
        )

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
        self, limits: list[Limit], current: tuple[Fill, list[Demand], list[list[int]]]
    ) -> list[int]:
        result, demands, demands_of = current
        for index in self.candidates:
            if index in self.removed:
                reason, detail, limit = self.removed[index]
                self.outcome[index] = _Outcome(0.0, reason, detail, limit)
                continue
            bottleneck = owner_bottleneck(result, demands_of[index])
            share = result.totals[index]
            if index in self.held:
                memory = self.state.chargers[self.topology.chargers[index].id]
                since = memory.solar_deficit_since or self.now
                left = self.tunables.solar_stop_delay_s - (self.now - since)
                self.outcome[index] = _Outcome(
                    share,
                    Reason.SOLAR_HOLDING_MIN,
                    f"not enough surplus; holding minimum, stopping in {math.ceil(left)} s",
                )
            elif bottleneck == CAPPED:
                self.outcome[index] = _Outcome(
                    share, self.cap_reason[index], self._cap_detail(index)
                )
            else:
                reason, detail = self._limit_reason(bottleneck)
                self.outcome[index] = _Outcome(share, reason, detail, bottleneck)
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

    def _finish(
        self,
        memories: list[ChargerMemory | None],
        limits: list[Limit],
        loads: LoadEstimate,
        currents: list[tuple[float, float, float]],
        amps: list[int],
    ) -> Decision:
        state = self.state
        final, paced = self._pace(memories, limits, amps)
        decisions: dict[str, ChargerDecision] = {}
        for index, charger in enumerate(self.topology.chargers):
            memory = memories[index]
            before, phases_before = self._previous(charger.id, memory)
            phases = self.phases[index]
            outcome = self.outcome[index]
            target, reason, detail = final[index], outcome.reason, outcome.detail
            if index in paced:
                reason = Reason.PACED
                detail = f"increase to {amps[index]} A after the meters catch up"
            changed = target != before or (target > 0 and phases != phases_before)
            action = _action(before, target, changed=changed)
            if memory is not None:
                self._remember(memory, target, phases, changed=changed)
            elif charger.id in state.chargers:
                del state.chargers[charger.id]
            rotation = charger.rotation
            limit_group, limit_phase = self._limit_place(outcome.limit)
            decisions[charger.id] = ChargerDecision(
                charger_id=charger.id,
                target_current=target,
                site_phases=phases,
                charger_phases=_charger_phases(rotation, phases),
                action=action,
                changed=changed,
                reason=reason,
                detail=detail,
                requested=self.caps[index] if memory is not None else 0,
                share=outcome.share,
                limit_group=limit_group,
                limit_phase=limit_phase,
            )
        return Decision(
            now=self.now,
            chargers=MappingProxyType(decisions),
            groups=MappingProxyType(self._figures(memories, loads, currents, final)),
            stale_meters=loads.stale_meters,
            surplus_w=loads.surplus_w,
        )

    def _pace(
        self, memories: list[ChargerMemory | None], limits: list[Limit], amps: list[int]
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
        for index, charger in enumerate(topology.chargers):
            before, phases_before = self._previous(charger.id, memories[index])
            if amps[index] < before or (before > 0 and self.phases[index] != phases_before):
                ramping[charger.id] = RampDown(
                    now + self.tunables.increase_delay_s, before, phases_before
                )
            elif (
                memories[index] is not None
                and amps[index] > before
                and (before == 0 or self.phases[index] == phases_before)
            ):
                final[index] = before
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
        usage = [0.0] * count
        for index, target in enumerate(final):
            if target:
                for limit, coefficient in self._terms(index):
                    usage[limit] += coefficient * target
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
        memories: list[ChargerMemory | None],
        loads: LoadEstimate,
        currents: list[tuple[float, float, float]],
        final: list[int],
    ) -> dict[str, GroupFigures]:
        topology = self.topology
        margin = self.config.margin_a
        count = len(topology.groups)
        requested = [[0.0, 0.0, 0.0] for _ in range(count)]
        allocated = [[0.0, 0.0, 0.0] for _ in range(count)]
        usage = [[0.0, 0.0, 0.0] for _ in range(count)]
        for index, charger in enumerate(topology.chargers):
            wants = self.caps[index] if memories[index] is not None else 0
            if charger.mode is ChargingMode.OFF:
                wants = 0
            group = topology.charger_group[index]
            for phase in self.phases[index]:
                requested[group][phase] += wants
                allocated[group][phase] += final[index]
            for phase in PHASES:
                usage[group][phase] += currents[index][phase]
        for group in topology.bottom_up:  # children before parents: add each to its parent
            parent = topology.parent[group]
            if parent is None:
                continue
            for phase in PHASES:
                requested[parent][phase] += requested[group][phase]
                allocated[parent][phase] += allocated[group][phase]
                usage[parent][phase] += usage[group][phase]
        figures: dict[str, GroupFigures] = {}
        for group, config_group in enumerate(topology.groups):
            non_ev = loads.non_ev[group]
            figures[config_group.id] = GroupFigures(
                group_id=config_group.id,
                meter=loads.meter[group],
                non_ev_load=non_ev,
                available=_triple(config_group.fuse[p] - margin - non_ev[p] for p in PHASES),
                requested=_triple(requested[group]),
                allocated=_triple(allocated[group]),
                usage=_triple(usage[group]),
                meter_stale=loads.stale[group],
            )
        return figures


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


def _triple(values: Iterable[float]) -> tuple[float, float, float]:
    items = list(values)
    return (float(items[0]), float(items[1]), float(items[2]))
