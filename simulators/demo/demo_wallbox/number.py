"""The wallbox's current limit: 0-32 A in steps of 1 A."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import UnitOfElectricCurrent

from .const import LIMIT_KEY
from .entity import WallboxEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WallboxConfigEntry


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the limit."""
    async_add_entities([ChargeLimit(entry.runtime_data, LIMIT_KEY)])


class ChargeLimit(WallboxEntity, NumberEntity):
    """The most current the car may draw per phase (A)."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_min_value = 0
    _attr_native_max_value = 32
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX

    @property
    def native_value(self) -> float:
        """The limit the wallbox holds."""
        return float(self.coordinator.data["limit"])

    async def async_set_native_value(self, value: float) -> None:
        """Write the limit to the wallbox."""
        await self.coordinator.async_write("/limit", round(value))
