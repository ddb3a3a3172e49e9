"""Turn a config entry's stored connection into a device driver (and release it again).

One place for it, so the config flow, the reconfigure flow and the running entries open devices
the same way, on the instance's shared Modbus buses: one `ModbusBusRegistry` per Home Assistant
instance (`async_get_buses`), so a meter and several chargers on one RS485 line use one
connection and one lock, and the config flow talks to devices over the buses the running entries
use (a serial port cannot be opened twice). The registry lives here rather than in the hub so
that opening a device does not depend on the balancing service the hub also holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import (
    CHARGER_HA_ENTITIES,
    CHARGER_TELTOCHARGE,
    CHARGER_V2C_TRYDAN,
    CONF_BAUDRATE,
    CONF_CHARGER_TYPE,
    CONF_CONNECTION,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_MODEL,
    CONF_PARITY,
    CONF_PRESET,
    CONF_SERIAL_PORT,
    CONF_STOPBITS,
    CONF_UNIT_ID,
    CONF_WIRING,
    CONNECTION_SERIAL,
    DEFAULT_BAUDRATE,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
    DEFAULT_MODBUS_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
)
from .devices.meters import (
    MODBUS_METER_MAPS,
    HomeWizardP1V1Meter,
    HomeWizardP1V2Meter,
    Meter,
    ModbusMeter,
    Shelly3EmGen1Meter,
    ShellyPro3EmRpcMeter,
    async_homewizard_ssl_context,
)
from .devices.meters.registry import (
    HOMEWIZARD_P1_V1,
    HOMEWIZARD_P1_V2,
    SHELLY_3EM_GEN1,
    SHELLY_PRO_3EM_HTTP,
)
from .devices.modbus import (
    Endpoint,
    ModbusBus,
    ModbusBusRegistry,
    SerialEndpoint,
    TcpEndpoint,
)
from .devices.teltocharge import TeltoCharge, TeltoChargeControl
from .devices.v2c import V2CControl, V2CTrydan
from .entity_charger import (
    CUSTOM,
    PRESETS,
    ChargerEntities,
    EntityCharger,
    EntityChargerIdentity,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from .devices.charger import ChargerControl

HTTP_PORT = 80
HTTPS_PORT = 443

BUSES_KEY: HassKey[ModbusBusRegistry] = HassKey(f"{DOMAIN}_buses")


@callback
def async_get_buses(hass: HomeAssistant) -> ModbusBusRegistry:
    """Return the instance's Modbus bus registry, creating it on first use."""
    buses = hass.data.get(BUSES_KEY)
    if buses is None:
        buses = hass.data[BUSES_KEY] = ModbusBusRegistry()
    return buses


def modbus_endpoint(data: Mapping[str, Any]) -> Endpoint:
    """Return the Modbus endpoint (TCP or serial) stored in an entry's data."""
    if data[CONF_CONNECTION] == CONNECTION_SERIAL:
        return SerialEndpoint(
            port=data[CONF_SERIAL_PORT],
            baudrate=int(data.get(CONF_BAUDRATE, DEFAULT_BAUDRATE)),
            parity=str(data.get(CONF_PARITY, "N")),
            stopbits=int(data.get(CONF_STOPBITS, 1)),
        )
    return TcpEndpoint(host=data[CONF_HOST], port=int(data.get(CONF_PORT, DEFAULT_MODBUS_PORT)))


@dataclass
class OpenCharger:
    """A charger's control; for Modbus chargers `bus` is the bus to give back to `buses`."""

    control: ChargerControl
    buses: ModbusBusRegistry | None = None
    bus: ModbusBus | None = None

    async def close(self) -> None:
        """Release the bus, if the charger is on one (closed when its last user leaves)."""
        if self.buses is not None and self.bus is not None:
            await self.buses.release(self.bus)


@dataclass
class OpenMeter:
    """A meter driver; for Modbus meters `bus` is the bus to give back to `buses` on close."""

    driver: Meter
    buses: ModbusBusRegistry | None = None
    bus: ModbusBus | None = None

    async def close(self) -> None:
        """Release the bus, if the meter is on one."""
        if self.buses is not None and self.bus is not None:
            await self.buses.release(self.bus)


