"""Sensors: what chargers and meters measure, and what the balancing decided per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.util import dt as dt_util

from .balancing import held_if_silent
from .charger_sensors import (
    IF_HOME_ASSISTANT_STOPS,
    PHASE_NAMES,
    POWER_RESOLUTION_W,
    ChargerSensorDescription,
    amps,
    charger_sensors,
)
from .const import CONF_PARENT
from .coordinator import NOMINAL_VOLTAGE_V, ChargerRuntimeData, MeterRuntimeData
from .entity import ChargerEntity, GroupEntity, MeterEntity, RecordedSensor
from .peak_sensors import PEAK_SENSORS, PeakSensorDescription
from .plan_entities import (
    CHARGER_PLAN_SENSORS,
    PLANNED_LOAD,
    ChargerPlanSensor,
    PlannedLoadSensor,
)
from .schedule import ChargingTimer, next_window
from .session_sensors import (
    CHARGER_TOTALS,
    ENERGY_PRICE,
    LAST_SESSION,
    SITE_TOTALS,
    ChargerTotalSensor,
    EnergyPriceSensor,
    LastSessionSensor,
    SessionSensor,
    SiteTotalSensor,
    session_sensors,
)
from .settings import OPT_SCHEDULE, setting

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .coordinator import PowershareConfigEntry
    from .devices.meters import MeterReading
    from .engine.model import GroupFigures

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A meter sensor, from the reading."""

    value_fn: Callable[[MeterReading], StateType]
    exists_fn: Callable[[MeterReading], bool] = lambda _reading: True
    resolution: float | None = None
    """The power of ten the figure is rounded to when written (`RecordedSensor`); None: as is."""


@dataclass(frozen=True, kw_only=True)
class GroupSensorDescription(SensorEntityDescription):
    """A group sensor, from the group's figures in the last decision."""

    value_fn: Callable[[GroupFigures], StateType]
    resolution: float | None = None
    """The power of ten the figure is rounded to when written (`RecordedSensor`); None: as is."""


def _meter_phase(
    value: Callable[[MeterReading, int], StateType], index: int
) -> Callable[[MeterReading], StateType]:
    """Bind a per-phase value to one phase."""
    return lambda reading: value(reading, index)


def _meter_phase_sensors() -> list[MeterSensorDescription]:
    sensors: list[MeterSensorDescription] = []
    for index, phase in enumerate(PHASE_NAMES):

        def has_phase(reading: MeterReading, i: int = index) -> bool:
            return len(reading.phases) > i

        def has_voltage(reading: MeterReading, i: int = index) -> bool:
            return len(reading.phases) > i and reading.phases[i].voltage_v is not None

        sensors += [
            MeterSensorDescription(
                key=f"current_{phase}",
                translation_key=f"current_{phase}",
                device_class=SensorDeviceClass.CURRENT,
                native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
                state_class=SensorStateClass.MEASUREMENT,
                # Whole amps, the fuse's unit: 0.1 A of a phase's current is noise.
                suggested_display_precision=0,
                value_fn=_meter_phase(lambda reading, i: amps(reading.phases[i].current_a), index),
                exists_fn=has_phase,
            ),
            MeterSensorDescription(
                key=f"power_{phase}",
                translation_key=f"power_{phase}",
                device_class=SensorDeviceClass.POWER,
                native_unit_of_measurement=UnitOfPower.WATT,
                state_class=SensorStateClass.MEASUREMENT,
                # The phase's current says the same (times its voltage): off by default, as
                # the voltages are, so a new site's recorder does not keep it twice.
                entity_category=EntityCategory.DIAGNOSTIC,
                entity_registry_enabled_default=False,
                suggested_display_precision=0,
                resolution=POWER_RESOLUTION_W,
                value_fn=_meter_phase(lambda reading, i: round(reading.phases[i].power_w), index),
                exists_fn=has_phase,
            ),
            MeterSensorDescription(
                key=f"voltage_{phase}",
                translation_key=f"voltage_{phase}",
                device_class=SensorDeviceClass.VOLTAGE,
                native_unit_of_measurement=UnitOfElectricPotential.VOLT,
                state_class=SensorStateClass.MEASUREMENT,
                entity_category=EntityCategory.DIAGNOSTIC,
                entity_registry_enabled_default=False,
                suggested_display_precision=0,
                value_fn=_meter_phase(
                    lambda reading, i: round(reading.phases[i].voltage_v or 0.0, 1), index
                ),
                exists_fn=has_voltage,
            ),
        ]
    return sensors


