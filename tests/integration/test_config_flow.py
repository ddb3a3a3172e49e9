"""The config flow against the device emulators on 127.0.0.1: every step, error and recovery.

Devices are real emulators on loopback (TeltoCharge and Modbus meters over Modbus TCP or RTU on
a pty, Shelly and HomeWizard over HTTP/HTTPS); only the runtime setup is patched (the core
style for flow tests), the list of serial ports, and one unexpected error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)
from serial.tools.list_ports_common import ListPortInfo  # type: ignore[import-untyped]

from custom_components import powershare
from custom_components.powershare import connection
from custom_components.powershare.config_flow import probe
from custom_components.powershare.config_flow.group import contracted_amps
from custom_components.powershare.config_flow.meter import (
    HOMEWIZARD_V1_SERVICE,
    HOMEWIZARD_V2_SERVICE,
)
from custom_components.powershare.config_flow.options import (
    GROUP_TUNABLES,
    OPTIONS_ABORT_NOT_ROOT,
)
from custom_components.powershare.const import (
    CHARGER_TELTOCHARGE,
    CONF_BAUDRATE,
    CONF_CHARGER_TYPE,
    CONF_CONNECTION,
    CONF_CONTRACTED_POWER,
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
    CONF_NETWORK,
    CONF_PARENT,
    CONF_PARITY,
    CONF_PEAK_FLOOR,
    CONF_PEAK_LIMIT,
    CONF_PEAK_MODE,
    CONF_PEAK_WINDOW,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITIES,
    CONF_ROTATION,
    CONF_SERIAL_NUMBER,
    CONF_SERIAL_PORT,
    CONF_SOLAR_RESERVE,
    CONF_STOPBITS,
    CONF_SUPPLY,
    CONF_UNIT_ID,
    CONF_VOLTAGE_ENTITIES,
    CONF_WIRING,
    CONNECTION_HA_SENSORS,
    CONNECTION_HTTP,
    CONNECTION_SERIAL,
    CONNECTION_TCP,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    METER_MODEL_HA_SENSORS,
)
from custom_components.powershare.devices.meters import (
    async_homewizard_ssl_context,
    request_token,
)
from custom_components.powershare.devices.modbus import SerialEndpoint, TcpEndpoint
from custom_components.powershare.devices.teltocharge import TeltoCharge
from custom_components.powershare.hub import async_get_hub
from simulators.meters.homewizard import HomeWizardV1Emulator, HomeWizardV2Emulator
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.meters.shelly import Shelly3EmGen1Emulator, ShellyPro3EmRpcEmulator
from simulators.modbus_server import (
    EmulatorServer,
    PtyPair,
    RegisterUnit,
    free_tcp_port,
    open_pty_pair,
    socat_available,
)
from simulators.teltocharge import TeltoChargeEmulator

LOOPBACK = "127.0.0.1"
CHARGER_SERIAL = 1001
PASSWORD = "s3cret"  # noqa: S105  # the emulated Shelly's


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let the flow reach the emulators (the test plugin still allows 127.0.0.1 only)."""


@pytest.fixture(autouse=True)
def setup_entry_patched() -> Iterator[None]:
    """Created entries are not set up: the runtime is tested elsewhere (core style)."""
    with patch("custom_components.powershare.async_setup_entry", return_value=True, create=True):
        yield


@pytest.fixture(autouse=True)
def fast_pairing_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry the HomeWizard token request without waiting a second between tries."""
    monkeypatch.setattr(probe, "PAIRING_RETRY_INTERVAL_S", 0.01)


@pytest.fixture
def comports(monkeypatch: pytest.MonkeyPatch) -> list[ListPortInfo]:
    """The serial ports the flow lists: two made-up adapters instead of this machine's."""
    with_description = ListPortInfo("/dev/ttyUSB7", skip_link_detection=True)
    with_description.description = "FT232R USB UART"
    without = ListPortInfo("/dev/ttyS9", skip_link_detection=True)
    ports = [with_description, without]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    return ports


async def _serve(units: dict[int, Any]) -> tuple[EmulatorServer, int]:
    server = EmulatorServer(units)
    port = free_tcp_port()
    await server.start_tcp(port)
    return server, port


@pytest.fixture
async def charger() -> AsyncIterator[tuple[TeltoChargeEmulator, int]]:
    """A TeltoCharge (serial 1001) on unit 1, a plain register unit (all zeros) on unit 3."""
    emulator = TeltoChargeEmulator(serial=CHARGER_SERIAL)
    server, port = await _serve({1: emulator, 3: RegisterUnit(default=0)})
    yield emulator, port
    await server.stop()


@pytest.fixture
async def pty_pair() -> AsyncIterator[PtyPair]:
    """Two linked pseudo-terminals (socat): serve RTU on one, the flow opens the other."""
    if not socat_available():
        pytest.skip("socat is not installed (Debian package socat)")
    async with open_pty_pair() as pair:
        yield pair


@pytest.fixture
async def charger_rtu(pty_pair: PtyPair) -> AsyncIterator[str]:
    """A TeltoCharge (serial 1001) on unit 1 of an RS485 line; returns the client's port."""
    server = EmulatorServer({1: TeltoChargeEmulator(serial=CHARGER_SERIAL)})
    await server.start_rtu(pty_pair.server_port, baudrate=9600)
    yield pty_pair.client_port
    await server.stop()


def _group(
    hass: HomeAssistant,
    name: str = "Main fuse",
    *,
    parent: str | None = None,
    meter: str | None = None,
) -> MockConfigEntry:
    data: dict[str, Any] = {
        CONF_KIND: ENTRY_KIND_GROUP,
        CONF_NAME: name,
        CONF_FUSE: [25.0, 25.0, 25.0],
        CONF_METER_INCLUDES_CHARGERS: True,
    }
    if parent is not None:
        data[CONF_PARENT] = parent
    if meter is not None:
        data[CONF_METER] = meter
    entry = MockConfigEntry(
        domain=DOMAIN, title=name, data=data, unique_id=f"group_{name.lower().replace(' ', '_')}"
    )
    entry.add_to_hass(hass)
    return entry


def _meter(hass: HomeAssistant, meter_id: str = "12345678", **data: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Meter {meter_id}",
        data={CONF_KIND: ENTRY_KIND_METER, CONF_METER_ID: meter_id, **data},
        unique_id=f"meter_{meter_id}",
    )
    entry.add_to_hass(hass)
    return entry


TRANSLATIONS = json.loads(
    (Path(powershare.__file__).parent / "translations" / "en.json").read_text(encoding="utf-8")
)


