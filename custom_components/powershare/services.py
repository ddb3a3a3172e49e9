"""Service actions: a charger's settings and schedules, and the site's status, for automations.

Every setting an entity changes has its action too: the current limit, the charging mode,
the phase mode (on chargers that can switch phases), the priority.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .const import (
    CONF_KIND,
    CONF_PRIORITY,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    MAX_CURRENT_LIMIT,
    MAX_PRIORITY,
    MIN_CURRENT_LIMIT,
)
from .engine.model import ChargingMode, PhasePolicy
from .hub import async_get_hub
from .profiles import ChargingProfile
from .schedule import DAYS, MAX_TIMERS, ChargingTimer
from .settings import (
    OPT_CHARGING_LOCKED,
    OPT_MODE,
    OPT_PHASE_POLICY,
    OPT_PROFILE,
    OPT_SCHEDULE,
    OPT_USER_LIMIT,
    switches_phases,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from homeassistant.config_entries import ConfigEntry

SERVICE_SET_CURRENT_LIMIT = "set_current_limit"
SERVICE_CLEAR_CURRENT_LIMIT = "clear_current_limit"
SERVICE_SET_CHARGING_SCHEDULE = "set_charging_schedule"
SERVICE_CLEAR_CHARGING_SCHEDULE = "clear_charging_schedule"
SERVICE_GET_STATUS = "get_status"
SERVICE_SET_CHARGING_MODE = "set_charging_mode"
SERVICE_SET_PHASE_MODE = "set_phase_mode"
SERVICE_SET_PRIORITY = "set_priority"
SERVICE_PAUSE_CHARGING = "pause_charging"
SERVICE_RESUME_CHARGING = "resume_charging"
SERVICE_SET_CHARGING_PROFILE = "set_charging_profile"
SERVICE_CLEAR_CHARGING_PROFILE = "clear_charging_profile"

ATTR_LIMIT = "limit"
ATTR_TIMERS = "timers"
ATTR_MODE = "mode"
ATTR_PRIORITY = "priority"
ATTR_WEEKDAYS = "weekdays"
ATTR_WEEKENDS = "weekends"


def _whole(value: Any) -> int:
    """Return a whole number: 10 or 10.0, not 10.7 (which `int` would cut to 10 silently)."""
    number = vol.Coerce(float)(value)
    if number != int(number):
        raise vol.Invalid(f"must be a whole number, not {value}")
    return int(number)


def _current(value: Any) -> int:
    """0 (do not charge) or a whole number of amps from 6 to 32."""
    amps = _whole(value)
    if amps != 0 and not MIN_CURRENT_LIMIT <= amps <= MAX_CURRENT_LIMIT:
        raise vol.Invalid(f"must be 0 or {MIN_CURRENT_LIMIT}-{MAX_CURRENT_LIMIT} A")
    return int(amps)


TIMER_SCHEMA = vol.Schema(
    {
        vol.Required("start"): cv.time,
        vol.Required("end"): cv.time,
        vol.Optional("days", default=list(DAYS)): vol.All(cv.ensure_list, [vol.In(DAYS)]),
        vol.Optional("current"): vol.All(
            _whole, vol.Range(min=MIN_CURRENT_LIMIT, max=MAX_CURRENT_LIMIT)
        ),
    }
)
DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
SET_LIMIT_SCHEMA = DEVICE_SCHEMA.extend({vol.Required(ATTR_LIMIT): _current})
SET_SCHEDULE_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_TIMERS): vol.All(cv.ensure_list, [TIMER_SCHEMA])}
)
SET_CHARGING_MODE_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_MODE): vol.In([mode.value for mode in ChargingMode])}
)
SET_PHASE_MODE_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_MODE): vol.In([policy.value for policy in PhasePolicy])}
)
SLOT_SCHEMA = vol.Schema(
    {
        vol.Required("start"): cv.string,
        vol.Required("end"): cv.string,
        vol.Required("max_power_kw"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1000)),
    }
)
SET_PROFILE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Required(ATTR_WEEKDAYS): vol.All(cv.ensure_list, [SLOT_SCHEMA]),
        vol.Required(ATTR_WEEKENDS): vol.All(cv.ensure_list, [SLOT_SCHEMA]),
    }
)
SET_PRIORITY_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_PRIORITY): vol.All(_whole, vol.Range(min=0, max=MAX_PRIORITY))}
)


def _powershare_entry(hass: HomeAssistant, device_id: str) -> ConfigEntry[Any] | None:
    """Return the Powershare entry behind a device (None: not a Powershare device)."""
    device = dr.async_get(hass).async_get(device_id)
    for entry_id in () if device is None else device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.domain == DOMAIN:
            return entry
    return None


def _loaded_charger(entry: ConfigEntry[Any] | None, device_id: str) -> ConfigEntry[Any]:
    """Return `entry` if it is a loaded charger, or raise a translated error."""
    if entry is None or entry.data.get(CONF_KIND) != ENTRY_KIND_CHARGER:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_charger",
            translation_placeholders={"device_id": device_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="charger_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry


def charger_entry(hass: HomeAssistant, device_id: str) -> ConfigEntry[Any]:
    """Return the loaded charger entry behind a device, or raise a translated error."""
    return _loaded_charger(_powershare_entry(hass, device_id), device_id)


def _charger_or_group_entry(hass: HomeAssistant, device_id: str) -> ConfigEntry[Any]:
    """Return the loaded charger or group entry behind a device, or raise a translated error."""
    entry = _powershare_entry(hass, device_id)
    if entry is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_charger_or_group",
            translation_placeholders={"device_id": device_id},
        )
    if entry.data.get(CONF_KIND) == ENTRY_KIND_GROUP:
        return entry
    return _loaded_charger(entry, device_id)


def _store(hass: HomeAssistant, entry: ConfigEntry[Any], **options: Any) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})


type Handler = Callable[[ServiceCall], Coroutine[Any, Any, None]]


def _none(_data: Mapping[str, Any]) -> None:
    """Return no value: the setting is cleared."""


def _setting_service(option: str, value: Callable[[Mapping[str, Any]], Any]) -> Handler:
    """Return a service handler that stores one charger setting, `value` of the call's data."""

    async def handle(call: ServiceCall) -> None:
        entry = charger_entry(call.hass, call.data[ATTR_DEVICE_ID])
        _store(call.hass, entry, **{option: value(call.data)})

    return handle


