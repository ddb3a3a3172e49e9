"""Every setting an entity changes has its service action: mode, phase mode, priority."""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace

import pytest
import voluptuous as vol
from emulated_site import Clocks, Site
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.powershare.balancing import site as site_module
from custom_components.powershare.balancing.sessions import EVENT_SESSION_FINISHED
from custom_components.powershare.const import CONF_PRIORITY, CONF_WIRING, DOMAIN
from custom_components.powershare.engine import ChargingMode, PhasePolicy, Reason
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.schedule import DAYS, ChargingTimer, next_window
from custom_components.powershare.settings import (
    OPT_CHARGING_LOCKED,
    OPT_MODE,
    OPT_PHASE_POLICY,
)


def _device_id(hass: HomeAssistant, site: Site) -> str:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), site.charger_entry.entry_id)
    return devices[0].id


def _charger_config(hass: HomeAssistant, site: Site) -> object:
    engine_site = async_get_hub(hass).balancing.site
    assert engine_site is not None
    return next(c for c in engine_site.chargers if c.id == site.charger_entry.entry_id)


async def test_mode_phase_mode_and_priority_by_service(hass: HomeAssistant, site: Site) -> None:
    device_id = _device_id(hass, site)
    await hass.services.async_call(
        DOMAIN, "set_charging_mode", {"device_id": device_id, "mode": "solar"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "set_phase_mode", {"device_id": device_id, "mode": "one"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "set_priority", {"device_id": device_id, "priority": 3}, blocking=True
    )
    await hass.async_block_till_done()
    options = site.charger_entry.options
    assert (options[OPT_MODE], options[OPT_PHASE_POLICY], options[CONF_PRIORITY]) == (
        "solar",
        "one",
        3,
    )
    # The balancing uses them from the next cycle on, without a reload.
    charger = _charger_config(hass, site)
    assert charger.mode is ChargingMode.SOLAR  # type: ignore[attr-defined]
    assert charger.phase_policy is PhasePolicy.ONE  # type: ignore[attr-defined]
    assert charger.priority == 3  # type: ignore[attr-defined]
    # The priority number shows it (from the charger's next reading).
    await site.cycle()
    state = hass.states.get("number.teltocharge_4242_priority")
    assert state is not None
    assert float(state.state) == 3


async def test_setting_services_refuse_what_cannot_be(hass: HomeAssistant, site: Site) -> None:
    device_id = _device_id(hass, site)
    for service, data in (
        ("set_charging_mode", {"mode": "turbo"}),
        ("set_phase_mode", {"mode": "two"}),
        ("set_priority", {"priority": 11}),
        ("set_priority", {"priority": -1}),
    ):
        with pytest.raises(vol.Invalid):
            await hass.services.async_call(
                DOMAIN, service, {"device_id": device_id, **data}, blocking=True
            )
    assert OPT_MODE not in site.charger_entry.options
    # A charger wired on one phase has no phases to switch.
    hass.config_entries.async_update_entry(
        site.charger_entry, data={**site.charger_entry.data, CONF_WIRING: 1}
    )
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "set_phase_mode", {"device_id": device_id, "mode": "one"}, blocking=True
        )
    assert caught.value.translation_key == "cannot_switch_phases"
    assert OPT_PHASE_POLICY not in site.charger_entry.options


async def test_the_priority_number_sets_it_too(hass: HomeAssistant, site: Site) -> None:
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.teltocharge_4242_priority", "value": 2},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert site.charger_entry.options[CONF_PRIORITY] == 2
    assert _charger_config(hass, site).priority == 2  # type: ignore[attr-defined]


async def test_the_schedule_shows_as_the_next_charging_window(
    hass: HomeAssistant, site: Site
) -> None:
    state = hass.states.get("sensor.teltocharge_4242_next_charging_window")
    assert state is not None
    assert state.state == "unknown"  # no schedule
    await hass.services.async_call(
        DOMAIN,
        "set_charging_schedule",
        {
            "device_id": _device_id(hass, site),
            "timers": [{"start": "22:00", "end": "06:00", "current": 16}],
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    await site.cycle()
    state = hass.states.get("sensor.teltocharge_4242_next_charging_window")
    assert state is not None
    start = dt_util.parse_datetime(state.state)
    assert start is not None
    now = dt_util.now()
    window = next_window(
        (ChargingTimer(time(22), time(6), current=16),), now
    )  # the same window, worked out here
    assert window is not None
    assert start == window.start
    assert state.attributes["end"] == window.end.isoformat()
    assert state.attributes["current"] == 16
    assert state.attributes["in_force"] is (window.start <= now)
    assert state.attributes["timers"] == [
        {"start": "22:00", "end": "06:00", "days": list(DAYS), "current": 16}
    ]


async def test_auto_lock_locks_a_charger_idle_for_a_minute(hass: HomeAssistant, site: Site) -> None:
    service = async_get_hub(hass).balancing
    moment = [1_000_000.0]
    service.clock = lambda: moment[0]

    async def cycle_at(seconds: float) -> None:
        moment[0] = 1_000_000.0 + seconds
        await site.cycle()

    # Off by default: no car for two minutes, still unlocked.
    for seconds in (0, 61, 122):
        await cycle_at(seconds)
    assert not site.charger_entry.options.get(OPT_CHARGING_LOCKED)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.teltocharge_4242_auto_lock"}, blocking=True
    )
    await cycle_at(130)
    await cycle_at(189)
    assert not site.charger_entry.options.get(OPT_CHARGING_LOCKED)  # 59 s idle
    await cycle_at(191)
    await hass.async_block_till_done()
    assert site.charger_entry.options[OPT_CHARGING_LOCKED] is True
    enabled = hass.states.get("switch.teltocharge_4242_charging_enabled")
    assert enabled is not None
    assert enabled.state == "off"
    # Unlocked as always; a car that charges is activity: it stays unlocked.
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.teltocharge_4242_charging_enabled"},
        blocking=True,
    )
    await site.charge_a_16_a_car()
    for seconds in (200, 300, 400):
        await cycle_at(seconds)
    assert site.charger_entry.options[OPT_CHARGING_LOCKED] is False


def _group_device_id(hass: HomeAssistant, site: Site) -> str:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), site.group_entry.entry_id)
    return devices[0].id


