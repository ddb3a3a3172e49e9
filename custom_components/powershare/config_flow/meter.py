"""The meter steps: pick a model, reach it over Modbus or HTTP, pair a HomeWizard, zeroconf.

A device meter is identified before its entry is created and known by its serial number or
MAC, else by where it is. Meters made of another integration's sensors are in `ha_sensors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN
from homeassistant.helpers.selector import SelectOptionDict
from homeassistant.util import slugify

from custom_components.powershare.const import (
    CONF_CONNECTION,
    CONF_KIND,
    CONF_METER_ID,
    CONF_MODEL,
    CONF_SERIAL_PORT,
    CONF_UNIT_ID,
    CONNECTION_HTTP,
    ENTRY_KIND_METER,
    METER_MODEL_HA_SENSORS,
)
from custom_components.powershare.devices.meters import METER_MODELS, MeterTransport
from custom_components.powershare.devices.meters.registry import (
    HOMEWIZARD_P1_V1,
    HOMEWIZARD_P1_V2,
    SHELLY_PRO_3EM_HTTP,
)

from .fields import dropdown, host_text, number_box, password_text, whole_number_errors
from .ha_sensors import HaSensorSteps
from .modbus import ModbusSteps
from .probe import ProbeError, async_identify_meter, async_request_homewizard_token

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from custom_components.powershare.devices.meters import MeterModel

# Zeroconf services (mirrored in manifest.json).
HOMEWIZARD_V1_SERVICE: Final = "_hwenergy._tcp.local."
HOMEWIZARD_V2_SERVICE: Final = "_homewizard._tcp.local."
HOMEWIZARD_P1_PRODUCT: Final = "HWE-P1"
SHELLY_PRO_3EM_PREFIX: Final = "shellypro3em-"

HTTP_PORT: Final = 80
HTTPS_PORT: Final = 443

_HTTP_ERROR_FIELDS: Final = {
    "cannot_connect": CONF_HOST,
    "timeout": CONF_HOST,
    "invalid_auth": CONF_PASSWORD,
    "wrong_meter": CONF_HOST,
}
# After zeroconf or pairing the host is not on the form: its errors are the form's.
_FOUND_ERROR_FIELDS: Final = {"invalid_auth": CONF_PASSWORD}


class MeterSteps(HaSensorSteps, ModbusSteps):
    """Add a meter, or change how Powershare reaches it."""

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a meter: pick its model."""
        if user_input is not None:
            key = user_input[CONF_MODEL]
            if key == METER_MODEL_HA_SENSORS:
                return await self.async_step_ha_sensors()
            self._model = METER_MODELS[key]
            if self._model.transport is MeterTransport.HTTP:
                return await self.async_step_http()
            if self._model.transport is MeterTransport.MODBUS_TCP:
                return await self.async_step_tcp()
            return await self.async_step_meter_connection()
        models = [
            SelectOptionDict(value=key, label=model.name) for key, model in METER_MODELS.items()
        ]
        models.append(
            SelectOptionDict(
                value=METER_MODEL_HA_SENSORS,
                label="Home Assistant sensors (entities of another integration)",
            )
        )
        schema = vol.Schema({vol.Required(CONF_MODEL): dropdown(models)})
        return self.async_show_form(step_id="meter", data_schema=schema)

    async def async_step_meter_connection(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Pick how a Modbus meter is connected."""
        return self.async_show_menu(step_id="meter_connection", menu_options=["tcp", "serial"])

    def _meter_model(self) -> MeterModel:
        model = self._model
        # Set by the meter, zeroconf or reconfigure step; Home Assistant sensors never come here.
        assert model is not None  # noqa: S101
        return model

    async def async_step_http(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Reach an HTTP meter (Shelly, HomeWizard) on the network."""
        model = self._meter_model()
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {CONF_PORT: HTTPS_PORT if model.needs_pairing else HTTP_PORT}
        if self._reconfiguring:
            values = self._get_reconfigure_entry().data
        if user_input is not None:
            values = user_input
            errors = whole_number_errors(user_input, [CONF_PORT])
        if user_input is not None and not errors:
            connection: dict[str, Any] = {
                CONF_CONNECTION: CONNECTION_HTTP,
                CONF_HOST: user_input[CONF_HOST],
                CONF_PORT: int(user_input[CONF_PORT]),
            }
            if user_input.get(CONF_PASSWORD):
                connection[CONF_PASSWORD] = user_input[CONF_PASSWORD]
            if model.needs_pairing:
                self._connection = connection
                return await self.async_step_pairing()
            try:
                return await self._async_connect_meter(connection)
            except ProbeError as err:
                errors = err.form_errors(_HTTP_ERROR_FIELDS)
        fields: dict[vol.Marker, Any] = {
            vol.Required(CONF_HOST, default=values.get(CONF_HOST, vol.UNDEFINED)): host_text(),
            vol.Required(CONF_PORT, default=values[CONF_PORT]): number_box(1, 65535),
        }
        if model.needs_password:
            fields[vol.Optional(CONF_PASSWORD, default=values.get(CONF_PASSWORD, ""))] = (
                password_text()
            )
        return self.async_show_form(
            step_id="http",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={"model": model.name},
        )

    async def async_step_pairing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """HomeWizard API v2: the user presses the meter's button so it hands out a token."""
        errors: dict[str, str] = {}
        host = self._connection[CONF_HOST]
        if user_input is not None:
            try:
                token = await async_request_homewizard_token(
                    self.hass, host, self._connection[CONF_PORT]
                )
            except ProbeError as err:
                # The pairing form has no fields: every error of the token request is the form's.
                errors = err.form_errors({})
            else:
                try:
                    return await self._async_connect_meter({**self._connection, CONF_TOKEN: token})
                except ProbeError as err:
                    errors = err.form_errors(_FOUND_ERROR_FIELDS)
        return self.async_show_form(
            step_id="pairing", errors=errors, description_placeholders={"host": host}
        )

    async def _async_connect_meter(self, connection: dict[str, Any]) -> ConfigFlowResult:
        model = self._meter_model()
        info = await async_identify_meter(self.hass, connection, model)
        where = connection.get(CONF_HOST) or connection.get(CONF_SERIAL_PORT)
        # A meter without serial or MAC is known by where it is: model, address and unit.
        port = connection.get(CONF_PORT, "")
        meter_id = info.unique_id or slugify(
            f"{model.key} {where} {port} {connection.get(CONF_UNIT_ID, '')}"
        )
        await self.async_set_unique_id(f"meter_{meter_id}", raise_on_progress=False)
        if self._reconfiguring:
            self._abort_if_unique_id_mismatch()
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data_updates={**connection, CONF_METER_ID: meter_id}
            )
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=f"{info.manufacturer} {info.model}",
            data={
                CONF_KIND: ENTRY_KIND_METER,
                CONF_MODEL: model.key,
                **connection,
                CONF_METER_ID: meter_id,
            },
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Offer a HomeWizard or Shelly meter that announced itself on the network."""
        name = discovery_info.name.split(".", 1)[0]
        properties = discovery_info.properties
        if discovery_info.type in (HOMEWIZARD_V1_SERVICE, HOMEWIZARD_V2_SERVICE):
            if properties.get("product_type") != HOMEWIZARD_P1_PRODUCT:
                return self.async_abort(reason="not_supported_device")
            meter_id = str(properties.get("serial", "")).lower()
            # A P1 on API v2 may still announce itself on the v1 service.
            api_v2 = discovery_info.type == HOMEWIZARD_V2_SERVICE or str(
                properties.get("api_version", "")
            ).startswith("2")
            model = METER_MODELS[HOMEWIZARD_P1_V2 if api_v2 else HOMEWIZARD_P1_V1]
        else:
            if not name.lower().startswith(SHELLY_PRO_3EM_PREFIX):
                return self.async_abort(reason="not_supported_device")
            meter_id = name[len(SHELLY_PRO_3EM_PREFIX) :].lower()
            model = METER_MODELS[SHELLY_PRO_3EM_HTTP]
        if not meter_id:
            return self.async_abort(reason="invalid_discovery")
        await self.async_set_unique_id(f"meter_{meter_id}")
        self._abort_if_unique_id_configured(updates={CONF_HOST: discovery_info.host})
        self._model = model
        self._connection = {
            CONF_CONNECTION: CONNECTION_HTTP,
            CONF_HOST: discovery_info.host,
            CONF_PORT: discovery_info.port or (HTTPS_PORT if model.needs_pairing else HTTP_PORT),
        }
        self.context["title_placeholders"] = {"name": model.name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding the discovered meter (with its password, if it has one)."""
        model = self._meter_model()
        errors: dict[str, str] = {}
        if user_input is not None:
            if model.needs_pairing:
                return await self.async_step_pairing()
            connection = dict(self._connection)
            if user_input.get(CONF_PASSWORD):
                connection[CONF_PASSWORD] = user_input[CONF_PASSWORD]
            try:
                return await self._async_connect_meter(connection)
            except ProbeError as err:
                errors = err.form_errors(_FOUND_ERROR_FIELDS)
        fields = {vol.Optional(CONF_PASSWORD): password_text()} if model.needs_password else {}
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={"model": model.name, "host": self._connection[CONF_HOST]},
        )
