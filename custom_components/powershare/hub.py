"""The one Powershare hub of a Home Assistant instance: the balancing service and shared buses.

Every config entry (charger, meter, group) registers with the hub's balancing service. The
Modbus buses the hub shows are the instance's bus registry (`connection.async_get_buses`): a
meter and several chargers on one RS485 line use one connection and one lock, and the config
flow talks to devices over the same buses the running entries use. The registry is kept by
`connection`, below the balancing service, so that opening a device never depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .balancing import BalancingService
from .connection import async_get_buses
from .const import DOMAIN

if TYPE_CHECKING:
    from .devices.modbus import ModbusBusRegistry


@dataclass
class PowershareHub:
    """State shared by all Powershare entries of one Home Assistant instance."""

    hass: HomeAssistant
    balancing: BalancingService

    @property
    def buses(self) -> ModbusBusRegistry:
        """The instance's shared Modbus buses."""
        return async_get_buses(self.hass)

    @callback
    def async_shutdown(self) -> None:
        """Stop balancing (the last entry was unloaded); buses close with their last user."""
        self.balancing.async_shutdown()


HUB_KEY: HassKey[PowershareHub] = HassKey(DOMAIN)


@callback
def async_get_hub(hass: HomeAssistant) -> PowershareHub:
    """Return the instance's hub, creating it on first use."""
    hub = hass.data.get(HUB_KEY)
    if hub is None:
        hub = hass.data[HUB_KEY] = PowershareHub(hass, BalancingService(hass))
    return hub