def _checked(result: Any, section: str = "config") -> Any:
    """Check that what the user sees is translated: fields (with a description), errors, menus."""
    strings = TRANSLATIONS[section]
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in strings["abort"], result["reason"]
        return result
    if result["type"] is FlowResultType.CREATE_ENTRY:
        return result
    step = strings["step"][result["step_id"]]
    assert step["title"]
    if result["type"] is FlowResultType.MENU:
        assert set(result["menu_options"]) <= set(step["menu_options"])
        return result
    for marker in result["data_schema"].schema:
        assert step["data"][str(marker)], f"{result['step_id']}.{marker} has no label"
        assert step["data_description"][str(marker)], f"{result['step_id']}.{marker} undescribed"
    for error in (result["errors"] or {}).values():
        assert error in strings["error"], error
    return result


async def _start(hass: HomeAssistant, kind: str) -> Any:
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert menu["type"] is FlowResultType.MENU
    return _checked(
        await hass.config_entries.flow.async_configure(menu["flow_id"], {"next_step_id": kind})
    )


async def _configure(
    hass: HomeAssistant, result: dict[str, Any], user_input: dict[str, Any] | None = None
) -> Any:
    answer: Any = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    return answer


async def _menu(hass: HomeAssistant, result: dict[str, Any], option: str) -> Any:
    assert result["type"] is FlowResultType.MENU
    return await _configure(hass, result, {"next_step_id": option})


def _tcp(port: int, unit_id: int = 1, host: str = LOOPBACK) -> dict[str, Any]:
    return {CONF_HOST: host, CONF_PORT: port, CONF_UNIT_ID: unit_id}


CHARGER_SETTINGS = {
    CONF_ROTATION: "L2L3L1",
    CONF_WIRING: "3",
    CONF_MIN_CURRENT: 6,
    CONF_MAX_CURRENT: 16,
}


# -- chargers -------------------------------------------------------------------------------


async def test_the_add_menu_is_in_the_order_of_setting_up(hass: HomeAssistant) -> None:
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert menu["menu_options"] == ["meter", "group", "charger"]  # a group names its meter


async def test_charger_needs_a_group_first(hass: HomeAssistant) -> None:
    result = await _start(hass, "charger")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_group"


