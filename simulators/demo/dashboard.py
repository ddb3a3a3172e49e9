"""The demo's dashboard, generated from the entity registry.

Entities are found by config entry and translation key, so the dashboard stays right when
entity names change.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .options import (
    CHARGER_SENSORS,
    DOMAIN,
    ENTITY_TIMEOUT_S,
    FUSE_A,
    GROUP_FIGURES,
    GROUP_NAME,
    PHASES,
    DemoError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from simulators.demo_site import DemoSite

    from .entries import DemoEntries
    from .hass import HassClient


@dataclass(frozen=True, slots=True)
class RegisteredEntity:
    """What the dashboard needs of an entity registry entry."""

    entity_id: str
    config_entry_id: str
    translation_key: str | None

    @property
    def domain(self) -> str:
        """The entity's platform domain (sensor, select, ...)."""
        return self.entity_id.split(".", 1)[0]


def registered_entities(registry: Sequence[Mapping[str, Any]]) -> list[RegisteredEntity]:
    """Powershare's enabled entities from `config/entity_registry/list`."""
    return [
        RegisteredEntity(item["entity_id"], item["config_entry_id"], item.get("translation_key"))
        for item in registry
        if item.get("platform") == DOMAIN and not item.get("disabled_by")
    ]


def _find(entities: Sequence[RegisteredEntity], entry: str, key: str) -> str | None:
    return next(
        (e.entity_id for e in entities if e.config_entry_id == entry and e.translation_key == key),
        None,
    )


def _rows(
    entities: Sequence[RegisteredEntity], entry: str, keys: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for key, name in keys:
        entity_id = _find(entities, entry, key)
        if entity_id is not None:
            rows.append({"entity": entity_id, "name": name})
    return rows


def build_dashboard(
    entities: Sequence[RegisteredEntity], entries: DemoEntries, site: DemoSite
) -> dict[str, Any]:
    """Return the demo's dashboard: the main fuse per phase, the meter, each charger."""
    cards: list[dict[str, Any]] = []
    for index, phase in enumerate(PHASES, start=1):
        rows = _rows(
            entities,
            entries.group,
            [(f"{figure}_{phase}", figure.capitalize()) for figure in GROUP_FIGURES],
        )
        cards.append({"type": "entities", "title": f"{GROUP_NAME} L{index}", "entities": rows})
    history = [
        row
        for phase_index, phase in enumerate(PHASES, start=1)
        for row in _rows(
            entities,
            entries.group,
            [
                (f"meter_{phase}", f"Meter L{phase_index}"),
                (f"allocated_{phase}", f"Allocated L{phase_index}"),
            ],
        )
    ]
    cards.append(
        {"type": "history-graph", "title": "Main fuse", "hours_to_show": 0.5, "entities": history}
    )
    for running, entry in zip(site.chargers, entries.chargers, strict=True):
        rows = _rows(entities, entry, [(key, _label(key)) for key in CHARGER_SENSORS])
        rows += [
            {"entity": e.entity_id, "name": _label(e.translation_key or e.entity_id)}
            for e in entities
            if e.config_entry_id == entry and e.domain == "select"
        ]
        spec = running.spec
        title = f"{spec.name} ({spec.wiring}-phase, {spec.max_current} A)"
        cards.append({"type": "entities", "title": title, "entities": rows})
    meter_rows = _rows(
        entities,
        entries.meter,
        [("power", "Power"), *((f"current_{p}", f"Current L{i}") for i, p in enumerate(PHASES, 1))],
    )
    cards.append(
        {"type": "entities", "title": "Shelly Pro 3EM (main fuse)", "entities": meter_rows}
    )
    cards.append({"type": "markdown", "content": _about(site)})
    return {
        "title": "Powershare",
        "views": [{"title": "Powershare demo", "path": "demo", "cards": cards}],
    }


def _label(key: str) -> str:
    """Return a row name made of a translation key ("charging_mode": "Charging mode")."""
    return key.replace("_", " ").capitalize()


def _about(site: DemoSite) -> str:
    return (
        "**Powershare demo**: two emulated Teltonika TeltoCharges and a Shelly Pro 3EM at a "
        f"{FUSE_A:.0f} A main fuse, over Modbus TCP on 127.0.0.1. Driveway: a three-phase car "
        "of 16 A. Garage: a single-phase 32 A car on a charger wired to L2. The house (heat "
        "pump, kettle, oven, washing machine) and the sun follow a simulated day that runs "
        f"{site.time_scale:g} times faster than real time, from {site.start_hour:g}:00."
    )


async def wait_for_entities(client: HassClient, entries: DemoEntries) -> list[RegisteredEntity]:
    """Wait until every entry has registered its entities (groups' allocated sensors last)."""
    deadline = time.monotonic() + ENTITY_TIMEOUT_S
    while True:
        entities = registered_entities(await client.ws_command("config/entity_registry/list"))
        have = {entity.config_entry_id for entity in entities}
        if {entries.meter, entries.group, *entries.chargers} <= have:
            return entities
        if time.monotonic() > deadline:
            raise DemoError("Powershare's entities did not appear")
        await asyncio.sleep(0.5)
