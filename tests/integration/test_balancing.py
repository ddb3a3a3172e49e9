"""The balancing service closed loop: Home Assistant, Powershare and emulators over loopback."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol
from emulated_site import FUSE_A, Site
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.powershare.const import (
    CONF_FUSE,
    CONF_GROUP,
    CONF_KIND,
    CONF_NAME,
    DOMAIN,
    ENTRY_KIND_GROUP,
)
from custom_components.powershare.devices.teltocharge import EvseStatus, WarningFlag
from custom_components.powershare.diagnostics import _plain
from custom_components.powershare.engine.model import Reason
from custom_components.powershare.hub import async_get_hub
from simulators.teltocharge import AMPS_TO_USE, FAILSAFE, EmulatedCar


async def test_entries_load_and_the_site_is_balanced(hass: HomeAssistant, site: Site) -> None:
    for entry in (site.meter_entry, site.group_entry, site.charger_entry):
        assert entry.state is ConfigEntryState.LOADED
    service = async_get_hub(hass).balancing
    assert service.problem is None
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    # Two cycles: a first reading may show the car at the charger's own 6 A before any write
    # (out of control for that cycle, its draw counted as house load).
    for _ in range(2):
        await site.cycle()
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
        await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 16

    # The oven goes on: 24 A per phase. 32 - 1 - 24 = 7 A left for the car.
    site.live.house_a = [24.0, 24.0, 24.0]
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 7
    decision = service.decision
    assert decision is not None
    assert decision.chargers[site.charger_entry.entry_id].reason is Reason.GROUP_FUSE


async def test_silent_meter_puts_the_group_on_fallback(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    service = async_get_hub(hass).balancing
    await site.cycle()
    await site.servers[1].stop()  # the meter goes silent
    await asyncio.sleep(1.2)  # longer than the meter timeout set in the group's options
    await site.cycle()
    decision = service.decision
    assert decision is not None
    assert site.meter_entry.entry_id in decision.stale_meters
    charger = decision.chargers[site.charger_entry.entry_id]
    assert charger.reason is Reason.FAILSAFE_METER_STALE
    assert charger.target_current <= 6
    assert site.charger.settings[AMPS_TO_USE] == charger.target_current


async def test_entities_show_the_decision_and_steer_it(hass: HomeAssistant, site: Site) -> None:
    await site.charge_a_16_a_car()
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
    await site.cycle()
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
        "switch",
        "turn_off",
        {"entity_id": "switch.teltocharge_4242_charging_enabled"},
        blocking=True,
    )
    await site.cycle()
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
    await site.cycle()
    assert site.charger.settings[FAILSAFE] == 8


async def test_unreachable_charger_goes_unavailable_raises_an_issue_and_recovers(
    hass: HomeAssistant, site: Site
) -> None:
    service = async_get_hub(hass).balancing
    await site.cycle()
    assert hass.states.get("sensor.teltocharge_4242_power").state != STATE_UNAVAILABLE
    await site.servers[0].stop()
    await site.cycle()
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
    bus = site.charger_entry.runtime_data.coordinator.charger.driver.bus
    bus._retry_at = 0.0  # skip the reconnect backoff the outage started
    await site.cycle()
    await site.cycle()
    assert hass.states.get("sensor.teltocharge_4242_power").state != STATE_UNAVAILABLE
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_removing_the_group_puts_chargers_on_their_failsafe(
    hass: HomeAssistant, site: Site
) -> None:
    await site.charge_a_16_a_car()
    assert site.charger.settings[AMPS_TO_USE] == 16
    assert await hass.config_entries.async_remove(site.group_entry.entry_id)
    await hass.async_block_till_done()
    await site.cycle()
    service = async_get_hub(hass).balancing
    assert service.problem is not None
    assert site.charger.settings[AMPS_TO_USE] == 6  # the failsafe current
    assert ir.async_get(hass).async_get_issue(DOMAIN, "site_problem") is not None


async def test_a_locked_charger_gets_0_a_on_the_failsafe_path_too(
    hass: HomeAssistant, site: Site
) -> None:
    # Before the safety issue the failsafe of a site problem wrote 6 A to a locked charger.
    await site.charge_a_16_a_car()
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.teltocharge_4242_charging_enabled"},
        blocking=True,
    )
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 0
    # While locked, the watchdog's failsafe is 0 A: the lock holds if Home Assistant stops.
    assert site.charger.settings[FAILSAFE] == 0
    assert await hass.config_entries.async_remove(site.group_entry.entry_id)
    await hass.async_block_till_done()
    await site.cycle()
    assert async_get_hub(hass).balancing.problem is not None
    assert site.charger.settings[AMPS_TO_USE] == 0
    assert site.charger.settings[FAILSAFE] == 0
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.teltocharge_4242_charging_enabled"},
        blocking=True,
    )
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 6  # unlocked: the failsafe current again
    assert site.charger.settings[FAILSAFE] == 6


async def test_diagnostics_are_redacted(hass: HomeAssistant, site: Site, hass_client: Any) -> None:
    await site.cycle()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, site.charger_entry)
    text = str(diagnostics)
    assert "127.0.0.1" not in text
    assert "4242" not in text  # the serial number
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["device"]["reading"]["evse_status"] == "no_ev"
    assert diagnostics["decision"]["target_current"] == 0
    assert diagnostics["device"]["capabilities"]["watchdog"] is True
    assert diagnostics["device"]["overwritten"] is False
    meter = await get_diagnostics_for_config_entry(hass, hass_client, site.meter_entry)
    assert meter["device"]["reading"]["phases"][0]["current_a"] == pytest.approx(10.0, abs=0.1)
    assert meter["device"]["reading"]["phases"][0]["current_derived"] is False
    group = await get_diagnostics_for_config_entry(hass, hass_client, site.group_entry)
    assert group["decision"]["meter_stale"] is False
    assert group["site"]["network"] == "3x400"  # the root group's entry, migrated from 1.1


async def test_diagnostics_without_a_decision(
    hass: HomeAssistant, site: Site, hass_client: Any
) -> None:
    # The site lost its root group: no decision, and the diagnostics say what there is.
    assert await hass.config_entries.async_remove(site.group_entry.entry_id)
    await hass.async_block_till_done()
    await site.cycle()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, site.charger_entry)
    assert diagnostics["decision"] is None
    assert diagnostics["device"]["reading"]["evse_status"] == "no_ev"


def test_diagnostics_turn_mappings_into_plain_data() -> None:
    assert _plain({1: EvseStatus.CHARGING, "flags": (WarningFlag.TEMPERATURE,)}) == {
        "1": "charging",
        "flags": [["TEMPERATURE"]],
    }


async def test_unload_and_reload(hass: HomeAssistant, site: Site) -> None:
    assert await hass.config_entries.async_reload(site.charger_entry.entry_id)
    await hass.async_block_till_done()
    assert site.charger_entry.state is ConfigEntryState.LOADED
    await site.cycle()
    assert site.charger_entry.entry_id in async_get_hub(hass).balancing.decision.chargers
    assert await hass.config_entries.async_unload(site.charger_entry.entry_id)
    await hass.async_block_till_done()
    assert site.charger_entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.teltocharge_4242_power").state == STATE_UNAVAILABLE
    await async_get_hub(hass).balancing.async_run_cycle()
    assert site.charger_entry.entry_id not in async_get_hub(hass).balancing.decision.chargers


async def test_charger_of_a_removed_group_gets_its_failsafe(
    hass: HomeAssistant, site: Site
) -> None:
    garage = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id="group_garage",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Garage",
            CONF_FUSE: [20.0, 20.0, 20.0],
            "parent": site.group_entry.entry_id,
        },
    )
    garage.add_to_hass(hass)
    assert await hass.config_entries.async_setup(garage.entry_id)
    hass.config_entries.async_update_entry(
        site.charger_entry, data={**site.charger_entry.data, CONF_GROUP: garage.entry_id}
    )
    await hass.async_block_till_done()  # a changed group reloads the charger entry
    await site.charge_a_16_a_car()
    assert site.charger.settings[AMPS_TO_USE] == 16
    service = async_get_hub(hass).balancing
    assert service.decision is not None
    assert garage.entry_id in service.decision.groups

    assert await hass.config_entries.async_remove(garage.entry_id)
    await hass.async_block_till_done()
    await site.cycle()
    assert service.problem is None  # the rest of the site is still balanced
    assert site.charger_entry.entry_id not in service.decision.chargers
    assert site.charger.settings[AMPS_TO_USE] == 6


def _charger_device_id(hass: HomeAssistant, site: Site) -> str:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), site.charger_entry.entry_id)
    assert len(devices) == 1
    return devices[0].id


async def test_current_limit_service(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    device_id = _charger_device_id(hass, site)
    await hass.services.async_call(
        DOMAIN, "set_current_limit", {"device_id": device_id, "limit": 10}, blocking=True
    )
    for _ in range(2):
        await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 10
    status = await hass.services.async_call(
        DOMAIN, "get_status", {}, blocking=True, return_response=True
    )
    assert status["chargers"]["TeltoCharge 4242"]["reason"] == Reason.USER_LIMIT.value
    assert status["groups"]["Main fuse"]["allocated"] == [10.0, 10.0, 10.0]

    await hass.services.async_call(
        DOMAIN, "clear_current_limit", {"device_id": device_id}, blocking=True
    )
    for _ in range(2):
        await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 16

    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "set_current_limit", {"device_id": device_id, "limit": 3}, blocking=True
        )
    with pytest.raises(vol.Invalid, match="whole number"):  # not cut to 10 without a word
        await hass.services.async_call(
            DOMAIN, "set_current_limit", {"device_id": device_id, "limit": 10.7}, blocking=True
        )
    group_device = dr.async_entries_for_config_entry(dr.async_get(hass), site.group_entry.entry_id)[
        0
    ]
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "set_current_limit", {"device_id": group_device.id, "limit": 8}, blocking=True
        )
    assert caught.value.translation_key == "not_a_charger"


async def test_charging_schedule_service(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    device_id = _charger_device_id(hass, site)
    now = dt_util.now()
    start = (now + timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=3)).strftime("%H:%M")
    await hass.services.async_call(
        DOMAIN,
        "set_charging_schedule",
        {"device_id": device_id, "timers": [{"start": start, "end": end, "current": 12}]},
        blocking=True,
    )
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 0  # outside the window: waits
    # If the first reading caught the car at the charger's own 6 A before the first write, the
    # charger was out of control for that cycle; the next reading shows it obeying.
    assert hass.states.get("sensor.teltocharge_4242_balancing_reason").state in (
        Reason.OUT_OF_CONTROL.value,
        Reason.SCHEDULE_LIMIT.value,
    )
    await site.cycle()
    assert (
        hass.states.get("sensor.teltocharge_4242_balancing_reason").state
        == Reason.SCHEDULE_LIMIT.value
    )
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "set_charging_schedule",
            {"device_id": device_id, "timers": [{"start": "01:00", "end": "01:00"}]},
            blocking=True,
        )
    assert caught.value.translation_key == "invalid_timer"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "set_charging_schedule",
            {"device_id": device_id, "timers": [{"start": "01:00", "end": "02:00"}] * 3},
            blocking=True,
        )
    assert caught.value.translation_key == "timer_count"
    await hass.services.async_call(
        DOMAIN, "clear_charging_schedule", {"device_id": device_id}, blocking=True
    )
    for _ in range(2):
        await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 16


async def test_meter_unavailable_and_back_as_time_passes(hass: HomeAssistant, site: Site) -> None:
    """The coordinator's own 1 s polling, in real time (a frozen clock would stall the sockets)."""
    entity_id = "sensor.main_meter_power"
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE

    async def wait_for(condition: Any) -> None:
        for _ in range(40):
            await asyncio.sleep(0.25)
            if condition(hass.states.get(entity_id).state):
                return
        pytest.fail(f"{entity_id} stayed {hass.states.get(entity_id).state}")

    await site.servers[1].stop()
    await wait_for(lambda state: state == STATE_UNAVAILABLE)
    await site.servers[1].restart()
    # The bus reconnects after its backoff (1 s, then 2 s); the coordinator polls every 1 s.
    await wait_for(lambda state: state != STATE_UNAVAILABLE)
    assert hass.states.get(entity_id).state == "6900"


