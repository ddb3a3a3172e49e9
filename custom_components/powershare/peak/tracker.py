"""The peak budget: what the site imported in this window, and what it may still import.

Every cycle the tracker is given what the grid meter says (`PeakSample`): the net import power,
the chargers' part of it, and where the meter has them its energy counters and its own average
demand and month peak. From these it knows the energy imported so far in the clock-aligned
window, and `budget` turns that into the average power the whole site may import for the rest
of the window so that the window's average stays under the limit:

    site power = (aim x limit x window - energy so far) / time left

given to the engine as it falls, but as it rises at most once a minute (`RISE_EVERY_S`).
The balancer gives the chargers that power less the house's load at the root (the larger of
the held non-EV load the fuses use and the house's high of the last five minutes,
`HOUSE_MEMORY_S`), shared max-min fair like any other power limit. So the forecast for the
house is its recent high, and the budget follows it: a kettle lowers the cars while it boils
and for a few minutes after (a thermostat may switch it on again), and the budget left is
spread again over the rest of the window, never spent in its first minutes. A house that
alone uses the whole budget leaves the cars at 0, and the window's peak is recorded as set by
the house.

Sources of the energy imported so far (import only: capacity tariffs bill import, and export
earlier in a window makes no room), the largest wins (a source can lag or miss, never
overstate much): the import power integrated between samples (a gap longer than `MAX_GAP_S`
counts at the limit), the meter's import counter, the meter's own running average demand (DSMR
`current_average_demand`, HomeWizard `average_power_15m_w`). Part of a window not seen (Home
Assistant started in its middle) counts as imported at the limit, unless the meter's own
average covers it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from .settings import PeakSettings, month_of, window_start

if TYPE_CHECKING:
    from datetime import datetime

AIM: Final = 0.98
"""The budget aims 2 % under the limit: cars follow a cut within seconds, and the meter
reports a few seconds late; both add a little energy after every cut."""
LAST_MINUTE_S: Final = 60.0
"""In a window's last minute the budget may fall, but rise no more than the energy left spread
over a minute: a car could not follow a last-seconds jump (it takes seconds to ramp), and would
carry it into the next window only to be cut again."""
HOUSE_MEMORY_S: Final = 300.0
"""The house is forecast at its highest load of the last five minutes (`PeakBudget.house_w`),
not only its present one: an oven's or a heat pump's thermostat switches every minute or two,
and a budget made in its off phase would start the cars only to cut them when it switches on
again."""
MAX_GAP_S: Final = 60.0
"""Readings further apart than this leave a gap, counted at the limit."""
RISE_EVERY_S: Final = 60.0
"""Within a window the site power given to the cars rises at most once a minute; it falls at
once. The budget spreads what is left over the rest of the window, so while the cars take
whole amps under it (and the house stays under its recent high) it creeps up all the time,
and each amp it gains is a command to the charger and a row in the history of every figure
that moves with it. Held for up to a minute it rises in one step instead of an amp at a time;
the energy not taken meanwhile stays in the window's budget and is spread over the rest of it
(in the last minute `LAST_MINUTE_S` caps what it may gain anyway)."""


@dataclass(frozen=True, slots=True)
class PeakSample:
    """What the grid meter says at one moment."""

    at: datetime
    """When the values were measured (local time, with its zone)."""
    import_power_w: float
    """Net over the phases: + import, - export."""
    ev_power_w: float = 0.0
    """The chargers' part of the import."""
    import_energy_kwh: float | None = None
    """The meter's import counter (export is not billed, so its counter is not needed)."""
    average_demand_w: float | None = None
    """The meter's own average import of this window so far."""
    month_peak_w: float | None = None
    """The meter's own record of this month's highest window."""
    house_power_w: float | None = None
    """The house's load, when the caller knows it better than import less the cars."""
    house_known: bool = True
    """False: the house's load cannot be told apart now (a charger has not answered yet, or
    draws out of control), so this sample adds nothing to its remembered high."""


@dataclass(frozen=True, slots=True)
class PeakRecord:
    """A window's average import, and whether the house alone went over the limit."""

    average_w: float
    start: float
    """The window's start (Unix seconds)."""
    by_house: bool
    """The house alone imported more than the limit in force: the cars could not prevent it."""
    whole: bool = True
    """Every moment of the window was seen (else its average is a safe guess, not a peak)."""


@dataclass(frozen=True, slots=True)
class PeakBudget:
    """What the budget looks like at one moment (the root group's entities show it)."""

    limit_w: float
    window_start: float
    window_end: float
    energy_wh: float
    """Imported so far in this window."""
    average_w: float
    """The average import so far."""
    projected_w: float
    """The window's average if the present import went on to its end (an export counts as
    nothing imported: only import is billed, so it never falls below what is imported)."""
    left_wh: float
    """What the window may still import before its average passes the limit (never < 0)."""
    site_power_w: float
    """The engine's `Snapshot.peak_power_w`: the site's allowed import for the rest."""
    house_w: float | None = None
    """The engine's `Snapshot.peak_house_w`: the house's recent high, its forecast."""