async def test_charger_over_tcp(
    hass: HomeAssistant, charger: tuple[TeltoChargeEmulator, int]
) -> None:
    group = _group(hass)
    _, port = charger
    result = await _menu(hass, await _start(hass, "charger"), "tcp")
    assert result["step_id"] == "tcp"

    result = await _configure(hass, result, _tcp(port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger_settings"
    assert result["description_placeholders"] == {"name": f"TeltoCharge {CHARGER_SERIAL}"}

    # Fractions of an amp are refused, not cut to whole amps without a word.
    result = await _configure(
        hass,
        result,
        {
            **CHARGER_SETTINGS,
            CONF_MIN_CURRENT: 6.5,
            CONF_MAX_CURRENT: 16.0,
            CONF_GROUP: group.entry_id,
        },
    )
    assert result["errors"] == {CONF_MIN_CURRENT: "whole_number"}

    # min above max: refused on the field, the values kept.
    result = await _configure(
        hass, result, {**CHARGER_SETTINGS, CONF_MIN_CURRENT: 20, CONF_GROUP: group.entry_id}
    )
    assert result["errors"] == {CONF_MIN_CURRENT: "min_above_max"}

    result = await _configure(hass, result, {**CHARGER_SETTINGS, CONF_GROUP: group.entry_id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"TeltoCharge {CHARGER_SERIAL}"
    assert result["result"].unique_id == f"teltocharge_{CHARGER_SERIAL}"
    assert result["data"] == {
        CONF_KIND: ENTRY_KIND_CHARGER,
        CONF_CHARGER_TYPE: CHARGER_TELTOCHARGE,
        CONF_CONNECTION: CONNECTION_TCP,
        CONF_HOST: LOOPBACK,
        CONF_PORT: port,
        CONF_UNIT_ID: 1,
        CONF_SERIAL_NUMBER: CHARGER_SERIAL,
        CONF_ROTATION: "L2L3L1",
        CONF_WIRING: 3,
        CONF_MIN_CURRENT: 6,
        CONF_MAX_CURRENT: 16,
        CONF_GROUP: group.entry_id,
    }
    # The flow gave its bus back: nothing stays open.
    assert async_get_hub(hass).buses.users(TcpEndpoint(LOOPBACK, port)) == 0


async def test_charger_errors_and_recovery(
    hass: HomeAssistant, charger: tuple[TeltoChargeEmulator, int]
) -> None:
    _group(hass)
    emulator, port = charger
    result = await _menu(hass, await _start(hass, "charger"), "tcp")

    # A unit id of 1.5 is no unit id (it would have become 1).
    result = await _configure(hass, result, _tcp(port, unit_id=1.5))  # type: ignore[arg-type]
    assert result["errors"] == {CONF_UNIT_ID: "whole_number"}

    # Nothing listens on that port.
    result = await _configure(hass, result, _tcp(free_tcp_port()))
    assert result["step_id"] == "tcp"
    assert result["errors"] == {CONF_HOST: "cannot_connect"}

    # The charger answers later than the request timeout.
    emulator.faults.delay = 1.2
    result = await _configure(hass, result, _tcp(port))
    assert result["errors"] == {CONF_UNIT_ID: "timeout"}
    emulator.faults.clear()

    # The host answers, but no unit 7 is there (a wrong unit id): the unit id field says so.
    # (pymodbus 3.8's server answers with a frame its client drops the connection on; later
    # ones with a gateway exception: both are the unit, not the host.)
    result = await _configure(hass, result, _tcp(port, unit_id=7))
    assert result["errors"] == {CONF_UNIT_ID: "unit_not_answering"}

    # Unit 3 answers, but register 9 is not "TC".
    result = await _configure(hass, result, _tcp(port, unit_id=3))
    assert result["errors"] == {CONF_UNIT_ID: "not_a_teltocharge"}
    assert result["data_schema"]({**_tcp(port, unit_id=3)})[CONF_UNIT_ID] == 3

    # A bug in a driver must not leave the user stuck: "unknown", and the form again.
    with patch.object(TeltoCharge, "identify", side_effect=RuntimeError("bug")):
        result = await _configure(hass, result, _tcp(port))
    assert result["errors"] == {"base": "unknown"}

    result = await _configure(hass, result, _tcp(port))
    assert result["step_id"] == "charger_settings"


async def test_same_charger_twice_is_refused(
    hass: HomeAssistant, charger: tuple[TeltoChargeEmulator, int]
) -> None:
    _group(hass)
    MockConfigEntry(
        domain=DOMAIN,
        data={CONF_KIND: ENTRY_KIND_CHARGER},
        unique_id=f"teltocharge_{CHARGER_SERIAL}",
    ).add_to_hass(hass)
    _, port = charger
    result = await _menu(hass, await _start(hass, "charger"), "tcp")
    result = await _configure(hass, result, _tcp(port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_charger_over_serial(
    hass: HomeAssistant, comports: list[ListPortInfo], charger_rtu: str
) -> None:
    group = _group(hass)
    result = await _menu(hass, await _start(hass, "charger"), "serial")
    assert result["step_id"] == "serial"
    # The port picker lists the machine's ports; a path may also be typed in.
    schema = result["data_schema"].schema
    picker = next(value for key, value in schema.items() if key == CONF_SERIAL_PORT)
    assert picker.config["options"] == [
        {"value": "/dev/ttyUSB7", "label": "/dev/ttyUSB7 - FT232R USB UART"},
        {"value": "/dev/ttyS9", "label": "/dev/ttyS9"},
    ]
    assert picker.config["custom_value"] is True

    result = await _configure(
        hass,
        result,
        {
            CONF_SERIAL_PORT: charger_rtu,
            CONF_BAUDRATE: "9600",
            CONF_PARITY: "n",
            CONF_STOPBITS: "1",
            CONF_UNIT_ID: 1,
        },
    )
    assert result["step_id"] == "charger_settings"
    result = await _configure(hass, result, {**CHARGER_SETTINGS, CONF_GROUP: group.entry_id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CONNECTION] == CONNECTION_SERIAL
    assert result["data"][CONF_SERIAL_PORT] == charger_rtu
    assert result["data"][CONF_BAUDRATE] == 9600
    assert result["data"][CONF_PARITY] == "N"
    assert result["data"][CONF_STOPBITS] == 1


async def test_serial_port_in_use_with_other_line_settings(
    hass: HomeAssistant, comports: list[ListPortInfo]
) -> None:
    """A running entry holds the port at 9600 baud: 19200 is refused on the baud rate."""
    _group(hass)
    registry = async_get_hub(hass).buses
    held = await registry.acquire(SerialEndpoint("/dev/ttyUSB7", baudrate=9600))
    try:
        result = await _menu(hass, await _start(hass, "charger"), "serial")
        result = await _configure(
            hass,
            result,
            {
                CONF_SERIAL_PORT: "/dev/ttyUSB7",
                CONF_BAUDRATE: "19200",
                CONF_PARITY: "e",
                CONF_STOPBITS: "1",
                CONF_UNIT_ID: 2,
            },
        )
        assert result["errors"] == {CONF_BAUDRATE: "line_settings_conflict"}
    finally:
        await registry.release(held)


# -- Modbus meters --------------------------------------------------------------------------


async def _choose_meter(hass: HomeAssistant, model: str) -> Any:
    result = await _start(hass, "meter")
    assert result["step_id"] == "meter"
    return await _configure(hass, result, {CONF_MODEL: model})


async def test_modbus_meter_over_tcp(hass: HomeAssistant) -> None:
    meter = ModbusMeterEmulator.for_model("eastron_sdm630")
    server, port = await _serve({1: meter, 5: TeltoChargeEmulator()})
    try:
        result = await _menu(hass, await _choose_meter(hass, "eastron_sdm630"), "tcp")
        assert result["step_id"] == "tcp"

        # A TeltoCharge is no Eastron meter.
        result = await _configure(hass, result, _tcp(port, unit_id=5))
        assert result["errors"] == {CONF_UNIT_ID: "wrong_meter"}

        result = await _configure(hass, result, _tcp(port))
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == "Eastron SDM630"
        assert result["result"].unique_id == "meter_12345678"
        assert result["data"] == {
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: "eastron_sdm630",
            CONF_CONNECTION: CONNECTION_TCP,
            CONF_HOST: LOOPBACK,
            CONF_PORT: port,
            CONF_UNIT_ID: 1,
            CONF_METER_ID: "12345678",
        }

        # The same meter twice.
        result = await _menu(hass, await _choose_meter(hass, "eastron_sdm630"), "tcp")
        result = await _configure(hass, result, _tcp(port))
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    finally:
        await server.stop()


async def test_network_only_modbus_meter_skips_the_connection_menu(hass: HomeAssistant) -> None:
    server, port = await _serve({1: ModbusMeterEmulator.for_model("shelly_pro_3em_modbus")})
    try:
        result = await _choose_meter(hass, "shelly_pro_3em_modbus")
        assert result["step_id"] == "tcp"
        result = await _configure(hass, result, _tcp(port))
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "meter_34987a6789ab"
    finally:
        await server.stop()


async def test_meter_without_serial_is_known_by_its_address(hass: HomeAssistant) -> None:
    server, port = await _serve({4: ModbusMeterEmulator.for_model("carlo_gavazzi_em24")})
    try:
        result = await _menu(hass, await _choose_meter(hass, "carlo_gavazzi_em24"), "tcp")
        result = await _configure(hass, result, _tcp(port, unit_id=4))
        assert result["type"] is FlowResultType.CREATE_ENTRY
        meter_id = f"carlo_gavazzi_em24_127_0_0_1_{port}_4"
        assert result["data"][CONF_METER_ID] == meter_id
        assert result["result"].unique_id == f"meter_{meter_id}"
    finally:
        await server.stop()


async def test_modbus_meter_over_serial_offers_the_model_defaults(
    hass: HomeAssistant, comports: list[ListPortInfo], pty_pair: PtyPair
) -> None:
    server = EmulatorServer({1: ModbusMeterEmulator.for_model("eastron_sdm120")})
    await server.start_rtu(pty_pair.server_port, baudrate=2400)
    try:
        result = await _menu(hass, await _choose_meter(hass, "eastron_sdm120"), "serial")
        schema = result["data_schema"]({CONF_SERIAL_PORT: pty_pair.client_port})
        assert schema[CONF_BAUDRATE] == "2400"  # the SDM120's factory setting
        result = await _configure(hass, result, schema)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_BAUDRATE] == 2400
        assert result["data"][CONF_MODEL] == "eastron_sdm120"
    finally:
        await server.stop()


# -- HTTP meters ----------------------------------------------------------------------------


async def test_shelly_pro_3em_with_password(hass: HomeAssistant) -> None:
    async with ShellyPro3EmRpcEmulator(password=PASSWORD) as shelly:
        result = await _choose_meter(hass, "shelly_pro_3em_http")
        assert result["step_id"] == "http"
        assert result["description_placeholders"] == {"model": "Shelly Pro 3EM (HTTP RPC)"}

        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port})
        assert result["errors"] == {CONF_PASSWORD: "invalid_auth"}

        result = await _configure(
            hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port, CONF_PASSWORD: PASSWORD}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "meter_34987a6789ab"
        assert result["data"] == {
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: "shelly_pro_3em_http",
            CONF_CONNECTION: CONNECTION_HTTP,
            CONF_HOST: LOOPBACK,
            CONF_PORT: shelly.port,
            CONF_PASSWORD: PASSWORD,
            CONF_METER_ID: "34987a6789ab",
        }


async def test_shelly_pro_3em_profile_is_checked_at_setup(hass: HomeAssistant) -> None:
    # A profile Powershare cannot read is refused with what to do; the single-phase profile
    # (three channels) is read, so it is set up like the three-phase one.
    async with ShellyPro3EmRpcEmulator(profile="wattmeter") as shelly:
        result = await _choose_meter(hass, "shelly_pro_3em_http")
        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port})
        assert result["errors"] == {"base": "unsupported_profile"}
        shelly.profile = "monophase"
        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port})
        assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_shelly_3em_gen1(hass: HomeAssistant) -> None:
    async with Shelly3EmGen1Emulator() as shelly:
        result = await _choose_meter(hass, "shelly_3em_gen1")
        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "meter_c45bbe6a1f20"
        assert CONF_PASSWORD not in result["data"]


