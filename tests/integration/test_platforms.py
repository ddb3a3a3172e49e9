"""Snapshots of every platform: entity registry entries and states of the emulated site."""

from __future__ import annotations

from typing import Any

import pytest
from emulated_site import Site
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion


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
