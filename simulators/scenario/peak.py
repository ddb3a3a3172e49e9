"""A capacity tariff in a scenario: `site.peak`, the clock it is billed by, its windows.

Reading the file: `parse_peak` (`site.peak`: `{mode: fixed, limit: 4 kW, window: 15m}` or
`{mode: month_peak, floor: 2.5 kW}`), `parse_start` (`site.start` and `site.timezone`: the
local moment the run begins, so that the windows fall on the clock's quarter-hours) and
`parse_window_expectation` (`{window_ending: "17:15", average_at_most: 4 kW}`).

Running it: `PeakMeter` feeds the integration's own `PeakTracker` what the grid meter (the root
group's) reads each cycle and gives the engine the budget (`Snapshot.peak_power_w`).

Checking it: `peak_windows` averages what really flowed at the grid connection over each
clock-aligned window (as the grid operator's meter bills it), independently of the tracker's
estimate; `check_windows` compares them with the file's window checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from custom_components.powershare.peak import (
    PeakBudget,
    PeakMode,
    PeakRecord,
    PeakSample,
    PeakSettings,
    PeakTracker,
    window_start,
)

from .fields import _choice, _Fields, parse_power
from .model import DEFAULT_START, DEFAULT_TIMEZONE, ScenarioError, WindowExpectation
from .times import format_clock

if TYPE_CHECKING:
    from collections.abc import Sequence

    from custom_components.powershare.engine import Snapshot

    from .model import Scenario
    from .runner import StepRecord

_PEAK = ("mode", "limit", "floor", "window")
_WINDOW_CHECK = ("window_ending", "average_at_most", "average_at_least", "by_house")


# --- reading the file ------------------------------------------------------------------------


def parse_peak(value: object, where: str) -> PeakSettings | None:
    """Read `site.peak`; None for mode off."""
    fields = _Fields(value, where, _PEAK)
    mode = _choice(PeakMode, fields.required("mode"), fields.at("mode"))
    if fields.has("limit") and mode is not PeakMode.FIXED:
        raise ScenarioError(f"{fields.at('limit')}: only with mode fixed")
    if fields.has("floor") and mode is not PeakMode.MONTH_PEAK:
        raise ScenarioError(f"{fields.at('floor')}: only with mode month_peak")
    if mode is PeakMode.OFF:
        return None
    window_s = fields.time("window", 900.0)
    window_min = round(window_s / 60.0)
    if window_min * 60.0 != window_s:
        raise ScenarioError(f"{fields.at('window')}: expected whole minutes, got {window_s:g} s")
    values: dict[str, float] = {}
    if fields.has("limit"):
        values["limit_w"] = parse_power(fields.data["limit"], fields.at("limit"))
    if fields.has("floor"):
        values["floor_w"] = parse_power(fields.data["floor"], fields.at("floor"))
    try:
        return PeakSettings(mode=mode, window_min=window_min, **values)
    except ValueError as error:
        # PeakSettings says what is wrong ("the window must be ..."): name the field with it.
        message = str(error)
        key = next((key for key in ("window", "floor", "limit") if key in message), None)
        raise ScenarioError(f"{fields.at(key) if key else where}: {message}") from None


def parse_start(site: _Fields) -> datetime:
    """Read `site.start` ("2026-03-02T17:00", local) and `site.timezone` (Europe/Brussels)."""
    name = site.text("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"{site.at('timezone')}: unknown time zone {name!r}") from None
    if not site.has("start"):
        return DEFAULT_START.replace(tzinfo=zone)
    value = site.data["start"]
    moment: datetime | None = None
    if isinstance(value, datetime):  # YAML reads a timestamp with seconds itself
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=zone)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise ScenarioError(
            f"{site.at('start')}: expected a local date and time such as 2026-03-02T17:00, "
            f"got {value!r}"
        )
    if moment.tzinfo is not None:
        return moment.astimezone(zone)
    return moment.replace(tzinfo=zone)


def window_of(scenario: Scenario, time: float) -> tuple[float, float]:
    """Return the clock-aligned window holding `time`, as scenario times (start, end)."""
    if scenario.peak is None:
        raise ValueError("the scenario has no peak budget")
    window_s = scenario.peak.window_s
    start = window_start(scenario.moment(time), window_s) - scenario.midnight.timestamp()
    return (start, start + window_s)


def parse_window_expectation(item: object, where: str, scenario: Scenario) -> WindowExpectation:
    """Read a window check; its window must be a whole one of the run."""
    fields = _Fields(item, where, _WINDOW_CHECK)
    if scenario.peak is None:
        raise ScenarioError(f"{where}: a window check needs a peak budget (site.peak)")
    end = fields.time("window_ending")
    start, _ = window_of(scenario, end)
    if abs(start - end) > 1e-6:
        raise ScenarioError(
            f"{fields.at('window_ending')}: {format_clock(end)} is not the end of a "
            f"{scenario.peak.window_min}-minute window"
        )
    if end - scenario.peak.window_s < scenario.begin - 1e-6 or end > scenario.end + 1e-6:
        raise ScenarioError(
            f"{fields.at('window_ending')}: the window ending {format_clock(end)} is not "
            f"wholly within the run ({format_clock(scenario.begin)}-{format_clock(scenario.end)})"
        )
    checks = [key for key in _WINDOW_CHECK[1:] if fields.has(key)]
    if not checks:
        raise ScenarioError(f"{where}: give average_at_most, average_at_least or by_house")
    return WindowExpectation(
        end=end,
        at_most_w=parse_power(fields.data["average_at_most"], fields.at("average_at_most"))
        if fields.has("average_at_most")
        else None,
        at_least_w=parse_power(fields.data["average_at_least"], fields.at("average_at_least"))
        if fields.has("average_at_least")
        else None,
        by_house=fields.flag("by_house", default=False) if fields.has("by_house") else None,
    )


def check_expectation_time(time: float, where: str, scenario: Scenario) -> None:
    """Refuse a check before the run begins (a clock time is read from midnight)."""
    if time < scenario.begin - 1e-9:
        raise ScenarioError(
            f"{where}: {format_clock(time)} is before the run begins "
            f"({format_clock(scenario.begin)}; a duration such as 30m counts from midnight)"
        )


# --- running it ------------------------------------------------------------------------------


class PeakMeter:
    """The integration's `PeakTracker` in the loop, fed by the root group's (grid) meter."""

    def __init__(self, scenario: Scenario, settings: PeakSettings) -> None:
        self.scenario = scenario
        self.tracker = PeakTracker(settings)
        root = scenario.config.root
        if root.meter_id is None:
            raise ValueError("a peak budget needs a meter at the root group")
        self._meter_id = root.meter_id
        self._meter_has_chargers = root.meter_includes_chargers

    def step(self, snapshot: Snapshot) -> tuple[Snapshot, PeakBudget | None, PeakRecord | None]:
        """Feed the tracker this cycle's grid reading; return the snapshot with the budget.

        Also returns the budget and the record of a window this reading closed (if any). A
        silent meter gives no new reading, as in the integration.
        """
        voltage = self.scenario.config.voltage
        ev_w = voltage * sum(
            sum(state.currents) for state in snapshot.chargers.values() if state.connected
        )
        reading = snapshot.meters.get(self._meter_id)
        closed_before = self.tracker.last_closed
        import_w = 0.0
        if reading is not None:
            import_w = voltage * sum(reading.currents)
            if not self._meter_has_chargers:
                import_w += ev_w
            self.tracker.observe(
                PeakSample(
                    at=self.scenario.moment(reading.timestamp),
                    import_power_w=import_w,
                    ev_power_w=ev_w,
                )
            )
        closed = self.tracker.last_closed
        budget = self.tracker.budget(self.scenario.moment(snapshot.now), import_w)
        if budget is not None:
            snapshot = replace(
                snapshot, peak_power_w=budget.site_power_w, peak_house_w=budget.house_w
            )
        return snapshot, budget, closed if closed is not closed_before else None


# --- checking it -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeakWindow:
    """What flowed at the grid connection over one clock-aligned window (scenario times)."""

    start: float
    end: float
    average_w: float
    """Net import over the window (over the part the run covered when not `whole`)."""
    house_w: float
    """The same without the chargers."""
    limit_w: float | None
    """The limit the tracker had in force (None: no cycle of the window had a budget)."""
    whole: bool
    """The run covered the whole window."""

    @property
    def by_house(self) -> bool:
        """Return whether the house alone imported more than the limit."""
        return self.limit_w is not None and self.house_w > self.limit_w

    @property
    def over(self) -> bool:
        """Return whether the window's average passed the limit."""
        return self.limit_w is not None and self.average_w > self.limit_w


