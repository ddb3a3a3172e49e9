"""The charger steps: `charger` (how it is connected) and `charger_settings` (its wiring).

A TeltoCharge is found over Modbus (the `tcp` and `serial` steps), known by its serial number,
and belongs to a group, so a group must exist before a charger can be added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.const import CONF_HOST, CONF_PORT

from custom_components.powershare.connection import HTTP_PORT
from custom_components.powershare.const import (
    CHARGER_TELTOCHARGE,
    CHARGER_V2C_TRYDAN,
    CONF_CHARGER_TYPE,
    CONF_CONNECTION,
    CONF_GROUP,
    CONF_KIND,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_ROTATION,
    CONF_SERIAL_NUMBER,
    CONF_WIRING,
    CONNECTION_HTTP,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    MAX_CURRENT_LIMIT,
    MIN_CURRENT_LIMIT,
)
from custom_components.powershare.engine.model import PhaseRotation, Wiring
from custom_components.powershare.settings import in_force

from .entity_charger import EntityChargerSteps
from .fields import (
    dropdown,
    entries_of_kind,
    entry_choices,
    host_text,
    number_box,
    whole_number_errors,
)
from .modbus import ModbusSteps
from .probe import ProbeError, async_identify_charger, async_identify_v2c

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult
    from homeassistant.helpers.selector import SelectOptionDict


def _settings_schema(values: Mapping[str, Any], groups: list[SelectOptionDict]) -> vol.Schema:
    current = number_box(MIN_CURRENT_LIMIT, MAX_CURRENT_LIMIT, unit="A")
    return vol.Schema(
        {
            vol.Required(CONF_ROTATION, default=values[CONF_ROTATION]): dropdown(
                [rotation.value for rotation in PhaseRotation]
            ),
            vol.Required(CONF_WIRING, default=values[CONF_WIRING]): dropdown(
                [str(wiring.value) for wiring in Wiring], translation_key="wiring"
            ),
            vol.Required(CONF_MIN_CURRENT, default=values[CONF_MIN_CURRENT]): current,
            vol.Required(CONF_MAX_CURRENT, default=values[CONF_MAX_CURRENT]): current,
            vol.Required(CONF_GROUP, default=values[CONF_GROUP]): dropdown(groups),
        }
    )


class ChargerSteps(ModbusSteps, EntityChargerSteps):
    """Add a charger of any kind, or change how it is reached and wired."""

    async def async_step_charger(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Add a charger: pick how it is reached (a group must exist first)."""
        if not entries_of_kind(self.hass, ENTRY_KIND_GROUP):
            return self.async_abort(reason="no_group")
        return self.async_show_menu(
            step_id="charger", menu_options=["tcp", "serial", "v2c", "ha_charger"]
        )

    async def async_step_v2c(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a V2C Trydan: its address on the network; it is identified before going on."""
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {CONF_PORT: HTTP_PORT}
        if self._reconfiguring:
            values = {**values, **self._get_reconfigure_entry().data}
        if user_input is not None:
            values = user_input
            errors = whole_number_errors(user_input, [CONF_PORT])
        if user_input is not None and not errors:
            connection = {
                CONF_CHARGER_TYPE: CHARGER_V2C_TRYDAN,
                CONF_CONNECTION: CONNECTION_HTTP,
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
            }
            try:
                unique_id = await async_identify_v2c(self.hass, connection)
            except ProbeError as err:
                errors = err.form_errors({"cannot_connect": CONF_HOST, "timeout": CONF_HOST})
            else:
                await self.async_set_unique_id(f"v2c_{unique_id}", raise_on_progress=False)
                if self._reconfiguring:
                    self._abort_if_unique_id_mismatch()
                else:
                    self._abort_if_unique_id_configured()
                self._connection = connection
                self._charger_title = f"V2C Trydan {unique_id}"
                return await self.async_step_charger_settings()
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=values.get(CONF_HOST, vol.UNDEFINED)): host_text(),
                vol.Required(CONF_PORT, default=values[CONF_PORT]): number_box(1, 65535),
            }
        )
        return self.async_show_form(step_id="v2c", data_schema=schema, errors=errors)

    async def _async_connect_charger(self, connection: dict[str, Any]) -> ConfigFlowResult:
        serial_number = await async_identify_charger(self.hass, connection)
        await self.async_set_unique_id(f"teltocharge_{serial_number}", raise_on_progress=False)
        if self._reconfiguring:
            self._abort_if_unique_id_mismatch()
        else:
            self._abort_if_unique_id_configured()
        self._connection = connection
        self._serial_number = serial_number
        return await self.async_step_charger_settings()

    async def async_step_charger_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say how the identified charger is wired and which group it belongs to."""
        errors: dict[str, str] = {}
        groups = entry_choices(entries_of_kind(self.hass, ENTRY_KIND_GROUP))
        values: Mapping[str, Any] = {
            CONF_ROTATION: PhaseRotation.L1L2L3.value,
            CONF_WIRING: str(Wiring.THREE_PHASE.value),
            CONF_MIN_CURRENT: DEFAULT_MIN_CURRENT,
            CONF_MAX_CURRENT: DEFAULT_MAX_CURRENT,
            CONF_GROUP: groups[0]["value"],
        }
        if self._reconfiguring:
            data = in_force(self._get_reconfigure_entry())
            # The wiring is stored as a number but chosen from a list of strings.
            values = {**values, **data, CONF_WIRING: str(data[CONF_WIRING])}
        if user_input is not None:
            values = user_input
            errors = whole_number_errors(user_input, (CONF_MIN_CURRENT, CONF_MAX_CURRENT))
            if not errors and user_input[CONF_MIN_CURRENT] > user_input[CONF_MAX_CURRENT]:
                errors[CONF_MIN_CURRENT] = "min_above_max"
            if not errors:
                return self._charger_done(user_input)
        return self.async_show_form(
            step_id="charger_settings",
            data_schema=_settings_schema(values, groups),
            errors=errors,
            description_placeholders={
                "name": self._charger_title or f"TeltoCharge {self._serial_number}"
            },
        )

    def _charger_done(self, user_input: Mapping[str, Any]) -> ConfigFlowResult:
        settings = {
            **self._connection,
            CONF_ROTATION: user_input[CONF_ROTATION],
            CONF_WIRING: int(user_input[CONF_WIRING]),
            CONF_MIN_CURRENT: int(user_input[CONF_MIN_CURRENT]),
            CONF_MAX_CURRENT: int(user_input[CONF_MAX_CURRENT]),
            CONF_GROUP: user_input[CONF_GROUP],
        }
        if self._reconfiguring:
            return self._save_reconfigured(self._get_reconfigure_entry(), data_updates=settings)
        if self._charger_title is not None:  # found another way than by its serial number
            return self.async_create_entry(
                title=self._charger_title, data={CONF_KIND: ENTRY_KIND_CHARGER, **settings}
            )
        return self.async_create_entry(
            title=f"TeltoCharge {self._serial_number}",
            data={
                CONF_KIND: ENTRY_KIND_CHARGER,
                CONF_CHARGER_TYPE: CHARGER_TELTOCHARGE,
                CONF_SERIAL_NUMBER: self._serial_number,
                **settings,
            },
        )