async def _set_charging_schedule(call: ServiceCall) -> None:
    entry = charger_entry(call.hass, call.data[ATTR_DEVICE_ID])
    raw_timers: list[dict[str, Any]] = call.data[ATTR_TIMERS]
    if not 1 <= len(raw_timers) <= MAX_TIMERS:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="timer_count",
            translation_placeholders={"max": str(MAX_TIMERS)},
        )
    try:
        timers = [
            ChargingTimer(
                start=raw["start"],
                end=raw["end"],
                days=frozenset(raw["days"]),
                current=raw.get("current"),
            )
            for raw in raw_timers
        ]
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_timer",
            translation_placeholders={"error": str(err)},
        ) from err
    _store(call.hass, entry, **{OPT_SCHEDULE: [timer.to_dict() for timer in timers]})


async def _set_phase_mode(call: ServiceCall) -> None:
    """Set the phase mode of a three-phase charger that can switch; refuse it elsewhere."""
    entry = charger_entry(call.hass, call.data[ATTR_DEVICE_ID])
    capabilities = entry.runtime_data.coordinator.charger.capabilities
    if not switches_phases(entry, phase_switching=capabilities.phase_switching):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="cannot_switch_phases",
            translation_placeholders={"name": entry.title},
        )
    _store(call.hass, entry, **{OPT_PHASE_POLICY: call.data[ATTR_MODE]})


