"""The balancing service closed loop: Home Assistant, Powershare and emulators over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.powershare.const import (
    CONF_CONNECTION,
    CONF_FUSE,
    CONF_GROUP,
    CONF_KIND,
    CONF_MAX_CURRENT,
    CONF_METER,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_MIN_CURRENT,
    CONF_MODEL,
    CONF_NAME,
    CONF_ROTATION,
    CONF_UNIT_ID,
    CONF_WIRING,
    CONNECTION_TCP,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
)
from custom_components.powershare.engine.model import Reason
from custom_components.powershare.hub import async_get_hub
from simulators.live_site import LiveCharger, LiveSite
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import EmulatorServer, free_tcp_port
from simulators.teltocharge import AMPS_TO_USE, FAILSAFE, EmulatedCar, TeltoChargeEmulator

FUSE_A = 32


@dataclass
class Site:
    """Emulators, the live site that couples them, and the three entries."""

    charger: TeltoChargeEmulator
    meter: ModbusMeterEmulator
    live: LiveSite
    servers: list[EmulatorServer]
    group_entry: MockConfigEntry
    meter_entry: MockConfigEntry
    charger_entry: MockConfigEntry


@pytest.fixture
async def site(hass: HomeAssistant, socket_enabled: Any) -> AsyncIterator[Site]:
    """Start a TeltoCharge and an Eastron SDM630 at the main fuse, and set up Powershare."""
    charger = TeltoChargeEmulator(serial=4242, amps_to_use=6)
    meter = ModbusMeterEmulator.for_model("eastron_sdm630")
    live = LiveSite(meter=meter.state, chargers=[LiveCharger(charger)], house_a=[10.0, 10.0, 10.0])
    live.sync()
    servers = [EmulatorServer({1: charger}), EmulatorServer({1: meter})]
    ports = [free_tcp_port(), free_tcp_port()]
    for server, port in zip(servers, ports, strict=True):
        await server.start_tcp(port)

    meter_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main meter",
        unique_id="meter_12345678",
        data={
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: "eastron_sdm630",
            CONF_CONNECTION: CONNECTION_TCP,
            "host": "127.0.0.1",
            "port": ports[1],
            CONF_UNIT_ID: 1,
        },
    )
    meter_entry.add_to_hass(hass)
    group_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        unique_id="group_main_fuse",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Main fuse",
            CONF_FUSE: [FUSE_A, FUSE_A, FUSE_A],
            CONF_METER: meter_entry.entry_id,
            CONF_METER_INCLUDES_CHARGERS: True,
        },
        # Tunables a user can set in the options flow: no pacing of increases, and a meter
        # silent for more than 1 s is stale, so the tests run in real time without waiting.
        options={"increase_delay_s": 0.0, "meter_timeout_s": 1.0},
    )
    group_entry.add_to_hass(hass)
    charger_entry = MockConfigEntry(
        domain=DOMAIN,
        title="TeltoCharge 4242",
        unique_id="teltocharge_4242",
        data={
            CONF_KIND: ENTRY_KIND_CHARGER,
            CONF_CONNECTION: CONNECTION_TCP,
            "host": "127.0.0.1",
            "port": ports[0],
            CONF_UNIT_ID: 1,
            CONF_ROTATION: "L1L2L3",
            CONF_WIRING: 3,
            CONF_MIN_CURRENT: 6,
            CONF_MAX_CURRENT: 16,
            CONF_GROUP: group_entry.entry_id,
        },
    )
    charger_entry.add_to_hass(hass)
    # Setting up the integration sets up all its entries.
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    yield Site(charger, meter, live, servers, group_entry, meter_entry, charger_entry)
    for entry in (charger_entry, group_entry, meter_entry):
        if hass.config_entries.async_get_entry(entry.entry_id) is not None:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    for server in servers:
        await server.stop()


def _server_running(site: Site, coordinator: Any) -> bool:
    index = 0 if coordinator is site.charger_entry.runtime_data.coordinator else 1
    return site.servers[index].running


async def _cycle(hass: HomeAssistant, site: Site) -> None:
    """One loop turn: the site settles, the meter is read, the engine decides and writes."""
    site.live.sync()
    meter_runtime = site.meter_entry.runtime_data
    charger_runtime = site.charger_entry.runtime_data
    for coordinator in (charger_runtime.coordinator, meter_runtime.coordinator):
        # A loaded 2-core CI machine can make a loopback request miss its 1 s timeout; the
        # tests are about the loop, not about that, so read again (a few times at most).
        for _ in range(3):
            await coordinator.async_refresh()
            if coordinator.last_update_success or not _server_running(site, coordinator):
                break
    await async_get_hub(hass).balancing.async_run_cycle()
    await hass.async_block_till_done()


async def test_entries_load_and_the_site_is_balanced(hass: HomeAssistant, site: Site) -> None:
    for entry in (site.meter_entry, site.group_entry, site.charger_entry):
        assert entry.state is ConfigEntryState.LOADED
    service = async_get_hub(hass).balancing
    assert service.problem is None
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    await _cycle(hass, site)
    decision = service.decision
    assert decision is not None
    charger = decision.chargers[site.charger_entry.entry_id]
    # 32 A fuse - 1 A margin - 10 A house: 21 A free, capped by the charger's 16 A max.
    assert charger.target_current <= 16
    assert site.charger.settings[AMPS_TO_USE] == charger.target_current
    # The group's figures are the engine's, per phase.
    figures = decision.groups[site.group_entry.entry_id]
    reading = site.meter_entry.runtime_data.coordinator.data
    assert figures.meter == pytest.approx(reading.currents_a)
    # The house load is never underestimated (that is what keeps the fuse safe), and the
    # allocation fits the fuse with it.
    assert figures.non_ev_load[0] >= 10.0 - 0.2
    assert charger.target_current + figures.non_ev_load[0] <= FUSE_A - 1.0 + 1e-9


async def test_house_load_step_cuts_the_charger_in_the_same_cycle(
    hass: HomeAssistant, site: Site
) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    # Let the charger climb to its maximum (increases are paced).
    service = async_get_hub(hass).balancing
    for _ in range(3):
        await _cycle(hass, site)
    assert site.charger.settings[AMPS_TO_USE] == 16

    # The oven goes on: 24 A per phase. 32 - 1 - 24 = 7 A left for the car.
    site.live.house_a = [24.0, 24.0, 24.0]
    await _cycle(hass, site)
    assert site.charger.settings[AMPS_TO_USE] == 7
    decision = service.decision
    assert decision is not None
    assert decision.chargers[site.charger_entry.entry_id].reason is Reason.GROUP_FUSE


async def test_silent_meter_puts_the_group_on_fallback(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    service = async_get_hub(hass).balancing
    await _cycle(hass, site)
    await site.servers[1].stop()  # the meter goes silent
    await asyncio.sleep(1.2)  # longer than the meter timeout set in the group's options
    await _cycle(hass, site)
    decision = service.decision
    assert decision is not None
    assert site.meter_entry.entry_id in decision.stale_meters
    charger = decision.chargers[site.charger_entry.entry_id]
    assert charger.reason is Reason.FAILSAFE_METER_STALE
    assert charger.target_current <= 6
    assert site.charger.settings[AMPS_TO_USE] == charger.target_current


async def test_entities_show_the_decision_and_steer_it(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    await _cycle(hass, site)
    allocated = hass.states.get("sensor.main_fuse_allocated_l1")
    assert allocated is not None
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    group = decision.groups[site.group_entry.entry_id]
    assert float(allocated.state) == pytest.approx(group.allocated[0], abs=0.05)
    assert hass.states.get("sensor.teltocharge_4242_balancing_reason") is not None
    assert hass.states.get("binary_sensor.teltocharge_4242_car_connected").state == "on"

    # Solar only, without surplus: the charger stops in the next cycle.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.teltocharge_4242_charging_mode", "option": "solar"},
        blocking=True,
    )
    await _cycle(hass, site)
    assert site.charger.settings[AMPS_TO_USE] == 0
    reason = hass.states.get("sensor.teltocharge_4242_balancing_reason")
    assert reason is not None
    assert reason.state == Reason.WAITING_FOR_SURPLUS.value

    # Locked: nobody charges, whatever the mode.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.teltocharge_4242_charging_mode", "option": "fast"},
        blocking=True,
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.teltocharge_4242_charger_locked"}, blocking=True
    )
    await _cycle(hass, site)
    assert site.charger.settings[AMPS_TO_USE] == 0
    assert hass.states.get("sensor.teltocharge_4242_balancing_reason").state == "mode_off"


async def test_number_refuses_a_failsafe_current_the_charger_cannot_take(
    hass: HomeAssistant, site: Site
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.teltocharge_4242_failsafe_current", "value": 3},
            blocking=True,
        )
    assert caught.value.translation_key == "failsafe_not_allowed"
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.teltocharge_4242_failsafe_current", "value": 8},
        blocking=True,
    )
    await _cycle(hass, site)
    assert site.charger.settings[FAILSAFE] == 8


async def test_unreachable_charger_goes_unavailable_raises_an_issue_and_recovers(
    hass: HomeAssistant, site: Site
) -> None:
    service = async_get_hub(hass).balancing
    await _cycle(hass, site)
    assert hass.states.get("sensor.teltocharge_4242_power").state != STATE_UNAVAILABLE
    await site.servers[0].stop()
    await _cycle(hass, site)
    assert hass.states.get("sensor.teltocharge_4242_power").state == STATE_UNAVAILABLE
    registry = ir.async_get(hass)
    issue_id = f"device_unreachable_{site.charger_entry.entry_id}"
    assert registry.async_get_issue(DOMAIN, issue_id) is None  # not after one failed read

    later = time.time() + 400
    service.clock = lambda: later
    await async_get_hub(hass).balancing.async_run_cycle()
    assert registry.async_get_issue(DOMAIN, issue_id) is not None

    service.clock = time.time
    await site.servers[0].restart()
    bus = site.charger_entry.runtime_data.coordinator.charger.bus
    bus._retry_at = 0.0  # skip the reconnect backoff the outage started
    await _cycle(hass, site)
    await _cycle(hass, site)
    assert hass.states.get("sensor.teltocharge_4242_power").state != STATE_UNAVAILABLE
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_removing_the_group_puts_chargers_on_their_failsafe(
    hass: HomeAssistant, site: Site
) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    for _ in range(2):
        await _cycle(hass, site)
    assert site.charger.settings[AMPS_TO_USE] == 16
    assert await hass.config_entries.async_remove(site.group_entry.entry_id)
    await hass.async_block_till_done()
    await _cycle(hass, site)
    service = async_get_hub(hass).balancing
    assert service.problem is not None
    assert site.charger.settings[AMPS_TO_USE] == 6  # the failsafe current
    assert ir.async_get(hass).async_get_issue(DOMAIN, "site_problem") is not None


async def test_diagnostics_are_redacted(hass: HomeAssistant, site: Site, hass_client: Any) -> None:
    await _cycle(hass, site)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, site.charger_entry)
    text = str(diagnostics)
    assert "127.0.0.1" not in text
    assert "4242" not in text  # the serial number
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["device"]["reading"]["evse_status"] == "no_ev"
    assert diagnostics["decision"]["target_current"] == 0
    meter = await get_diagnostics_for_config_entry(hass, hass_client, site.meter_entry)
    assert meter["device"]["reading"]["phases"][0]["current_a"] == pytest.approx(10.0, abs=0.1)
    group = await get_diagnostics_for_config_entry(hass, hass_client, site.group_entry)
    assert group["decision"]["meter_stale"] is False


async def test_unload_and_reload(hass: HomeAssistant, site: Site) -> None:
    assert await hass.config_entries.async_reload(site.charger_entry.entry_id)
    await hass.async_block_till_done()
    assert site.charger_entry.state is ConfigEntryState.LOADED
    await _cycle(hass, site)
    assert site.charger_entry.entry_id in async_get_hub(hass).balancing.decision.chargers
    assert await hass.config_entries.async_unload(site.charger_entry.entry_id)
    await hass.async_block_till_done()
    assert site.charger_entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.teltocharge_4242_power").state == STATE_UNAVAILABLE
    await async_get_hub(hass).balancing.async_run_cycle()
    assert site.charger_entry.entry_id not in async_get_hub(hass).balancing.decision.chargers
