"""Observing the cars: sessions, obedience, what each car draws and on which phases.

- A charger with a car connected has a session (`ChargerMemory`), opened when the car is first
  seen; the session ends when the car leaves (`remember.forget_gone`).
- Phases: a three-phase charger's car is seen drawing on some phases only (a one- or two-phase
  car); the phases it does not use are freed for everyone for the rest of the session.
- Draw-less: a car that keeps drawing `drawless_threshold_a` less than it was offered for
  `drawless_settle_s` gets a lowered request (what it draws + `drawless_margin_a`, or 0).
  It gets its full share back when it draws more, and by re-offers, whose interval grows by
  `reoffer_backoff` with each one the car declines (up to `reoffer_max_interval_s`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .memory import ChargerMemory
from .model import PHASE_COUNT, PHASES, Phase, PhaseRotation, Wiring

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .model import ChargerConfig, ChargerState, Snapshot
    from .topology import Topology
    from .tunables import Tunables

MAX_BACKOFF_EXPONENT = 64
"""Beyond this the re-offer interval is long since at its maximum (and the power overflows)."""


@dataclass(frozen=True, slots=True)
class Cars:
    """Per charger: its session (None without a car) and the site phases it draws on."""

    sessions: Sequence[ChargerMemory | None]
    phases: tuple[tuple[Phase, ...], ...]


def observe_cars(
    topology: Topology, snapshot: Snapshot, memories: dict[str, ChargerMemory]
) -> Cars:
    """Open each new session and learn what each car draws and on which phases."""
    now = snapshot.now
    tunables = topology.config.tunables
    sessions: list[ChargerMemory | None] = []
    phases: list[tuple[Phase, ...]] = []
    for index, charger in enumerate(topology.chargers):
        state = snapshot.chargers.get(charger.id)
        if state is None or not state.connected:
            sessions.append(None)
            phases.append(topology.wired_phases[index])
            continue
        memory = memories.get(charger.id)
        if memory is None:
            memory = ChargerMemory(session_start=now, paused_since=now)
            memories[charger.id] = memory
        observe_car(charger, state, memory, now, tunables)
        sessions.append(memory)
        phases.append(site_phases(topology, index, memory))
    return Cars(sessions, tuple(phases))


def observe_car(
    charger: ChargerConfig,
    state: ChargerState,
    memory: ChargerMemory,
    now: float,
    tunables: Tunables,
) -> None:
    """Learn what the car draws: its phases, a lowered request, re-offers."""
    if state.car_phases is not None:
        memory.car_phases = state.car_phases
    memory.drawing = max(state.currents) > tunables.idle_current_a
    # What the car draws answers its present command only once it had time to follow it
    # (and not while a phase switch settles).
    settled = (
        memory.target > 0
        and memory.last_change is not None
        and now - memory.last_change >= charger.settle_s(tunables)
        and not memory.switched_within(now, tunables.phase_switch_settle_s)
    )
    if settled:
        _learn_phases(charger, state, memory, tunables.idle_current_a)
        _observe_draw(charger, max(state.currents), memory, now, tunables)
    if (
        memory.request is not None
        and memory.request_lowered_at is not None
        and now - memory.request_lowered_at >= reoffer_interval(memory, tunables)
    ):
        _give_full_share(memory)
        memory.reoffered_at = now


def _learn_phases(
    charger: ChargerConfig, state: ChargerState, memory: ChargerMemory, idle: float
) -> None:
    """Add the phases a three-phase charger's car is seen drawing on (when it cannot say)."""
    if (
        charger.wiring is not Wiring.THREE_PHASE
        or memory.one_phase is not None
        or state.car_phases is not None
    ):
        return
    known = memory.car_phases or frozenset()
    if len(known) == PHASE_COUNT:
        return  # nothing new to learn
    new = [phase for phase in PHASES if state.currents[phase] >= idle and phase not in known]
    if new:
        memory.car_phases = frozenset(new) | known


def reoffer_interval(memory: ChargerMemory, tunables: Tunables) -> float:
    """Return the wait before the next re-offer: longer after each one declined."""
    if not memory.reoffers_declined:
        return tunables.reoffer_interval_s
    interval = tunables.reoffer_interval_s * tunables.reoffer_backoff ** min(
        memory.reoffers_declined, MAX_BACKOFF_EXPONENT
    )
    return min(interval, max(tunables.reoffer_max_interval_s, tunables.reoffer_interval_s))


def _observe_draw(
    charger: ChargerConfig, drawn: float, memory: ChargerMemory, now: float, tunables: Tunables
) -> None:
    """Lower the request of a car that keeps drawing less; re-offer when it draws more."""
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
        # The car draws more than when its request was lowered: it asks for more by itself,
        # or it took the re-offer. Full share, and the back-off starts over.
        _give_full_share(memory)
        memory.reoffered_at = None
        memory.reoffers_declined = 0


def _give_full_share(memory: ChargerMemory) -> None:
    memory.request = None
    memory.request_lowered_at = None
    memory.drawless_since = None


def site_phases(topology: Topology, index: int, memory: ChargerMemory | None) -> tuple[Phase, ...]:
    """Return the site phases a charger draws on: its wiring, one phase, or its car's.

    Without a neutral a charger always draws on every line it is wired to: a car drawing on
    one of a three-phase charger's phases loads the line its neutral terminal is on as well,
    which the charger does not measure.
    """
    charger = topology.chargers[index]
    if (
        charger.wiring is Wiring.ONE_PHASE
        or memory is None
        or topology.config.network.without_neutral
    ):
        return topology.wired_phases[index]
    if memory.one_phase is not None:
        return (memory.one_phase,)
    if memory.car_phases:
        return car_site_phases(charger.rotation, memory.car_phases)
    return PHASES


@functools.cache
def car_site_phases(rotation: PhaseRotation, car_phases: frozenset[Phase]) -> tuple[Phase, ...]:
    """Return the site phases of the charger phases a car draws on (sorted)."""
    return tuple(sorted(rotation.site_phase(phase) for phase in car_phases))
