"""Tariffs and costs in Home Assistant: the options flow, session and total costs, the price.

The site is the emulated TeltoCharge and meter of `emulated_site`; the charger's and the
service's clocks are moved by hand, so each cycle is 20 s of charging at 3 x 16 A.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from emulated_site import STEP_S, Clocks
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.powershare.balancing.sessions import (
    EVENT_SESSION_FINISHED,
    SAVE_DELAY_S,
    SessionLog,
    Totals,
)
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.settings import OPT_TARIFF
from custom_components.powershare.tariffs import Tariff

if TYPE_CHECKING:
    from emulated_site import Site
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

CHARGER = "sensor.teltocharge_4242"
SITE = "sensor.main_fuse"


async def tariff_flow(hass: HomeAssistant, root: MockConfigEntry, kind: str) -> Any:
    """Open the root group's options at the tariff step and choose `kind`."""
    result: Any = await hass.config_entries.options.async_init(root.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "tariff"}
    )
    assert result["step_id"] == "tariff"
    return await hass.config_entries.options.async_configure(result["flow_id"], {"kind": kind})


async def submit(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    return result


def _value(hass: HomeAssistant, entity_id: str) -> float | None:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return None if state.state in ("unknown", "unavailable") else float(state.state)


async def test_each_tariff_kind_is_set_in_the_root_groups_options(
    hass: HomeAssistant, site: Site
) -> None:
    root = site.group_entry
    hass.config_entries.async_update_entry(root, options={**root.options, "margin_a": 2.0})
    result = await tariff_flow(hass, root, "flat")
    assert result["step_id"] == "tariff_flat"
    await submit(hass, result, {"price": 0.25})
    assert root.options[OPT_TARIFF] == {"kind": "flat", "price": 0.25}
    assert async_get_hub(hass).balancing.prices.tariff.flat_price == 0.25  # at once

    result = await tariff_flow(hass, root, "time_ranges")
    result = await submit(hass, result, {"ranges": "00:00-07:00=0.12; 08:00-24:00=0.30"})
    assert result["errors"] == {"ranges": "invalid_ranges"}
    assert result["description_placeholders"]["problem"] == (
        "a gap on every day from 07:00 to 08:00"
    )
    await submit(hass, result, {"ranges": "00:00-07:00=0.12; 07:00-24:00=0.30"})
    assert root.options[OPT_TARIFF] == {
        "kind": "time_ranges",
        "ranges": "00:00-07:00=0.12; 07:00-24:00=0.3",
    }

    result = await tariff_flow(hass, root, "weekly")
    days = result["data_schema"]({})  # each day starts from the ranges set before
    assert days["sun"] == "00:00-07:00=0.12; 07:00-24:00=0.3"
    result = await submit(hass, result, {**days, "sat": "00:00-07:00=0.12; 06:00-24:00=0.2"})
    assert result["errors"] == {"sat": "invalid_ranges"}
    assert "an overlap on sat from 06:00 to 07:00" in result["description_placeholders"]["problem"]
    await submit(hass, result, {**days, "sun": "00:00-24:00=0.10"})
    assert root.options[OPT_TARIFF]["days"]["sun"] == "00:00-24:00=0.1"

    hass.states.async_set("sensor.gas_price", "1.2", {"unit_of_measurement": "EUR/m³"})
    hass.states.async_set("sensor.nordpool", "25.0", {"unit_of_measurement": "c/kWh"})
    result = await tariff_flow(hass, root, "price_sensor")
    result = await submit(hass, result, {"entity_id": "sensor.gas_price"})
    assert result["errors"] == {"entity_id": "price_sensor_unit"}
    result = await submit(hass, result, {"entity_id": "sensor.nowhere"})
    assert result["errors"] == {"entity_id": "price_sensor_missing"}
    await submit(hass, result, {"entity_id": "sensor.nordpool"})
    assert root.options[OPT_TARIFF] == {"kind": "price_sensor", "entity_id": "sensor.nordpool"}

    result = await tariff_flow(hass, root, "none")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert root.options[OPT_TARIFF] == {"kind": "none"}
    assert root.options["margin_a"] == 2.0  # the other options stay


async def test_a_session_costs_its_energy_at_the_price_in_force(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = Clocks(hass, site)
    events = async_capture_events(hass, EVENT_SESSION_FINISHED)
    await submit(hass, await tariff_flow(hass, site.group_entry, "flat"), {"price": 0.25})
    await clocks.cycles(1)
    assert _value(hass, f"{SITE}_energy_price") == 0.25
    assert _value(hass, f"{CHARGER}_session_cost") is None  # no session yet
    assert _value(hass, f"{CHARGER}_total_energy_charged") == 0.0

    await site.charge_a_16_a_car()
    await clocks.cycles(15)  # 300 s at 11 kW: about 0.92 kWh
    service = async_get_hub(hass).balancing
    session = service.sessions.recent[site.charger_entry.entry_id]
    assert session.totals.energy_kwh == pytest.approx(16 * 3 * 230 * 300 / 3.6e6, rel=0.1)
    cost = _value(hass, f"{CHARGER}_session_cost")
    assert cost == pytest.approx(round(session.totals.energy_kwh * 0.25, 2))
    state = hass.states.get(f"{CHARGER}_session_cost")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == hass.config.currency
    assert state.attributes["state_class"] == "total"
    assert state.attributes["device_class"] == "monetary"
    assert _value(hass, f"{CHARGER}_session_charging_time") == pytest.approx(5, abs=1)

    # From here on a kWh costs twice as much: the session's cost goes on from what it was.
    await submit(hass, await tariff_flow(hass, site.group_entry, "flat"), {"price": 0.50})
    before = session.totals.energy_kwh
    await clocks.cycles(15)
    added = session.totals.energy_kwh - before
    assert session.totals.cost == pytest.approx(before * 0.25 + added * 0.50)

    site.charger.unplug()
    await clocks.cycles(2)
    assert len(events) == 1
    assert events[0].data["cost"] == pytest.approx(session.totals.cost, abs=1e-4)
    assert events[0].data["energy_kwh"] == pytest.approx(session.totals.energy_kwh, abs=1e-3)
    assert events[0].data["charging_time_s"] == pytest.approx(600, abs=STEP_S * 2)
    last = hass.states.get(f"{CHARGER}_last_session")
    assert last is not None
    assert last.attributes["cost"] == pytest.approx(session.totals.cost, abs=0.01)

    # The totals, the charger's and the site's, are the session's.
    for total in (f"{CHARGER}_total_energy_charged", f"{SITE}_ev_energy"):
        assert _value(hass, total) == pytest.approx(session.totals.energy_kwh, abs=0.05)
    for total in (f"{CHARGER}_total_charging_cost", f"{SITE}_ev_charging_cost"):
        assert _value(hass, total) == pytest.approx(session.totals.cost, abs=0.01)

    # The next session starts again from 0, with its start as the cost's last reset.
    await site.charge_a_16_a_car()
    await clocks.cycles(1)
    state = hass.states.get(f"{CHARGER}_session_cost")
    assert state is not None
    assert float(state.state) < 0.1
    assert state.attributes["last_reset"] > events[0].data["end"]


async def test_without_a_price_energy_counts_and_costs_stay_unknown(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = Clocks(hass, site)
    await site.charge_a_16_a_car()
    await clocks.cycles(5)
    assert _value(hass, f"{CHARGER}_total_energy_charged") == pytest.approx(0.3, abs=0.1)
    assert _value(hass, f"{CHARGER}_session_cost") is None
    assert _value(hass, f"{SITE}_ev_charging_cost") is None
    assert _value(hass, f"{SITE}_energy_price") is None
    session = async_get_hub(hass).balancing.sessions.recent[site.charger_entry.entry_id]
    assert session.unpriced_kwh == pytest.approx(session.totals.energy_kwh)


async def test_a_price_sensor_is_converted_and_held_while_unavailable(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = Clocks(hass, site)
    hass.states.async_set("sensor.nordpool", "210.0", {"unit_of_measurement": "EUR/MWh"})
    result = await tariff_flow(hass, site.group_entry, "price_sensor")
    await submit(hass, result, {"entity_id": "sensor.nordpool"})
    await clocks.cycles(1)
    assert _value(hass, f"{SITE}_energy_price") == pytest.approx(0.21)
    hass.states.async_set("sensor.nordpool", "unavailable")
    await clocks.cycles(1)
    assert _value(hass, f"{SITE}_energy_price") == pytest.approx(0.21)  # held
    clocks.wall += 3600
    await clocks.cycles(1)
    assert _value(hass, f"{SITE}_energy_price") is None  # held no longer than an hour


async def test_totals_and_the_open_session_survive_a_restart(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    clocks = Clocks(hass, site)
    await submit(hass, await tariff_flow(hass, site.group_entry, "flat"), {"price": 0.25})
    await site.charge_a_16_a_car()
    await clocks.cycles(5)
    sessions = async_get_hub(hass).balancing.sessions
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY_S + 1))
    await hass.async_block_till_done()
    assert hass_storage["powershare.sessions"]["data"]["open"] == [site.charger_entry.entry_id]

    restarted = SessionLog(hass)
    await restarted.async_load()
    entry_id = site.charger_entry.entry_id
    assert restarted.site == sessions.site
    assert restarted.totals == sessions.totals
    assert restarted.recent[entry_id] == sessions.recent[entry_id]
    assert restarted.open[entry_id] is restarted.recent[entry_id]


async def test_unreadable_saved_sessions_are_left_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage["powershare.sessions"] = {
        "version": 1,
        "minor_version": 1,
        "key": "powershare.sessions",
        "data": {"site": {"energy_kwh": "lots"}, "totals": {}},
    }
    log = SessionLog(hass)
    await log.async_load()
    assert log.site == Totals()
    assert log.open == {}


async def test_a_broken_stored_tariff_counts_as_none(hass: HomeAssistant, site: Site) -> None:
    root = site.group_entry
    hass.config_entries.async_update_entry(
        root, options={**root.options, OPT_TARIFF: {"kind": "flat"}}
    )
    await hass.async_block_till_done()
    assert async_get_hub(hass).balancing.prices.tariff == Tariff()
    result: Any = await hass.config_entries.options.async_init(root.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "tariff"}
    )
    assert result["data_schema"]({})["kind"] == "none"  # the form starts from no tariff
