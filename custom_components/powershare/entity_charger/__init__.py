"""Chargers driven through another integration's Home Assistant entities (OCPP included).

- `presets`: per integration, how its charger's entities are found and what they mean;
- `find`: the entities of a device that play each role of a preset;
- `reading`: a reading from the entities' states (units converted);
- `control`: `EntityCharger`, the charger interface over those entities and services.
"""

from .control import EntityCharger, EntityChargerIdentity
from .find import detect_preset, find_entities
from .presets import CUSTOM, PRESETS, Preset
from .reading import ChargerEntities, EntityChargerReading

__all__ = [
    "CUSTOM",
    "PRESETS",
    "ChargerEntities",
    "EntityCharger",
    "EntityChargerIdentity",
    "EntityChargerReading",
    "Preset",
    "detect_preset",
    "find_entities",
]
