"""The wallbox's switch: on allows charging, off pauses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity

from .const import ALLOWED_KEY
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
    """Add the switch."""
    async_add_entities([ChargingAllowed(entry.runtime_data, ALLOWED_KEY)])


class ChargingAllowed(WallboxEntity, SwitchEntity):
    """On: the car may charge."""

    @property
    def is_on(self) -> bool:
        """Whether charging is allowed."""
        return bool(self.coordinator.data["allowed"])

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow charging."""
        await self.coordinator.async_write("/allowed", value=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Pause charging."""
        await self.coordinator.async_write("/allowed", value=False)
