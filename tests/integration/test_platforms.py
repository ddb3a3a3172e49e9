"""Snapshots of every platform: entity registry entries and states of the emulated site."""

from __future__ import annotations

from typing import Any

import pytest
from emulated_site import Site
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.powershare.binary_sensor import BINARY_SENSORS
from custom_components.powershare.devices.teltocharge import ErrorFlag, WarningFlag


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platforms",
    [
        [Platform.BINARY_SENSOR],
        [Platform.BUTTON],
        [Platform.NUMBER],
        [Platform.SELECT],
        [Platform.SENSOR],
        [Platform.SWITCH],
        [Platform.DATETIME],
        [Platform.TIME],
    ],
)
async def test_platform_snapshots(
    hass: HomeAssistant,
    site: Site,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platforms: Any,
) -> None:
    await site.cycle()
    for entry in (site.charger_entry, site.meter_entry, site.group_entry):
        if er.async_entries_for_config_entry(entity_registry, entry.entry_id):
            await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_each_warning_and_error_bit_is_a_problem_sensor(
    hass: HomeAssistant, site: Site
) -> None:
    """Register 34/35 bits: one translated problem sensor each, disabled until wanted."""
    site.charger.warning_bits = int(WarningFlag.TEMPERATURE)
    site.charger.error_bits = int(ErrorFlag.LEAKAGE_DETECTED)
    await site.cycle()
    reading = site.charger_entry.runtime_data.coordinator.data
    raised = {desc.key for desc in BINARY_SENSORS if desc.is_on_fn(reading)}
    assert raised == {"problem", "warning_temperature", "error_leakage_detected"}
    registry = er.async_get(hass)
    entry = registry.async_get("binary_sensor.teltocharge_4242_warning_high_temperature")
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entry.entity_category is EntityCategory.DIAGNOSTIC
    problem = hass.states.get("binary_sensor.teltocharge_4242_problem")
    assert problem is not None
    assert problem.state == "on"
