"""Reauthentication: a meter that refuses Powershare's password or token asks the user again.

The meter coordinator raises `ConfigEntryAuthFailed` when an HTTP meter answers 401 (a Shelly
whose password was changed, a HomeWizard whose token was revoked); Home Assistant then offers
this flow. A Shelly asks for its new password; a HomeWizard (API v2) for a press of its button,
after which Powershare asks it for a new token. Either is checked against the meter, which
must be the same one (its serial or MAC), before the entry is updated and reloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN

from custom_components.powershare.const import CONF_METER_ID, CONF_MODEL
from custom_components.powershare.devices.meters import METER_MODELS

from .fields import password_text
from .meter import MeterSteps
from .probe import ProbeError, async_identify_meter, async_request_homewizard_token

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult

REAUTH_STEP: Final = "reauth_confirm"


class ReauthSteps(MeterSteps):
    """Ask for a meter's new password, or pair it again for a new token."""

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start from the entry whose meter refused its credentials."""
        self._model = METER_MODELS[entry_data[CONF_MODEL]]
        self._connection = dict(entry_data)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the new password (Shelly), or pair again once the button is pressed (HomeWizard)."""
        model = self._meter_model()
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                update = await self._new_credentials(user_input)
                info = await async_identify_meter(self.hass, {**entry.data, **update}, model)
            except ProbeError as err:
                errors = err.form_errors({"invalid_auth": CONF_PASSWORD})
            else:
                if (info.unique_id or entry.data[CONF_METER_ID]) != entry.data[CONF_METER_ID]:
                    return self.async_abort(reason="unique_id_mismatch")
                return self.async_update_reload_and_abort(entry, data_updates=update)
        fields = {} if model.needs_pairing else {vol.Required(CONF_PASSWORD): password_text()}
        return self.async_show_form(
            step_id=REAUTH_STEP,
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={"name": entry.title, "host": entry.data[CONF_HOST]},
        )

    async def _new_credentials(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """Return the entry data that changes: a new token (pairing) or the new password."""
        if self._meter_model().needs_pairing:
            host, port = self._connection[CONF_HOST], self._connection[CONF_PORT]
            return {CONF_TOKEN: await async_request_homewizard_token(self.hass, host, port)}
        return {CONF_PASSWORD: user_input[CONF_PASSWORD]}