METER_SENSORS: tuple[MeterSensorDescription, ...] = (
    MeterSensorDescription(
        key="power",
        translation_key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        resolution=POWER_RESOLUTION_W,
        value_fn=lambda reading: round(reading.total_power_w),
    ),
    MeterSensorDescription(
        key="import_energy",
        translation_key="import_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        # 0.1 kWh, as the meter's own display: written exact at each 0.1 kWh (every 36 s at
        # 10 kW) rather than at each Wh the register counts.
        suggested_display_precision=1,
        value_fn=lambda reading: _rounded(reading.import_energy_kwh, 3),
        exists_fn=lambda reading: reading.import_energy_kwh is not None,
    ),
    MeterSensorDescription(
        key="export_energy",
        translation_key="export_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda reading: _rounded(reading.export_energy_kwh, 3),
        exists_fn=lambda reading: reading.export_energy_kwh is not None,
    ),
    *_meter_phase_sensors(),
)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


FIGURES = ("meter", "available", "requested", "allocated", "usage")


def _group_sensors() -> list[GroupSensorDescription]:
    sensors: list[GroupSensorDescription] = []
    for figure in FIGURES:
        for index, phase in enumerate(PHASE_NAMES):

            def value(figures: GroupFigures, name: str = figure, i: int = index) -> StateType:
                values: tuple[float, float, float] | None = getattr(figures, name)
                return None if values is None else amps(values[i])

            sensors.append(
                GroupSensorDescription(
                    key=f"{figure}_{phase}",
                    translation_key=f"{figure}_{phase}",
                    device_class=SensorDeviceClass.CURRENT,
                    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
                    state_class=SensorStateClass.MEASUREMENT,
                    # Fuse figures, in the whole amps the fuse and every decision use: an
                    # allocation (whole amps) never shows above what is available.
                    suggested_display_precision=0,
                    resolution=1.0,
                    # The group's meter is a meter device whose own current sensors show
                    # the same figures: off by default, so the recorder keeps them once.
                    entity_registry_enabled_default=figure != "meter",
                    value_fn=value,
                )
            )
    return sensors


GROUP_SENSORS: tuple[GroupSensorDescription, ...] = (
    *_group_sensors(),
    GroupSensorDescription(
        key="allocated_power",
        translation_key="allocated_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,  # whole amps times 230 V: each allocation, at once
        value_fn=lambda figures: round(sum(figures.allocated) * NOMINAL_VOLTAGE_V),
    ),
)


NEXT_CHARGING_WINDOW = SensorEntityDescription(
    key="next_charging_window",
    translation_key="next_charging_window",
    device_class=SensorDeviceClass.TIMESTAMP,
)
"""A charger's charging schedule: the window in force, or the next one."""


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a charger, meter or group entry."""
    runtime = entry.runtime_data
    if isinstance(runtime, ChargerRuntimeData):
        coordinator = runtime.coordinator
        sensors: list[SensorEntity] = [
            ChargerSensor(coordinator, description) for description in charger_sensors(entry)
        ]
        sensors.append(IfHomeAssistantStopsSensor(coordinator, IF_HOME_ASSISTANT_STOPS))
        sensors.append(ScheduleSensor(coordinator, NEXT_CHARGING_WINDOW))
        sensors.append(LastSessionSensor(coordinator, LAST_SESSION))
        sensors.extend(
            SessionSensor(coordinator, description) for description in session_sensors(entry)
        )
        sensors.extend(
            ChargerTotalSensor(coordinator, description) for description in CHARGER_TOTALS
        )
        sensors.extend(ChargerPlanSensor(coordinator, desc) for desc in CHARGER_PLAN_SENSORS)
        async_add_entities(sensors)
    elif isinstance(runtime, MeterRuntimeData):
        meter_coordinator = runtime.coordinator
        reading = meter_coordinator.data
        async_add_entities(
            MeterSensor(meter_coordinator, description)
            for description in METER_SENSORS
            if reading is None or description.exists_fn(reading)
        )
    else:
        sensors = [GroupSensor(entry, description) for description in GROUP_SENSORS]
        if not entry.data.get(CONF_PARENT):  # the root group: the grid connection
            sensors.extend(PeakSensor(entry, description) for description in PEAK_SENSORS)
            sensors.append(EnergyPriceSensor(entry, ENERGY_PRICE))
            sensors.extend(SiteTotalSensor(entry, description) for description in SITE_TOTALS)
            sensors.append(PlannedLoadSensor(entry, PLANNED_LOAD))
        async_add_entities(sensors)


class ChargerSensor(ChargerEntity, RecordedSensor):
    """A charger sensor."""

    entity_description: ChargerSensorDescription

    def current_value(self) -> StateType:
        """Return the value from the latest reading and decision."""
        return self.entity_description.value_fn(self.coordinator.data, self.decision)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The balancing reason's limit: which group, and which of its phases (or none)."""
        decision = self.decision
        if self.entity_description.key != "balancing_reason" or decision is None:
            return None
        group = None
        if decision.limit_group is not None:
            entry = self.hass.config_entries.async_get_entry(decision.limit_group)
            group = entry.title if entry is not None else decision.limit_group
        phase = None if decision.limit_phase is None else decision.limit_phase.name
        return {"group": group, "phase": phase}