ALL_DAY = [{"start": "00:00", "end": "24:00", "max_power_kw": 7.4}]


async def test_a_charging_profile_caps_the_charger_or_the_group(
    hass: HomeAssistant, site: Site
) -> None:
    site.live.house_a = [0.0, 0.0, 0.0]  # a group's power cap counts the house too
    # Clocks moved by hand, 20 s a cycle: each cut is seen in the draw before the next
    # decision, however loaded the machine (on the wall clock the car may still be ramping).
    clocks = Clocks(hass, site)
    await site.charge_a_16_a_car()
    charger = _device_id(hass, site)
    # A set with a gap is refused, and the error names it.
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "set_charging_profile",
            {
                "device_id": charger,
                "weekdays": [{"start": "00:00", "end": "07:00", "max_power_kw": 7.4}],
                "weekends": ALL_DAY,
            },
            blocking=True,
        )
    assert caught.value.translation_key == "invalid_profile"
    assert caught.value.translation_placeholders == {
        "error": "a gap on weekdays from 07:00 to 24:00"
    }
    # 7.4 kW all day on three phases: 10 A.
    await hass.services.async_call(
        DOMAIN,
        "set_charging_profile",
        {"device_id": charger, "weekdays": ALL_DAY, "weekends": ALL_DAY},
        blocking=True,
    )
    await hass.async_block_till_done()
    await clocks.cycles(2)
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    verdict = decision.chargers[site.charger_entry.entry_id]
    assert (verdict.target_current, verdict.reason) == (10, Reason.PROFILE_LIMIT)
    # On the group instead: 4.6 kW for everything behind its fuse, 6 A on three phases.
    await hass.services.async_call(
        DOMAIN, "clear_charging_profile", {"device_id": charger}, blocking=True
    )
    four_six = [{"start": "00:00", "end": "24:00", "max_power_kw": 4.6}]
    await hass.services.async_call(
        DOMAIN,
        "set_charging_profile",
        {"device_id": _group_device_id(hass, site), "weekdays": four_six, "weekends": four_six},
        blocking=True,
    )
    await hass.async_block_till_done()
    await clocks.cycles(3)
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    verdict = decision.chargers[site.charger_entry.entry_id]
    assert (verdict.target_current, verdict.reason) == (6, Reason.GROUP_POWER)