async def async_open_charger(hass: HomeAssistant, data: Mapping[str, Any]) -> OpenCharger:
    """Open the control of the charger an entry's data describes (any kind)."""
    kind = data.get(CONF_CHARGER_TYPE, CHARGER_TELTOCHARGE)
    if kind == CHARGER_HA_ENTITIES:
        return OpenCharger(entity_charger(hass, data))
    if kind == CHARGER_V2C_TRYDAN:
        trydan = V2CTrydan(
            async_get_clientsession(hass), data[CONF_HOST], port=int(data.get(CONF_PORT, HTTP_PORT))
        )
        return OpenCharger(V2CControl(trydan, wired_phases=int(data.get(CONF_WIRING, 3))))
    buses = async_get_buses(hass)
    bus = await buses.acquire(modbus_endpoint(data))
    unit_id = int(data.get(CONF_UNIT_ID, DEFAULT_UNIT_ID))
    return OpenCharger(TeltoChargeControl(TeltoCharge(bus, unit_id)), buses, bus)


def entity_charger(hass: HomeAssistant, data: Mapping[str, Any]) -> EntityCharger:
    """Return the control of a charger driven through another integration's entities."""
    preset = PRESETS.get(data.get(CONF_PRESET, ""), CUSTOM)
    device_id: str | None = data.get(CONF_DEVICE_ID) or None
    device = None if device_id is None else dr.async_get(hass).async_get(device_id)
    entities = ChargerEntities.from_data(data.get(CONF_ENTITIES) or {})
    identity = EntityChargerIdentity(
        unique_id=device_id or str(entities.limit or entities.power),
        manufacturer=(device.manufacturer if device else None) or preset.name,
        model_name=(device.model if device else None) or "Charger",
        firmware_version=device.sw_version if device else None,
    )
    return EntityCharger(
        hass,
        preset,
        entities,
        device_id=device_id,
        identity=identity,
        wired_phases=int(data.get(CONF_WIRING, 3)),
        min_current_a=int(data.get(CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT)),
        max_current_a=int(data.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)),
    )


async def async_open_meter(hass: HomeAssistant, data: Mapping[str, Any]) -> OpenMeter:
    """Open the driver of a polled meter (any model but Home Assistant sensors)."""
    model: str = data[CONF_MODEL]
    if model in MODBUS_METER_MAPS:
        buses = async_get_buses(hass)
        bus = await buses.acquire(modbus_endpoint(data))
        unit_id = data.get(CONF_UNIT_ID)
        meter = ModbusMeter(
            bus, MODBUS_METER_MAPS[model], unit_id=None if unit_id is None else int(unit_id)
        )
        return OpenMeter(meter, buses, bus)
    session = async_get_clientsession(hass)
    host: str = data[CONF_HOST]
    password: str | None = data.get(CONF_PASSWORD) or None
    driver: Meter
    if model == SHELLY_PRO_3EM_HTTP:
        port = int(data.get(CONF_PORT, HTTP_PORT))
        driver = ShellyPro3EmRpcMeter(session, host, port=port, password=password)
    elif model == SHELLY_3EM_GEN1:
        port = int(data.get(CONF_PORT, HTTP_PORT))
        driver = Shelly3EmGen1Meter(session, host, port=port, password=password)
    elif model == HOMEWIZARD_P1_V1:
        driver = HomeWizardP1V1Meter(session, host, port=int(data.get(CONF_PORT, HTTP_PORT)))
    elif model == HOMEWIZARD_P1_V2:
        driver = HomeWizardP1V2Meter(
            session,
            host,
            data[CONF_TOKEN],
            port=int(data.get(CONF_PORT, HTTPS_PORT)),
            ssl_context=await async_homewizard_ssl_context(),
        )
    else:
        raise ValueError(f"unknown meter model {model!r}")
    return OpenMeter(driver)