class IfHomeAssistantStopsSensor(ChargerEntity, SensorEntity):
    """The most the charger may draw if Home Assistant stops, and why (`held_if_silent`)."""

    @property
    def available(self) -> bool:
        """Always: it matters most while the charger does not answer."""
        return True

    @property
    def native_value(self) -> StateType:
        """The current the charger falls back to, or keeps."""
        return held_if_silent(self.coordinator.config_entry, self.decision)[0]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """`fallback`: "watchdog" (the charger's own failsafe) or "last_limit" (it keeps it)."""
        return {"fallback": held_if_silent(self.coordinator.config_entry, self.decision)[1]}


class MeterSensor(MeterEntity, RecordedSensor):
    """A meter sensor."""

    entity_description: MeterSensorDescription

    def current_value(self) -> StateType:
        """Return the value from the latest reading."""
        return self.entity_description.value_fn(self.coordinator.data)


class GroupSensor(GroupEntity, RecordedSensor):
    """A group figure for one phase."""

    entity_description: GroupSensorDescription

    def current_value(self) -> StateType:
        """Return the figure from the last decision."""
        figures = self.figures
        return None if figures is None else self.entity_description.value_fn(figures)


class PeakSensor(GroupEntity, RecordedSensor):
    """A figure of the capacity tariff's peak budget, at the root group."""

    entity_description: PeakSensorDescription

    @property
    def available(self) -> bool:
        """Available while a capacity tariff is on."""
        return self.service.peak.budget is not None

    def current_value(self) -> StateType:
        """Return the figure as of the last cycle."""
        return self.entity_description.value_fn(self.service.peak)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The month's peak: the window it happened in, and whether the house alone set it."""
        peak = self.service.peak.tracker.month_peak
        if self.entity_description.key != "month_peak" or peak is None:
            return None
        return {
            "window_start": dt_util.utc_from_timestamp(peak.start).isoformat(),
            "set_by": "house" if peak.by_house else "cars",
        }


class ScheduleSensor(ChargerEntity, SensorEntity):
    """The charging schedule's window in force or next (unknown without a schedule).

    Attributes: its end, its current cap, whether it is in force, and every timer.
    """

    @property
    def available(self) -> bool:
        """Always: the schedule is a setting, not a reading."""
        return True

    def _timers(self) -> tuple[ChargingTimer, ...]:
        stored = setting(self.coordinator.config_entry, OPT_SCHEDULE) or ()
        return tuple(ChargingTimer.from_dict(raw) for raw in stored)

    @property
    def native_value(self) -> datetime | None:
        """When the window in force began, or when the next one opens."""
        window = next_window(self._timers(), dt_util.now())
        return None if window is None else window.start

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The window's end and cap, whether it is open now, and the timers as set."""
        now = dt_util.now()
        timers = self._timers()
        window = next_window(timers, now)
        return {
            "end": None if window is None else window.end.isoformat(),
            "current": None if window is None else window.current,
            "in_force": window is not None and window.start <= now,
            "timers": [timer.to_dict() for timer in timers],
        }
