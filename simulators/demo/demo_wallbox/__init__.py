"""`demo_wallbox`: a Home Assistant integration that exists only for Powershare's demo.

It brings the demo's HTTP wallbox (`simulators/wallbox.py`) into Home Assistant as any charger
integration would: a config entry (host and port), one device, and real entities with unique
ids and translation keys: a current-limit `number` (0-32 A), three phase-current `sensor`s and
a `switch` that allows charging when on. A coordinator polls `GET /state` every second; the
number and the switch write `POST /limit` and `POST /allowed`. Powershare then drives the
wallbox through these entities (its "charger through Home Assistant entities"), as it would a
charger of another integration. `scripts/demo` links it into the demo's `custom_components/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import Platform

from .coordinator import WallboxCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .coordinator import WallboxConfigEntry

PLATFORMS = (Platform.NUMBER, Platform.SENSOR, Platform.SWITCH)


async def async_setup_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Poll the wallbox once (not ready if it does not answer), then add its entities."""
    coordinator = WallboxCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Remove its entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
