"""The wallbox's config flow: its host and port (and a name); it must answer `GET /state`."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_NAME, DEFAULT_NAME, DOMAIN
from .coordinator import WallboxError, async_fetch_state


class WallboxConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a wallbox by its address; it is known by its serial number."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the wallbox's address and check that it answers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url = f"http://{user_input[CONF_HOST]}:{user_input[CONF_PORT]}"
            try:
                state = await async_fetch_state(async_get_clientsession(self.hass), url)
            except WallboxError:
                errors["base"] = "cannot_connect"
            else:
                await self.async_set_unique_id(str(state["serial"]))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=user_input[CONF_NAME],
                    data={CONF_HOST: user_input[CONF_HOST], CONF_PORT: user_input[CONF_PORT]},
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default="127.0.0.1"): str,
                vol.Required(CONF_PORT): vol.All(vol.Coerce(int), vol.Range(1, 65535)),
                vol.Required(CONF_NAME, default=DEFAULT_NAME): str,
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)
