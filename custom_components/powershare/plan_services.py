"""Service actions of charging plans: set a charger's goal (departure, target), clear it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .balancing.plans import goal_of
from .charging_goals import MAX_ENERGY_KWH, ChargingGoal
from .const import DOMAIN
from .plan_entities import store_goal
from .schedule import DAYS
from .services import DEVICE_SCHEMA, charger_entry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant, ServiceCall

SERVICE_SET_CHARGING_PLAN = "set_charging_plan"
SERVICE_CLEAR_CHARGING_PLAN = "clear_charging_plan"

SET_PLAN_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Optional("departure"): cv.datetime,
        vol.Optional("daily_departure"): cv.time,
        vol.Optional("days", default=list(DAYS)): vol.All(
            cv.ensure_list, vol.Length(min=1), [vol.In(DAYS)]
        ),
        vol.Optional("energy"): vol.All(vol.Coerce(float), vol.Range(min=0, max=MAX_ENERGY_KWH)),
        vol.Optional("target_charge"): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
        vol.Optional("soc_entity"): cv.entity_id,
        vol.Optional("battery_capacity"): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=MAX_ENERGY_KWH)
        ),
    }
)


def _invalid(error: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_plan",
        translation_placeholders={"error": error},
    )


async def _set_charging_plan(call: ServiceCall) -> None:
    """Merge the call's fields into the charger's goal; refuse what cannot be planned."""
    entry = charger_entry(call.hass, call.data[ATTR_DEVICE_ID])
    data = call.data
    changes: dict[str, Any] = {}
    if "departure" in data:
        departure = data["departure"]
        if departure.tzinfo is None:  # a time as the user reads it: Home Assistant's zone
            departure = departure.replace(tzinfo=dt_util.get_default_time_zone())
        if departure <= dt_util.now():
            raise _invalid(f"the departure {departure.isoformat()} is not in the future")
        changes["departure"] = departure
    goal = goal_of(entry)
    if "daily_departure" in data:
        changes["daily"] = {**goal.daily, **dict.fromkeys(data["days"], data["daily_departure"])}
    for field, name in (
        ("energy", "energy_kwh"),
        ("target_charge", "target_soc"),
        ("soc_entity", "soc_entity"),
        ("battery_capacity", "battery_kwh"),
    ):
        if field in data:
            changes[name] = data[field]
    goal = replace(goal, **changes)  # the schema checked every field
    # A charge target set here needs the car's sensor (the *Target charge* number may be set
    # first and the sensor later: only this call's own target is refused).
    if "target_charge" in data and (goal.soc_entity is None or goal.battery_kwh is None):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="plan_needs_car_sensor"
        )
    store_goal(call.hass, entry, goal)


async def _clear_charging_plan(call: ServiceCall) -> None:
    """Forget the departures and targets; keep what describes the car."""
    entry = charger_entry(call.hass, call.data[ATTR_DEVICE_ID])
    goal = goal_of(entry)
    store_goal(
        call.hass, entry, ChargingGoal(soc_entity=goal.soc_entity, battery_kwh=goal.battery_kwh)
    )


def async_setup_plan_services(hass: HomeAssistant) -> None:
    """Register the plan's service actions (once, in async_setup)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_CHARGING_PLAN, _set_charging_plan, schema=SET_PLAN_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CLEAR_CHARGING_PLAN, _clear_charging_plan, schema=DEVICE_SCHEMA
    )