class _Given(NamedTuple):
    """The site power given last (`PeakTracker._give`)."""

    window_start: float
    power_w: float
    rose_at: float
    """When it last rose (or its window began)."""


@dataclass(slots=True)
class _Window:
    start: float
    end: float
    seen_from: float
    integrated_wh: float = 0.0
    ev_wh: float = 0.0
    counter_base: float | None = None
    """The import counter at `counter_offset_wh` (kWh)."""
    counter_offset_wh: float = 0.0
    counter_wh: float | None = None
    meter_wh: float | None = None
    gap: bool = False
    """Readings stopped for longer than `MAX_GAP_S` in this window."""

    @property
    def whole(self) -> bool:
        """Whether every moment of the window was seen (its average is a true peak)."""
        return self.seen_from == self.start and not self.gap


class PeakTracker:
    """Follows the windows of one site, and this month's peak."""

    def __init__(self, settings: PeakSettings) -> None:
        self.settings = settings
        self.month: str | None = None
        self.month_peak: PeakRecord | None = None
        self.meter_month_peak_w: float | None = None
        self.last_closed: PeakRecord | None = None
        """The last window that ended, with the limit then in force (`last_limit_w`)."""
        self.last_limit_w: float | None = None
        self._window: _Window | None = None
        self._last: tuple[float, float, float] | None = None
        """The previous sample: time, import power, EV power."""
        self._house: deque[tuple[float, float]] = deque()
        """The house's load (import less the cars) of the last `HOUSE_MEMORY_S`, by time."""
        self._given: _Given | None = None

    # -- the month's peak survives a restart ------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """Return what must survive a restart: the month and its peak."""
        peak = self.month_peak
        return {
            "month": self.month,
            "peak": None
            if peak is None
            else {"average_w": peak.average_w, "start": peak.start, "by_house": peak.by_house},
        }

    def restore(self, stored: dict[str, Any]) -> None:
        """Take back what `as_dict` saved (anything malformed is ignored)."""
        month = stored.get("month")
        peak = stored.get("peak")
        if not isinstance(month, str):
            return
        self.month = month
        if isinstance(peak, dict):
            try:
                self.month_peak = PeakRecord(
                    float(peak["average_w"]), float(peak["start"]), bool(peak["by_house"])
                )
            except (KeyError, TypeError, ValueError):
                self.month_peak = None

    def forget_window(self) -> None:
        """Start afresh at the next reading (the window's length changed, or mode was off)."""
        self._window = None
        self._last = None
        self._house.clear()
        self._given = None

    # -- each cycle -------------------------------------------------------------------------

    @property
    def limit_w(self) -> float | None:
        """The limit in force (None: mode off)."""
        peak = self.month_peak.average_w if self.month_peak is not None else None
        if self.meter_month_peak_w is not None:
            peak = max(peak or 0.0, self.meter_month_peak_w)
        return self.settings.limit_in_force(peak)

    def observe(self, sample: PeakSample) -> None:
        """Take one reading of the grid meter; a window that ended is closed first."""
        at = sample.at.timestamp()
        if self._last is not None and at <= self._last[0]:
            return  # the same reading again (or one from the past)
        window_s = self.settings.window_s
        start = window_start(sample.at, window_s)
        continuous = self._last is not None and at - self._last[0] <= MAX_GAP_S
        if self._window is None or start != self._window.start:
            if self._window is not None and self._last is not None:
                self._integrate(min(at, self._window.end), sample, gap=not continuous)
                self._close(self._window)
            self._roll_month(sample.at)
            followed = continuous and self._window is not None
            self._window = _Window(start, start + window_s, start if followed else at)
            if followed and self._last is not None:
                self._last = (start, self._last[1], self._last[2])
            else:
                self._last = None  # the part not seen counts at the limit (`_energy_wh`)
        self._integrate(at, sample)
        self._take_meter_figures(self._window, sample, at)
        self._last = (at, sample.import_power_w, sample.ev_power_w)
        house = self._house
        while house and house[0][0] < at - HOUSE_MEMORY_S:
            house.popleft()
        house_w = sample.house_power_w
        if sample.house_known:
            house.append(
                (at, sample.import_power_w - sample.ev_power_w if house_w is None else house_w)
            )

    def _take_meter_figures(self, window: _Window, sample: PeakSample, at: float) -> None:
        """Take the meter's own counters, average and month peak, where it has them."""
        if sample.import_energy_kwh is not None:
            if window.counter_base is None:
                window.counter_base = sample.import_energy_kwh
                window.counter_offset_wh = window.integrated_wh
            imported = sample.import_energy_kwh - window.counter_base
            window.counter_wh = window.counter_offset_wh + imported * 1000.0
        if sample.average_demand_w is not None:
            window.meter_wh = sample.average_demand_w * (at - window.start) / 3600.0
        if sample.month_peak_w is not None:
            self.meter_month_peak_w = sample.month_peak_w

    def budget(self, at: datetime, import_power_w: float) -> PeakBudget | None:
        """Return the budget at `at` (None: mode off).

        Without a reading in this window yet, the window so far counts as imported at the
        limit: the site gets at most the limit until readings come.
        """
        limit = self.limit_w
        if limit is None:
            return None
        now = at.timestamp()
        window = self._window
        if window is None or not window.start <= now < window.end:
            start = window_start(at, self.settings.window_s)
            window = _Window(start, start + self.settings.window_s, seen_from=now)
        window_s = window.end - window.start
        energy = self._energy_wh(window, limit)
        house_w = self._house_high_w(now)
        # A car kept running to a window's end carries its current into the next one for a
        # cycle: only where the house leaves it room there.
        kept_w = import_power_w if house_w is None or house_w <= AIM * limit else 0.0
        elapsed = max(now - window.start, 1.0)
        rest = max(window.end - now, 0.0)
        return PeakBudget(
            limit_w=limit,
            window_start=window.start,
            window_end=window.end,
            energy_wh=energy,
            average_w=energy * 3600.0 / elapsed,
            projected_w=(energy + max(import_power_w, 0.0) * rest / 3600.0) * 3600.0 / window_s,
            left_wh=max(limit * window_s / 3600.0 - energy, 0.0),
            site_power_w=self._give(
                window.start,
                now,
                _site_power(AIM * limit * window_s / 3600.0 - energy, rest, AIM * limit, kept_w),
            ),
            house_w=house_w,
        )

    # -- inside -----------------------------------------------------------------------------

    def _give(self, window_start: float, now: float, site_power_w: float) -> float:
        """Return the site power to give now: a rise waits `RISE_EVERY_S` after the last."""
        given = self._given
        rose_at = now  # a new window starts afresh
        if given is not None and given.window_start == window_start:
            rises = site_power_w > given.power_w
            if rises and now - given.rose_at < RISE_EVERY_S:
                return given.power_w
            rose_at = now if rises else given.rose_at  # a fall is given at once
        self._given = _Given(window_start, site_power_w, rose_at)
        return site_power_w

    def _house_high_w(self, now: float) -> float | None:
        """Return the house's highest load of the last `HOUSE_MEMORY_S` (None: not known)."""
        recent = [watts for at, watts in self._house if at >= now - HOUSE_MEMORY_S]
        return max(recent) if recent else None

    def _integrate(self, until: float, sample: PeakSample, *, gap: bool = False) -> None:
        """Add the energy between the previous sample and `until` to the window.

        `gap`: the readings were further apart than `MAX_GAP_S` (a window's end may cut it).
        """
        window = self._window
        if window is None or self._last is None or until <= self._last[0]:
            return
        last_at, last_power, last_ev = self._last
        seconds = until - last_at
        if gap or seconds > MAX_GAP_S:
            window.gap = True
            # Nothing known: count the gap at the limit (or at what was drawn, if more).
            power = max(last_power, sample.import_power_w, self.limit_w or 0.0)  # never < 0
            ev = max(last_ev, sample.ev_power_w)
        else:
            # Only import is billed: a window's export does not make room for more import.
            power = (max(last_power, 0.0) + max(sample.import_power_w, 0.0)) / 2.0
            ev = (last_ev + sample.ev_power_w) / 2.0
        window.integrated_wh += power * seconds / 3600.0
        window.ev_wh += ev * seconds / 3600.0
        self._last = (until, sample.import_power_w, sample.ev_power_w)

    def _energy_wh(self, window: _Window, limit: float) -> float:
        seen = max(window.integrated_wh, window.counter_wh or window.integrated_wh)
        if window.meter_wh is not None:
            return max(seen, window.meter_wh)
        return seen + limit * (window.seen_from - window.start) / 3600.0

    def _close(self, window: _Window) -> None:
        limit = self.limit_w
        energy = self._energy_wh(window, limit or 0.0)
        window_s = window.end - window.start
        average = energy * 3600.0 / window_s
        house = (energy - window.ev_wh) * 3600.0 / window_s
        record = PeakRecord(
            average, window.start, by_house=limit is not None and house > limit, whole=window.whole
        )
        self.last_closed, self.last_limit_w = record, limit
        # A window not seen whole may hold more than counted (a gap counts at the limit, which
        # is safe for its budget): only the meter's own month peak may raise the month's.
        if record.whole and (self.month_peak is None or average > self.month_peak.average_w):
            self.month_peak = record

    def _roll_month(self, at: datetime) -> None:
        month = month_of(at)
        if month != self.month:
            if self.month is not None:
                self.meter_month_peak_w = None
            self.month, self.month_peak = month, None


def _site_power(left_wh: float, rest_s: float, aim_w: float, import_w: float) -> float:
    """Return the average power that spends `left_wh` in the `rest_s` left of a window.

    In the last minute it is capped at the largest of the aim, the present import and the
    energy left spread over a minute: while what is left covers them the cars keep their
    current to the window's end, with nothing left they are cut, and with much left they do
    not jump.
    """
    spread = left_wh * 3600.0 / max(rest_s, 1.0)
    if rest_s >= LAST_MINUTE_S:
        return spread
    return min(spread, max(left_wh * 3600.0 / LAST_MINUTE_S, aim_w, import_w))
