"""Config flow for Powershare: one entry per charger, per meter and per group.

Adding Powershare offers a menu (charger, meter, group); every entry stores its kind in
`data[CONF_KIND]`. The flow class is assembled from one mixin of steps per kind:

- `charger`: the charger steps; the charger is reached over Modbus (`modbus`: `tcp`, `serial`);
- `meter`: the meter steps (Modbus, HTTP, HomeWizard pairing, zeroconf), and `ha_sensors`
  for meters made of another integration's sensors;
- `group`: the group steps and the checks that keep the groups a tree.

Chargers and meters are identified before their entry is created (`probe`). The connection
and group steps also serve the reconfigure flow, which must find the same device again; the
options flows (`options`) hold the tunables, one class per kind. `fields` has the selectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback

from custom_components.powershare.const import (
    CHARGER_HA_ENTITIES,
    CHARGER_V2C_TRYDAN,
    CONF_CHARGER_TYPE,
    CONF_CONNECTION,
    CONF_CURRENT_ENTITIES,
    CONF_KIND,
    CONF_MODEL,
    CONNECTION_HTTP,
    CONNECTION_SERIAL,
    CONNECTION_TCP,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    ENTRY_MINOR_VERSION,
)
from custom_components.powershare.devices.meters import METER_MODELS

from .charger import ChargerSteps
from .group import GroupSteps
from .options import OPTIONS_FLOWS
from .reauth import ReauthSteps

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult, OptionsFlow

    from custom_components.powershare.coordinator import PowershareConfigEntry


SETUP_ORDER: Final = (ENTRY_KIND_METER, ENTRY_KIND_GROUP, ENTRY_KIND_CHARGER)
"""The add menu's order: a group names its meter, and a charger its group."""


class PowershareConfigFlow(ChargerSteps, ReauthSteps, GroupSteps, domain=DOMAIN):
    """Add a Powershare charger, meter or group."""

    VERSION = 1
    MINOR_VERSION = ENTRY_MINOR_VERSION  # see `async_migrate_entry`

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PowershareConfigEntry) -> OptionsFlow:
        """Return the options flow (tunables) of the entry's kind."""
        return OPTIONS_FLOWS[config_entry.data[CONF_KIND]]()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Offer the kinds of entry Powershare can create, in the order of setting up."""
        return self.async_show_menu(step_id="user", menu_options=list(SETUP_ORDER))

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Change how Powershare reaches a device, or a group's settings."""
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_KIND] == ENTRY_KIND_GROUP:
            return await self.async_step_group()
        if entry.data.get(CONF_CHARGER_TYPE) == CHARGER_HA_ENTITIES:
            return await self.async_step_ha_charger()
        if entry.data.get(CONF_CHARGER_TYPE) == CHARGER_V2C_TRYDAN:
            return await self.async_step_v2c()
        # A charger has no model: that is how the Modbus steps know a charger is reconfigured.
        self._model = METER_MODELS.get(entry.data.get(CONF_MODEL, ""))
        steps = {
            CONNECTION_TCP: self.async_step_tcp,
            CONNECTION_SERIAL: self.async_step_serial,
            CONNECTION_HTTP: self.async_step_http,
        }
        connection = entry.data.get(CONF_CONNECTION)
        if connection in steps:
            return await steps[connection]()
        if CONF_CURRENT_ENTITIES in entry.data:
            return await self.async_step_ha_currents()
        return await self.async_step_ha_powers()


__all__ = ["PowershareConfigFlow"]
