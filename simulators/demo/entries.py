"""The demo's config entries: the meter, the root group and the chargers, by the config flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulators.demo_site import CHARGER_UNIT_ID, METER_MODEL, METER_UNIT_ID

from .options import DOMAIN, FUSE_A, GROUP_NAME

if TYPE_CHECKING:
    from simulators.demo_site import DemoSite, RunningCharger

    from .hass import HassClient


@dataclass(frozen=True, slots=True)
class DemoEntries:
    """The config entries the demo created (entry ids)."""

    meter: str
    group: str
    chargers: tuple[str, ...]


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
            "group_site": {"solar_reserve_w": 0, "import_allowance_w": 0},
        },
    )
    chargers = [
        await client.run_flow(DOMAIN, _charger_answers(site.host, charger, group["entry_id"]))
        for charger in site.chargers
    ]
    return DemoEntries(
        meter=meter["entry_id"],
        group=group["entry_id"],
        chargers=tuple(charger["entry_id"] for charger in chargers),
    )


def _charger_answers(host: str, charger: RunningCharger, group: str) -> dict[str, dict[str, Any]]:
    spec = charger.spec
    return {
        "user": {"next_step_id": "charger"},
        "charger": {"next_step_id": "tcp"},
        "tcp": {"host": host, "port": charger.port, "unit_id": CHARGER_UNIT_ID},
        "charger_settings": {
            "rotation": spec.rotation,
            "wiring": str(spec.wiring),
            "min_current": 6,
            "max_current": spec.max_current,
            "group": group,
        },
    }


async def remove_onboarding_extras(client: HassClient) -> list[str]:
    """Remove the entries onboarding adds (weather, radio, TTS): offline they only fail.

    Returns the domains removed. They are created in the background when the core config step
    finishes; by the time the demo's own entries exist they are there.
    """
    removed: list[str] = []
    for entry in await client.request("GET", "/api/config/config_entries/entry"):
        if entry["source"] == "onboarding":
            await client.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
            removed.append(entry["domain"])
    return removed
