"""The one Powershare hub of a Home Assistant instance: shared buses and the balancing service.

Every config entry (charger, meter, group) registers with the hub; Modbus buses are shared
through the hub's registry, so a meter and several chargers on one RS485 line use one
connection and one lock, and the config flow talks to devices over the same buses the running
entries use (a serial port cannot be opened twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .balancing import BalancingService
from .const import DOMAIN
from .devices.modbus import ModbusBusRegistry


@dataclass
class PowershareHub:
    """State shared by all Powershare entries of one Home Assistant instance."""

    hass: HomeAssistant
    balancing: BalancingService
    buses: ModbusBusRegistry = field(default_factory=ModbusBusRegistry)

    @callback
    def async_shutdown(self) -> None:
        """Stop balancing (the last entry was unloaded); buses close with their last user."""
        self.balancing.async_shutdown()


HUB_KEY: HassKey[PowershareHub] = HassKey(DOMAIN)


def async_get_hub(hass: HomeAssistant) -> PowershareHub:
    """Return the instance's hub, creating it on first use."""
    hub = hass.data.get(HUB_KEY)
    if hub is None:
        hub = hass.data[HUB_KEY] = PowershareHub(hass, BalancingService(hass))
    return hub
