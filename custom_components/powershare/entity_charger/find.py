"""Finding a charger's entities in the entity registry (never by name).

First the preset of the integration that made the device, then the entity of the device that
plays each of the preset's roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .presets import PRESETS, Preset
from .reading import ChargerEntities

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .presets import Match


def detect_preset(hass: HomeAssistant, device_id: str) -> Preset | None:
    """Return the preset of the integration that made the device (None: no preset fits)."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    domains = {
        entry.domain
        for entry_id in device.config_entries
        if (entry := hass.config_entries.async_get_entry(entry_id)) is not None
    }
    domains |= {entity.platform for entity in _device_entities(hass, device_id)}
    return next((preset for preset in PRESETS.values() if preset.domain in domains), None)


def find_entities(hass: HomeAssistant, preset: Preset, device_id: str | None) -> ChargerEntities:
    """Return the entities of `device_id` (or, without a device, of the integration) by role.

    Disabled entities are found too: the config flow asks the user to enable them.
    """
    candidates = [
        entity
        for entity in (
            _device_entities(hass, device_id) if device_id else er.async_get(hass).entities.values()
        )
        if entity.platform == preset.domain
    ]

    def find(match: Match | None) -> str | None:
        if match is None:
            return None
        for entity in candidates:
            if match.matches(entity.domain, entity.translation_key, entity.unique_id):
                return entity.entity_id
        return None

    currents = tuple(find(match) for match in preset.currents)
    pause = preset.pause.match if preset.pause is not None else None
    phase = preset.phase_switch.match if preset.phase_switch is not None else None
    return ChargerEntities(
        limit=find(preset.limit or preset.limit_readback),
        currents=tuple(entity for entity in currents if entity is not None)
        if all(currents)
        else (),
        power=find(preset.power),
        status=find(preset.status_entity),
        plug=find(preset.plug),
        pause=find(pause),
        phase=find(phase),
    )


def _device_entities(hass: HomeAssistant, device_id: str) -> list[er.RegistryEntry]:
    return er.async_entries_for_device(
        er.async_get(hass), device_id, include_disabled_entities=True
    )
