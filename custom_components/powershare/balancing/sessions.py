"""Charging sessions and what they cost: from a car's arrival to its departure.

Each cycle the service tells `SessionLog` what each charger's decision was and what a kWh costs
now. A session starts when a car is seen (any reason but no car) and ends when it is gone; then
the event `powershare_session_finished` is fired (charger, start, end, energy, cost, charging
time, the highest current given, and the reasons that limited it longest) and the summary is
kept as the charger's last session, for its *Last session* sensor.

Energy comes from the charger's own session counter where it has one (its increase from cycle
to cycle, so that energy drawn while Home Assistant was stopped still counts), else from its
currents at nominal voltage integrated between cycles. Each cycle's energy costs the price in
force; energy without a known price adds to the energy and not to the cost. The totals (per
charger and for the whole site) only grow; they, the open sessions and the last ones are kept in
Home Assistant's storage (`.storage/powershare.sessions`) so a restart loses none of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.powershare.const import DOMAIN, LOGGER
from custom_components.powershare.devices.charger import NOMINAL_VOLTAGE_V
from custom_components.powershare.engine import Reason

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.devices.charger import ChargerReading
    from custom_components.powershare.engine import Decision
    from custom_components.powershare.engine.model import ChargerDecision

    from .links import ChargerLink

EVENT_SESSION_FINISHED: Final = f"{DOMAIN}_session_finished"
LIMITED_BY_COUNT: Final = 3
"""How many of the reasons that limited a session longest its summary names."""
MAX_STEP_S: Final = 60.0
"""A longer gap between cycles is not integrated (Home Assistant was busy or stopped)."""
CHARGING_MIN_A: Final = 1.0
"""A charger counts as charging while some phase draws at least this much."""
MAX_CHARGER_POWER_W: Final = 3 * 32 * 250.0
"""More than any charger draws: a counter that rose faster was reset or misread."""
SAVE_DELAY_S: Final = 60.0
STORE_VERSION: Final = 1


@dataclass
class Totals:
    """Energy and cost so far; the cost is None until some energy had a price."""

    energy_kwh: float = 0.0
    cost: float | None = None

    def add(self, energy_kwh: float, price: float | None) -> None:
        """Count `energy_kwh` at `price` per kWh (None: energy without a cost)."""
        self.energy_kwh += energy_kwh
        if price is not None:
            self.cost = (self.cost or 0.0) + energy_kwh * price


@dataclass
class Session:
    """A session in progress (or the last one, once finished)."""

    start: float
    last: float
    totals: Totals = field(default_factory=Totals)
    unpriced_kwh: float = 0.0
    """Energy drawn while no price was known (not in the cost)."""
    charging_s: float = 0.0
    counter_kwh: float | None = None
    """The charger's session counter as last seen (energy is counted from its increase)."""
    max_current: int = 0
    reasons: dict[str, float] = field(default_factory=dict)
    """Seconds each reason was in force."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Read a session saved by `dataclasses.asdict`."""
        return cls(**{**data, "totals": Totals(**data["totals"])})


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A finished session, as the event and the *Last session* sensor give it."""

    charger: str
    start: float
    end: float
    energy_kwh: float
    cost: float | None
    charging_time_s: float
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
            "cost": None if self.cost is None else round(self.cost, 4),
            "charging_time_s": round(self.charging_time_s),
            "max_current": self.max_current,
            "limited_by": list(self.limited_by),
        }


class SessionLog:
    """Sessions in progress, each charger's last one, and the totals (by entry id)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Fire the events on `hass`'s bus; keep the figures in its storage."""
        self.hass = hass
        self.open: dict[str, Session] = {}
        self.recent: dict[str, Session] = {}
        """Each charger's session in progress, or else its last one (the session sensors)."""
        self.last: dict[str, SessionSummary] = {}
        self.totals: dict[str, Totals] = {}
        self.site = Totals()
        self.price: float | None = None
        """The price of a kWh at the last cycle (None: unknown)."""
        self._store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, f"{DOMAIN}.sessions")
        self._loaded = False
        self._save_pending = False

    def record(
        self, decision: Decision, chargers: Mapping[str, ChargerLink], price: float | None
    ) -> None:
        """Add one cycle at `price` per kWh: start, extend or finish each charger's session."""
        now = decision.now
        self.price = price
        for entry_id, link in chargers.items():
            if not link.answering:
                continue  # not answering shows as no car: the session goes on meanwhile
            verdict = decision.chargers.get(entry_id)
            session = self.open.get(entry_id)
            if verdict is None or verdict.reason is Reason.NO_CAR:
                if session is not None:
                    self._finish(entry_id, link, self.open.pop(entry_id))
                continue
            if session is None:
                session = self.open[entry_id] = self.recent[entry_id] = Session(now, now)
            energy = self._extend(session, link.coordinator.data, verdict, now)
            session.totals.add(energy, price)
            if price is None:
                session.unpriced_kwh += energy
            self.totals.setdefault(entry_id, Totals()).add(energy, price)
            self.site.add(energy, price)
        for entry_id in list(self.open):
            if entry_id not in chargers:  # the charger was removed
                del self.open[entry_id]
        self._save_soon()

    @staticmethod
    def _extend(
        session: Session, reading: ChargerReading | None, verdict: ChargerDecision, now: float
    ) -> float:
        """Add the time since the last cycle; return the energy drawn meanwhile (kWh)."""
        step = now - session.last
        session.last = now
        session.max_current = max(session.max_current, verdict.target_current)
        integrated = 0.0
        if 0 < step <= MAX_STEP_S:
            reason = verdict.reason.value
            session.reasons[reason] = session.reasons.get(reason, 0.0) + step
            if reading is not None:
                integrated = sum(reading.currents_a) * NOMINAL_VOLTAGE_V * step / 3_600_000.0
                if max(reading.currents_a) >= CHARGING_MIN_A:
                    session.charging_s += step
        counter = None if reading is None else reading.session_energy_kwh
        if counter is None:
            return integrated
        before, session.counter_kwh = session.counter_kwh, counter
        rise = 0.0 if before is None else counter - before
        most = MAX_CHARGER_POWER_W * max(step, MAX_STEP_S) / 3_600_000.0
        # A fall is the charger counting a new session; a leap is a misread: count from here.
        return rise if 0.0 <= rise <= most else 0.0

    def _finish(self, entry_id: str, link: ChargerLink, session: Session) -> None:
        summary = SessionSummary(
            charger=link.entry.title,
            start=session.start,
            end=session.last,
            energy_kwh=session.totals.energy_kwh,
            cost=session.totals.cost,
            charging_time_s=session.charging_s,
            max_current=session.max_current,
            limited_by=tuple(
                sorted(session.reasons, key=session.reasons.__getitem__, reverse=True)[
                    :LIMITED_BY_COUNT
                ]
            ),
        )
        self.last[entry_id] = summary
        self.hass.bus.async_fire(EVENT_SESSION_FINISHED, summary.as_event(entry_id))

    # -- storage ---------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Take back what was saved before a restart (once)."""
        if self._loaded:
            return
        self._loaded = True
        stored = await self._store.async_load()
        if not isinstance(stored, dict):
            return
        try:
            site = Totals(**stored["site"])
            totals = {key: Totals(**value) for key, value in stored["totals"].items()}
            recent = {key: Session.from_dict(value) for key, value in stored["recent"].items()}
            open_sessions = {key: recent[key] for key in stored["open"]}
            last = {
                key: SessionSummary(**{**value, "limited_by": tuple(value["limited_by"])})
                for key, value in stored["last"].items()
            }
        except (KeyError, TypeError) as err:
            LOGGER.warning("Saved charging sessions and totals not readable, not used: %s", err)
            return
        self.site, self.totals, self.recent, self.open, self.last = (
            site,
            totals,
            recent,
            open_sessions,
            last,
        )

    def _save_soon(self) -> None:
        """Save within `SAVE_DELAY_S` (and when Home Assistant stops): one write at a time."""
        if not self._save_pending:
            self._save_pending = True
            self._store.async_delay_save(self._as_dict, SAVE_DELAY_S)

    def _as_dict(self) -> dict[str, Any]:
        self._save_pending = False
        return {
            "site": asdict(self.site),
            "totals": {key: asdict(value) for key, value in self.totals.items()},
            "open": list(self.open),
            "recent": {key: asdict(value) for key, value in self.recent.items()},
            "last": {key: asdict(value) for key, value in self.last.items()},
        }
