"""Adding a charger that another integration brings: the device, the preset, the entities."""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest.mock import patch

import pytest
from fake_charger import DOMAIN as FAKE
from fake_charger import FakeCharger, async_setup_fake_charger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr

from custom_components.powershare.const import (
    CHARGER_HA_ENTITIES,
    CONF_CHARGER_TYPE,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_GROUP,
    CONF_KIND,
    CONF_PRESET,
    ENTRY_KIND_CHARGER,
)
from custom_components.powershare.entity_charger import CUSTOM, PRESETS
from custom_components.powershare.entity_charger.presets import Match, Pause
from tests.integration.test_config_flow import (
    CHARGER_SETTINGS,
    _checked,
    _configure,
    _group,
    _menu,
    _start,
)

LIMIT = "number.fake_charger_charge_limit"
CURRENTS = [f"sensor.fake_charger_current_l{phase}" for phase in (1, 2, 3)]


async def _device(hass: HomeAssistant) -> str:
    entry = await async_setup_fake_charger(hass, FakeCharger())
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return devices[0].id


async def _entities_step(hass: HomeAssistant, device_id: str, preset: str = "auto") -> Any:
    result = await _menu(hass, await _start(hass, "charger"), "ha_charger")
    _checked(result)
    result = await _configure(hass, result, {CONF_DEVICE_ID: device_id, CONF_PRESET: preset})
    return _checked(result)


async def test_a_charger_picked_entity_by_entity(hass: HomeAssistant) -> None:
    group = _group(hass)
    device_id = await _device(hass)
    result = await _entities_step(hass, device_id)  # no preset for this integration: by hand
    assert result["step_id"] == "ha_charger_entities"
    assert result["description_placeholders"]["preset"] == CUSTOM.name

    # An entity of the wrong kind does not pass the form's selectors.
    with pytest.raises(InvalidData):
        await _configure(hass, result, {"limit": CURRENTS[0], "current_l1": CURRENTS[0]})
    # Each other mistake is refused on its field, nothing is lost.
    for user_input, errors in (
        (
            {"limit": LIMIT, "current_l1": CURRENTS[0], "current_l2": CURRENTS[1]},
            {"current_l3": "phase_incomplete"},
        ),
        (
            {"limit": LIMIT, "power": "sensor.fake_charger_status"},
            {"power": "unit_not_convertible"},
        ),
        ({"limit": LIMIT, "power": "sensor.nowhere"}, {"power": "entity_not_found"}),
        ({"limit": LIMIT}, {"base": "no_usage"}),
    ):
        result = _checked(await _configure(hass, result, user_input))
        assert result["errors"] == errors, user_input

    chosen = {
        "limit": LIMIT,
        "current_l1": CURRENTS[0],
        "current_l2": CURRENTS[1],
        "current_l3": CURRENTS[2],
        "status": "sensor.fake_charger_status",
        "pause": "switch.fake_charger_charging",
    }
    result = _checked(await _configure(hass, result, chosen))
    assert result["step_id"] == "charger_settings"
    assert result["description_placeholders"] == {"name": "Fake charger"}
    result = await _configure(hass, result, {**CHARGER_SETTINGS, CONF_GROUP: group.entry_id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Fake charger"
    assert result["result"].unique_id == f"ha_charger_{device_id}"
    data = result["data"]
    assert data[CONF_KIND] == ENTRY_KIND_CHARGER
    assert data[CONF_CHARGER_TYPE] == CHARGER_HA_ENTITIES
    assert data[CONF_DEVICE_ID] == device_id
    assert data[CONF_PRESET] == CUSTOM.key
    assert data[CONF_ENTITIES] == {
        "limit": LIMIT,
        "currents": CURRENTS,
        "power": None,
        "status": "sensor.fake_charger_status",
        "plug": None,
        "pause": "switch.fake_charger_charging",
        "phase": None,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED

    # The same device again: refused.
    again = await _entities_step(hass, device_id)
    result = await _configure(hass, again, chosen)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_a_preset_fills_in_the_entities_it_finds(hass: HomeAssistant) -> None:
    _group(hass)
    device_id = await _device(hass)
    preset = dataclasses.replace(
        CUSTOM,
        key=FAKE,
        name="Fake",
        domain=FAKE,
        limit=Match("number", translation_key="charge_limit"),
        currents=tuple(Match("sensor", suffix=f"_current_l{phase}") for phase in (1, 2, 3)),
        pause=Pause(match=Match("switch", translation_key="charging")),
        phase_switch=None,
    )
    with patch.dict(PRESETS, {FAKE: preset}):
        result = await _entities_step(hass, device_id)
    assert result["description_placeholders"]["preset"] == "Fake"
    suggested = {
        str(marker): marker.description["suggested_value"]
        for marker in result["data_schema"].schema
        if marker.description and marker.description.get("suggested_value")
    }
    assert suggested == {
        "limit": LIMIT,
        "current_l1": CURRENTS[0],
        "current_l2": CURRENTS[1],
        "current_l3": CURRENTS[2],
        "pause": "switch.fake_charger_charging",
    }


async def test_without_a_device_a_preset_must_be_chosen(hass: HomeAssistant) -> None:
    _group(hass)
    result = await _menu(hass, await _start(hass, "charger"), "ha_charger")
    result = _checked(await _configure(hass, result, {CONF_PRESET: "auto"}))
    assert result["errors"] == {CONF_DEVICE_ID: "device_required"}


async def test_a_preset_other_than_keba_needs_its_device(hass: HomeAssistant) -> None:
    _group(hass)
    result = await _menu(hass, await _start(hass, "charger"), "ha_charger")
    result = _checked(await _configure(hass, result, {CONF_PRESET: "ocpp"}))
    assert result["errors"] == {CONF_DEVICE_ID: "device_required"}
    result = _checked(await _configure(hass, result, {CONF_PRESET: "keba"}))
    assert result["step_id"] == "ha_charger_entities"  # KEBA has no device


async def test_keba_phase_currents_in_a_kw_sensor_pass(hass: HomeAssistant) -> None:
    # KEBA's phase currents are attributes in A of its charging power sensor, in kW.
    _group(hass)
    hass.states.async_set("sensor.keba_charging_power", "3.7", {"unit_of_measurement": "kW"})
    result = await _menu(hass, await _start(hass, "charger"), "ha_charger")
    result = _checked(await _configure(hass, result, {CONF_PRESET: "keba"}))
    power = "sensor.keba_charging_power"
    result = _checked(
        await _configure(
            hass, result, {"current_l1": power, "current_l2": power, "current_l3": power}
        )
    )
    assert result["step_id"] == "charger_settings"
