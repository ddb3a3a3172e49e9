"""Solar charging: when a surplus-only charge starts, holds its minimum, and stops.

- Start: a solar charge waits until its share of the surplus has carried its minimum for
  `solar_start_delay_s` (a charge the surplus could not carry even alone waits without a
  fill: `wait_for_surplus`).
- Hold: a running solar charge left short by the surplus keeps its minimum, asked in its
  priority tier like minimum + solar, for `solar_stop_delay_s` of deficit (a passing cloud).
- Stop: after that it is paused until the surplus carries it again.

Writes the solar memory of the charges it decides: `solar_running`, `solar_ok_since`
(surplus enough since), `solar_deficit_since`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .model import ChargingMode, Reason
from .network import power_amps
from .plan import LeftOut

if TYPE_CHECKING:
    from .cycle import Cycle
    from .memory import ChargerMemory
    from .plan import Plan
    from .sharing import Shares

WAITING = "waiting for solar surplus"


def wait_for_surplus(cycle: Cycle, plan: Plan) -> Plan:
    """Leave out the solar charges that the surplus could not start even alone."""
    topology = cycle.topology
    surplus = cycle.room[topology.solar_limit].capacity
    waiting: dict[int, LeftOut] = {}
    for index in plan.candidates:
        charger = topology.chargers[index]
        memory = cycle.sessions[index]
        if charger.mode is not ChargingMode.SOLAR or memory is None or memory.solar_running:
            continue
        # Its minimum's power in amps at 230 V: on one phase if it may switch to one.
        lines = 1 if topology.switchable[index] else len(plan.phases[index])
        if surplus < power_amps(topology.config.network, lines) * charger.min_current:
            memory.solar_ok_since = None
            waiting[index] = LeftOut(Reason.WAITING_FOR_SURPLUS, WAITING, topology.solar_limit)
    return plan.leave_out(waiting) if waiting else plan


def hold_minimum(cycle: Cycle, plan: Plan, index: int, memory: ChargerMemory) -> bool:
    """Whether a solar charge the surplus left short holds its minimum (else it stops)."""
    if memory.solar_running and index not in plan.holding:
        if memory.solar_deficit_since is None:
            memory.solar_deficit_since = cycle.now
        if cycle.now - memory.solar_deficit_since < cycle.tunables.solar_stop_delay_s:
            return True
    stop(memory)
    return False


def stop(memory: ChargerMemory) -> None:
    """Forget a solar charge's timers: it is not running (a pause for another reason, too)."""
    memory.solar_running = False
    memory.solar_ok_since = None
    memory.solar_deficit_since = None


def hold_back_starts(cycle: Cycle, plan: Plan, shares: Shares) -> tuple[Plan, bool]:
    """Start the solar charges whose surplus lasted the start delay; hold back the others.

    Returns the plan and whether any was held back (the others may share what it leaves).
    """
    del shares  # decided on the plan: the fill only told who is still sharing
    now = cycle.now
    held_back: dict[int, LeftOut] = {}
    for index in plan.sharing:
        memory = cycle.sessions[index]
        if cycle.topology.chargers[index].mode is not ChargingMode.SOLAR or memory is None:
            continue
        if memory.solar_running:
            if index not in plan.holding:
                memory.solar_deficit_since = None
            continue
        if memory.solar_ok_since is None:
            memory.solar_ok_since = now
        left = cycle.tunables.solar_start_delay_s - (now - memory.solar_ok_since)
        if left > 0:
            held_back[index] = LeftOut(
                Reason.WAITING_FOR_SURPLUS,
                f"surplus enough; starting in {math.ceil(left)} s",
                cycle.topology.solar_limit,
            )
        else:
            memory.solar_running = True
            memory.solar_ok_since = None
    if not held_back:
        return plan, False
    return plan.leave_out(held_back), True


def holding_text(cycle: Cycle, memory: ChargerMemory) -> str:
    """Return the text of a solar charge holding its minimum."""
    since = memory.solar_deficit_since or cycle.now
    left = cycle.tunables.solar_stop_delay_s - (cycle.now - since)
    return f"not enough surplus; holding minimum, stopping in {math.ceil(left)} s"
