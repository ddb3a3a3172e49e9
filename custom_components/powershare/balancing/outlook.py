"""What the slots of a charging plan look like: the prices ahead, the sun, the peak budget.

`Outlook` is the site's present as the balancing service sees it each cycle (the root's
non-EV load, the capacity tariff's limit, the price source, the solar forecast sensor);
`Outlook.slots` foresees the plan's slots from it (`SlotsAhead`). The house's load a plan
expects is its recent average (`HouseAverage`), and each group's room for the cars follows
from it (`room_for`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from custom_components.powershare.solar_forecast import solar_from_attributes, solar_kw_at

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.engine import (
        Decision,
        GroupConfig,
        GroupFigures,
        SiteConfig,
    )

    from .prices import PriceSource

SLOT_LENGTH: Final = timedelta(minutes=15)
"""A plan's slot: the day-ahead markets' and the capacity tariffs' quarter-hour."""
SLOT_S: Final = SLOT_LENGTH.total_seconds()
REPLAN_KW: Final = 0.5
"""A solar surplus or peak room that moved this much in some slot is planned again."""
HOUSE_AVERAGE_S: Final = SLOT_S
"""A rise of the house's load reaches a plan as an exponential average with this time
constant: a plan of hours should follow an oven that stays, not a kettle's three minutes
(the engine still guards every fuse with the load of each second)."""

Amps = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class SlotsAhead:
    """What the slots of a plan look like: prices, the solar surplus, the peak budget."""

    start: datetime
    prices: tuple[float | None, ...]
    solar_kw: tuple[float, ...] | None
    """The surplus the forecast expects per slot (None: no forecast)."""
    peak_kw: float | None
    """The capacity tariff's room for the cars per slot (None: no tariff)."""

    def moved_from(self, other: SlotsAhead | None) -> bool:
        """Whether a plan made for `other` no longer fits these slots.

        Another start or prices, a forecast or budget that came or went, or one that moved by
        `REPLAN_KW` in some slot: the house's noise within that does not plan again.
        """
        if other is None or (self.start, self.prices) != (other.start, other.prices):
            return True
        return _moved(self.solar_kw, other.solar_kw) or _moved(
            None if self.peak_kw is None else (self.peak_kw,),
            None if other.peak_kw is None else (other.peak_kw,),
        )