def _meter_reads(site: Site) -> int:
    return sum(1 for function, _address, _count in site.meter.requests if function in (3, 4))


async def test_one_cycle_per_meter_reading_and_the_floor_only_when_they_stop(
    hass: HomeAssistant, site: Site
) -> None:
    """Real time: the meter's own 1 s polling drives the cycles; the 2 s floor only fills gaps.

    Before the safety issue the floor timer ran a cycle every 2 s besides the readings' (1.5
    cycles per second where one is meant).
    """
    service = async_get_hub(hass).balancing
    await asyncio.sleep(1.5)  # polling under way
    cycles, reads = service.cycles, _meter_reads(site)
    await asyncio.sleep(6.0)
    cycles, reads = service.cycles - cycles, _meter_reads(site) - reads
    assert reads >= 4  # about six at 1 s
    assert cycles <= reads + 1
    # Readings stop: the floor still runs a cycle every 2-2.5 s.
    await site.servers[1].stop()
    await asyncio.sleep(1.0)
    cycles = service.cycles
    await asyncio.sleep(5.5)
    assert service.cycles - cycles >= 2


async def test_the_balancing_reason_names_the_group_and_phase_that_limit(
    hass: HomeAssistant, site: Site
) -> None:
    # The house takes most of L3: the main fuse's L3 is what limits the car.
    site.live.house_a = [10.0, 10.0, 20.0]
    await site.charge_a_16_a_car()
    await site.cycle()
    reason = hass.states.get("sensor.teltocharge_4242_balancing_reason")
    assert reason is not None
    assert reason.state == Reason.GROUP_FUSE.value
    assert reason.attributes["group"] == "Main fuse"
    assert reason.attributes["phase"] == "L3"
    # Off: nothing limits it, and the attributes say so.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.teltocharge_4242_charging_mode", "option": "off"},
        blocking=True,
    )
    await site.cycle()
    reason = hass.states.get("sensor.teltocharge_4242_balancing_reason")
    assert reason is not None
    assert (reason.attributes["group"], reason.attributes["phase"]) == (None, None)
