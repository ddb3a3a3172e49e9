"""Diagnostics: an entry's settings, its device's latest reading and the last decision."""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_TOKEN

from .const import CONF_METER_ID, CONF_SERIAL_NUMBER, CONF_SERIAL_PORT
from .hub import async_get_hub

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .coordinator import PowershareConfigEntry

TO_REDACT = {
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_SERIAL_PORT,
    CONF_SERIAL_NUMBER,
    CONF_METER_ID,
    "serial",
    "mac",
    "unique_id",
    "title",  # chargers are titled by their serial number
}


def _plain(value: Any) -> Any:
    """Turn readings and decisions (dataclasses, enums, tuples) into JSON-friendly data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, enum.Flag):
        return [member.name for member in type(value) if member in value and member.name]
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PowershareConfigEntry
) -> dict[str, Any]:
    """Return what support needs to understand an entry, without secrets or serials."""
    service = async_get_hub(hass).balancing
    decision = service.decision
    runtime = entry.runtime_data
    coordinator = getattr(runtime, "coordinator", None)
    device: dict[str, Any] | None = None
    if coordinator is not None:
        device = {
            "last_update_success": coordinator.last_update_success,
            "reading": _plain(coordinator.data),
        }
        control = getattr(coordinator, "charger", None)
        if control is not None:  # a charger: what its kind can do, and whether it is fought over
            device["capabilities"] = _plain(control.capabilities)
            device["overwritten"] = control.overwritten
    own_decision: Any = None
    if decision is not None:
        own_decision = decision.chargers.get(entry.entry_id) or decision.groups.get(entry.entry_id)
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "device": device,
            "decision": _plain(own_decision),
            "site": {
                "network": None if service.site is None else service.site.network.value,
                "problem": None if service.problem is None else service.problem.message,
                "cycles": service.cycles,
                "stale_meters": [] if decision is None else list(decision.stale_meters),
                "surplus_w": None if decision is None else decision.surplus_w,
                "peak": {
                    "settings": _plain(service.peak.settings),
                    "budget": _plain(service.peak.budget),
                    "month_peak": _plain(service.peak.tracker.month_peak),
                    "meter_month_peak_w": service.peak.tracker.meter_month_peak_w,
                },
            },
        },
        TO_REDACT,
    )
