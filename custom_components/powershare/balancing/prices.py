"""The site's price of a kWh, from the tariff set on the root group (`tariffs.Tariff`).

A tariff by time range answers from its ranges; a price sensor of another integration from its
state, converted to a price per kWh. A market price sensor is briefly unavailable now and then
(at a restart, at midnight's new day-ahead prices): its last price stands in for up to
`PRICE_HOLD_S`; after that, or before any price, the price is unknown and energy is counted
without a cost.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.util import dt as dt_util

from custom_components.powershare.const import LOGGER
from custom_components.powershare.settings import OPT_TARIFF, setting
from custom_components.powershare.tariffs import (
    PricePoint,
    Tariff,
    TariffKind,
    forecast_from_attributes,
    price_per_kwh,
)

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

PRICE_HOLD_S: Final = 3600.0
"""How long a price sensor's last price stands in while the sensor has none."""


def tariff_of(root: ConfigEntry[Any] | None) -> Tariff:
    """Return the tariff set on the root group (none when unset, or when broken)."""
    stored = None if root is None else setting(root, OPT_TARIFF)
    if not isinstance(stored, dict):
        return Tariff()
    try:
        return Tariff.from_dict(stored)
    except ValueError as err:
        LOGGER.warning("The tariff of %s is not used: %s", getattr(root, "title", ""), err)
        return Tariff()


def sensor_price(hass: HomeAssistant, entity_id: str) -> float | None:
    """Return a price sensor's price per kWh now (None when it has none)."""
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        price = price_per_kwh(float(state.state), state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
    except ValueError:
        return None
    return price if math.isfinite(price) else None  # "nan" parses, and is no price


class PriceSource:
    """The price of a kWh at each cycle, for the sessions' costs and the price sensor."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start without a tariff until the root group is known."""
        self.hass = hass
        self.tariff = Tariff()
        self._held: tuple[float, float] | None = None
        """A price sensor's last price, and when it was read."""

    def configure(self, tariff: Tariff) -> None:
        """Use a new tariff (a sensor's held price goes with the old one)."""
        if tariff != self.tariff:
            self._held = None
        self.tariff = tariff

    def price(self, moment: datetime) -> float | None:
        """Return the price per kWh at `moment`, or None when it is not known."""
        tariff = self.tariff
        if tariff.kind is not TariffKind.PRICE_SENSOR or tariff.price_entity is None:
            return tariff.price_at(moment)
        now = moment.timestamp()
        price = sensor_price(self.hass, tariff.price_entity)
        if price is not None:
            self._held = (price, now)
            return price
        if self._held is not None and now - self._held[1] <= PRICE_HOLD_S:
            return self._held[0]
        return None

    def forecast(
        self, now: datetime, start: datetime, slot: timedelta, count: int
    ) -> tuple[float | None, ...]:
        """Return the price per kWh of `count` slots from `start` (None where unknown).

        A tariff by time range knows every slot (its price at the slot's start); a price
        sensor the slots its forecast attributes cover, and the present slot (`now` is in
        it) its state.
        """
        first, step = start.timestamp(), slot.total_seconds()  # instants, across DST too
        starts = [
            dt_util.as_local(dt_util.utc_from_timestamp(first + step * index))
            for index in range(count)
        ]
        tariff = self.tariff
        if tariff.kind is not TariffKind.PRICE_SENSOR or tariff.price_entity is None:
            return tuple(tariff.price_at(moment) for moment in starts)
        state = self.hass.states.get(tariff.price_entity)
        points: tuple[PricePoint, ...] = ()
        if state is not None:
            midnight = dt_util.start_of_local_day(dt_util.as_local(start))
            unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
            points = forecast_from_attributes(state.attributes, unit, midnight)
        prices: list[float | None] = []
        for moment in starts:
            stamp = moment.timestamp()
            price = next((p.price for p in points if p.start <= stamp < p.end), None)
            prices.append(price)
        if prices and prices[0] is None:
            prices[0] = self.price(now)
        return tuple(prices)
