"""Settings that must not silently lose: per-phase fuses, and the last value the user set.

Both failed before the safety issue: the Fuse number put one value on all three phases (a
25/25/16 A group set to 25 A let 25 A onto the 16 A phase), and a value set with a number
(an option) overrode every later reconfigure (data) for good.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.powershare.const import (
    CONF_FUSE,
    CONF_IMPORT_ALLOWANCE,
    CONF_MARGIN,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_POLL_INTERVAL,
    CONF_SOLAR_RESERVE,
)
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.settings import OPT_MODE
from tests.integration.emulated_site import Site


def _engine_fuse(hass: HomeAssistant, site: Site) -> tuple[float, ...]:
    config = async_get_hub(hass).balancing.site
    assert config is not None
    group = next(g for g in config.groups if g.id == site.group_entry.entry_id)
    return group.fuse


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
    )
    await hass.async_block_till_done()


async def test_per_phase_fuses_survive_every_fuse_number(hass: HomeAssistant, site: Site) -> None:
    entry = site.group_entry
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_FUSE: [25.0, 25.0, 16.0]}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _engine_fuse(hass, site) == (25.0, 25.0, 16.0)
    # Different fuses: one number per phase, and no number for all three.
    assert hass.states.get("number.main_fuse_fuse") is None
    assert er.async_get(hass).async_get("number.main_fuse_fuse") is None
    assert hass.states.get("number.main_fuse_fuse_l3").state == "16.0"
    await _set(hass, "number.main_fuse_fuse_l1", 20)
    assert _engine_fuse(hass, site) == (20.0, 25.0, 16.0)
    await _set(hass, "number.main_fuse_fuse_l3", 25)
    assert _engine_fuse(hass, site) == (20.0, 25.0, 25.0)


async def test_the_last_value_set_wins_whichever_way(hass: HomeAssistant, site: Site) -> None:
    entry = site.group_entry
    await _set(hass, "number.main_fuse_fuse", 20)
    assert _engine_fuse(hass, site) == (20.0, 20.0, 20.0)

    # Reconfigure the group to 40 A after that: 40 A is in force.
    result: Any = await entry.start_reconfigure_flow(hass)
    fuse = next(marker for marker in result["data_schema"].schema if marker == CONF_FUSE)
    assert fuse.description == {"suggested_value": 20}  # shown
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_FUSE: 40, CONF_METER_INCLUDES_CHARGERS: True}
    )
    if result.get("step_id") == "group_site":  # the root group's site settings, unchanged
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_SOLAR_RESERVE: 0, CONF_IMPORT_ALLOWANCE: 0}
        )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert _engine_fuse(hass, site) == (40.0, 40.0, 40.0)
    assert hass.states.get("number.main_fuse_fuse").state == "40.0"

    # And the number again after the reconfigure.
    await _set(hass, "number.main_fuse_fuse", 32)
    assert _engine_fuse(hass, site) == (32.0, 32.0, 32.0)


async def _save_options(hass: HomeAssistant, entry_id: str, changes: dict[str, Any]) -> None:
    result: Any = await hass.config_entries.options.async_init(entry_id)
    if result["type"] == "menu":  # the root group: its balancing settings
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "site"}
        )
    defaults = {key.schema: key.default() for key in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, **changes}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def test_site_settings_keep_the_engines_memory(hass: HomeAssistant, site: Site) -> None:
    # Before the safety issue saving the root group's options reloaded it, and the engine
    # forgot every session, rotation turn, learned car phase and timer.
    await site.charge_a_16_a_car()
    service = async_get_hub(hass).balancing
    runtime = site.group_entry.runtime_data
    state = service._balancer.state
    session = state.chargers[site.charger_entry.entry_id]
    await _save_options(
        hass,
        site.group_entry.entry_id,
        # (the fixture's 1 s meter timeout is below what the form accepts)
        {CONF_MARGIN: 2.0, "rotation_period_s": 600, "meter_timeout_s": 15},
    )
    assert site.group_entry.runtime_data is runtime  # not reloaded
    assert service.site is not None
    assert service.site.margin_a == 2.0
    assert service.site.tunables.rotation_period_s == 600
    assert service._balancer.state is state
    assert state.chargers[site.charger_entry.entry_id] is session


async def test_saving_unchanged_options_changes_nothing(hass: HomeAssistant, site: Site) -> None:
    # Before: the options form replaced every option with its own fields, so the charger's
    # mode (an option set by its select) was lost, and the charger entry reloaded.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.teltocharge_4242_charging_mode", "option": "solar"},
        blocking=True,
    )
    runtime = site.charger_entry.runtime_data
    await _save_options(hass, site.charger_entry.entry_id, {})
    assert site.charger_entry.runtime_data is runtime  # not reloaded
    assert site.charger_entry.options[OPT_MODE] == "solar"
    # A new poll interval goes to the coordinator, without a reload either.
    await _save_options(hass, site.charger_entry.entry_id, {CONF_POLL_INTERVAL: 3.0})
    assert site.charger_entry.runtime_data is runtime
    assert runtime.coordinator.update_interval.total_seconds() == 3.0
    assert site.charger_entry.options[OPT_MODE] == "solar"
