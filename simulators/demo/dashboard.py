"""The demo's dashboard, generated from the entity registry.

Entities are found by config entry and translation key, so the dashboard stays right when
entity names change. Only Home Assistant's own cards: entities, history graphs, markdown (the
charging plan's slots as a table, from a template).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from simulators.demo_site import HA_WALLBOX

from .entries import plan_charger
from .options import (
    CHARGER_ROWS,
    CURRENCY,
    DOMAIN,
    ENTITY_TIMEOUT_S,
    EXTRA_LOAD_NUMBER,
    EXTRA_LOAD_PHASE,
    FUSE_A,
    GROUP_FIGURES,
    GROUP_NAME,
    PHASES,
    PRICE_SENSOR,
    WALLBOX_DOMAIN,
    WALLBOX_ROWS,
    DemoError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from simulators.demo_site import DemoCharger, DemoSite

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
    """Powershare's and the demo wallbox's enabled entities from `config/entity_registry/list`."""
    return [
        RegisteredEntity(item["entity_id"], item["config_entry_id"], item.get("translation_key"))
        for item in registry
        if item.get("platform") in (DOMAIN, WALLBOX_DOMAIN) and not item.get("disabled_by")
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


PEAK_ROWS: Final = (
    ("peak_mode", "Capacity tariff"),
    ("peak_limit_in_force", "Limit in force"),
    ("peak_average", "Average so far (this window)"),
    ("peak_projected", "Projected average"),
    ("peak_budget_left", "Budget left"),
    ("month_peak", "Month peak"),
)
"""The main fuse's capacity tariff, as its entities' translation keys and row names."""
COST_ROWS: Final = (
    ("energy_price", "Energy price now"),
    ("ev_energy", "EV energy (all chargers)"),
    ("ev_cost", "EV charging cost (all chargers)"),
)
"""The main fuse's tariff and totals."""
PEAK_HISTORY: Final = (
    ("peak_limit_in_force", "Limit"),
    ("peak_average", "Window average"),
    ("peak_projected", "Projected"),
)


PLAN_ROWS: Final = (
    ("departure", "Departure"),
    ("charging_plan", "Starts charging"),
    ("planned_energy", "Planned energy by departure"),
    ("planned_cost", "Planned cost"),
)
"""The planned charger's goal and plan, as its entities' translation keys and row names."""
PLANNED_LOAD_KW: Final = 0.04
"""A slot planned for more than this load is one the cars charge in (0.01 kWh a quarter-hour,
`charging_goals.PLANNED_SLOT_EPSILON_KWH`; below it, the planner's rounding)."""
GAP: Final = "&emsp;"
"""Space before a number of the slots' table (the markdown card's tables have no padding)."""
PLAN_TITLE: Final = "Charging plan"
PLAN_SLOTS_TITLE: Final = "Planned slots"


def _plan_cards(
    entities: Sequence[RegisteredEntity], entries: DemoEntries, site: DemoSite
) -> list[dict[str, Any]]:
    """Return the charging plan's cards: the TeltoCharge's goal and plan, the planned slots.

    The first (entities, in two sections) has the charger's departure, next start, planned
    energy and cost, the main fuse's planned load now and the price sensor; the second
    (markdown) a table of the slots the cars charge in, from the planned load's `slots`
    attribute. No cards without a TeltoCharge.
    """
    charger = plan_charger(entries, site)
    if charger is None:
        return []
    name = next(
        running.spec.name
        for running, entry in zip(site.chargers, entries.chargers, strict=True)
        if entry == charger
    )
    rows: list[dict[str, str]] = [{"type": "section", "label": f"{name} (TeltoCharge)"}]
    rows += _rows(entities, charger, PLAN_ROWS)
    rows.append({"type": "section", "label": f"{GROUP_NAME}: all cars"})
    rows += _rows(entities, entries.group, [("planned_load", "Planned load now")])
    rows.append({"entity": PRICE_SENSOR, "name": "Day-ahead price now"})
    cards: list[dict[str, Any]] = [{"type": "entities", "title": PLAN_TITLE, "entities": rows}]
    load = _find(entities, entries.group, "planned_load")
    if load is not None:
        cards.append({"type": "markdown", "title": PLAN_SLOTS_TITLE, "content": slots_table(load)})
    return cards


def slots_table(planned_load: str) -> str:
    """Return the markdown card's template: the planned slots (load > 0) as a table.

    A header with the energy planned and the plan's total cost, then one row per quarter-hour
    the cars charge in (more than `PLANNED_LOAD_KW`, not the planner's dust):
    its start, the cars' load (kW) and the price; without a plan, a line that says so.
    """
    return (
        f"{{%- set slots = state_attr('{planned_load}', 'slots') or [] -%}}\n"
        f"{{%- set planned = slots | selectattr('load_kw', 'gt', {PLANNED_LOAD_KW}) | list -%}}\n"
        "{%- if not slots -%}\n"
        "No charging plan: a car with a departure and a target gets one.\n"
        "{%- else -%}\n"
        "**{{ '%.1f' | format(planned | sum(attribute='load_kw') / 4) }} kWh in"
        " {{ planned | length }} quarter-hours, total cost"
        f" {{{{ '%.2f' | format(state_attr('{planned_load}', 'total_cost') | float(0)) }}}}"
        f" {CURRENCY}**\n\n"
        f"| Start | {GAP}kW | {GAP}{CURRENCY}/kWh |\n"
        "|:--|--:|--:|\n"
        "{% for slot in planned -%}\n"
        "| {{ as_timestamp(slot.start) | timestamp_custom('%a %H:%M') }}"
        f" | {GAP}{{{{ '%.1f' | format(slot.load_kw) }}}}"
        f" | {GAP}{{{{ '-' if slot.price is none else '%.3f' | format(slot.price) }}}} |\n"
        "{% endfor -%}\n"
        "{%- endif -%}"
    )


