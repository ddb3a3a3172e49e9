"""The charging plan's entities: each charger's goal and plan, and the site's planned load.

Per charger: the goal, as the user sets it (*Departure*, a one-off date and time; *Daily
departure*, the same time every day; *Energy to add*; *Target charge*), and what the plan
expects (*Charging plan*: when the car starts, with the energy per slot as attributes;
*Planned energy*, *Expected charge at departure*, *Planned cost*). At the root group: the
*Planned load* of all cars, with its slots and their prices as attributes, for a dashboard.
The goal is stored in the charger entry's options (`settings.OPT_PLAN`), as the schedule is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.components.datetime import DateTimeEntity, DateTimeEntityDescription
from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import PERCENTAGE, UnitOfEnergy, UnitOfPower
from homeassistant.util import dt as dt_util

from .balancing.plans import goal_of
from .charging_goals import MAX_ENERGY_KWH, ChargingGoal
from .entity import ChargerEntity, GroupEntity
from .schedule import DAYS
from .settings import OPT_PLAN

if TYPE_CHECKING:
    from datetime import datetime, time

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .balancing.plan_types import ChargerPlan, SitePlan


def store_goal(hass: HomeAssistant, entry: ConfigEntry[Any], goal: ChargingGoal) -> None:
    """Save a charger's goal; the entry's update listener hands it to the balancing service."""
    options = {**entry.options, OPT_PLAN: goal.to_dict()}
    hass.config_entries.async_update_entry(entry, options=options)


class _GoalEntity(ChargerEntity):
    """A part of the charger's goal: a setting, available even while the charger is not."""

    @property
    def available(self) -> bool:
        """Always: the goal is the user's, not the charger's."""
        return True

    @property
    def goal(self) -> ChargingGoal:
        """The charger's goal as stored."""
        return goal_of(self.coordinator.config_entry)

    def _store(self, **changes: Any) -> None:
        # The entity's own range was checked by Home Assistant; what is left holds.
        entry = self.coordinator.config_entry
        store_goal(self.hass, entry, replace(goal_of(entry), **changes))
        self.async_write_ha_state()


DEPARTURE = DateTimeEntityDescription(key="departure", translation_key="departure")
DAILY_DEPARTURE = TimeEntityDescription(key="daily_departure", translation_key="daily_departure")
ENERGY_TO_ADD = NumberEntityDescription(
    key="energy_to_add",
    translation_key="energy_to_add",
    device_class=NumberDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    native_min_value=0,
    native_max_value=MAX_ENERGY_KWH,
    native_step=0.5,
    mode=NumberMode.BOX,
)
TARGET_CHARGE = NumberEntityDescription(
    key="target_charge",
    translation_key="target_charge",
    device_class=NumberDeviceClass.BATTERY,
    native_unit_of_measurement=PERCENTAGE,
    native_min_value=0,
    native_max_value=100,
    native_step=1,
    mode=NumberMode.SLIDER,
)


class DepartureDateTime(_GoalEntity, DateTimeEntity):
    """The one-off departure (cleared when the car leaves)."""

    @property
    def native_value(self) -> datetime | None:
        """The departure as set."""
        return self.goal.departure

    async def async_set_value(self, value: datetime) -> None:
        """Set the departure."""
        self._store(departure=dt_util.as_local(value))


class DailyDepartureTime(_GoalEntity, TimeEntity):
    """The daily departure: the time of the next day that has one; set, it is every day's."""

    @property
    def native_value(self) -> time | None:
        """The next daily departure's time (unknown without one)."""
        goal = self.goal
        now = dt_util.now()
        for offset in range(7):
            day = DAYS[(now.weekday() + offset) % 7]
            if day in goal.daily:
                return goal.daily[day]
        return None

    async def async_set_value(self, value: time) -> None:
        """Leave at `value` every day (the service sets days apart)."""
        self._store(daily=dict.fromkeys(DAYS, value))


class GoalNumber(_GoalEntity, NumberEntity):
    """The energy to add this session, or the charge to reach (with the car's sensor)."""

    @property
    def native_value(self) -> float | None:
        """The target as set (unknown without one)."""
        goal = self.goal
        return (
            goal.energy_kwh if self.entity_description.key == "energy_to_add" else goal.target_soc
        )

    async def async_set_native_value(self, value: float) -> None:
        """Set the target."""
        if self.entity_description.key == "energy_to_add":
            self._store(energy_kwh=value)
        else:
            self._store(target_soc=value)


GOAL_NUMBERS = (ENERGY_TO_ADD, TARGET_CHARGE)


