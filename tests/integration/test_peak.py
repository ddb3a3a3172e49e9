"""The capacity tariff in Home Assistant: the root group's entities, the budget, storage."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol
from emulated_site import Site
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.balancing.peak import peak_settings
from custom_components.powershare.const import (
    CONF_FUSE,
    CONF_KIND,
    CONF_NAME,
    CONF_PEAK_FLOOR,
    CONF_PEAK_MODE,
    CONF_PEAK_WINDOW,
    DOMAIN,
    ENTRY_KIND_GROUP,
    ENTRY_MINOR_VERSION,
)
from custom_components.powershare.devices.meters import MeterReading, PhaseReading
from custom_components.powershare.engine import Reason
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.peak import PeakMode, PeakSample, window_start
from simulators.teltocharge import EmulatedCar
from simulators.teltocharge.registers import AMPS_TO_USE

VOLTAGE = 230.0


def _entity_id(hass: HomeAssistant, platform: Platform, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def _choose(hass: HomeAssistant, mode: str, limit_kw: float | None = None) -> None:
    if limit_kw is not None:
        await hass.services.async_call(
            "number",
            "set_value",
            {
                "entity_id": _entity_id(hass, Platform.NUMBER, "group_main_fuse_peak_limit"),
                "value": limit_kw,
            },
            blocking=True,
        )
    await hass.services.async_call(
        "select",
        "select_option",
        {
            "entity_id": _entity_id(hass, Platform.SELECT, "group_main_fuse_peak_mode"),
            "option": mode,
        },
        blocking=True,
    )


def _state(hass: HomeAssistant, key: str) -> Any:
    state = hass.states.get(_entity_id(hass, Platform.SENSOR, f"group_main_fuse_{key}"))
    assert state is not None
    return state


async def test_a_fixed_limit_holds_the_car_to_the_budget(site: Site) -> None:
    hass = site.hass
    site.live.house_a = [2.0, 2.0, 2.0]
    await site.charge_a_16_a_car()
    assert _state(hass, "peak_average").state == "unavailable"  # off: no budget
    await _choose(hass, "fixed", limit_kw=8.0)
    for _ in range(3):
        await site.cycle()
    service = async_get_hub(hass).balancing
    budget = service.peak.budget
    decision = service.decision
    assert budget is not None
    assert decision is not None
    assert budget.limit_w == 8000.0
    # The budget less the house, over three phases: what the engine gave the car.
    house = sum(decision.groups[site.group_entry.entry_id].non_ev_load)
    allowed = math.floor((budget.site_power_w / VOLTAGE - house) / 3)
    charger = decision.chargers[site.charger_entry.entry_id]
    assert charger.by_peak_budget
    # Started in a window's last seconds (the wall clock decides), the window so far counts
    # at the limit and leaves less than the minimum: the car waits for the next window.
    if allowed >= 6:
        assert charger.target_current == allowed < 16
        assert charger.reason is Reason.PEAK_BUDGET
    else:
        assert charger.target_current == 0
        assert charger.reason is Reason.BELOW_MIN
    # The root group's sensors show the same budget (in kW and kWh).
    assert float(_state(hass, "peak_limit_in_force").state) == pytest.approx(8.0)
    assert float(_state(hass, "peak_budget_left").state) == pytest.approx(
        budget.left_wh / 1000, abs=0.01
    )
    # Written when it moves by its displayed 0.1 kW (README, The recorder).
    assert float(_state(hass, "peak_average").state) == pytest.approx(
        budget.average_w / 1000, abs=0.1
    )
    assert _state(hass, "peak_projected").state != "unavailable"
    # Off again: the fuse alone limits, the sensors have nothing to show.
    await _choose(hass, "off")
    await site.cycle()
    assert service.peak.budget is None
    assert _state(hass, "peak_average").state == "unavailable"


async def test_the_fixed_limit_must_fit_the_connection(site: Site) -> None:
    hass = site.hass
    number = _entity_id(hass, Platform.NUMBER, "group_main_fuse_peak_limit")
    for wrong in (0.5, 30.0):  # 32 A on three phases carries 22.1 kW
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                "number", "set_value", {"entity_id": number, "value": wrong}, blocking=True
            )
        # Home Assistant's own check, against the range the entity gives.
        assert raised.value.translation_key == "out_of_range"
        assert raised.value.translation_placeholders is not None
        assert raised.value.translation_placeholders["max_value"] == "22.1"
    state = hass.states.get(number)
    assert state is not None
    assert float(state.state) == 2.5  # the floor until a limit is set


async def _root_without_meter(hass: HomeAssistant, **data: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        unique_id="group_main_fuse",
        data={CONF_KIND: ENTRY_KIND_GROUP, CONF_NAME: "Main fuse", CONF_FUSE: [25.0] * 3, **data},
        minor_version=ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    return entry


async def test_a_budget_cannot_be_turned_on_without_a_meter(hass: HomeAssistant) -> None:
    entry = await _root_without_meter(hass)
    with pytest.raises(ServiceValidationError) as raised:
        await _choose(hass, "month_peak")
    assert raised.value.translation_key == "peak_needs_meter"
    assert CONF_PEAK_MODE not in entry.options


async def test_the_month_peak_survives_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    now = dt_util.now()
    hass_storage["powershare.peak"] = {
        "version": 1,
        "minor_version": 1,
        "key": "powershare.peak",
        "data": {
            "month": f"{now.year:04d}-{now.month:02d}",
            "peak": {"average_w": 3200.0, "start": 1_700_000_100.0, "by_house": True},
        },
    }
    await _root_without_meter(hass, **{CONF_PEAK_MODE: "month_peak", CONF_PEAK_FLOOR: 2.5})
    await async_get_hub(hass).balancing.async_run_cycle()
    await hass.async_block_till_done()
    assert float(_state(hass, "month_peak").state) == pytest.approx(3.2)
    assert _state(hass, "month_peak").attributes["set_by"] == "house"
    assert float(_state(hass, "peak_limit_in_force").state) == pytest.approx(3.2)


def _reading(watts: float, at: float) -> MeterReading:
    amps = watts / 3 / VOLTAGE
    phase = PhaseReading(voltage_v=VOLTAGE, current_a=amps, power_w=watts / 3)
    return MeterReading(
        phases=(phase, phase, phase),
        total_power_w=watts,
        import_energy_kwh=None,
        export_energy_kwh=None,
        measured_at=at,
    )


async def test_a_window_the_house_took_over_is_saved_and_told(
    site: Site, hass_storage: dict[str, Any]
) -> None:
    hass = site.hass
    await _choose(hass, "fixed", limit_kw=4.0)
    keeper = async_get_hub(hass).balancing.peak
    # A whole quarter-hour at 6 kW of house and no car, then the next one begins. An hour
    # ahead, so the site's own readings (older) are ignored and no month ends in between.
    start = window_start(dt_util.now() + timedelta(hours=1), 900)

    def month(stamp: float) -> int:
        return dt_util.as_local(dt_util.utc_from_timestamp(stamp)).month

    if month(start) != month(start + 920):  # the month's last quarter-hour: take the next one
        start += 3600
    for step in range(92):
        at = start + 10 * step
        keeper.update(_reading(6000.0, at), 0.0, dt_util.as_local(dt_util.utc_from_timestamp(at)))
    assert keeper.house_peak is not None
    assert keeper.house_peak.average_w == pytest.approx(6000.0)
    await site.cycle()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "peak_by_house")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["average"] == "6.00"
    await hass.async_block_till_done()
    saved = hass_storage["powershare.peak"]["data"]
    assert saved["peak"]["average_w"] == pytest.approx(6000.0)
    assert saved["peak"]["by_house"] is True


async def test_a_root_group_of_version_1_3_gets_the_tariff_off(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        unique_id="group_main_fuse",
        data={CONF_KIND: ENTRY_KIND_GROUP, CONF_NAME: "Main fuse", CONF_FUSE: [25.0] * 3},
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == ENTRY_MINOR_VERSION
    assert (entry.data[CONF_PEAK_MODE], entry.data[CONF_PEAK_FLOOR]) == ("off", 2.5)
    assert entry.data[CONF_PEAK_WINDOW] == 15
    site = async_get_hub(hass).balancing.site
    assert site is not None
    assert not site.peak_budget


async def test_dsmr_sensors_give_the_meters_own_figures(hass: HomeAssistant) -> None:
    # A Belgian P1 meter through the DSMR integration: powers, counters, and its own averages.
    for phase, watts in zip(("l1", "l2", "l3"), (1.2, 0.4, 0.0), strict=True):
        hass.states.async_set(f"sensor.p1_power_{phase}", str(watts), {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.p1_import", "12345.678", {"unit_of_measurement": "kWh"})
    hass.states.async_set("sensor.p1_export", "unavailable")
    hass.states.async_set("sensor.p1_average", "1.85", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.p1_month_peak", "4.2", {"unit_of_measurement": "kW"})
    meter = MockConfigEntry(
        domain=DOMAIN,
        title="P1",
        unique_id="meter_p1",
        data={
            CONF_KIND: "meter",
            "model": "ha_sensors",
            "connection": "ha_sensors",
            CONF_NAME: "P1",
            "power_entities": [f"sensor.p1_power_{phase}" for phase in ("l1", "l2", "l3")],
            "import_energy_entity": "sensor.p1_import",
            "export_energy_entity": "sensor.p1_export",
            "average_demand_entity": "sensor.p1_average",
            "month_peak_entity": "sensor.p1_month_peak",
        },
    )
    meter.add_to_hass(hass)
    await _root_without_meter(
        hass, meter=meter.entry_id, **{CONF_PEAK_MODE: "month_peak", CONF_PEAK_FLOOR: 2.5}
    )
    service = async_get_hub(hass).balancing
    await service.async_run_cycle()
    reading = meter.runtime_data.coordinator.data
    assert reading.total_power_w == pytest.approx(1600.0)
    assert reading.import_energy_kwh == pytest.approx(12345.678)
    assert reading.export_energy_kwh is None  # unavailable: left out, the reading stands
    assert (reading.average_demand_w, reading.month_peak_w) == pytest.approx((1850.0, 4200.0))
    # The meter's month peak raises the limit; its average covers the window so far.
    assert service.peak.tracker.limit_w == pytest.approx(4200.0)
    budget = service.peak.budget
    assert budget is not None
    assert budget.average_w == pytest.approx(1850.0, rel=0.01)
    assert float(_state(hass, "month_peak").state) == pytest.approx(4.2)


def test_broken_stored_settings_leave_the_tariff_off(caplog: pytest.LogCaptureFixture) -> None:
    # A hand-edited entry: the flow and the entities never store a limit under 1 kW.
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        data={CONF_PEAK_MODE: "fixed", "peak_limit_kw": 0.4, CONF_PEAK_WINDOW: 15},
    )
    assert peak_settings(entry).mode is PeakMode.OFF
    assert "Capacity tariff settings of Main fuse not used" in caplog.text
    entry = MockConfigEntry(domain=DOMAIN, title="Main fuse", data={CONF_PEAK_MODE: "fixed"})
    settings = peak_settings(entry)
    assert (settings.mode, settings.limit_w) == (PeakMode.FIXED, 2500.0)  # the floor


async def test_the_month_peak_is_loaded_once(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    await _root_without_meter(hass, **{CONF_PEAK_MODE: "month_peak"})
    keeper = async_get_hub(hass).balancing.peak
    keeper.tracker.month = "2020-01"  # what this instance knows now
    hass_storage["powershare.peak"] = {
        "version": 1,
        "minor_version": 1,
        "key": "powershare.peak",
        "data": {"month": "2019-12", "peak": None},
    }
    await keeper.async_load()  # a second group set up later: the storage is not read again
    assert keeper.tracker.month == "2020-01"


async def test_reconfiguring_keeps_the_tariff_the_entities_set(site: Site) -> None:
    hass = site.hass
    await _choose(hass, "fixed", limit_kw=6.0)
    result: Any = await site.group_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"fuse": 32, "meter_includes_chargers": True, "meter": site.meter_entry.entry_id},
    )
    assert result["step_id"] == "group_site"
    # The form shows what is in force: the select's mode and the number's limit.
    defaults = {
        str(key): key.default()
        for key in result["data_schema"].schema
        if isinstance(key, vol.Required)
    }
    assert defaults[CONF_PEAK_MODE] == "fixed"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"solar_reserve_w": 0, "import_allowance_w": 0, "peak_limit_kw": 6.0}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    keeper = async_get_hub(hass).balancing.peak
    assert (keeper.settings.mode, keeper.settings.limit_w) == (PeakMode.FIXED, 6000.0)


async def test_a_car_out_of_control_for_a_moment_is_not_remembered_as_the_house(
    site: Site,
) -> None:
    # A car already charging when the balancing starts (its charger was never told anything
    # by us) counts as out of control until it obeys; its 16 A then are no house load to
    # forecast for five minutes: a cycle after one with a car out of control adds nothing to
    # the budget's remembered house high (how much a reading lag adds otherwise varies with
    # the instants the meter and the charger were read, so that is not what is checked).
    hass = site.hass
    site.live.house_a = [2.0, 2.0, 2.0]
    await _choose(hass, "fixed", limit_kw=8.0)
    # The charger as something else left it (whatever the cycles so far told it): 16 A.
    site.charger.unplug()
    site.charger.settings[AMPS_TO_USE] = 16
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    service = async_get_hub(hass).balancing
    tracker = service.peak.tracker
    observe = tracker.observe
    seen: list[tuple[bool, bool]] = []  # (the cycle before had a car out of control, known)

    def observing(sample: PeakSample) -> None:
        before = service.decision
        seen.append((before is not None and bool(before.out_of_control), sample.house_known))
        observe(sample)

    tracker.observe = observing  # type: ignore[method-assign]  # the real one, watched
    for _ in range(4):
        await site.cycle()
    after_out = [known for was_out, known in seen if was_out]
    assert after_out  # the car drew 16 A untold: out of control
    assert not any(after_out)  # and those cycles' house was not remembered
    assert any(known for was_out, known in seen if not was_out)  # the others' was
