"""Runtime paths: a device absent at start, the charger's own app, sensors as a meter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from emulated_site import Site
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.connection import modbus_endpoint
from custom_components.powershare.const import (
    CONF_CONNECTION,
    CONF_CURRENT_ENTITIES,
    CONF_FUSE,
    CONF_KIND,
    CONF_METER,
    CONF_MODEL,
    CONF_NAME,
    CONF_POWER_ENTITIES,
    CONF_UNIT_ID,
    CONF_VOLTAGE_ENTITIES,
    CONNECTION_HA_SENSORS,
    CONNECTION_TCP,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    METER_MODEL_HA_SENSORS,
)
from custom_components.powershare.hub import async_get_hub
from simulators.modbus_server import free_tcp_port
from simulators.teltocharge import AMPS_TO_USE, LOCK_MODE

CURRENTS = ["sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3"]
POWERS = ["sensor.grid_power_l1", "sensor.grid_power_l2", "sensor.grid_power_l3"]
VOLTAGES = ["sensor.grid_voltage_l1", "sensor.grid_voltage_l2", "sensor.grid_voltage_l3"]


async def test_charger_absent_at_start_is_retried(hass: HomeAssistant, socket_enabled: Any) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="TeltoCharge 1",
        unique_id="teltocharge_1",
        data={
            CONF_KIND: ENTRY_KIND_CHARGER,
            CONF_CONNECTION: CONNECTION_TCP,
            "host": "127.0.0.1",
            "port": free_tcp_port(),  # nothing listens there
            CONF_UNIT_ID: 1,
            "group": "missing",
        },
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # The bus was given back: nothing keeps a connection to the absent device.
    assert async_get_hub(hass).buses.users(modbus_endpoint(entry.data)) == 0


async def test_what_the_charger_app_changes_is_set_back(hass: HomeAssistant, site: Site) -> None:
    await site.charge_a_16_a_car()
    assert site.charger.settings[AMPS_TO_USE] == 16
    site.charger.settings[AMPS_TO_USE] = 32  # someone used the TeltoCharge app
    site.charger.settings[19] = 0  # and switched the watchdog off
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 16
    assert site.charger.settings[19] == 30


def _sensor(hass: HomeAssistant, entity_id: str, value: float | str, unit: str) -> None:
    hass.states.async_set(entity_id, str(value), {"unit_of_measurement": unit})


async def _sensor_site(
    hass: HomeAssistant, data: dict[str, Any], **options: Any
) -> MockConfigEntry:
    meter = MockConfigEntry(
        domain=DOMAIN,
        title="Grid sensors",
        unique_id="meter_grid_sensors",
        data={
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: "Grid sensors",
            **data,
        },
    )
    meter.add_to_hass(hass)
    group = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        unique_id="group_main_fuse",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Main fuse",
            CONF_FUSE: [25.0, 25.0, 25.0],
            CONF_METER: meter.entry_id,
        },
        options=options,
    )
    group.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    return group


async def test_current_sensors_as_a_meter(hass: HomeAssistant) -> None:
    for entity_id, value in zip(CURRENTS, (8.0, 4500.0, -2.5), strict=True):
        _sensor(hass, entity_id, value, "mA" if value == 4500.0 else "A")
    group = await _sensor_site(hass, {CONF_CURRENT_ENTITIES: CURRENTS})
    await async_get_hub(hass).balancing.async_run_cycle()
    figures = async_get_hub(hass).balancing.decision.groups[group.entry_id]
    assert figures.meter == pytest.approx((8.0, 4.5, -2.5))  # mA converted, export negative
    assert hass.states.get("sensor.grid_sensors_current_l2").state == "4.5"

    _sensor(hass, CURRENTS[0], 11.0, "A")  # a state change updates the meter at once
    await hass.async_block_till_done()
    assert hass.states.get("sensor.grid_sensors_current_l1").state == "11.0"


async def test_one_current_sensor_is_a_single_phase_meter(hass: HomeAssistant) -> None:
    _sensor(hass, CURRENTS[0], 14.0, "A")
    group = await _sensor_site(hass, {CONF_CURRENT_ENTITIES: CURRENTS[:1]})
    service = async_get_hub(hass).balancing
    await service.async_run_cycle()
    figures = service.decision.groups[group.entry_id]
    # The site has L1 only: nothing is drawn on L2 and L3.
    assert figures.meter == pytest.approx((14.0, 0.0, 0.0))
    assert not figures.meter_stale
    assert hass.states.get("sensor.grid_sensors_current_l1").state == "14.0"
    assert hass.states.get("sensor.grid_sensors_current_l2") is None


async def test_power_sensors_as_a_meter_and_an_unavailable_one(hass: HomeAssistant) -> None:
    for entity_id in VOLTAGES:
        _sensor(hass, entity_id, 230.0, "V")
    _sensor(hass, POWERS[0], 2.3, "kW")
    _sensor(hass, POWERS[1], -460.0, "W")
    _sensor(hass, POWERS[2], 0.0, "W")
    group = await _sensor_site(
        hass,
        {CONF_POWER_ENTITIES: POWERS, CONF_VOLTAGE_ENTITIES: VOLTAGES},
        meter_timeout_s=1.0,
    )
    service = async_get_hub(hass).balancing
    await service.async_run_cycle()
    figures = service.decision.groups[group.entry_id]
    assert figures.meter == pytest.approx((10.0, -2.0, 0.0))
    assert not figures.meter_stale

    hass.states.async_set(POWERS[1], STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.grid_sensors_power").state == STATE_UNAVAILABLE
    await asyncio.sleep(1.2)  # longer than the meter timeout
    await service.async_run_cycle()
    assert service.decision.groups[group.entry_id].meter_stale


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the restart button
async def test_restart_button_and_cable_lock(hass: HomeAssistant, site: Site) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.teltocharge_4242_restart"}, blocking=True
    )
    assert site.charger.reboots == 1
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.teltocharge_4242_cable_locked"}, blocking=True
    )
    assert site.charger.settings[LOCK_MODE] == 1
    assert hass.states.get("switch.teltocharge_4242_cable_locked").state == "on"
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.teltocharge_4242_cable_locked"}, blocking=True
    )
    assert site.charger.settings[LOCK_MODE] == 0
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.teltocharge_4242_charging_enabled"},
        blocking=True,
    )
    assert hass.states.get("switch.teltocharge_4242_charging_enabled").state == "on"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the restart button
async def test_a_failed_write_is_reported(hass: HomeAssistant, site: Site) -> None:
    await site.servers[0].stop()
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.teltocharge_4242_restart"}, blocking=True
        )
    assert caught.value.translation_key in {"communication_error", "timeout"}


@pytest.mark.parametrize(
    ("entity", "value", "error"),
    [("minimum_current", 20, "min_above_max"), ("maximum_current", 5 + 1, None)],
)
async def test_current_numbers_check_each_other(
    hass: HomeAssistant, site: Site, entity: str, value: int, error: str | None
) -> None:
    call = hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": f"number.teltocharge_4242_{entity}", "value": value},
        blocking=True,
    )
    if error is None:
        await call
        assert hass.states.get(f"number.teltocharge_4242_{entity}").state == f"{value:.1f}"
        return
    with pytest.raises(ServiceValidationError) as caught:
        await call
    assert caught.value.translation_key == error


async def test_the_watchdog_is_fed_by_a_write_when_nothing_changes(
    hass: HomeAssistant, site: Site
) -> None:
    for _ in range(2):
        await site.cycle()
    link = async_get_hub(hass).balancing.chargers[site.charger_entry.entry_id]
    writes_before = [r for r in site.charger.requests if r[0] in (6, 16)]
    await site.cycle()  # nothing changed, the last write is recent: nothing is written
    assert [r for r in site.charger.requests if r[0] in (6, 16)] == writes_before
    link.coordinator.charger.last_write -= 11.0  # as if the last write were 11 s ago
    await site.cycle()
    writes = [r for r in site.charger.requests if r[0] in (6, 16)]
    assert writes[len(writes_before) :] == [(16, 19, 2)]  # registers 19-20, one request
    assert site.charger.settings[19] == 30


async def test_removing_a_groups_meter_is_reported_and_fails_safe(
    hass: HomeAssistant, site: Site
) -> None:
    await site.charge_a_16_a_car()
    assert site.charger.settings[AMPS_TO_USE] == 16
    assert await hass.config_entries.async_remove(site.meter_entry.entry_id)
    await hass.async_block_till_done()
    service = async_get_hub(hass).balancing
    await service.async_run_cycle()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"meter_removed_{site.group_entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Main fuse"}
    decision = service.decision
    assert decision is not None
    assert decision.groups[site.group_entry.entry_id].meter_stale
    assert site.charger.settings[AMPS_TO_USE] <= 6  # the failsafe share, not the old 16 A


@pytest.mark.parametrize(
    ("fault", "translation_key"),
    [
        ({"exception_code": 4}, "modbus_exception"),  # slave device failure
        ({"garbage": {6: 77}}, "implausible_value"),  # EVSE status 77 does not exist
        ({"delay": 1.5}, "timeout"),  # longer than the bus's 1 s timeout
    ],
)
async def test_device_faults_become_readable_update_errors(
    hass: HomeAssistant, site: Site, fault: dict[str, Any], translation_key: str
) -> None:
    coordinator = site.charger_entry.runtime_data.coordinator
    for name, value in fault.items():
        setattr(site.charger.faults, name, value)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert coordinator.last_exception.translation_key == translation_key
    assert hass.states.get("sensor.teltocharge_4242_power").state == STATE_UNAVAILABLE
    site.charger.faults.clear()
    await asyncio.sleep(fault.get("delay", 0.0))  # let a late answer go out before teardown
    await coordinator.async_refresh()
    assert coordinator.last_update_success


async def test_an_unloaded_charger_stops_polling(hass: HomeAssistant, site: Site) -> None:
    coordinator = site.charger_entry.runtime_data.coordinator
    assert await hass.config_entries.async_unload(site.charger_entry.entry_id)
    await hass.async_block_till_done()
    # A coordinator polls while anything listens; nothing of Powershare may keep it going.
    assert not coordinator._listeners
    reads = sum(1 for request in site.charger.requests if request[0] in (3, 4))
    await asyncio.sleep(2.5)  # longer than the 2 s poll interval
    assert sum(1 for request in site.charger.requests if request[0] in (3, 4)) == reads


async def test_the_restart_button_is_disabled_by_default(site: Site) -> None:
    # As peblar's: a reboot is not an everyday control, and one press stops a charge.
    entry = er.async_get(site.hass).async_get("button.teltocharge_4242_restart")
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_the_meter_device_names_its_manufacturer(site: Site) -> None:
    device = dr.async_get(site.hass).async_get_device(
        identifiers={(DOMAIN, site.meter_entry.entry_id)}
    )
    assert device is not None
    assert (device.manufacturer, device.model) == ("Eastron", "Eastron SDM630 (Modbus)")