async def test_a_finished_session_fires_an_event_and_shows_as_the_last_session(
    hass: HomeAssistant, site: Site
) -> None:
    events = async_capture_events(hass, EVENT_SESSION_FINISHED)
    state = hass.states.get("sensor.teltocharge_4242_last_session")
    assert state is not None
    assert state.state == "unknown"
    await site.charge_a_16_a_car()
    for _ in range(3):
        await site.cycle()
    assert events == []  # still charging
    site.charger.unplug()
    await site.cycle()
    await site.cycle()
    assert len(events) == 1
    data = events[0].data
    assert data["charger"] == "TeltoCharge 4242"
    assert data["entry_id"] == site.charger_entry.entry_id
    assert data["max_current"] == 16
    assert data["cost"] is None  # no tariff yet
    assert data["limited_by"]  # what it was given, and why, by time
    assert dt_util.parse_datetime(data["start"]) <= dt_util.parse_datetime(data["end"])
    state = hass.states.get("sensor.teltocharge_4242_last_session")
    assert state is not None
    assert float(state.state) == pytest.approx(data["energy_kwh"])
    assert state.attributes["max_current"] == 16
    assert state.attributes["start"] == data["start"]


async def test_a_group_slot_of_zero_stops_its_chargers_and_balancing_goes_on(
    hass: HomeAssistant, site: Site
) -> None:
    site.live.house_a = [0.0, 0.0, 0.0]
    await site.charge_a_16_a_car()
    zero = [{"start": "00:00", "end": "24:00", "max_power_kw": 0}]
    await hass.services.async_call(
        DOMAIN,
        "set_charging_profile",
        {"device_id": _group_device_id(hass, site), "weekdays": zero, "weekends": zero},
        blocking=True,
    )
    await hass.async_block_till_done()
    await site.cycle()
    service = async_get_hub(hass).balancing
    assert service.problem is None  # a cap of 0 is a cap, not a broken site
    assert service.decision is not None
    assert service.decision.chargers[site.charger_entry.entry_id].target_current == 0


async def test_auto_lock_leaves_a_charger_that_does_not_answer_alone(
    hass: HomeAssistant, site: Site
) -> None:
    service = async_get_hub(hass).balancing
    moment = [1_000_000.0]
    service.clock = lambda: moment[0]
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.teltocharge_4242_auto_lock"}, blocking=True
    )
    await site.charge_a_16_a_car()
    await site.servers[0].stop()  # the charger stops answering: it shows as no car
    for seconds in (0, 61, 122):
        moment[0] = 1_000_000.0 + seconds
        await site.cycle()
    assert not site.charger_entry.options.get(OPT_CHARGING_LOCKED)


async def test_pause_and_resume_by_service(hass: HomeAssistant, site: Site) -> None:
    site.live.house_a = [0.0, 0.0, 0.0]
    await site.charge_a_16_a_car()
    device_id = _device_id(hass, site)
    await hass.services.async_call(
        DOMAIN, "pause_charging", {"device_id": device_id}, blocking=True
    )
    await hass.async_block_till_done()
    await site.cycle()
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    assert decision.chargers[site.charger_entry.entry_id].target_current == 0
    enabled = hass.states.get("switch.teltocharge_4242_charging_enabled")
    assert enabled is not None
    assert enabled.state == "off"
    await hass.services.async_call(
        DOMAIN, "resume_charging", {"device_id": device_id}, blocking=True
    )
    await hass.async_block_till_done()
    await site.cycle()
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    verdict = decision.chargers[site.charger_entry.entry_id]
    # Unlocked: it gets its 16 A again, once the meter has shown the stop (pacing).
    assert verdict.share == 16
    assert verdict.reason in (Reason.AT_REQUEST, Reason.PACED)