def _capacity_tariff_card(entities: Sequence[RegisteredEntity], group: str) -> dict[str, Any]:
    """Return the peak budget card: the mode, the limit, this window, the month's peak."""
    return {
        "type": "entities",
        "title": f"{GROUP_NAME}: capacity tariff",
        "entities": _rows(entities, group, PEAK_ROWS),
    }


def build_dashboard(
    entities: Sequence[RegisteredEntity], entries: DemoEntries, site: DemoSite
) -> dict[str, Any]:
    """Return the demo's dashboard: the main fuse per phase, the meter, each charger.

    The charging plan (`_plan_cards`) follows the main fuse's tariff and costs. A charger's
    card shows the rows of `CHARGER_ROWS` it has (a TeltoCharge has a status and a power
    sensor; a Trydan and a charger driven through entities do not), its selects and numbers;
    the wallbox's card also the wallbox integration's own entities, which Powershare writes.
    """
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
    cards.append(
        {
            "type": "entities",
            "title": "Try it: switch a load on in the house",
            "entities": [
                {"entity": f"input_number.{EXTRA_LOAD_NUMBER}", "name": "Extra house load"},
                {"entity": f"input_select.{EXTRA_LOAD_PHASE}", "name": "On phase"},
            ],
        }
    )
    cards.append(_capacity_tariff_card(entities, entries.group))
    cards.append(
        {
            "type": "entities",
            "title": f"{GROUP_NAME}: tariff and costs",
            "entities": _rows(entities, entries.group, COST_ROWS),
        }
    )
    cards += _plan_cards(entities, entries, site)
    budget = _rows(entities, entries.group, PEAK_HISTORY)
    cards.append(
        {"type": "history-graph", "title": "Peak budget", "hours_to_show": 0.5, "entities": budget}
    )
    allocated = [
        {"entity": entity_id, "name": running.spec.name}
        for running, entry in zip(site.chargers, entries.chargers, strict=True)
        if (entity_id := _find(entities, entry, "allocated_current")) is not None
    ]
    cards.append(
        {
            "type": "history-graph",
            "title": "Allocated current per charger",
            "hours_to_show": 0.5,
            "entities": allocated,
        }
    )
    for running, entry in zip(site.chargers, entries.chargers, strict=True):
        rows = _rows(entities, entry, [(key, _label(key)) for key in CHARGER_ROWS])
        rows += [
            {"entity": e.entity_id, "name": _label(e.translation_key or e.entity_id)}
            for e in entities
            if e.config_entry_id == entry and e.domain in ("select", "number")
        ]
        if running.spec.kind == HA_WALLBOX and entries.wallbox is not None:
            rows += _rows(entities, entries.wallbox, WALLBOX_ROWS)
        spec = running.spec
        title = (
            f"{spec.name}: {spec.kind_label} ({spec.wiring}-phase on "
            f"{_site_lines(spec)}, {spec.max_current} A)"
        )
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


def _site_lines(spec: DemoCharger) -> str:
    """Return the site lines a charger's phases land on ("L2", "L1 L2 L3")."""
    return " ".join(f"L{spec.site_phases[phase] + 1}" for phase in range(spec.wiring))


def _about(site: DemoSite) -> str:
    return (
        f"**Powershare demo**: a mixed site on one {FUSE_A:.0f} A main fuse metered by an "
        "emulated Shelly Pro 3EM (Modbus TCP), everything on 127.0.0.1. Driveway: a Teltonika "
        "TeltoCharge over Modbus TCP, a three-phase car of 16 A. Garage: a V2C Trydan over its "
        "HTTP API, wired to L2, a single-phase car of 32 A. Carport: a wallbox Powershare only "
        "reaches through the Home Assistant entities of another integration (the demo's "
        "`demo_wallbox`: a limit number, current sensors, a switch), a three-phase car of "
        "16 A. The three share the fuse, per phase. The house (heat pump, kettle, oven, "
        "washing machine) and the sun follow a simulated day that runs "
        f"{site.time_scale:g} times faster than real time, from {site.start_hour:g}:00."
    )


async def wait_for_entities(client: HassClient, entries: DemoEntries) -> list[RegisteredEntity]:
    """Wait until every entry has registered its entities (groups' allocated sensors last)."""
    deadline = time.monotonic() + ENTITY_TIMEOUT_S
    while True:
        entities = registered_entities(await client.ws_command("config/entity_registry/list"))
        have = {entity.config_entry_id for entity in entities}
        wanted = {entries.meter, entries.group, *entries.chargers}
        if entries.wallbox is not None:
            wanted.add(entries.wallbox)
        if wanted <= have:
            return entities
        if time.monotonic() > deadline:
            raise DemoError("Powershare's entities did not appear")
        await asyncio.sleep(0.5)