async def test_homewizard_v1_errors_and_recovery(hass: HomeAssistant) -> None:
    async with HomeWizardV1Emulator() as p1:
        result = await _choose_meter(hass, "homewizard_p1_v1")
        # No password field: a HomeWizard has none.
        assert CONF_PASSWORD not in result["data_schema"].schema

        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: free_tcp_port()})
        assert result["errors"] == {CONF_HOST: "cannot_connect"}

        p1.faults.garbage = True
        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: p1.port})
        assert result["errors"] == {CONF_HOST: "wrong_meter"}

        p1.faults.clear()
        result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: p1.port})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == "HomeWizard HWE-P1"
        assert result["result"].unique_id == "meter_3c39e7aabbcc"


@pytest.fixture
async def homewizard_v2(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HomeWizardV2Emulator]:
    """A P1 meter on API v2; the flow trusts the emulator's test CA instead of HomeWizard's."""
    async with HomeWizardV2Emulator() as p1:
        trust_test_ca = functools.partial(async_homewizard_ssl_context, p1.ca_pem)
        monkeypatch.setattr(probe, "async_homewizard_ssl_context", trust_test_ca)
        monkeypatch.setattr(connection, "async_homewizard_ssl_context", trust_test_ca)
        yield p1


async def test_homewizard_v2_pairing(
    hass: HomeAssistant, homewizard_v2: HomeWizardV2Emulator
) -> None:
    result = await _choose_meter(hass, "homewizard_p1_v2")
    assert result["data_schema"]({CONF_HOST: LOOPBACK})[CONF_PORT] == 443
    result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: homewizard_v2.port})
    assert result["step_id"] == "pairing"
    assert result["description_placeholders"] == {"host": LOOPBACK}

    # Submitted without pressing the button: every retry is refused.
    result = await _configure(hass, result, {})
    assert result["errors"] == {"base": "button_not_pressed"}
    assert homewizard_v2.count("/api/user") == probe.PAIRING_ATTEMPTS

    homewizard_v2.press_button()
    result = await _configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "meter_5c2fafabcdef"
    token = result["data"][CONF_TOKEN]
    assert homewizard_v2.tokens[token].startswith("local/powershare#")


