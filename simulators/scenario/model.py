"""What a loaded scenario is: the `Scenario` and its `expect` checks, and `ScenarioError`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from simulators.site import Site

if TYPE_CHECKING:
    from collections.abc import Mapping

    from custom_components.powershare.engine import ChargingMode, Reason, SiteConfig
    from simulators.car import CarSpec
    from simulators.profiles import Profile

type Currents = tuple[float, float, float]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """A check: at `time`, charger `charger_id` is given `current` (and `reason`, if set)."""

    time: float
    charger_id: str
    current: int
    reason: Reason | None = None


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
            self.config, self.cars, loads=self.loads, solar=self.solar, silences=self.silences
        )