async def test_a_profile_is_turned_into_amps_at_the_voltage_the_root_meter_measures(
    hass: HomeAssistant, site: Site
) -> None:
    await site.charge_a_16_a_car()
    slot = [{"start": "00:00", "end": "24:00", "max_power_kw": 7.59}]
    await hass.services.async_call(
        DOMAIN,
        "set_charging_profile",
        {"device_id": _device_id(hass, site), "weekdays": slot, "weekends": slot},
        blocking=True,
    )
    await hass.async_block_till_done()
    service = async_get_hub(hass).balancing
    amps = {}
    for volts in (230.0, 245.0):
        site.live.meter.set_voltages(volts, volts, volts)
        for _ in range(2):
            await site.cycle()
        assert service.decision is not None
        amps[volts] = service.decision.chargers[site.charger_entry.entry_id].target_current
    # 7.59 kW on three phases: 11 A at 230 V, 10.3 A at 245 V (the same power, less current).
    assert amps == {230.0: 11, 245.0: 10}


async def test_service_errors_name_what_is_wrong(hass: HomeAssistant, site: Site) -> None:
    other = MockConfigEntry(domain="other_integration")
    other.add_to_hass(hass)
    lamp = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other_integration", "lamp")}
    )
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "set_charging_mode", {"device_id": lamp.id, "mode": "fast"}, blocking=True
        )
    assert caught.value.translation_key == "not_a_charger"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "clear_charging_profile", {"device_id": "no-such-device"}, blocking=True
        )
    assert caught.value.translation_key == "not_a_charger_or_group"

    device_id = _device_id(hass, site)
    assert await hass.config_entries.async_unload(site.charger_entry.entry_id)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "set_priority", {"device_id": device_id, "priority": 2}, blocking=True
        )
    assert caught.value.translation_key == "charger_not_loaded"


async def test_status_without_a_decision_says_why(hass: HomeAssistant, site: Site) -> None:
    assert await hass.config_entries.async_remove(site.group_entry.entry_id)
    await hass.async_block_till_done()
    await site.cycle()
    status = await hass.services.async_call(
        DOMAIN, "get_status", {}, blocking=True, return_response=True
    )
    assert status is not None
    assert status["chargers"] == {}
    assert status["groups"] == {}
    assert status["problem"]  # the site has no root group


async def test_the_site_is_rebuilt_when_a_profile_slot_changes(
    hass: HomeAssistant, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slot boundary passes between two cycles: the next cycle caps by the new slot."""
    zone = dt_util.get_default_time_zone()
    moment = [datetime(2026, 12, 2, 11, 59, tzinfo=zone)]  # a Wednesday
    monkeypatch.setattr(site_module, "dt_util", SimpleNamespace(now=lambda: moment[0]))
    slots = [
        {"start": "00:00", "end": "12:00", "max_power_kw": 4.14},
        {"start": "12:00", "end": "24:00", "max_power_kw": 7.59},
    ]
    await hass.services.async_call(
        DOMAIN,
        "set_charging_profile",
        {"device_id": _device_id(hass, site), "weekdays": slots, "weekends": slots},
        blocking=True,
    )
    await hass.async_block_till_done()
    await site.charge_a_16_a_car()
    charger = _charger_config(hass, site)
    assert charger.profile_power_w == 4140.0  # type: ignore[attr-defined]
    moment[0] = moment[0].replace(hour=12, minute=1)
    await site.cycle()
    charger = _charger_config(hass, site)
    assert charger.profile_power_w == 7590.0  # type: ignore[attr-defined]