async def _set_charging_profile(call: ServiceCall) -> None:
    """Set a charger's or group's profile; refuse a set with a gap or an overlap, by name."""
    entry = _charger_or_group_entry(call.hass, call.data[ATTR_DEVICE_ID])
    try:
        profile = ChargingProfile.from_dict(
            {"weekdays": call.data[ATTR_WEEKDAYS], "weekends": call.data[ATTR_WEEKENDS]}
        )
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_profile",
            translation_placeholders={"error": str(err)},
        ) from err
    _store(call.hass, entry, **{OPT_PROFILE: profile.to_dict()})


async def _clear_charging_profile(call: ServiceCall) -> None:
    entry = _charger_or_group_entry(call.hass, call.data[ATTR_DEVICE_ID])
    _store(call.hass, entry, **{OPT_PROFILE: None})


async def _get_status(call: ServiceCall) -> ServiceResponse:
    """Return the last decision: per charger and per group, by name."""
    service = async_get_hub(call.hass).balancing
    decision = service.decision
    response: dict[str, Any] = {
        "problem": None if service.problem is None else service.problem.message,
        "chargers": {},
        "groups": {},
    }
    if decision is None:
        return response
    for entry_id, charger in decision.chargers.items():
        link = service.chargers.get(entry_id)
        name = link.entry.title if link else entry_id
        response["chargers"][name] = {
            "allocated_current": charger.target_current,
            "phases": [phase.name for phase in charger.site_phases],
            "reason": charger.reason.value,
            "detail": charger.detail,
            "requested": charger.requested,
        }
    for entry_id, figures in decision.groups.items():
        group = service.groups.get(entry_id)
        name = group.title if group else entry_id
        response["groups"][name] = {
            "meter": None if figures.meter is None else list(figures.meter),
            "available": list(figures.available),
            "requested": list(figures.requested),
            "allocated": list(figures.allocated),
            "usage": list(figures.usage),
            "meter_stale": figures.meter_stale,
        }
    return response


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register Powershare's service actions (once, in async_setup)."""
    handlers: tuple[
        tuple[str, Callable[[ServiceCall], Coroutine[Any, Any, None]], vol.Schema], ...
    ] = (
        (
            SERVICE_SET_CURRENT_LIMIT,
            _setting_service(OPT_USER_LIMIT, lambda data: data[ATTR_LIMIT]),
            SET_LIMIT_SCHEMA,
        ),
        (SERVICE_CLEAR_CURRENT_LIMIT, _setting_service(OPT_USER_LIMIT, _none), DEVICE_SCHEMA),
        (SERVICE_SET_CHARGING_SCHEDULE, _set_charging_schedule, SET_SCHEDULE_SCHEMA),
        (SERVICE_CLEAR_CHARGING_SCHEDULE, _setting_service(OPT_SCHEDULE, _none), DEVICE_SCHEMA),
        (
            SERVICE_SET_CHARGING_MODE,
            _setting_service(OPT_MODE, lambda data: data[ATTR_MODE]),
            SET_CHARGING_MODE_SCHEMA,
        ),
        (SERVICE_SET_PHASE_MODE, _set_phase_mode, SET_PHASE_MODE_SCHEMA),
        (
            SERVICE_SET_PRIORITY,
            _setting_service(CONF_PRIORITY, lambda data: data[ATTR_PRIORITY]),
            SET_PRIORITY_SCHEMA,
        ),
        # Pause is the charger's lock (*Charger locked*), until resumed.
        (
            SERVICE_PAUSE_CHARGING,
            _setting_service(OPT_CHARGING_LOCKED, lambda _data: True),
            DEVICE_SCHEMA,
        ),
        (
            SERVICE_RESUME_CHARGING,
            _setting_service(OPT_CHARGING_LOCKED, lambda _data: False),
            DEVICE_SCHEMA,
        ),
        (SERVICE_SET_CHARGING_PROFILE, _set_charging_profile, SET_PROFILE_SCHEMA),
        (SERVICE_CLEAR_CHARGING_PROFILE, _clear_charging_profile, DEVICE_SCHEMA),
    )
    for name, handler, schema in handlers:
        hass.services.async_register(DOMAIN, name, handler, schema=schema)
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_STATUS,
        _get_status,
        schema=vol.Schema({}),
        supports_response=SupportsResponse.ONLY,
    )
