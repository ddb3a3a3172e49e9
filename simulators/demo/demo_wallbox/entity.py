"""The wallbox's entities: one device, names from translation keys, state from the poll."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import WallboxCoordinator


class WallboxEntity(CoordinatorEntity[WallboxCoordinator]):
    """An entity of the wallbox; unique id = serial + key, name from the translation key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: WallboxCoordinator, key: str) -> None:
        super().__init__(coordinator)
        serial = coordinator.serial
        self._attr_unique_id = f"{serial}_{key}"
        self._attr_translation_key = key
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, serial)},
            name=coordinator.config_entry.title,
            manufacturer="Powershare demo",
            model="HTTP wallbox",
            serial_number=serial,
        )