def peak_windows(scenario: Scenario, records: Sequence[StepRecord]) -> list[PeakWindow]:
    """Return every window the run touched, from what flowed in each step (`StepReport`)."""
    if scenario.peak is None:
        return []
    sums: dict[float, list[float]] = {}  # start: [energy W.s, house W.s, seconds]
    limits: dict[float, float] = {}
    for record in records:
        report = record.report
        at, until = record.time, record.time + report.dt
        while until - at > 1e-9:
            start, end = window_of(scenario, at)
            piece = min(until, end) - at
            row = sums.setdefault(start, [0.0, 0.0, 0.0])
            row[0] += report.grid_w * piece
            row[1] += (report.grid_w - report.ev_w) * piece
            row[2] += piece
            if record.peak is not None and start not in limits:
                limits[start] = record.peak.limit_w
            at = min(until, end)
    window_s = scenario.peak.window_s
    return [
        PeakWindow(
            start=start,
            end=start + window_s,
            average_w=energy / seconds,
            house_w=house / seconds,
            limit_w=limits.get(start),
            whole=math.isclose(seconds, window_s, abs_tol=1e-6),
        )
        for start, (energy, house, seconds) in sorted(sums.items())
    ]


@dataclass(frozen=True, slots=True)
class WindowCheckResult:
    """The outcome of one `WindowExpectation`."""

    expectation: WindowExpectation
    window: PeakWindow | None

    @property
    def passed(self) -> bool:
        """Return whether the window was as expected."""
        wanted, window = self.expectation, self.window
        if window is None or not window.whole:
            return False
        return (
            (wanted.at_most_w is None or window.average_w <= wanted.at_most_w)
            and (wanted.at_least_w is None or window.average_w >= wanted.at_least_w)
            and (wanted.by_house is None or window.by_house == wanted.by_house)
        )

    def describe(self) -> str:
        """Return the check and what the window gave, for the summary."""
        wanted, window = self.expectation, self.window
        parts = []
        if wanted.at_most_w is not None:
            parts.append(f"average <= {wanted.at_most_w / 1000:.2f} kW")
        if wanted.at_least_w is not None:
            parts.append(f"average >= {wanted.at_least_w / 1000:.2f} kW")
        if wanted.by_house is not None:
            parts.append("set by the house" if wanted.by_house else "not set by the house")
        got = "no such window"
        if window is not None:
            house = " (set by the house)" if window.by_house else ""
            got = f"{window.average_w / 1000:.3f} kW{house}"
        return f"window ending {format_clock(wanted.end)}: {', '.join(parts)}, got {got}"


def check_windows(scenario: Scenario, records: Sequence[StepRecord]) -> list[WindowCheckResult]:
    """Compare each window check with what flowed in that window."""
    windows = {window.end: window for window in peak_windows(scenario, records)}
    return [
        WindowCheckResult(
            expectation,
            next((w for end, w in windows.items() if abs(end - expectation.end) < 1e-6), None),
        )
        for expectation in scenario.window_expectations
    ]


def describe_window(window: PeakWindow) -> str:
    """Return one line of the summary for a window."""
    limit = "-" if window.limit_w is None else f"{window.limit_w / 1000:.2f} kW"
    notes = [
        note
        for note, applies in (
            ("part of it before or after the run", not window.whole),
            ("OVER the limit", window.over and not window.by_house),
            ("set by the house", window.by_house),
        )
        if applies
    ]
    return (
        f"{format_clock(window.start)}-{format_clock(window.end)}: average "
        f"{window.average_w / 1000:.3f} kW (house {window.house_w / 1000:.3f} kW), limit {limit}"
        + (f"  [{'; '.join(notes)}]" if notes else "")
    )
