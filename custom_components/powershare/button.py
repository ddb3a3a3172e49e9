"""Button: reboot a charger (register 21)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory

from .const import CHARGER_TELTOCHARGE
from .coordinator import charger_data
from .entity import ChargerEntity
from .settings import charger_type

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

PARALLEL_UPDATES = 1

REBOOT = ButtonEntityDescription(
    key="reboot",
    device_class=ButtonDeviceClass.RESTART,
    entity_category=EntityCategory.CONFIG,
    entity_registry_enabled_default=False,  # as peblar: a reboot is not an everyday control
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's reboot button (only charger entries forward this platform)."""
    if charger_type(entry) == CHARGER_TELTOCHARGE:
        async_add_entities([RebootButton(charger_data(entry).coordinator, REBOOT)])


class RebootButton(ChargerEntity, ButtonEntity):
    """Ask the charger to reboot."""

    async def async_press(self) -> None:
        """Write the reboot request."""
        driver = self.teltocharge.driver
        await self.coordinator.async_run_command(driver.reboot)
