"""The wallbox's phase currents (A): what its car draws on L1, L2 and L3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfElectricCurrent

from .const import CURRENT_KEYS
from .entity import WallboxEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WallboxConfigEntry, WallboxCoordinator


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one current sensor per phase."""
    async_add_entities(
        PhaseCurrent(entry.runtime_data, key, phase) for phase, key in enumerate(CURRENT_KEYS)
    )


class PhaseCurrent(WallboxEntity, SensorEntity):
    """What the car draws on one phase."""

    _attr_device_class = SensorDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 1

    def __init__(self, coordinator: WallboxCoordinator, key: str, phase: int) -> None:
        super().__init__(coordinator, key)
        self.phase = phase

    @property
    def native_value(self) -> float:
        """The current on this phase now."""
        return float(self.coordinator.data["currents"][self.phase])