def _moved(now: tuple[float, ...] | None, then: tuple[float, ...] | None) -> bool:
    if now is None or then is None:
        return (now is None) != (then is None)
    return len(now) != len(then) or any(
        abs(a - b) >= REPLAN_KW for a, b in zip(now, then, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Outlook:
    """The site's present, from which the slots ahead are foreseen.

    `house_kw` is the root's non-EV power (net of the solar now; the plan keeper sets it to its
    average, `HouseAverage`); `peak_limit_kw` the
    capacity tariff's limit in force (None: off); `solar_entity` a solar forecast sensor.
    """

    prices: PriceSource
    house_kw: float | None = None
    peak_limit_kw: float | None = None
    solar_entity: str | None = None

    def slots(self, hass: HomeAssistant, now: datetime, start: datetime, count: int) -> SlotsAhead:
        """Return the slots ahead: prices, the forecast's surplus, the peak budget's room."""
        if not count:
            return SlotsAhead(start, (), None, None)
        prices = self.prices.forecast(now, start, SLOT_LENGTH, count)
        house = self.house_kw or 0.0
        peak = None if self.peak_limit_kw is None else max(0.0, self.peak_limit_kw - house)
        return SlotsAhead(start, prices, self._solar(hass, now, start, count), peak)

    def _solar(
        self, hass: HomeAssistant, now: datetime, start: datetime, count: int
    ) -> tuple[float, ...] | None:
        """Return the surplus per slot: the forecast less the house's own use.

        The house uses its load now plus the sun it gets now (as the forecast has it).
        """
        state = None if self.solar_entity is None else hass.states.get(self.solar_entity)
        periods = () if state is None else solar_from_attributes(state.attributes)
        if not periods:
            return None
        sun_now = solar_kw_at(periods, now.timestamp()) or 0.0
        house_use = max(0.0, (self.house_kw or 0.0) + sun_now)
        middle = SLOT_S / 2
        return tuple(
            max(
                0.0,
                (solar_kw_at(periods, start.timestamp() + SLOT_S * slot + middle) or 0.0)
                - house_use,
            )
            for slot in range(count)
        )


def house_amps(group: GroupConfig, figures: GroupFigures) -> tuple[float, float, float]:
    """Return the group's non-EV load now, per site phase, as a plan should see it.

    The engine's non-EV load counts, for safety, what a car ramping up may draw that an
    older reading does not show yet; a plan held to that moment's caution for hours would
    be wrong for hours. So the lower of it and the fresh meter less what the chargers below
    draw now (the meter alone where it measures the house only): the plan is advice, the
    engine still guards the fuse with its own figure every second.
    """
    engine = figures.non_ev_load
    if figures.meter is None or figures.meter_stale:
        return engine
    meter, usage = figures.meter, figures.usage
    if group.meter_includes_chargers:
        meter = (meter[0] - usage[0], meter[1] - usage[1], meter[2] - usage[2])
    return (min(engine[0], meter[0]), min(engine[1], meter[1]), min(engine[2], meter[2]))


def house_now(decision: Decision, site: SiteConfig) -> dict[str, Amps]:
    """Per group, the house's load now as a plan sees it (A per phase; inf: not known)."""
    house: dict[str, Amps] = {}
    for group in site.groups:
        figures = decision.groups.get(group.id)
        house[group.id] = (math.inf,) * 3 if figures is None else house_amps(group, figures)
    return house


def room_for(site: SiteConfig, house: Mapping[str, Amps]) -> dict[str, tuple[float, ...]]:
    """Per group, what its fuse leaves the cars beside the house's load (A per phase)."""
    return {
        group.id: tuple(
            max(0.0, fuse - site.margin_a - load)
            for fuse, load in zip(group.fuse, house[group.id], strict=True)
        )
        for group in site.groups
    }


def _toward(average: float, load: float, weight: float) -> float:
    """Return the new average: a load below it counts at once, one above by its share."""
    return load if load < average else average + weight * (load - average)


class HouseAverage:
    """The house's load per group and phase, as a plan expects it for the hours ahead.

    A load that rises is averaged over `HOUSE_AVERAGE_S`; one that falls counts at once: an
    appliance's minutes, or a start-up's reading with the cars not yet counted apart, then
    leave no trace that holds a plan back for a quarter-hour. Kept while there are cars to
    plan: the first plan for a car that comes takes the load of that moment.
    """

    def __init__(self) -> None:
        """Start with nothing seen: the first load counts as it is."""
        self._amps: dict[str, Amps] = {}
        self._at: float | None = None

    def update(self, now: float, house: Mapping[str, Amps]) -> dict[str, Amps]:
        """Take the load at `now`; return the averages (a group not known: its load as is)."""
        elapsed = 0.0 if self._at is None else max(now - self._at, 0.0)
        weight = 1.0 - math.exp(-elapsed / HOUSE_AVERAGE_S)
        self._at = now
        averaged: dict[str, Amps] = {}
        for group_id, amps in house.items():
            before = self._amps.get(group_id)
            if before is None or not all(map(math.isfinite, (*amps, *before))):
                averaged[group_id] = amps
            else:
                averaged[group_id] = (
                    _toward(before[0], amps[0], weight),
                    _toward(before[1], amps[1], weight),
                    _toward(before[2], amps[2], weight),
                )
        self._amps = averaged
        return averaged

    def clear(self) -> None:
        """Forget what was seen: the next load counts as it is."""
        self._amps, self._at = {}, None