async def test_homewizard_v2_button_pressed_after_submit(
    hass: HomeAssistant, homewizard_v2: HomeWizardV2Emulator
) -> None:
    """The flow retries: a press during the retries still pairs."""
    result = await _choose_meter(hass, "homewizard_p1_v2")
    result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: homewizard_v2.port})
    original = request_token
    calls = 0

    async def press_on_second_try(*args: Any, **kwargs: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            homewizard_v2.press_button()
        return await original(*args, **kwargs)

    with patch.object(probe, "request_token", press_on_second_try):
        result = await _configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert calls == 2


# -- Home Assistant sensors as a meter ------------------------------------------------------


async def test_ha_current_sensors(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    hass.states.async_set("sensor.p1_current_l1", "5.1", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.p1_current_l2", "5100", {"unit_of_measurement": "mA"})
    hass.states.async_set("sensor.p1_power_l3", "1200", {"unit_of_measurement": "W"})
    # Registered but not loaded yet (its integration starts after ours): the registry's unit.
    entity_registry.async_get_or_create(
        "sensor", "dsmr", "l3", suggested_object_id="p1_current_l3", unit_of_measurement="A"
    )
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_currents")
    assert result["step_id"] == "ha_currents"

    user_input = {
        CONF_NAME: "Grid",
        "current_l1": "sensor.p1_current_l1",
        "current_l2": "sensor.missing",
        "current_l3": "sensor.p1_power_l3",
    }
    result = await _configure(hass, result, user_input)
    assert result["errors"] == {
        "current_l2": "entity_not_found",
        "current_l3": "unit_not_convertible",
    }

    user_input |= {"current_l2": "sensor.p1_current_l2", "current_l3": "sensor.p1_current_l3"}
    result = await _configure(hass, result, user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Grid"
    assert result["result"].unique_id == "meter_ha_sensors_sensor_p1_current_l1"
    assert result["data"] == {
        CONF_KIND: ENTRY_KIND_METER,
        CONF_MODEL: METER_MODEL_HA_SENSORS,
        CONF_CONNECTION: CONNECTION_HA_SENSORS,
        CONF_NAME: "Grid",
        CONF_CURRENT_ENTITIES: [
            "sensor.p1_current_l1",
            "sensor.p1_current_l2",
            "sensor.p1_current_l3",
        ],
        CONF_METER_ID: "ha_sensors_sensor_p1_current_l1",
    }


async def test_ha_sensors_make_a_single_phase_meter(hass: HomeAssistant) -> None:
    _power_states(hass)
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_currents")
    hass.states.async_set("sensor.current_l1", "12", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.current_l2", "3", {"unit_of_measurement": "A"})
    # L2 without L3 is neither a single-phase nor a three-phase meter.
    result = await _configure(
        hass,
        result,
        {CONF_NAME: "Grid", "current_l1": "sensor.current_l1", "current_l2": "sensor.current_l2"},
    )
    assert result["errors"] == {"current_l3": "phase_incomplete"}
    result = await _configure(hass, result, {CONF_NAME: "Grid", "current_l1": "sensor.current_l1"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CURRENT_ENTITIES] == ["sensor.current_l1"]

    # Power sensors: the voltages follow the meter's phases.
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_powers")
    one_phase = {CONF_NAME: "House", "power_l1": "sensor.power_l1"}
    result = await _configure(hass, result, {**one_phase, "voltage_l2": "sensor.voltage_l2"})
    assert result["errors"] == {"voltage_l1": "voltage_incomplete"}
    result = await _configure(
        hass,
        result,
        {**one_phase, "voltage_l1": "sensor.voltage_l1", "voltage_l2": "sensor.voltage_l2"},
    )
    assert result["errors"] == {"voltage_l2": "voltage_incomplete"}
    result = await _configure(hass, result, {**one_phase, "voltage_l1": "sensor.voltage_l1"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_POWER_ENTITIES] == ["sensor.power_l1"]
    assert result["data"][CONF_VOLTAGE_ENTITIES] == ["sensor.voltage_l1"]


def _power_states(hass: HomeAssistant) -> None:
    for phase in ("l1", "l2", "l3"):
        hass.states.async_set(f"sensor.power_{phase}", "-300", {"unit_of_measurement": "kW"})
        hass.states.async_set(f"sensor.voltage_{phase}", "231", {"unit_of_measurement": "V"})


async def test_ha_power_sensors_with_and_without_voltages(hass: HomeAssistant) -> None:
    _power_states(hass)
    powers = {f"power_{phase}": f"sensor.power_{phase}" for phase in ("l1", "l2", "l3")}
    voltages = {f"voltage_{phase}": f"sensor.voltage_{phase}" for phase in ("l1", "l2", "l3")}

    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_powers")
    result = await _configure(
        hass, result, {CONF_NAME: "Grid", **powers, "voltage_l1": "sensor.voltage_l1"}
    )
    assert result["errors"] == {"voltage_l2": "voltage_incomplete"}
    result = await _configure(hass, result, {CONF_NAME: "Grid", **powers, **voltages})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_POWER_ENTITIES] == list(powers.values())
    assert result["data"][CONF_VOLTAGE_ENTITIES] == list(voltages.values())

    # The same sensors as a second meter: refused.
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_powers")
    result = await _configure(hass, result, {CONF_NAME: "Again", **powers})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    hass.states.async_set("sensor.house_power", "100", {"unit_of_measurement": "W"})
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_powers")
    result = await _configure(
        hass, result, {CONF_NAME: "House", **powers, "power_l1": "sensor.house_power"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_VOLTAGE_ENTITIES not in result["data"]


# -- zeroconf -------------------------------------------------------------------------------


def _zeroconf(
    service: str, name: str, port: int, properties: dict[str, str] | None = None
) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(LOOPBACK),
        ip_addresses=[ip_address(LOOPBACK)],
        hostname=f"{name}.local.",
        name=f"{name}.{service}",
        port=port,
        type=service,
        properties=properties or {},
    )


def _homewizard(port: int, **properties: str) -> ZeroconfServiceInfo:
    return _zeroconf(
        HOMEWIZARD_V1_SERVICE,
        "p1meter-aabbcc",
        port,
        {"product_type": "HWE-P1", "serial": "3c39e7aabbcc", "path": "/api/v1", **properties},
    )


async def _discover(hass: HomeAssistant, info: ZeroconfServiceInfo) -> Any:
    return _checked(
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
        )
    )


async def test_zeroconf_homewizard(hass: HomeAssistant) -> None:
    async with HomeWizardV1Emulator() as p1:
        result = await _discover(hass, _homewizard(p1.port))
        assert result["step_id"] == "zeroconf_confirm"
        assert result["description_placeholders"] == {
            "model": "HomeWizard P1 meter (local API v1)",
            "host": LOOPBACK,
        }
        p1.faults.status = 500
        result = await _configure(hass, result, {})
        assert result["errors"] == {"base": "cannot_connect"}
        p1.faults.clear()
        result = await _configure(hass, result, {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "meter_3c39e7aabbcc"
        assert result["data"][CONF_PORT] == p1.port


async def test_zeroconf_updates_the_host_of_a_known_meter(hass: HomeAssistant) -> None:
    entry = _meter(
        hass,
        "3c39e7aabbcc",
        **{CONF_MODEL: "homewizard_p1_v1", CONF_HOST: "192.168.1.9", CONF_PORT: 80},
    )
    result = await _discover(hass, _homewizard(80))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == LOOPBACK


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        (_homewizard(80, product_type="HWE-SKT"), "not_supported_device"),
        (_homewizard(80, serial=""), "invalid_discovery"),
        (
            _zeroconf("_shelly._tcp.local.", "shellyplus1pm-a8032ab12345", 80),
            "not_supported_device",
        ),
    ],
)
async def test_zeroconf_ignores_what_it_cannot_use(
    hass: HomeAssistant, info: ZeroconfServiceInfo, reason: str
) -> None:
    result = await _discover(hass, info)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_zeroconf_shelly_pro_3em_asks_its_password(hass: HomeAssistant) -> None:
    async with ShellyPro3EmRpcEmulator(password=PASSWORD) as shelly:
        info = _zeroconf("_shelly._tcp.local.", "ShellyPro3EM-34987A6789AB", shelly.port)
        result = await _discover(hass, info)
        assert result["step_id"] == "zeroconf_confirm"
        assert CONF_PASSWORD in result["data_schema"].schema
        result = await _configure(hass, result, {CONF_PASSWORD: "wrong"})
        assert result["errors"] == {CONF_PASSWORD: "invalid_auth"}
        result = await _configure(hass, result, {CONF_PASSWORD: PASSWORD})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "meter_34987a6789ab"


@pytest.mark.parametrize(
    ("service", "properties"),
    [
        (HOMEWIZARD_V2_SERVICE, {}),
        (HOMEWIZARD_V1_SERVICE, {"api_version": "2.0.0"}),
    ],
)
async def test_zeroconf_homewizard_v2_pairs(
    hass: HomeAssistant,
    homewizard_v2: HomeWizardV2Emulator,
    service: str,
    properties: dict[str, str],
) -> None:
    info = _zeroconf(
        service,
        "p1meter-abcdef",
        homewizard_v2.port,
        {"product_type": "HWE-P1", "serial": "5c2fafabcdef", **properties},
    )
    result = await _discover(hass, info)
    assert result["description_placeholders"]["model"] == "HomeWizard P1 meter (API v2, HTTPS)"
    result = await _configure(hass, result, {})
    assert result["step_id"] == "pairing"
    homewizard_v2.press_button()
    result = await _configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL] == "homewizard_p1_v2"


# -- groups ---------------------------------------------------------------------------------


async def test_root_group(hass: HomeAssistant) -> None:
    result = await _start(hass, "group")
    assert result["step_id"] == "group"
    # No meter and no other group yet: those pickers are not shown.
    assert CONF_METER not in result["data_schema"].schema
    assert CONF_PARENT not in result["data_schema"].schema

    result = await _configure(
        hass,
        result,
        {CONF_NAME: "Main fuse", CONF_FUSE: 25, CONF_METER_INCLUDES_CHARGERS: True},
    )
    assert result["step_id"] == "group_site"
    result = await _configure(
        hass,
        result,
        {CONF_NETWORK: "3x230", CONF_SOLAR_RESERVE: 500, CONF_IMPORT_ALLOWANCE: 200},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Main fuse"
    assert result["result"].unique_id == "group_main_fuse"
    assert result["data"] == {
        CONF_KIND: ENTRY_KIND_GROUP,
        CONF_NAME: "Main fuse",
        CONF_FUSE: [25.0, 25.0, 25.0],
        CONF_METER_INCLUDES_CHARGERS: True,
        CONF_NETWORK: "3x230",
        CONF_SOLAR_RESERVE: 500.0,
        CONF_IMPORT_ALLOWANCE: 200.0,
        CONF_PEAK_MODE: "off",
        CONF_PEAK_FLOOR: 2.5,
        CONF_PEAK_WINDOW: 15,
    }


@pytest.mark.parametrize("name", ["", "   ", "!!"])
async def test_a_group_needs_a_name(hass: HomeAssistant, name: str) -> None:
    result = await _start(hass, "group")
    result = await _configure(
        hass, result, {CONF_NAME: name, CONF_FUSE: 25, CONF_METER_INCLUDES_CHARGERS: True}
    )
    assert result["errors"] == {CONF_NAME: "name_required"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_a_group_name_is_stored_without_surrounding_blanks(hass: HomeAssistant) -> None:
    result = await _start(hass, "group")
    result = await _configure(
        hass,
        result,
        {CONF_NAME: "  Garage  ", CONF_FUSE: 25, CONF_METER_INCLUDES_CHARGERS: True},
    )
    assert result["step_id"] == "group_site"
    result = await _configure(
        hass, result, {CONF_NETWORK: "3x400", CONF_SOLAR_RESERVE: 0, CONF_IMPORT_ALLOWANCE: 0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["result"].unique_id == "group_garage"


async def test_group_validation_and_recovery(hass: HomeAssistant) -> None:
    meter_a = _meter(hass, "a")
    meter_b = _meter(hass, "b")
    root = _group(hass, meter=meter_a.entry_id)
    result = await _start(hass, "group")
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Main fuse",
            CONF_FUSE: 2,
            "fuse_l2": 25,
            CONF_METER: meter_a.entry_id,
            CONF_METER_INCLUDES_CHARGERS: True,
        },
    )
    assert result["errors"] == {
        CONF_NAME: "name_in_use",
        CONF_FUSE: "fuse_out_of_range",
        "fuse_l3": "fuse_incomplete",
        CONF_METER: "meter_in_use",
        CONF_PARENT: "root_exists",
    }

    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Garage",
            CONF_FUSE: 16,
            "fuse_l2": 16,
            "fuse_l3": 5000,
            CONF_MAX_POWER: 7000,
            CONF_METER: meter_b.entry_id,
            CONF_METER_INCLUDES_CHARGERS: False,
            CONF_PARENT: root.entry_id,
        },
    )
    assert result["errors"] == {"fuse_l3": "fuse_out_of_range"}

    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Garage",
            CONF_FUSE: 16,
            "fuse_l2": 16,
            "fuse_l3": 20,
            CONF_MAX_POWER: 7000,
            CONF_METER: meter_b.entry_id,
            CONF_METER_INCLUDES_CHARGERS: False,
            CONF_PARENT: root.entry_id,
        },
    )
    # A group under a parent has no site settings: created at once.
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_KIND: ENTRY_KIND_GROUP,
        CONF_NAME: "Garage",
        CONF_FUSE: [16.0, 16.0, 20.0],
        CONF_MAX_POWER: 7000,
        CONF_METER: meter_b.entry_id,
        CONF_METER_INCLUDES_CHARGERS: False,
        CONF_PARENT: root.entry_id,
    }


async def test_reconfigure_groups(hass: HomeAssistant) -> None:
    root = _group(hass)
    child = _group(hass, "Garage", parent=root.entry_id)
    grandchild = _group(hass, "Carport", parent=child.entry_id)

    # The root cannot move under its own grandchild.
    result = _checked(await root.start_reconfigure_flow(hass))
    assert result["step_id"] == "group"
    assert CONF_NAME not in result["data_schema"].schema
    result = await _configure(
        hass,
        result,
        {CONF_FUSE: 25, CONF_METER_INCLUDES_CHARGERS: True, CONF_PARENT: grandchild.entry_id},
    )
    assert result["errors"] == {CONF_PARENT: "parent_cycle"}

    # It stays the root: its site settings come next, prefilled.
    result = await _configure(hass, result, {CONF_FUSE: 35, CONF_METER_INCLUDES_CHARGERS: True})
    assert result["step_id"] == "group_site"
    result = await _configure(
        hass,
        result,
        {CONF_NETWORK: "3x400", CONF_SOLAR_RESERVE: 0, CONF_IMPORT_ALLOWANCE: 100},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert root.data[CONF_FUSE] == [35.0, 35.0, 35.0]
    assert root.data[CONF_IMPORT_ALLOWANCE] == 100.0

    # The grandchild moves up, directly under the root.
    result = _checked(await grandchild.start_reconfigure_flow(hass))
    result = await _configure(
        hass,
        result,
        {CONF_FUSE: 20, CONF_METER_INCLUDES_CHARGERS: True, CONF_PARENT: root.entry_id},
    )
    assert result["reason"] == "reconfigure_successful"
    assert grandchild.data[CONF_PARENT] == root.entry_id
    assert grandchild.data[CONF_NAME] == "Carport"
    await hass.async_block_till_done()


# -- reconfigure devices ----------------------------------------------------------------------


def _charger_entry(hass: HomeAssistant, serial: int, **connection: Any) -> MockConfigEntry:
    group = _group(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"TeltoCharge {serial}",
        data={
            CONF_KIND: ENTRY_KIND_CHARGER,
            CONF_SERIAL_NUMBER: serial,
            **connection,
            **CHARGER_SETTINGS,
            CONF_WIRING: 3,
            CONF_GROUP: group.entry_id,
        },
        unique_id=f"teltocharge_{serial}",
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize(
    ("charger_type", "first_step"), [("v2c_trydan", "v2c"), ("ha_entities", "ha_charger")]
)
async def test_reconfigure_starts_where_the_kind_of_charger_is_reached(
    hass: HomeAssistant, charger_type: str, first_step: str
) -> None:
    entry = _charger_entry(
        hass, 7, **{CONF_CHARGER_TYPE: charger_type, CONF_HOST: LOOPBACK, CONF_PORT: 80}
    )
    result = _checked(await entry.start_reconfigure_flow(hass))
    assert result["step_id"] == first_step


async def test_reconfigure_charger_over_tcp(
    hass: HomeAssistant, charger: tuple[TeltoChargeEmulator, int]
) -> None:
    _, port = charger
    entry = _charger_entry(
        hass, CHARGER_SERIAL, **{CONF_CONNECTION: CONNECTION_TCP, **_tcp(502, host="10.0.0.7")}
    )
    garage = _group(hass, "Garage", parent=entry.data[CONF_GROUP])
    result = _checked(await entry.start_reconfigure_flow(hass))
    assert result["step_id"] == "tcp"
    assert result["data_schema"]({})[CONF_HOST] == "10.0.0.7"
    result = await _configure(hass, result, _tcp(port))
    # The charger's settings follow, as they are now; it moves to another group.
    assert result["step_id"] == "charger_settings"
    settings = result["data_schema"]({})
    assert settings[CONF_ROTATION] == "L2L3L1"
    assert settings[CONF_WIRING] == "3"
    result = await _configure(hass, result, {**settings, CONF_GROUP: garage.entry_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == LOOPBACK
    assert entry.data[CONF_PORT] == port
    assert entry.data[CONF_GROUP] == garage.entry_id
    assert entry.data[CONF_SERIAL_NUMBER] == CHARGER_SERIAL
    await hass.async_block_till_done()


async def test_reconfigure_refuses_another_charger(
    hass: HomeAssistant, charger: tuple[TeltoChargeEmulator, int]
) -> None:
    _, port = charger
    entry = _charger_entry(hass, 2002, **{CONF_CONNECTION: CONNECTION_TCP, **_tcp(502)})
    result = _checked(await entry.start_reconfigure_flow(hass))
    result = await _configure(hass, result, _tcp(port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unique_id_mismatch"
    assert entry.data[CONF_PORT] == 502


async def test_reconfigure_charger_over_serial(
    hass: HomeAssistant, comports: list[ListPortInfo], charger_rtu: str
) -> None:
    entry = _charger_entry(
        hass,
        CHARGER_SERIAL,
        **{
            CONF_CONNECTION: CONNECTION_SERIAL,
            CONF_SERIAL_PORT: "/dev/ttyUSB0",
            CONF_BAUDRATE: 9600,
            CONF_PARITY: "N",
            CONF_STOPBITS: 1,
            CONF_UNIT_ID: 1,
        },
    )
    result = _checked(await entry.start_reconfigure_flow(hass))
    assert result["step_id"] == "serial"
    user_input = result["data_schema"]({CONF_SERIAL_PORT: charger_rtu})
    result = await _configure(hass, result, user_input)
    result = await _configure(hass, result, result["data_schema"]({}))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_SERIAL_PORT] == charger_rtu
    assert entry.data[CONF_PARITY] == "N"  # offered as "n" (a translation key), stored as before
    await hass.async_block_till_done()


async def test_reconfigure_http_meter(hass: HomeAssistant) -> None:
    entry = _meter(
        hass,
        "34987a6789ab",
        **{
            CONF_MODEL: "shelly_pro_3em_http",
            CONF_CONNECTION: CONNECTION_HTTP,
            CONF_HOST: "10.0.0.8",
            CONF_PORT: 80,
            CONF_PASSWORD: "old",
        },
    )
    async with ShellyPro3EmRpcEmulator(password=PASSWORD) as shelly:
        result = _checked(await entry.start_reconfigure_flow(hass))
        assert result["step_id"] == "http"
        result = await _configure(
            hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: shelly.port, CONF_PASSWORD: PASSWORD}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
    assert entry.data[CONF_HOST] == LOOPBACK
    assert entry.data[CONF_PASSWORD] == PASSWORD


def _as_shown(schema: vol.Schema) -> dict[str, Any]:
    """What the form sends when submitted as shown: defaults and suggested values."""
    shown = schema({})
    for key in schema.schema:
        suggested = (key.description or {}).get("suggested_value")
        if suggested is not None:
            shown[str(key)] = suggested
    return dict(shown)


async def test_reconfigure_ha_sensor_meters(hass: HomeAssistant) -> None:
    _power_states(hass)
    for phase in ("l1", "l2", "l3"):
        hass.states.async_set(f"sensor.current_{phase}", "3", {"unit_of_measurement": "A"})
    currents = _meter(
        hass,
        "ha_sensors_sensor_x",
        **{
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: "Grid",
            CONF_CURRENT_ENTITIES: ["sensor.x", "sensor.y", "sensor.z"],
        },
    )
    result = _checked(await currents.start_reconfigure_flow(hass))
    assert result["step_id"] == "ha_currents"
    # L2 and L3 are optional (a single-phase meter): suggested, so that clearing them sticks.
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if str(key) in ("current_l2", "current_l3")
    }
    assert suggested == {"current_l2": "sensor.y", "current_l3": "sensor.z"}
    result = await _configure(
        hass,
        result,
        {CONF_NAME: "Grid", **{f"current_{p}": f"sensor.current_{p}" for p in ("l1", "l2", "l3")}},
    )
    assert result["reason"] == "reconfigure_successful"
    assert currents.data[CONF_CURRENT_ENTITIES][0] == "sensor.current_l1"
    assert currents.data[CONF_METER_ID] == "ha_sensors_sensor_x"

    powers = _meter(
        hass,
        "ha_sensors_sensor_power_l1",
        **{
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: "Grid powers",
            CONF_POWER_ENTITIES: ["sensor.power_l1", "sensor.power_l2", "sensor.power_l3"],
            CONF_VOLTAGE_ENTITIES: ["sensor.voltage_l1", "sensor.voltage_l2", "sensor.voltage_l3"],
        },
    )
    result = _checked(await powers.start_reconfigure_flow(hass))
    assert result["step_id"] == "ha_powers"
    result = await _configure(hass, result, _as_shown(result["data_schema"]))
    assert result["reason"] == "reconfigure_successful"
    assert powers.data[CONF_POWER_ENTITIES][2] == "sensor.power_l3"
    assert powers.data[CONF_VOLTAGE_ENTITIES][2] == "sensor.voltage_l3"
    await hass.async_block_till_done()


# -- options --------------------------------------------------------------------------------


async def _options(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    return _checked(await hass.config_entries.options.async_init(entry.entry_id), "options")


async def _options_configure(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    return _checked(
        await hass.config_entries.options.async_configure(result["flow_id"], user_input),
        "options",
    )


@pytest.mark.parametrize(("kind", "default"), [(ENTRY_KIND_CHARGER, 2.0), (ENTRY_KIND_METER, 1.0)])
async def test_device_poll_interval(hass: HomeAssistant, kind: str, default: float) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_KIND: kind})
    entry.add_to_hass(hass)
    result = await _options(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"]({})[CONF_POLL_INTERVAL] == default
    result = await _options_configure(hass, result, {CONF_POLL_INTERVAL: 5})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_POLL_INTERVAL: 5.0}


async def test_root_group_tunables(hass: HomeAssistant) -> None:
    root = _group(hass)
    result = await _options(hass, root)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["site", "tariff", "solar_forecast"]
    result = await _options_configure(hass, result, {"next_step_id": "site"})
    assert result["step_id"] == "site"
    defaults = result["data_schema"]({})
    assert defaults[CONF_MARGIN] == 1.0
    assert defaults["meter_timeout_s"] == 15.0
    assert defaults["max_phase_switches_per_hour"] == 4

    result = await _options_configure(hass, result, {**defaults, "failsafe_current_a": 3})
    assert result["errors"] == {"failsafe_current_a": "failsafe_current_invalid"}
    result = await _options_configure(
        hass, result, {**defaults, "max_phase_switches_per_hour": 2.5}
    )
    assert result["errors"] == {"max_phase_switches_per_hour": "whole_number"}
    result = await _options_configure(
        hass, result, {**defaults, "failsafe_current_a": 0, CONF_MARGIN: 2.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert root.options["failsafe_current_a"] == 0
    assert isinstance(root.options["max_phase_switches_per_hour"], int)
    assert root.options[CONF_MARGIN] == 2.5
    assert set(root.options) == {CONF_MARGIN, *GROUP_TUNABLES}


async def test_sub_group_has_no_site_settings(hass: HomeAssistant) -> None:
    root = _group(hass)
    child = _group(hass, "Garage", parent=root.entry_id)
    result = await _options(hass, child)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == OPTIONS_ABORT_NOT_ROOT


async def test_homewizard_v2_lost_after_pairing(
    hass: HomeAssistant, homewizard_v2: HomeWizardV2Emulator
) -> None:
    """The meter fails right after handing out its token: an error, then a retry works."""
    result = await _choose_meter(hass, "homewizard_p1_v2")
    result = await _configure(hass, result, {CONF_HOST: LOOPBACK, CONF_PORT: homewizard_v2.port})
    homewizard_v2.press_button()
    original = request_token

    async def fail_after_token(*args: Any, **kwargs: Any) -> str:
        token = await original(*args, **kwargs)
        homewizard_v2.faults.status = 500
        return token

    with patch.object(probe, "request_token", fail_after_token):
        result = await _configure(hass, result, {})
    assert result["step_id"] == "pairing"
    assert result["errors"] == {"base": "cannot_connect"}

    homewizard_v2.faults.clear()
    result = await _configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(homewizard_v2.tokens) == 2


async def test_root_group_capacity_tariff_is_checked(hass: HomeAssistant) -> None:
    # A 25 A three-phase connection carries 17.25 kW: the highest peak limit.
    result = await _start(hass, "group")
    result = await _configure(
        hass, result, {CONF_NAME: "Main fuse", CONF_FUSE: 25, CONF_METER_INCLUDES_CHARGERS: True}
    )
    site = {
        CONF_NETWORK: "3x400",
        CONF_SOLAR_RESERVE: 0,
        CONF_IMPORT_ALLOWANCE: 0,
        CONF_PEAK_FLOOR: 2.5,
    }
    assert result["description_placeholders"] == {"most_kw": "17.2"}
    for limit, floor in ((0.5, 2.5), (18.0, 2.5), (4.0, 0.9)):
        result = _checked(
            await _configure(
                hass,
                result,
                {**site, CONF_PEAK_MODE: "off", CONF_PEAK_LIMIT: limit, CONF_PEAK_FLOOR: floor},
            )
        )
        wrong = CONF_PEAK_LIMIT if floor == 2.5 else CONF_PEAK_FLOOR
        assert result["errors"] == {wrong: "peak_limit_out_of_range"}
    result = _checked(await _configure(hass, result, {**site, CONF_PEAK_MODE: "fixed"}))
    # No limit for "fixed", and no meter at this group to count the energy with.
    assert result["errors"] == {
        CONF_PEAK_LIMIT: "peak_limit_required",
        CONF_PEAK_MODE: "peak_needs_meter",
    }
    # Nothing was lost: off is stored with the user's other site settings.
    result = await _configure(hass, result, {**site, CONF_PEAK_MODE: "off", CONF_PEAK_WINDOW: "60"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PEAK_WINDOW] == 60


async def test_root_group_with_a_meter_takes_a_month_peak_budget(hass: HomeAssistant) -> None:
    meter = _meter(hass)
    result = await _start(hass, "group")
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Main fuse",
            CONF_FUSE: 25,
            CONF_METER: meter.entry_id,
            CONF_METER_INCLUDES_CHARGERS: True,
        },
    )
    result = await _configure(
        hass,
        result,
        {
            CONF_NETWORK: "3x400",
            CONF_SOLAR_RESERVE: 0,
            CONF_IMPORT_ALLOWANCE: 0,
            CONF_PEAK_MODE: "month_peak",
            CONF_PEAK_FLOOR: 3.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert (data[CONF_PEAK_MODE], data[CONF_PEAK_FLOOR], data[CONF_PEAK_WINDOW]) == (
        "month_peak",
        3.0,
        15,
    )
    assert CONF_PEAK_LIMIT not in data


async def test_ha_sensors_take_the_meters_own_capacity_tariff_figures(hass: HomeAssistant) -> None:
    _power_states(hass)
    hass.states.async_set("sensor.p1_import", "12345.6", {"unit_of_measurement": "kWh"})
    hass.states.async_set("sensor.p1_average", "1.2", {"unit_of_measurement": "kW"})
    powers = {f"power_{phase}": f"sensor.power_{phase}" for phase in ("l1", "l2", "l3")}
    result = await _menu(hass, await _choose_meter(hass, METER_MODEL_HA_SENSORS), "ha_powers")
    result = _checked(
        await _configure(
            hass,
            result,
            {
                CONF_NAME: "P1",
                **powers,
                "import_energy_entity": "sensor.p1_average",  # a power is not an energy
                "average_demand_entity": "sensor.p1_average",
            },
        )
    )
    assert result["errors"] == {"import_energy_entity": "unit_not_convertible"}
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "P1",
            **powers,
            "import_energy_entity": "sensor.p1_import",
            "average_demand_entity": "sensor.p1_average",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["import_energy_entity"] == "sensor.p1_import"
    assert result["data"]["average_demand_entity"] == "sensor.p1_average"
    assert "month_peak_entity" not in result["data"]


async def test_a_group_from_its_contracted_power(hass: HomeAssistant) -> None:
    result = await _start(hass, "group")
    base = {CONF_NAME: "Main fuse", CONF_METER_INCLUDES_CHARGERS: True}
    for wrong in ({}, {CONF_FUSE: 25, CONF_CONTRACTED_POWER: 7.4}):
        result = _checked(await _configure(hass, result, {**base, **wrong}))
        assert result["errors"] == {CONF_FUSE: "fuse_or_contracted_power"}
    result = _checked(await _configure(hass, result, {**base, CONF_CONTRACTED_POWER: 0.5}))
    assert result["errors"] == {CONF_CONTRACTED_POWER: "contracted_power_out_of_range"}
    # 9.2 kW single-phase: 9200 / 230 = 40 A, shown before it is used.
    result = _checked(
        await _configure(
            hass, result, {**base, CONF_CONTRACTED_POWER: 9.2, CONF_SUPPLY: "single_phase"}
        )
    )
    assert result["step_id"] == "group_contracted"
    assert result["description_placeholders"] == {
        "kw": "9.2",
        "amps": "40.0",
        "formula": "kW x 1000 / 230",
    }
    result = await _configure(hass, result, {})
    assert result["step_id"] == "group_site"
    result = await _configure(
        hass, result, {CONF_NETWORK: "1x230", CONF_SOLAR_RESERVE: 0, CONF_IMPORT_ALLOWANCE: 0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_FUSE] == [40.0, 40.0, 40.0]
    assert (data[CONF_CONTRACTED_POWER], data[CONF_SUPPLY]) == (9.2, "single_phase")


def test_contracted_power_follows_the_v2c_guides_formulas() -> None:
    # Three-phase: kW x 1000 / (sqrt(3) x 400 x 0.95); 7.4 kW gives 11.24 A per phase.
    assert contracted_amps(7.4, "three_phase") == pytest.approx(11.243, abs=1e-3)
    assert contracted_amps(9.2, "single_phase") == pytest.approx(40.0)
