"""Config flow for Powershare: one entry per charger, per meter and per group."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN, ENTRY_KINDS


class PowershareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Powershare charger, meter or group."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Offer the kinds of entry Powershare can create."""
        return self.async_show_menu(step_id="user", menu_options=list(ENTRY_KINDS))

    async def async_step_charger(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Add a TeltoCharge charger (its steps arrive with the device layer)."""
        return self.async_abort(reason="not_available_yet")

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Add a meter (its steps arrive with the device layer)."""
        return self.async_abort(reason="not_available_yet")

    async def async_step_group(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Add a group of chargers behind a fuse (its steps arrive with the engine)."""
        return self.async_abort(reason="not_available_yet")
