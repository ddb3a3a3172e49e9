"""Time: a charger's daily departure, for its charging plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .coordinator import charger_data
from .plan_entities import DAILY_DEPARTURE, DailyDepartureTime

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's daily departure."""
    async_add_entities([DailyDepartureTime(charger_data(entry).coordinator, DAILY_DEPARTURE)])
