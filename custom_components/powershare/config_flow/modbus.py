"""The Modbus connection steps (`tcp`, `serial`), shared by chargers and Modbus meters.

They ask where the device is, then hand the connection to the kind being added, which probes
the device and goes on. The reconfigure flow shows them again, with the entry's settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import serial.tools.list_ports  # type: ignore[import-untyped]  # pyserial ships no types
import voluptuous as vol
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import SelectOptionDict

from custom_components.powershare.const import (
    BAUDRATES,
    CONF_BAUDRATE,
    CONF_CONNECTION,
    CONF_PARITY,
    CONF_SERIAL_PORT,
    CONF_STOPBITS,
    CONF_UNIT_ID,
    CONNECTION_SERIAL,
    CONNECTION_TCP,
    DEFAULT_BAUDRATE,
    DEFAULT_MODBUS_PORT,
    DEFAULT_UNIT_ID,
    PARITIES,
    STOPBITS,
)
from custom_components.powershare.devices.meters import MODBUS_METER_MAPS

from .base import PowershareFlowBase
from .fields import dropdown, host_text, number_box, whole_number_errors
from .probe import ProbeError

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult


def _error_fields(connection_field: str) -> dict[str, str]:
    """Which field of a Modbus form shows which probe error."""
    return {
        "cannot_connect": connection_field,
        "timeout": CONF_UNIT_ID,
        "unit_not_answering": CONF_UNIT_ID,
        "line_settings_conflict": CONF_BAUDRATE,
        "not_a_teltocharge": CONF_UNIT_ID,
        "wrong_meter": CONF_UNIT_ID,
    }


def _serial_ports() -> list[SelectOptionDict]:
    """List the serial ports of this machine (blocking: run it in the executor)."""
    return [
        SelectOptionDict(
            value=port.device,
            label=f"{port.device} - {port.description}"
            if port.description and port.description != "n/a"
            else port.device,
        )
        for port in serial.tools.list_ports.comports()
    ]


class ModbusSteps(PowershareFlowBase):
    """Reach a charger or a meter over Modbus TCP or RTU."""

    async def _async_connect_charger(self, connection: dict[str, Any]) -> ConfigFlowResult:
        """Identify the charger at `connection` and go on; raise `ProbeError` if it fails."""
        raise NotImplementedError

    async def _async_connect_meter(self, connection: dict[str, Any]) -> ConfigFlowResult:
        """Identify the meter at `connection` and go on; raise `ProbeError` if it fails."""
        raise NotImplementedError

    async def _async_connect_modbus(self, connection: dict[str, Any]) -> ConfigFlowResult:
        # No meter model chosen means the charger step led here.
        if self._model is None:
            return await self._async_connect_charger(connection)
        return await self._async_connect_meter(connection)

    def _modbus_defaults(self) -> dict[str, Any]:
        """Form defaults: the entry's when reconfiguring, else the model's factory settings."""
        if self._reconfiguring:
            return dict(self._get_reconfigure_entry().data)
        meter_map = MODBUS_METER_MAPS.get(self._model.key) if self._model else None
        if meter_map is None:
            return {
                CONF_PORT: DEFAULT_MODBUS_PORT,
                CONF_UNIT_ID: DEFAULT_UNIT_ID,
                CONF_BAUDRATE: DEFAULT_BAUDRATE,
                CONF_PARITY: PARITIES[0],
                CONF_STOPBITS: STOPBITS[0],
            }
        return {
            CONF_PORT: DEFAULT_MODBUS_PORT,
            CONF_UNIT_ID: meter_map.default_unit_id,
            CONF_BAUDRATE: meter_map.serial.baudrate,
            CONF_PARITY: meter_map.serial.parity,
            CONF_STOPBITS: meter_map.serial.stopbits,
        }

    async def async_step_tcp(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Reach the device over Modbus TCP (the device itself or an RS485 gateway)."""
        errors: dict[str, str] = {}
        values = self._modbus_defaults()
        if user_input is not None and not (
            errors := whole_number_errors(user_input, (CONF_PORT, CONF_UNIT_ID))
        ):
            values = user_input
            connection = {
                CONF_CONNECTION: CONNECTION_TCP,
                CONF_HOST: user_input[CONF_HOST],
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            try:
                return await self._async_connect_modbus(connection)
            except ProbeError as err:
                errors = err.form_errors(_error_fields(CONF_HOST))
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=values.get(CONF_HOST, vol.UNDEFINED)): host_text(),
                vol.Required(CONF_PORT, default=values[CONF_PORT]): number_box(1, 65535),
                vol.Required(CONF_UNIT_ID, default=values[CONF_UNIT_ID]): number_box(1, 247),
            }
        )
        return self.async_show_form(step_id="tcp", data_schema=schema, errors=errors)

    async def async_step_serial(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Reach the device over Modbus RTU on a serial port (an RS485 adapter)."""
        errors: dict[str, str] = {}
        values = self._modbus_defaults()
        if user_input is not None:
            values = user_input
            errors = whole_number_errors(user_input, [CONF_UNIT_ID])
        if user_input is not None and not errors:
            connection = {
                CONF_CONNECTION: CONNECTION_SERIAL,
                CONF_SERIAL_PORT: user_input[CONF_SERIAL_PORT],
                CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
                # The form offers lower-case keys (translation keys must be); entries store
                # the Modbus letters, as they always did.
                CONF_PARITY: str(user_input[CONF_PARITY]).upper(),
                CONF_STOPBITS: int(user_input[CONF_STOPBITS]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            try:
                return await self._async_connect_modbus(connection)
            except ProbeError as err:
                errors = err.form_errors(_error_fields(CONF_SERIAL_PORT))
        ports = await self.hass.async_add_executor_job(_serial_ports)
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SERIAL_PORT, default=values.get(CONF_SERIAL_PORT, vol.UNDEFINED)
                ): dropdown(ports, custom_value=True),
                vol.Required(CONF_BAUDRATE, default=str(values[CONF_BAUDRATE])): dropdown(
                    [str(rate) for rate in BAUDRATES]
                ),
                vol.Required(CONF_PARITY, default=str(values[CONF_PARITY]).lower()): dropdown(
                    [parity.lower() for parity in PARITIES], translation_key="parity"
                ),
                vol.Required(CONF_STOPBITS, default=str(values[CONF_STOPBITS])): dropdown(
                    [str(bits) for bits in STOPBITS]
                ),
                vol.Required(CONF_UNIT_ID, default=values[CONF_UNIT_ID]): number_box(1, 247),
            }
        )
        return self.async_show_form(step_id="serial", data_schema=schema, errors=errors)
