"""The demo's config entries, all made by config flows over REST, as a user would make them.

Powershare's meter and root group; then its chargers, one flow per kind of charger:

- the TeltoCharge: menu `charger` -> `tcp` (host, port, unit id) -> `charger_settings`;
- the V2C Trydan: menu `charger` -> `v2c` (host, port) -> `charger_settings`;
- the wallbox through Home Assistant entities: first the demo-only `demo_wallbox`
  integration's own flow (its address), which makes a device and its entities; then menu
  `charger` -> `ha_charger` (that device, preset "custom") -> `ha_charger_entities` (its limit
  number, its three current sensors, its switch as the pause) -> `charger_settings`.

The root group's options flow sets the energy tariff: the day-ahead price sensor. Once the
entries are loaded, the TeltoCharge gets a charging goal through the service action
`powershare.set_charging_plan` (`set_demo_plan`): 15 kWh by a departure 9 to 10 hours ahead.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from simulators.demo_site import (
    CHARGER_UNIT_ID,
    HA_WALLBOX,
    METER_MODEL,
    METER_UNIT_ID,
    TELTOCHARGE,
    V2C_TRYDAN,
)

from .options import (
    DOMAIN,
    ENTITY_TIMEOUT_S,
    FUSE_A,
    GROUP_NAME,
    PEAK_FLOOR_KW,
    PLAN_DEPARTURE_H,
    PLAN_ENERGY_KWH,
    PRICE_SENSOR,
    TIME_ZONE,
    WALLBOX_DOMAIN,
    DemoError,
)

if TYPE_CHECKING:
    from simulators.demo_site import DemoSite, RunningCharger

    from .hass import HassClient

WALLBOX_LIMIT: Final = "charge_limit"
WALLBOX_CURRENTS: Final = ("current_l1", "current_l2", "current_l3")
WALLBOX_ALLOWED: Final = "charging_allowed"
"""The translation keys of the `demo_wallbox` entities Powershare drives."""


@dataclass(frozen=True, slots=True)
class DemoEntries:
    """The config entries the demo created (entry ids)."""

    meter: str
    group: str
    chargers: tuple[str, ...]
    """Powershare's chargers, in the order of the site's chargers."""
    wallbox: str | None = None
    """The `demo_wallbox` entry (the device behind the charger driven through entities)."""


async def create_entries(client: HassClient, site: DemoSite) -> DemoEntries:
    """Add the meter, the root group and the chargers with Powershare's config flow."""
    meter = await client.run_flow(
        DOMAIN,
        {
            "user": {"next_step_id": "meter"},
            "meter": {"model": METER_MODEL},
            "tcp": {"host": site.host, "port": site.meter_port, "unit_id": METER_UNIT_ID},
        },
    )
    group = await client.run_flow(
        DOMAIN,
        {
            "user": {"next_step_id": "group"},
            "group": {
                "name": GROUP_NAME,
                "fuse": FUSE_A,
                "meter": meter["entry_id"],
                "meter_includes_chargers": True,
            },
            # A capacity tariff: stay under this month's peak, at least 6 kW (2.5 kW in
            # Flanders; 6 keeps three cars busy enough to watch).
            "group_site": {
                "solar_reserve_w": 0,
                "import_allowance_w": 0,
                "peak_mode": "month_peak",
                "peak_floor_kw": PEAK_FLOOR_KW,
            },
        },
    )
    # An energy tariff, so that sessions have a cost and plans a price curve: the day-ahead
    # price sensor of the configuration (`config_dir.price_sensor_config`), with its forecast.
    await client.run_flow(
        group["entry_id"],
        {
            "init": {"next_step_id": "tariff"},
            "tariff": {"kind": "price_sensor"},
            "tariff_price_sensor": {"entity_id": PRICE_SENSOR},
        },
        options=True,
    )
    chargers: list[str] = []
    wallbox: str | None = None
    for charger in site.chargers:
        connection: dict[str, dict[str, Any]]
        kind = charger.spec.kind
        if kind == TELTOCHARGE:
            connection = {
                "charger": {"next_step_id": "tcp"},
                "tcp": {"host": site.host, "port": charger.port, "unit_id": CHARGER_UNIT_ID},
            }
        elif kind == V2C_TRYDAN:
            connection = {
                "charger": {"next_step_id": "v2c"},
                "v2c": {"host": site.host, "port": charger.port},
            }
        elif kind == HA_WALLBOX:
            wallbox, connection = await _wallbox_integration(client, site.host, charger)
        else:
            raise DemoError(f"no config flow for a charger of kind {kind!r}")
        answers = {
            "user": {"next_step_id": "charger"},
            **connection,
            "charger_settings": _settings(charger, group["entry_id"]),
        }
        chargers.append((await client.run_flow(DOMAIN, answers))["entry_id"])
    return DemoEntries(
        meter=meter["entry_id"],
        group=group["entry_id"],
        chargers=tuple(chargers),
        wallbox=wallbox,
    )


