"""A V2C Trydan in Home Assistant: found by the config flow, balanced, released."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.powershare.const import (
    CHARGER_V2C_TRYDAN,
    CONF_CHARGER_TYPE,
    CONF_GROUP,
)
from custom_components.powershare.hub import async_get_hub
from simulators.meters.homewizard import HomeWizardV1Emulator
from simulators.modbus_server import free_tcp_port
from simulators.v2c import TrydanEmulator, TrydanState
from tests.integration.test_config_flow import (
    CHARGER_SETTINGS,
    _checked,
    _configure,
    _group,
    _menu,
    _start,
)


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """The emulators listen on 127.0.0.1."""


@pytest.fixture
async def trydan() -> AsyncIterator[TrydanEmulator]:
    async with TrydanEmulator(TrydanState(phases=3, max_intensity_a=32)) as running:
        yield running


async def test_a_trydan_is_identified_added_and_balanced(
    hass: HomeAssistant, trydan: TrydanEmulator
) -> None:
    group = _group(hass)
    result = _checked(await _menu(hass, await _start(hass, "charger"), "v2c"))
    assert result["step_id"] == "v2c"

    # Nothing there, then a device that is not a Trydan: clear errors, the form again.
    result = _checked(
        await _configure(hass, result, {CONF_HOST: "127.0.0.1", CONF_PORT: free_tcp_port()})
    )
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    async with HomeWizardV1Emulator() as p1:
        result = _checked(
            await _configure(hass, result, {CONF_HOST: "127.0.0.1", CONF_PORT: p1.port})
        )
    assert result["errors"] == {"base": "not_a_v2c"}

    result = _checked(
        await _configure(hass, result, {CONF_HOST: "127.0.0.1", CONF_PORT: trydan.port})
    )
    assert result["step_id"] == "charger_settings"
    result = await _configure(hass, result, {**CHARGER_SETTINGS, CONF_GROUP: group.entry_id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "V2C Trydan EMU123"
    assert result["result"].unique_id == "v2c_EMU123"
    assert result["data"][CONF_CHARGER_TYPE] == CHARGER_V2C_TRYDAN
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # A car arrives. The group has no meter: a fuse of 25 A, the charger's 16 A maximum.
    trydan.charger.intensity_a = 6
    trydan.charger.plug_in()
    await entry.runtime_data.coordinator.async_refresh()
    await async_get_hub(hass).balancing.async_run_cycle()
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    assert decision.chargers[entry.entry_id].target_current == 16
    assert trydan.charger.intensity_a == 16

    # Removed: no watchdog, so the failsafe current (6 A) is written on the way out.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert trydan.charger.intensity_a == 6
