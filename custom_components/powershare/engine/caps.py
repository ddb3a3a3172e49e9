"""What each charger asks for: the lowest of its caps, and which cap that is.

A charger's cap is the lowest of its maximum, the charger's own limit (cable, connector), the
user limit, the schedule, the charging plan's slot, a car that draws less (its lowered
request), and the failsafe share below a silent meter. On ties the later, more specific cap
is named (a failsafe over a user limit). A charger whose cap is below its minimum does not
take part in the sharing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import ChargingMode, Reason

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .loads import LoadEstimate
    from .memory import ChargerMemory
    from .model import ChargerConfig, ChargerState, Snapshot
    from .topology import Topology

_CAP_TEXT: dict[Reason, str] = {
    Reason.AT_REQUEST: "at its maximum {} A",
    Reason.CHARGER_LIMIT: "charger limit {} A",
    Reason.USER_LIMIT: "user limit {} A",
    Reason.SCHEDULE_LIMIT: "schedule limit {} A",
    Reason.PLAN_LIMIT: "charging plan {} A",
    Reason.CAR_DRAWS_LESS: "car draws less; offered {} A",
    Reason.FAILSAFE_METER_STALE: "failsafe {} A: meter silent",
}


@dataclass(frozen=True, slots=True)
class Asks:
    """Per charger (by index): its cap and the reason that sets it; and who may charge.

    Chargers without a car ask for nothing (0, at request).
    """

    cap: Sequence[int]
    reason: Sequence[Reason]
    candidates: tuple[int, ...]
    """The chargers that may charge: a car, a mode, a cap of at least the minimum (in index
    order)."""
    candidate: Sequence[bool]
    """Per charger: whether it is one of the candidates."""

    def text(self, index: int) -> str:
        """Return the user-facing text of a charger's cap."""
        reason = self.reason[index]
        if reason is Reason.CAR_NOT_DRAWING:
            return "car not drawing; offered again later"
        return _CAP_TEXT[reason].format(self.cap[index])


def ask(
    topology: Topology,
    snapshot: Snapshot,
    sessions: Sequence[ChargerMemory | None],
    loads: LoadEstimate,
) -> Asks:
    """Return what every charger asks for this cycle."""
    caps = [0] * len(topology.chargers)
    reasons = [Reason.AT_REQUEST] * len(topology.chargers)
    candidates: list[int] = []
    candidate = [False] * len(topology.chargers)
    failsafe = topology.config.tunables.failsafe_current_a
    for index, (charger, memory) in enumerate(zip(topology.chargers, sessions, strict=True)):
        if memory is None:
            continue
        stale = loads.stale[topology.charger_group[index]]
        cap, reasons[index] = charger_cap(
            charger, snapshot.chargers[charger.id], memory, failsafe if stale else None
        )
        caps[index] = cap
        if charger.mode is not ChargingMode.OFF and cap >= charger.min_current:
            candidates.append(index)
            candidate[index] = True
    return Asks(caps, reasons, tuple(candidates), candidate)


def charger_cap(
    charger: ChargerConfig, state: ChargerState, memory: ChargerMemory, failsafe: int | None
) -> tuple[int, Reason]:
    """Return a charger's cap and the reason that sets it (`failsafe` below a silent meter)."""
    cap, reason = charger.max_current, Reason.AT_REQUEST
    if state.max_current is not None and state.max_current <= cap:
        cap, reason = state.max_current, Reason.CHARGER_LIMIT
    if charger.user_limit is not None and charger.user_limit <= cap:
        cap, reason = charger.user_limit, Reason.USER_LIMIT
    if charger.schedule_limit is not None and charger.schedule_limit <= cap:
        cap, reason = charger.schedule_limit, Reason.SCHEDULE_LIMIT
    if charger.plan_limit is not None and charger.plan_limit <= cap:
        cap, reason = charger.plan_limit, Reason.PLAN_LIMIT
    if memory.request is not None and memory.request <= cap:
        cap = memory.request
        reason = Reason.CAR_NOT_DRAWING if cap == 0 else Reason.CAR_DRAWS_LESS
    if failsafe is not None and failsafe <= cap:
        cap, reason = failsafe, Reason.FAILSAFE_METER_STALE
    return max(cap, 0), reason