def _settings(charger: RunningCharger, group: str) -> dict[str, Any]:
    spec = charger.spec
    return {
        "rotation": spec.rotation,
        "wiring": str(spec.wiring),
        "min_current": 6,
        "max_current": spec.max_current,
        "group": group,
    }


async def _wallbox_integration(
    client: HassClient, host: str, charger: RunningCharger
) -> tuple[str, dict[str, dict[str, Any]]]:
    """Add the wallbox's own integration; return its entry and Powershare's answers for it.

    Powershare's `ha_charger_entities` step checks that every entity has a state, so this
    waits until the wallbox's entities have reported.
    """
    entry = await client.run_flow(
        WALLBOX_DOMAIN,
        {"user": {"host": host, "port": charger.port, "name": f"{charger.spec.name} wallbox"}},
    )
    entry_id: str = entry["entry_id"]
    device_id, entities = await wait_for_wallbox(client, entry_id)
    answers = {
        "charger": {"next_step_id": "ha_charger"},
        "ha_charger": {"device_id": device_id, "preset": "custom"},
        "ha_charger_entities": {
            "limit": entities[WALLBOX_LIMIT],
            **{key: entities[key] for key in WALLBOX_CURRENTS},
            "pause": entities[WALLBOX_ALLOWED],
        },
    }
    return entry_id, answers


def plan_charger(entries: DemoEntries, site: DemoSite) -> str | None:
    """Return the entry of the charger the demo plans (the TeltoCharge), if the site has one."""
    return next(
        (
            entry
            for running, entry in zip(site.chargers, entries.chargers, strict=True)
            if running.spec.kind == TELTOCHARGE
        ),
        None,
    )


def plan_departure(now: datetime) -> datetime:
    """Return the demo's departure: the first full hour at least `PLAN_DEPARTURE_H` ahead.

    In Home Assistant's time zone, so that it reads as a user would set it.
    """
    later = (now + timedelta(hours=PLAN_DEPARTURE_H)).astimezone(ZoneInfo(TIME_ZONE))
    hour = later.replace(minute=0, second=0, microsecond=0)
    return hour if hour == later else hour + timedelta(hours=1)


async def devices_of(client: HassClient, entry_id: str) -> list[str]:
    """Return the ids of an entry's devices (`config/device_registry/list`)."""
    return [
        device["id"]
        for device in await client.ws_command("config/device_registry/list")
        if entry_id in device.get("config_entries", ())
    ]


async def set_demo_plan(
    client: HassClient, entries: DemoEntries, site: DemoSite, now: datetime | None = None
) -> datetime | None:
    """Give the TeltoCharge its goal, as a user or an automation would; return the departure.

    `powershare.set_charging_plan` with the charger's device (from the device registry), a
    one-off departure (`plan_departure`) and `PLAN_ENERGY_KWH` to add: the plan keeper then
    plans its charge into the cheapest hours before it. None where the site has no TeltoCharge.
    """
    entry_id = plan_charger(entries, site)
    if entry_id is None:
        return None
    devices = await devices_of(client, entry_id)
    if not devices:
        raise DemoError("the TeltoCharge has no device to give a charging plan")
    departure = plan_departure(datetime.now(ZoneInfo(TIME_ZONE)) if now is None else now)
    await client.request(
        "POST",
        f"/api/services/{DOMAIN}/set_charging_plan",
        {
            "device_id": devices[0],
            "departure": departure.isoformat(),
            "energy": PLAN_ENERGY_KWH,
        },
    )
    return departure


async def wait_for_wallbox(client: HassClient, entry_id: str) -> tuple[str, dict[str, str]]:
    """Wait for the wallbox's device and entities (with states); return them.

    The device comes from the device registry (`config/device_registry/list`), the entity ids
    by translation key from the entity registry: never guessed from names.
    """
    wanted = {WALLBOX_LIMIT, *WALLBOX_CURRENTS, WALLBOX_ALLOWED}
    deadline = time.monotonic() + ENTITY_TIMEOUT_S
    while True:
        devices = await devices_of(client, entry_id)
        entities = {
            item["translation_key"]: item["entity_id"]
            for item in await client.ws_command("config/entity_registry/list")
            if item.get("config_entry_id") == entry_id and item.get("translation_key") in wanted
        }
        if devices and set(entities) == wanted:
            states = await client.states()
            reported = [states.get(entity_id) for entity_id in entities.values()]
            if all(s and s["state"] not in ("unknown", "unavailable") for s in reported):
                return devices[0], entities
        if time.monotonic() > deadline:
            raise DemoError(f"the {WALLBOX_DOMAIN} device or its entities did not appear")
        await asyncio.sleep(0.5)
