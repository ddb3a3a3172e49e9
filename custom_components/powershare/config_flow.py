"""Config flow for Powershare: one entry per charger, per meter and per group.

Adding Powershare offers a menu (charger, meter, group); every entry stores its kind in
`data[CONF_KIND]`. Chargers and meters are identified before their entry is created, over the
Modbus buses of the hub (`hub.async_get_hub(hass).buses`, acquired and released at once, so the
flow and running entries share one serial connection) or Home Assistant's HTTP session. The
connection steps (`tcp`, `serial`, `http`, `pairing`, `ha_currents`, `ha_powers`, `group`,
`group_site`) also serve the reconfigure flow, which must find the same device again.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Final

import serial.tools.list_ports  # type: ignore[import-untyped]  # pyserial ships no types
import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import slugify
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    ElectricPotentialConverter,
    PowerConverter,
)

from .connection import async_open_charger, async_open_meter
from .const import (
    BAUDRATES,
    CONF_BAUDRATE,
    CONF_CONNECTION,
    CONF_CURRENT_ENTITIES,
    CONF_FUSE,
    CONF_GROUP,
    CONF_IMPORT_ALLOWANCE,
    CONF_KIND,
    CONF_MARGIN,
    CONF_MAX_CURRENT,
    CONF_MAX_POWER,
    CONF_METER,
    CONF_METER_ID,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_MIN_CURRENT,
    CONF_MODEL,
    CONF_NAME,
    CONF_PARENT,
    CONF_PARITY,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITIES,
    CONF_ROTATION,
    CONF_SERIAL_NUMBER,
    CONF_SERIAL_PORT,
    CONF_SOLAR_RESERVE,
    CONF_STOPBITS,
    CONF_UNIT_ID,
    CONF_VOLTAGE_ENTITIES,
    CONF_WIRING,
    CONNECTION_HA_SENSORS,
    CONNECTION_HTTP,
    CONNECTION_SERIAL,
    CONNECTION_TCP,
    DEFAULT_BAUDRATE,
    DEFAULT_CHARGER_POLL_INTERVAL,
    DEFAULT_MAX_CURRENT,
    DEFAULT_METER_POLL_INTERVAL,
    DEFAULT_MIN_CURRENT,
    DEFAULT_MODBUS_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    ENTRY_KINDS,
    LOGGER,
    MAX_CURRENT_LIMIT,
    MAX_FUSE,
    METER_MODEL_HA_SENSORS,
    MIN_CURRENT_LIMIT,
    MIN_FUSE,
    PARITIES,
    STOPBITS,
)
from .devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    InvalidCommandError,
    PowershareDeviceError,
)
from .devices.meters import (
    METER_MODELS,
    MODBUS_METER_MAPS,
    MeterAuthenticationError,
    MeterModel,
    MeterTransport,
    PairingButtonNotPressedError,
    async_homewizard_ssl_context,
    request_token,
)
from .devices.meters.registry import (
    HOMEWIZARD_P1_V1,
    HOMEWIZARD_P1_V2,
    SHELLY_PRO_3EM_HTTP,
)
from .engine.model import PHASE_COUNT, PhaseRotation, Tunables, Wiring

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .devices.meters import MeterInfo

# Zeroconf services (mirrored in manifest.json).
HOMEWIZARD_V1_SERVICE: Final = "_hwenergy._tcp.local."
HOMEWIZARD_V2_SERVICE: Final = "_homewizard._tcp.local."
HOMEWIZARD_P1_PRODUCT: Final = "HWE-P1"
SHELLY_PRO_3EM_PREFIX: Final = "shellypro3em-"

HTTP_PORT: Final = 80
HTTPS_PORT: Final = 443
PAIRING_ATTEMPTS: Final = 3
"""`POST /api/user` tries per submit of the pairing step: the user may press the button just
after submitting."""
PAIRING_RETRY_INTERVAL_S: Final = 1.0

# Form fields that are not stored as such (the stored keys are in const.py).
FUSE_L2: Final = "fuse_l2"
FUSE_L3: Final = "fuse_l3"
PHASES: Final = ("l1", "l2", "l3")
CURRENT_FIELDS: Final = tuple(f"current_{phase}" for phase in PHASES)
POWER_FIELDS: Final = tuple(f"power_{phase}" for phase in PHASES)
VOLTAGE_FIELDS: Final = tuple(f"voltage_{phase}" for phase in PHASES)

# The engine tunables a homeowner may reasonably change, in the options of the root group.
GROUP_TUNABLES: Final = (
    "meter_timeout_s",
    "failsafe_current_a",
    "solar_start_delay_s",
    "solar_stop_delay_s",
    "phase_down_delay_s",
    "phase_up_delay_s",
    "max_phase_switches_per_hour",
    "rotation_period_s",
)
DEFAULT_MARGIN_A: Final = 1.0
OPTIONS_STEP: Final = "init"
OPTIONS_ABORT_NOT_ROOT: Final = "site_settings_on_root"

# The form error each device error becomes (any other device error means "something answered,
# but not the expected device"); each caller says which field of its form shows which error.
_ERROR_KEYS: Final[dict[type[PowershareDeviceError], str]] = {
    DeviceUnreachableError: "cannot_connect",
    DeviceTimeoutError: "timeout",
    MeterAuthenticationError: "invalid_auth",
    PairingButtonNotPressedError: "button_not_pressed",
    InvalidCommandError: "line_settings_conflict",
}


def _number(
    minimum: float,
    maximum: float | None = None,
    *,
    step: float = 1,
    unit: str | None = None,
) -> NumberSelector:
    config = NumberSelectorConfig(min=minimum, step=step, mode=NumberSelectorMode.BOX)
    if maximum is not None:
        config["max"] = maximum
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _select(
    options: list[SelectOptionDict] | list[str],
    *,
    custom_value: bool = False,
    translation_key: str | None = None,
) -> SelectSelector:
    config = SelectSelectorConfig(
        options=options, mode=SelectSelectorMode.DROPDOWN, custom_value=custom_value
    )
    if translation_key is not None:
        config["translation_key"] = translation_key
    return SelectSelector(config)


def _entries(hass: HomeAssistant, kind: str) -> list[ConfigEntry]:
    """Return the Powershare entries of one kind."""
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_KIND) == kind
    ]


def _entry_options(entries: list[ConfigEntry]) -> list[SelectOptionDict]:
    return [SelectOptionDict(value=entry.entry_id, label=entry.title) for entry in entries]


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


def _error(
    err: PowershareDeviceError, error_fields: Mapping[str, str], wrong_device: str
) -> dict[str, str]:
    """Turn a device error into one form error on the field it concerns."""
    key = next((_ERROR_KEYS[cls] for cls in type(err).__mro__ if cls in _ERROR_KEYS), wrong_device)
    return {error_fields.get(key, "base"): key}


async def _probe[T](
    probe: Callable[[], Awaitable[T]],
    error_fields: Mapping[str, str],
    wrong_device: str,
) -> tuple[T | None, dict[str, str]]:
    """Run an identification; return its result, or the form errors it caused."""
    try:
        return await probe(), {}
    except PowershareDeviceError as err:
        LOGGER.debug("Identification failed: %s", err)
        return None, _error(err, error_fields, wrong_device)
    except Exception:  # noqa: BLE001  # a bug must not leave the user with a broken form
        LOGGER.exception("Unexpected error while identifying a device")
        return None, {"base": "unknown"}


def _entity_error(
    hass: HomeAssistant, entity_id: str, converter: type[BaseUnitConverter]
) -> str | None:
    """Check that an entity exists and reports a unit the converter understands."""
    state = hass.states.get(entity_id)
    if state is not None:
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    else:
        registered = er.async_get(hass).async_get(entity_id)
        if registered is None:
            return "entity_not_found"
        unit = registered.unit_of_measurement
    if unit not in converter.VALID_UNITS:
        return "unit_not_convertible"
    return None


class PowershareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Powershare charger, meter or group."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._kind = ENTRY_KIND_CHARGER
        self._model: MeterModel | None = None
        """The meter model being added (None: Home Assistant sensors)."""
        self._connection: dict[str, Any] = {}
        """The connection that identified the device."""
        self._serial_number = 0
        self._group: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> PowershareOptionsFlow:  # noqa: ARG004
        """Return the options flow (tunables) of any Powershare entry."""
        return PowershareOptionsFlow()

    @property
    def _reconfiguring(self) -> bool:
        return self.source == SOURCE_RECONFIGURE

    # -- entry points ----------------------------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Offer the kinds of entry Powershare can create."""
        return self.async_show_menu(step_id="user", menu_options=list(ENTRY_KINDS))

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Change how Powershare reaches a device, or a group's settings."""
        entry = self._get_reconfigure_entry()
        self._kind = entry.data[CONF_KIND]
        if self._kind == ENTRY_KIND_GROUP:
            return await self.async_step_group()
        self._model = METER_MODELS.get(entry.data.get(CONF_MODEL, ""))
        connection = entry.data[CONF_CONNECTION]
        if connection == CONNECTION_TCP:
            return await self.async_step_tcp()
        if connection == CONNECTION_SERIAL:
            return await self.async_step_serial()
        if connection == CONNECTION_HTTP:
            return await self.async_step_http()
        if CONF_CURRENT_ENTITIES in entry.data:
            return await self.async_step_ha_currents()
        return await self.async_step_ha_powers()

    # -- charger ---------------------------------------------------------------------------

    async def async_step_charger(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Add a TeltoCharge: pick how it is connected (a group must exist first)."""
        if not _entries(self.hass, ENTRY_KIND_GROUP):
            return self.async_abort(reason="no_group")
        self._kind = ENTRY_KIND_CHARGER
        return self.async_show_menu(step_id="charger", menu_options=["tcp", "serial"])

    async def async_step_charger_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say how the identified charger is wired and which group it belongs to."""
        errors: dict[str, str] = {}
        groups = _entry_options(_entries(self.hass, ENTRY_KIND_GROUP))
        values: Mapping[str, Any] = {
            CONF_ROTATION: PhaseRotation.L1L2L3.value,
            CONF_WIRING: str(Wiring.THREE_PHASE.value),
            CONF_MIN_CURRENT: DEFAULT_MIN_CURRENT,
            CONF_MAX_CURRENT: DEFAULT_MAX_CURRENT,
            CONF_GROUP: groups[0]["value"],
        }
        if self._reconfiguring:
            data = self._get_reconfigure_entry().data
            values = {**values, **data, CONF_WIRING: str(data[CONF_WIRING])}
        if user_input is not None:
            values = user_input
            if user_input[CONF_MIN_CURRENT] > user_input[CONF_MAX_CURRENT]:
                errors[CONF_MIN_CURRENT] = "min_above_max"
            else:
                settings = {
                    **self._connection,
                    CONF_ROTATION: user_input[CONF_ROTATION],
                    CONF_WIRING: int(user_input[CONF_WIRING]),
                    CONF_MIN_CURRENT: int(user_input[CONF_MIN_CURRENT]),
                    CONF_MAX_CURRENT: int(user_input[CONF_MAX_CURRENT]),
                    CONF_GROUP: user_input[CONF_GROUP],
                }
                if self._reconfiguring:
                    return self.async_update_reload_and_abort(
                        self._get_reconfigure_entry(), data_updates=settings
                    )
                return self.async_create_entry(
                    title=f"TeltoCharge {self._serial_number}",
                    data={
                        CONF_KIND: ENTRY_KIND_CHARGER,
                        CONF_SERIAL_NUMBER: self._serial_number,
                        **settings,
                    },
                )
        current = _number(MIN_CURRENT_LIMIT, MAX_CURRENT_LIMIT, unit="A")
        schema = vol.Schema(
            {
                vol.Required(CONF_ROTATION, default=values[CONF_ROTATION]): _select(
                    [rotation.value for rotation in PhaseRotation]
                ),
                vol.Required(CONF_WIRING, default=values[CONF_WIRING]): _select(
                    [str(wiring.value) for wiring in Wiring], translation_key="wiring"
                ),
                vol.Required(CONF_MIN_CURRENT, default=values[CONF_MIN_CURRENT]): current,
                vol.Required(CONF_MAX_CURRENT, default=values[CONF_MAX_CURRENT]): current,
                vol.Required(CONF_GROUP, default=values[CONF_GROUP]): _select(groups),
            }
        )
        return self.async_show_form(
            step_id="charger_settings",
            data_schema=schema,
            errors=errors,
            description_placeholders={"serial": str(self._serial_number)},
        )

    # -- Modbus connections (chargers and Modbus meters) ------------------------------------

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
        if user_input is not None:
            values = user_input
            connection = {
                CONF_CONNECTION: CONNECTION_TCP,
                CONF_HOST: user_input[CONF_HOST],
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            result, errors = await self._async_identify_modbus(connection, CONF_HOST)
            if result is not None:
                return result
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=values.get(CONF_HOST, vol.UNDEFINED)): TextSelector(
                    TextSelectorConfig(autocomplete="off")
                ),
                vol.Required(CONF_PORT, default=values[CONF_PORT]): _number(1, 65535),
                vol.Required(CONF_UNIT_ID, default=values[CONF_UNIT_ID]): _number(1, 247),
            }
        )
        return self.async_show_form(step_id="tcp", data_schema=schema, errors=errors)

    async def async_step_serial(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Reach the device over Modbus RTU on a serial port (an RS485 adapter)."""
        errors: dict[str, str] = {}
        values = self._modbus_defaults()
        if user_input is not None:
            values = user_input
            connection = {
                CONF_CONNECTION: CONNECTION_SERIAL,
                CONF_SERIAL_PORT: user_input[CONF_SERIAL_PORT],
                CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
                CONF_PARITY: user_input[CONF_PARITY],
                CONF_STOPBITS: int(user_input[CONF_STOPBITS]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            result, errors = await self._async_identify_modbus(connection, CONF_SERIAL_PORT)
            if result is not None:
                return result
        ports = await self.hass.async_add_executor_job(_serial_ports)
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SERIAL_PORT, default=values.get(CONF_SERIAL_PORT, vol.UNDEFINED)
                ): _select(ports, custom_value=True),
                vol.Required(CONF_BAUDRATE, default=str(values[CONF_BAUDRATE])): _select(
                    [str(rate) for rate in BAUDRATES]
                ),
                vol.Required(CONF_PARITY, default=values[CONF_PARITY]): _select(
                    list(PARITIES), translation_key="parity"
                ),
                vol.Required(CONF_STOPBITS, default=str(values[CONF_STOPBITS])): _select(
                    [str(bits) for bits in STOPBITS]
                ),
                vol.Required(CONF_UNIT_ID, default=values[CONF_UNIT_ID]): _number(1, 247),
            }
        )
        return self.async_show_form(step_id="serial", data_schema=schema, errors=errors)

    async def _async_identify_modbus(
        self, connection: dict[str, Any], connection_field: str
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Identify the charger or meter at `connection`; go on, or return the form errors."""
        model = self._model

        async def identify() -> MeterInfo | int:
            if model is None:
                charger = await async_open_charger(self.hass, connection)
                try:
                    return (await charger.driver.identify()).serial
                finally:
                    await charger.close()
            meter = await async_open_meter(self.hass, {**connection, CONF_MODEL: model.key})
            try:
                return await meter.driver.identify()
            finally:
                await meter.close()

        error_fields = {
            "cannot_connect": connection_field,
            "timeout": CONF_UNIT_ID,
            "line_settings_conflict": CONF_BAUDRATE,
            "not_a_teltocharge": CONF_UNIT_ID,
            "wrong_meter": CONF_UNIT_ID,
        }
        wrong_device = "not_a_teltocharge" if model is None else "wrong_meter"
        identity, errors = await _probe(identify, error_fields, wrong_device)
        if identity is None:
            return None, errors
        if isinstance(identity, int):
            return await self._async_charger_identified(connection, identity), {}
        return await self._async_meter_identified(connection, identity), {}

    async def _async_charger_identified(
        self, connection: dict[str, Any], serial_number: int
    ) -> ConfigFlowResult:
        await self.async_set_unique_id(f"teltocharge_{serial_number}", raise_on_progress=False)
        if self._reconfiguring:
            self._abort_if_unique_id_mismatch()
        else:
            self._abort_if_unique_id_configured()
        self._connection = connection
        self._serial_number = serial_number
        return await self.async_step_charger_settings()

    # -- meters ----------------------------------------------------------------------------

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a meter: pick its model."""
        self._kind = ENTRY_KIND_METER
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
        schema = vol.Schema({vol.Required(CONF_MODEL): _select(models)})
        return self.async_show_form(step_id="meter", data_schema=schema)

    async def async_step_meter_connection(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Pick how a Modbus meter is connected."""
        return self.async_show_menu(step_id="meter_connection", menu_options=["tcp", "serial"])

    async def async_step_http(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Reach an HTTP meter (Shelly, HomeWizard) on the network."""
        model = self._model
        assert model is not None  # noqa: S101  # set by the meter or reconfigure step
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {CONF_PORT: HTTPS_PORT if model.needs_pairing else HTTP_PORT}
        if self._reconfiguring:
            values = self._get_reconfigure_entry().data
        if user_input is not None:
            values = user_input
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
            result, errors = await self._async_identify_http(connection, CONF_HOST)
            if result is not None:
                return result
        fields_: dict[vol.Marker, Any] = {
            vol.Required(CONF_HOST, default=values.get(CONF_HOST, vol.UNDEFINED)): TextSelector(
                TextSelectorConfig(autocomplete="off")
            ),
            vol.Required(CONF_PORT, default=values[CONF_PORT]): _number(1, 65535),
        }
        if model.needs_password:
            fields_[vol.Optional(CONF_PASSWORD, default=values.get(CONF_PASSWORD, ""))] = (
                TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
            )
        return self.async_show_form(
            step_id="http",
            data_schema=vol.Schema(fields_),
            errors=errors,
            description_placeholders={"model": model.name},
        )

    async def async_step_pairing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """HomeWizard API v2: the user presses the meter's button so it hands out a token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            connection = self._connection
            session = async_get_clientsession(self.hass)
            name = f"powershare#{(await instance_id.async_get(self.hass))[:6]}"

            async def pair() -> str:
                ssl_context = await async_homewizard_ssl_context()
                for _ in range(PAIRING_ATTEMPTS - 1):
                    try:
                        return await request_token(
                            session,
                            connection[CONF_HOST],
                            name=name,
                            ssl_context=ssl_context,
                            port=connection[CONF_PORT],
                        )
                    except PairingButtonNotPressedError:
                        await asyncio.sleep(PAIRING_RETRY_INTERVAL_S)
                return await request_token(
                    session,
                    connection[CONF_HOST],
                    name=name,
                    ssl_context=ssl_context,
                    port=connection[CONF_PORT],
                )

            token, errors = await _probe(pair, {"cannot_connect": "base"}, "wrong_meter")
            if token is not None:
                result, errors = await self._async_identify_http(
                    {**connection, CONF_TOKEN: token}, "base"
                )
                if result is not None:
                    return result
        return self.async_show_form(
            step_id="pairing",
            errors=errors,
            description_placeholders={"host": self._connection[CONF_HOST]},
        )

    async def _async_identify_http(
        self, connection: dict[str, Any], host_field: str
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Identify the HTTP meter at `connection`; go on, or return the form errors."""
        model = self._model
        assert model is not None  # noqa: S101  # only HTTP models come here

        async def identify() -> MeterInfo:
            meter = await async_open_meter(self.hass, {**connection, CONF_MODEL: model.key})
            return await meter.driver.identify()

        error_fields = {
            "cannot_connect": host_field,
            "timeout": host_field,
            "invalid_auth": CONF_PASSWORD,
            "wrong_meter": host_field,
        }
        info, errors = await _probe(identify, error_fields, "wrong_meter")
        if info is None:
            return None, errors
        return await self._async_meter_identified(connection, info), {}

    async def _async_meter_identified(
        self, connection: dict[str, Any], info: MeterInfo
    ) -> ConfigFlowResult:
        model = self._model
        assert model is not None  # noqa: S101  # device meters only
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

    # -- zeroconf (HomeWizard P1, Shelly Pro 3EM) ---------------------------------------------

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Offer a HomeWizard or Shelly meter that announced itself on the network."""
        self._kind = ENTRY_KIND_METER
        name = discovery_info.name.split(".", 1)[0]
        properties = discovery_info.properties
        if discovery_info.type in (HOMEWIZARD_V1_SERVICE, HOMEWIZARD_V2_SERVICE):
            if properties.get("product_type") != HOMEWIZARD_P1_PRODUCT:
                return self.async_abort(reason="not_supported_device")
            meter_id = str(properties.get("serial", "")).lower()
            api_v2 = discovery_info.type == HOMEWIZARD_V2_SERVICE or str(
                properties.get("api_version", "")
            ).startswith("2")
            model = HOMEWIZARD_P1_V2 if api_v2 else HOMEWIZARD_P1_V1
        else:
            if not name.lower().startswith(SHELLY_PRO_3EM_PREFIX):
                return self.async_abort(reason="not_supported_device")
            meter_id = name[len(SHELLY_PRO_3EM_PREFIX) :].lower()
            model = SHELLY_PRO_3EM_HTTP
        if not meter_id:
            return self.async_abort(reason="invalid_discovery")
        await self.async_set_unique_id(f"meter_{meter_id}")
        self._abort_if_unique_id_configured(updates={CONF_HOST: discovery_info.host})
        self._model = METER_MODELS[model]
        default_port = HTTPS_PORT if self._model.needs_pairing else HTTP_PORT
        self._connection = {
            CONF_CONNECTION: CONNECTION_HTTP,
            CONF_HOST: discovery_info.host,
            CONF_PORT: discovery_info.port or default_port,
        }
        self.context["title_placeholders"] = {"name": self._model.name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding the discovered meter (with its password, if it has one)."""
        model = self._model
        assert model is not None  # noqa: S101  # set by the zeroconf step
        errors: dict[str, str] = {}
        if user_input is not None:
            if model.needs_pairing:
                return await self.async_step_pairing()
            connection = dict(self._connection)
            if user_input.get(CONF_PASSWORD):
                connection[CONF_PASSWORD] = user_input[CONF_PASSWORD]
            result, errors = await self._async_identify_http(connection, "base")
            if result is not None:
                return result
        schema = vol.Schema(
            {
                vol.Optional(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                )
            }
            if model.needs_password
            else {}
        )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"model": model.name, "host": self._connection[CONF_HOST]},
        )

    # -- Home Assistant sensors as a meter ---------------------------------------------------

    async def async_step_ha_sensors(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Pick which kind of sensors of another integration make the meter."""
        return self.async_show_menu(step_id="ha_sensors", menu_options=["ha_currents", "ha_powers"])

    async def async_step_ha_currents(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make a meter of per-phase current sensors of another integration (1 or 3)."""
        return await self._async_ha_sensors("ha_currents", user_input)

    async def async_step_ha_powers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make a meter of signed per-phase power sensors, 1 or 3 (and optional voltages)."""
        return await self._async_ha_sensors("ha_powers", user_input)

    async def _async_ha_sensors(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        currents = step_id == "ha_currents"
        phase_fields = CURRENT_FIELDS if currents else POWER_FIELDS
        errors: dict[str, str] = {}
        values: dict[str, Any] = {CONF_NAME: "Grid meter"}
        if self._reconfiguring:
            data = self._get_reconfigure_entry().data
            values[CONF_NAME] = data[CONF_NAME]
            for key, names in (
                (CONF_CURRENT_ENTITIES, CURRENT_FIELDS),
                (CONF_POWER_ENTITIES, POWER_FIELDS),
                (CONF_VOLTAGE_ENTITIES, VOLTAGE_FIELDS),
            ):
                values.update(zip(names, data.get(key, ()), strict=False))
        checks: list[tuple[str, type[BaseUnitConverter]]] = (
            [(name, ElectricCurrentConverter) for name in CURRENT_FIELDS]
            if currents
            else [(name, PowerConverter) for name in POWER_FIELDS]
            + [(name, ElectricPotentialConverter) for name in VOLTAGE_FIELDS]
        )
        if user_input is not None:
            values = user_input
            for name, converter in checks:
                if user_input.get(name) and (
                    error := _entity_error(self.hass, user_input[name], converter)
                ):
                    errors[name] = error
            errors |= _phase_errors(user_input, phase_fields)
            if not errors:
                return await self._async_ha_sensors_done(user_input, currents=currents)
        schema: dict[vol.Marker, Any] = {
            vol.Required(CONF_NAME, default=values[CONF_NAME]): TextSelector(),
        }
        device_class = {ElectricCurrentConverter: "current", PowerConverter: "power"}
        for name, converter in checks:
            selector = EntitySelector(
                EntitySelectorConfig(
                    domain="sensor", device_class=device_class.get(converter, "voltage")
                )
            )
            if name == phase_fields[0]:
                schema[vol.Required(name, default=values.get(name, vol.UNDEFINED))] = selector
            else:
                # A suggestion, not a default: a field the user clears must stay empty.
                suggested = {"suggested_value": values.get(name)}
                schema[vol.Optional(name, description=suggested)] = selector
        return self.async_show_form(step_id=step_id, data_schema=vol.Schema(schema), errors=errors)

    async def _async_ha_sensors_done(
        self, user_input: dict[str, Any], *, currents: bool
    ) -> ConfigFlowResult:
        data: dict[str, Any] = {
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: user_input[CONF_NAME],
        }

        def picked(names: tuple[str, ...]) -> list[str]:
            return [user_input[name] for name in names if user_input.get(name)]

        if currents:
            data[CONF_CURRENT_ENTITIES] = picked(CURRENT_FIELDS)
        else:
            data[CONF_POWER_ENTITIES] = picked(POWER_FIELDS)
            if user_input.get(VOLTAGE_FIELDS[0]):
                data[CONF_VOLTAGE_ENTITIES] = picked(VOLTAGE_FIELDS)
        first = data.get(CONF_CURRENT_ENTITIES, data.get(CONF_POWER_ENTITIES, []))[0]
        if self._reconfiguring:
            entry = self._get_reconfigure_entry()
            data[CONF_METER_ID] = entry.data[CONF_METER_ID]
            return self.async_update_reload_and_abort(entry, data=data)
        data[CONF_METER_ID] = slugify(f"ha_sensors {first}")
        await self.async_set_unique_id(f"meter_{data[CONF_METER_ID]}")
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=user_input[CONF_NAME], data=data)

    # -- groups ----------------------------------------------------------------------------

    async def async_step_group(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a group: a fuse and the chargers behind it, optionally under a parent group."""
        self._kind = ENTRY_KIND_GROUP
        this = self._get_reconfigure_entry() if self._reconfiguring else None
        groups = [entry for entry in _entries(self.hass, ENTRY_KIND_GROUP) if entry is not this]
        meters = _entries(self.hass, ENTRY_KIND_METER)
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {CONF_METER_INCLUDES_CHARGERS: True}
        if this is not None:
            fuse = this.data[CONF_FUSE]
            values = {**this.data, CONF_FUSE: fuse[0], FUSE_L2: fuse[1], FUSE_L3: fuse[2]}
        if user_input is not None:
            values = user_input
            errors = self._group_errors(user_input, this, groups)
            if not errors:
                self._group = self._group_data(user_input, this)
                if CONF_PARENT not in self._group:
                    return await self.async_step_group_site()
                return await self._async_group_done()
        schema: dict[vol.Marker, Any] = {}
        if this is None:
            schema[vol.Required(CONF_NAME, default=values.get(CONF_NAME, vol.UNDEFINED))] = (
                TextSelector()
            )
        amps = _number(0, step=0.1, unit="A")
        schema[vol.Required(CONF_FUSE, default=values.get(CONF_FUSE, vol.UNDEFINED))] = amps
        for name in (FUSE_L2, FUSE_L3, CONF_MAX_POWER):
            selector = amps if name != CONF_MAX_POWER else _number(1, unit="W")
            schema[vol.Optional(name, description={"suggested_value": values.get(name)})] = selector
        if meters:
            schema[
                vol.Optional(CONF_METER, description={"suggested_value": values.get(CONF_METER)})
            ] = _select(_entry_options(meters))
        schema[
            vol.Required(CONF_METER_INCLUDES_CHARGERS, default=values[CONF_METER_INCLUDES_CHARGERS])
        ] = BooleanSelector()
        if groups:
            schema[
                vol.Optional(CONF_PARENT, description={"suggested_value": values.get(CONF_PARENT)})
            ] = _select(_entry_options(groups))
        return self.async_show_form(step_id="group", data_schema=vol.Schema(schema), errors=errors)

    def _group_errors(
        self, user_input: Mapping[str, Any], this: ConfigEntry | None, groups: list[ConfigEntry]
    ) -> dict[str, str]:
        """Check a group's settings against the rules of a site; return per-field errors."""
        errors: dict[str, str] = {}
        if this is None:
            unique_id = f"group_{slugify(user_input[CONF_NAME])}"
            if self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id):
                errors[CONF_NAME] = "name_in_use"
        for name in (CONF_FUSE, FUSE_L2, FUSE_L3):
            value = user_input.get(name)
            if value is not None and not MIN_FUSE <= value <= MAX_FUSE:
                errors[name] = "fuse_out_of_range"
        if (user_input.get(FUSE_L2) is None) != (user_input.get(FUSE_L3) is None):
            missing = FUSE_L2 if user_input.get(FUSE_L2) is None else FUSE_L3
            errors[missing] = "fuse_incomplete"
        meter = user_input.get(CONF_METER)
        if meter and any(group.data.get(CONF_METER) == meter for group in groups):
            errors[CONF_METER] = "meter_in_use"
        parent = user_input.get(CONF_PARENT)
        if not parent:
            if any(CONF_PARENT not in group.data for group in groups):
                errors[CONF_PARENT] = "root_exists"
        elif this is not None and _is_ancestor(this.entry_id, parent, groups):
            errors[CONF_PARENT] = "parent_cycle"
        return errors

    def _group_data(
        self, user_input: Mapping[str, Any], this: ConfigEntry | None
    ) -> dict[str, Any]:
        fuse = float(user_input[CONF_FUSE])
        data: dict[str, Any] = {
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: this.data[CONF_NAME] if this is not None else user_input[CONF_NAME],
            CONF_FUSE: [
                fuse,
                float(user_input.get(FUSE_L2, fuse)),
                float(user_input.get(FUSE_L3, fuse)),
            ],
            CONF_METER_INCLUDES_CHARGERS: user_input[CONF_METER_INCLUDES_CHARGERS],
        }
        for key in (CONF_MAX_POWER, CONF_METER, CONF_PARENT):
            if user_input.get(key):
                data[key] = user_input[key]
        return data

    async def async_step_group_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Site-wide solar settings, asked on the root group (the main fuse) only."""
        if user_input is not None:
            self._group[CONF_SOLAR_RESERVE] = float(user_input[CONF_SOLAR_RESERVE])
            self._group[CONF_IMPORT_ALLOWANCE] = float(user_input[CONF_IMPORT_ALLOWANCE])
            return await self._async_group_done()
        values: Mapping[str, Any] = (
            self._get_reconfigure_entry().data if self._reconfiguring else {}
        )
        watts = _number(0, unit="W")
        schema = vol.Schema(
            {
                vol.Required(CONF_SOLAR_RESERVE, default=values.get(CONF_SOLAR_RESERVE, 0)): watts,
                vol.Required(
                    CONF_IMPORT_ALLOWANCE, default=values.get(CONF_IMPORT_ALLOWANCE, 0)
                ): watts,
            }
        )
        return self.async_show_form(step_id="group_site", data_schema=schema)

    async def _async_group_done(self) -> ConfigFlowResult:
        data = self._group
        if self._reconfiguring:
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data=data)
        await self.async_set_unique_id(f"group_{slugify(data[CONF_NAME])}")
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=data[CONF_NAME], data=data)


def _phase_errors(user_input: dict[str, Any], phase_fields: tuple[str, ...]) -> dict[str, str]:
    """Check that sensors were given for 1 phase (L1) or 3, and voltages for each or none."""
    errors: dict[str, str] = {}
    # One sensor makes a single-phase meter; L2 without L3 (or the reverse) is a mistake.
    given = [bool(user_input.get(name)) for name in phase_fields]
    phase_count = PHASE_COUNT if any(given[1:]) else 1
    if not all(given[:phase_count]):
        errors[phase_fields[given.index(False)]] = "phase_incomplete"
    voltages = [bool(user_input.get(name)) for name in VOLTAGE_FIELDS]
    wanted = [index < phase_count for index in range(PHASE_COUNT)]
    if any(voltages) and voltages != wanted:
        wrong = next(
            index
            for index, (voltage, want) in enumerate(zip(voltages, wanted, strict=True))
            if voltage != want
        )
        errors[VOLTAGE_FIELDS[wrong]] = "voltage_incomplete"
    return errors


def _is_ancestor(entry_id: str, parent: str, groups: list[ConfigEntry]) -> bool:
    """Whether `entry_id` is `parent` or above it: making it `parent`'s child closes a loop."""
    parents = {group.entry_id: group.data.get(CONF_PARENT) for group in groups}
    node: str | None = parent
    seen: set[str] = set()
    while node is not None and node not in seen:
        if node == entry_id:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


class PowershareOptionsFlow(OptionsFlow):
    """Tunables: poll intervals of devices; margin, delays and fallbacks on the root group."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the tunables of this entry's kind."""
        entry = self.config_entry
        kind = entry.data[CONF_KIND]
        if kind == ENTRY_KIND_GROUP and CONF_PARENT in entry.data:
            return self.async_abort(reason=OPTIONS_ABORT_NOT_ROOT)
        defaults = _option_defaults(kind)
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {**defaults, **entry.options}
        if user_input is not None:
            values = user_input
            failsafe = user_input.get("failsafe_current_a", 0)
            if 0 < failsafe < MIN_CURRENT_LIMIT:
                errors["failsafe_current_a"] = "failsafe_current_invalid"
            else:
                # Keep each tunable's type (whole amps and counts stay integers).
                return self.async_create_entry(
                    data={
                        name: type(default)(user_input[name]) for name, default in defaults.items()
                    }
                )
        schema = vol.Schema(
            {vol.Required(name, default=values[name]): _OPTION_SELECTORS[name] for name in defaults}
        )
        return self.async_show_form(step_id=OPTIONS_STEP, data_schema=schema, errors=errors)


_TUNABLE_DEFAULTS: Final = {
    field.name: getattr(Tunables(), field.name) for field in fields(Tunables)
}
_OPTION_SELECTORS: Final = {
    CONF_POLL_INTERVAL: _number(0.5, 60, step=0.5, unit="s"),
    CONF_MARGIN: _number(0, 10, step=0.5, unit="A"),
    "meter_timeout_s": _number(3, 600, unit="s"),
    "failsafe_current_a": _number(0, MAX_CURRENT_LIMIT, unit="A"),
    "solar_start_delay_s": _number(0, 3600, unit="s"),
    "solar_stop_delay_s": _number(0, 3600, unit="s"),
    "phase_down_delay_s": _number(0, 3600, unit="s"),
    "phase_up_delay_s": _number(0, 3600, unit="s"),
    "max_phase_switches_per_hour": _number(0, 60),
    "rotation_period_s": _number(60, 7200, unit="s"),
}


def _option_defaults(kind: str) -> dict[str, Any]:
    """Each option of an entry kind and its default."""
    if kind == ENTRY_KIND_CHARGER:
        return {CONF_POLL_INTERVAL: DEFAULT_CHARGER_POLL_INTERVAL}
    if kind == ENTRY_KIND_METER:
        return {CONF_POLL_INTERVAL: DEFAULT_METER_POLL_INTERVAL}
    return {CONF_MARGIN: DEFAULT_MARGIN_A} | {
        name: _TUNABLE_DEFAULTS[name] for name in GROUP_TUNABLES
    }
