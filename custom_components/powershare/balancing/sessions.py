"""Charging sessions: from a car's arrival to its departure, summed up when it leaves.

Each cycle the service tells `SessionLog` what each charger's decision was. A session starts
when a car is seen (any reason but no car) and ends when it is gone; then the event
`powershare_session_finished` is fired (charger, start, end, energy, cost, the highest
current given, and the reasons that limited it longest) and the summary is kept as the
charger's last session, for its *Last session* sensor.

Energy is the charger's own session counter where it has one (its largest value in the
session: the counter restarts with a session), else the power at nominal voltage integrated
between cycles. Cost stays None until a tariff is known (the tariffs issue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.util import dt as dt_util

from custom_components.powershare.const import DOMAIN
from custom_components.powershare.devices.charger import NOMINAL_VOLTAGE_V
from custom_components.powershare.engine import Reason

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.engine import Decision

    from .links import ChargerLink

EVENT_SESSION_FINISHED: Final = f"{DOMAIN}_session_finished"
LIMITED_BY_COUNT: Final = 3
"""How many of the reasons that limited a session longest its summary names."""
MAX_STEP_S: Final = 60.0
"""A longer gap between cycles is not integrated (Home Assistant was busy or stopped)."""


@dataclass
class _Session:
    start: float
    last: float
    energy_kwh: float = 0.0
    counter_kwh: float | None = None
    max_current: int = 0
    reasons: dict[str, float] = field(default_factory=dict)
    """Seconds each reason was in force."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A finished session, as the event and the *Last session* sensor give it."""

    charger: str
    start: float
    end: float
    energy_kwh: float
    cost: float | None
    max_current: int
    limited_by: tuple[str, ...]

    def as_event(self, entry_id: str) -> dict[str, Any]:
        """Return the event's data (times in ISO 8601)."""
        return {
            "charger": self.charger,
            "entry_id": entry_id,
            "start": dt_util.utc_from_timestamp(self.start).isoformat(),
            "end": dt_util.utc_from_timestamp(self.end).isoformat(),
            "energy_kwh": round(self.energy_kwh, 3),
            "cost": self.cost,
            "max_current": self.max_current,
            "limited_by": list(self.limited_by),
        }


class SessionLog:
    """The sessions in progress, and each charger's last finished one (by entry id)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Fire the events on `hass`'s bus."""
        self.hass = hass
        self.open: dict[str, _Session] = {}
        self.last: dict[str, SessionSummary] = {}

    def record(self, decision: Decision, chargers: Mapping[str, ChargerLink]) -> None:
        """Add one cycle: start, extend or finish each charger's session."""
        now = decision.now
        for entry_id, link in chargers.items():
            verdict = decision.chargers.get(entry_id)
            session = self.open.get(entry_id)
            if not link.answering:
                continue  # not answering shows as no car: the session goes on meanwhile
            if verdict is None or verdict.reason is Reason.NO_CAR:
                if session is not None:
                    self._finish(entry_id, link, self.open.pop(entry_id))
                continue
            if session is None:
                session = self.open[entry_id] = _Session(start=now, last=now)
            self._extend(session, link, verdict.target_current, verdict.reason.value, now)
        for entry_id in list(self.open):
            if entry_id not in chargers:  # the charger was removed
                del self.open[entry_id]

    @staticmethod
    def _extend(session: _Session, link: ChargerLink, amps: int, reason: str, now: float) -> None:
        step = now - session.last
        reading = link.coordinator.data
        if 0 < step <= MAX_STEP_S:
            session.reasons[reason] = session.reasons.get(reason, 0.0) + step
            if reading is not None:
                drawn = sum(reading.currents_a) * NOMINAL_VOLTAGE_V
                session.energy_kwh += drawn * step / 3_600_000.0
        session.last = now
        session.max_current = max(session.max_current, amps)
        counter = None if reading is None else reading.session_energy_kwh
        if counter is not None:
            session.counter_kwh = max(session.counter_kwh or 0.0, counter)

    def _finish(self, entry_id: str, link: ChargerLink, session: _Session) -> None:
        energy = session.counter_kwh if session.counter_kwh is not None else session.energy_kwh
        summary = SessionSummary(
            charger=link.entry.title,
            start=session.start,
            end=session.last,
            energy_kwh=energy,
            cost=None,
            max_current=session.max_current,
            limited_by=tuple(
                sorted(session.reasons, key=session.reasons.__getitem__, reverse=True)[
                    :LIMITED_BY_COUNT
                ]
            ),
        )
        self.last[entry_id] = summary
        self.hass.bus.async_fire(EVENT_SESSION_FINISHED, summary.as_event(entry_id))
