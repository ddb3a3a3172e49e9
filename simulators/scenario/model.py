"""What a loaded scenario is: the `Scenario` and its `expect` checks, and `ScenarioError`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from simulators.site import Site

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custom_components.powershare.engine import ChargingMode, Reason, SiteConfig
    from custom_components.powershare.peak import PeakSettings
    from simulators.car import CarSpec
    from simulators.profiles import Profile

type Currents = tuple[float, float, float]

DEFAULT_TIMEZONE: Final = "Europe/Brussels"
DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
"""Where a scenario's day is when its file does not say (`site.start`, `site.timezone`)."""


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """A check: at `time`, charger `charger_id` is given `current` (and `reason`, if set)."""

    time: float
    charger_id: str
    current: int
    reason: Reason | None = None
    phases: int | None = None
    """The number of site phases it charges on, if set."""


@dataclass(frozen=True, slots=True)
class WindowExpectation:
    """A check on the peak window ending at `end`: its average import, whether the house set it.

    The average is what flowed at the grid connection (the simulated truth, as the grid
    operator's meter bills it); `by_house` is whether the house alone used more than the limit.
    """

    end: float
    at_most_w: float | None = None
    at_least_w: float | None = None
    by_house: bool | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario file."""

    name: str
    description: str
    duration: float
    step: float
    config: SiteConfig
    cars: tuple[CarSpec, ...]
    loads: Mapping[str, Profile]
    solar: Mapping[str, Profile]
    silences: Mapping[str, tuple[tuple[float, float], ...]]
    expectations: tuple[Expectation, ...] = ()
    mode_changes: tuple[tuple[float, str, ChargingMode], ...] = ()
    """(time, charger id, new mode): the user switching a charger's mode."""
    start: datetime = DEFAULT_START
    """The local moment the run begins (its date and time zone give the clock)."""
    peak: PeakSettings | None = None
    """A capacity tariff's peak budget (`site.peak`); None: none."""
    window_expectations: tuple[WindowExpectation, ...] = ()

    @property
    def midnight(self) -> datetime:
        """Return the local midnight the scenario's times count from."""
        return self.start.replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def begin(self) -> float:
        """Return when the run begins, in the scenario's seconds (after local midnight)."""
        return self.start.timestamp() - self.midnight.timestamp()

    @property
    def end(self) -> float:
        """Return when the run ends, in the scenario's seconds."""
        return self.begin + self.duration

    def moment(self, time: float) -> datetime:
        """Return the local moment of a scenario time (seconds after midnight, real seconds)."""
        midnight = self.midnight
        return datetime.fromtimestamp(midnight.timestamp() + time, tz=midnight.tzinfo)

    def config_at(self, time: float) -> SiteConfig:
        """Return the configuration with the charging modes chosen by `time`."""
        modes = {
            charger_id: mode
            for when, charger_id, mode in sorted(self.mode_changes, key=lambda item: item[0])
            if when <= time
        }
        if not modes:
            return self.config
        chargers = tuple(
            replace(charger, mode=modes[charger.id]) if charger.id in modes else charger
            for charger in self.config.chargers
        )
        return replace(self.config, chargers=chargers)

    def build_site(self) -> Site:
        """Return a fresh virtual site for this scenario."""
        return Site(
            self.config,
            self.cars,
            loads=self.loads,
            solar=self.solar,
            silences=self.silences,
            start=self.begin,
        )