# -- what the plan expects -----------------------------------------------------------------

PLAN = SensorEntityDescription(
    key="charging_plan", translation_key="charging_plan", device_class=SensorDeviceClass.TIMESTAMP
)
PLANNED_ENERGY = SensorEntityDescription(
    key="planned_energy",
    translation_key="planned_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=1,
)
EXPECTED_CHARGE = SensorEntityDescription(
    key="expected_charge",
    translation_key="expected_charge",
    native_unit_of_measurement=PERCENTAGE,  # the car's, not the charger's: no battery class
    suggested_display_precision=0,
)
PLANNED_COST = SensorEntityDescription(
    key="planned_cost",
    translation_key="planned_cost",
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=2,
)
PLANNED_LOAD = SensorEntityDescription(
    key="planned_load",
    translation_key="planned_load",
    device_class=SensorDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    suggested_display_precision=1,  # a plan, not a measurement: no long-term statistics
)
CHARGER_PLAN_SENSORS = (PLAN, PLANNED_ENERGY, EXPECTED_CHARGE, PLANNED_COST)


class ChargerPlanSensor(ChargerEntity, SensorEntity):
    """What the plan expects of this charger (unknown without a plan)."""

    _unrecorded_attributes = frozenset({"slots"})
    """Up to 192 slots: shown, not kept in the history."""

    @property
    def available(self) -> bool:
        """Always: a plan is a setting's consequence, not a reading."""
        return True

    @property
    def planned(self) -> ChargerPlan | None:
        """The charger's part of the plan in force."""
        plan = self.service.plans.plan
        return None if plan is None else plan.chargers.get(self.coordinator.config_entry.entry_id)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The site's currency for the cost."""
        if self.entity_description.key == "planned_cost":
            return self.hass.config.currency
        return super().native_unit_of_measurement

    @property
    def native_value(self) -> datetime | float | None:
        """The next start, the energy or charge by departure, or the cost."""
        planned = self.planned
        if planned is None:
            return None
        key = self.entity_description.key
        if key == "charging_plan":
            return planned.next_start
        if key == "planned_energy":
            return round(planned.planned_kwh, 2)
        if key == "expected_charge":
            return None if planned.expected_soc is None else round(planned.expected_soc, 1)
        return self._cost(planned)

    def _cost(self, planned: ChargerPlan) -> float | None:
        """Return the plan's cost, unknown where no price is known (no tariff, no price yet)."""
        plan = self.service.plans.plan
        priced = plan is not None and any(price is not None for price in plan.prices)
        return round(planned.cost, 2) if priced else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The plan itself (on *Charging plan*): departure, need, shortfall, energy per slot."""
        planned = self.planned
        if self.entity_description.key != "charging_plan" or planned is None:
            return None
        return {
            "departure": planned.departure.isoformat(),
            "needed_kwh": round(planned.needed_kwh, 2),
            "planned_kwh": round(planned.planned_kwh, 2),
            "shortfall_kwh": round(planned.shortfall_kwh, 2),
            "expected_cost": self._cost(planned),
            "expected_charge": planned.expected_soc,
            "slots": [
                {
                    "start": start.isoformat(),
                    "energy_kwh": round(energy, 3),
                    "current": round(amps, 1),
                }
                for start, energy, amps in zip(
                    planned.slot_starts, planned.energy_kwh, planned.current_a, strict=True
                )
                if energy > 0.001  # noqa: PLR2004  # the slots it charges in
            ],
        }


class PlannedLoadSensor(GroupEntity, SensorEntity):
    """The cars' planned load now (kW), with every slot's load and price as attributes."""

    _unrecorded_attributes = frozenset({"slots"})

    @property
    def available(self) -> bool:
        """Always: without a plan, nothing is planned (unknown)."""
        return True

    @property
    def native_value(self) -> float | None:
        """The load planned for the present slot."""
        plan = self.service.plans.plan
        if plan is None:
            return None
        decision = self.service.decision
        now = dt_util.now() if decision is None else dt_util.utc_from_timestamp(decision.now)
        load = plan.load_at(now)
        return None if load is None else round(load, 2)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Every slot: its start, the cars' load (kW) and the price; the plan's total cost."""
        plan: SitePlan | None = self.service.plans.plan
        if plan is None:
            return None
        return {
            "total_cost": round(plan.total_cost, 2),
            "slots": [
                {"start": start.isoformat(), "load_kw": round(load, 2), "price": price}
                for start, load, price in zip(
                    plan.slot_starts, plan.load_kw, plan.prices, strict=True
                )
            ],
        }
