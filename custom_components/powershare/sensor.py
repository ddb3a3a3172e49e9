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
    UnitOfTemperature,
    UnitOfTime,
)

from .const import CONF_KIND, ENTRY_KIND_CHARGER, ENTRY_KIND_METER
from .coordinator import NOMINAL_VOLTAGE_V
from .devices.teltocharge import CurrentLimitCause, EvseStatus, IecState
from .engine.model import Reason
from .entity import ChargerEntity, GroupEntity, MeterEntity

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .devices.meters import MeterReading
    from .devices.teltocharge import TeltoChargeReading
    from .engine.model import ChargerDecision, GroupFigures

PARALLEL_UPDATES = 0
PHASE_NAMES = ("l1", "l2", "l3")


def _amps(value: float) -> float:
    """Round currents to 0.1 A: finer than any fuse decision, coarse enough for the recorder."""
    return round(value, 1)


def _enum_options(enum: type[Any]) -> list[str]:
    return [member.name.lower() for member in enum]


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A charger sensor: from the reading, from the decision, or both."""

    value_fn: Callable[[TeltoChargeReading, ChargerDecision | None], StateType]


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A meter sensor, from the reading."""

    value_fn: Callable[[MeterReading], StateType]
    exists_fn: Callable[[MeterReading], bool] = lambda _reading: True


@dataclass(frozen=True, kw_only=True)
class GroupSensorDescription(SensorEntityDescription):
    """A group sensor, from the group's figures in the last decision."""

    value_fn: Callable[[GroupFigures], StateType]


def _charger_phase(
    value: Callable[[TeltoChargeReading, int], StateType], index: int
) -> Callable[[TeltoChargeReading, ChargerDecision | None], StateType]:
    """Bind a per-phase value to one phase."""
    return lambda reading, _decision: value(reading, index)


def _meter_phase(
    value: Callable[[MeterReading, int], StateType], index: int
) -> Callable[[MeterReading], StateType]:
    """Bind a per-phase value to one phase."""
    return lambda reading: value(reading, index)


def _phase_current_sensors() -> list[ChargerSensorDescription]:
    sensors: list[ChargerSensorDescription] = []
    for index, phase in enumerate(PHASE_NAMES):
        sensors.append(
            ChargerSensorDescription(
                key=f"current_{phase}",
                translation_key=f"current_{phase}",
                device_class=SensorDeviceClass.CURRENT,
                native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
                state_class=SensorStateClass.MEASUREMENT,
                suggested_display_precision=1,
                value_fn=_charger_phase(lambda reading, i: _amps(reading.currents_a[i]), index),
            )
        )
        sensors.append(
            ChargerSensorDescription(
                key=f"voltage_{phase}",
                translation_key=f"voltage_{phase}",
                device_class=SensorDeviceClass.VOLTAGE,
                native_unit_of_measurement=UnitOfElectricPotential.VOLT,
                state_class=SensorStateClass.MEASUREMENT,
                entity_category=EntityCategory.DIAGNOSTIC,
                entity_registry_enabled_default=False,
                value_fn=_charger_phase(lambda reading, i: round(reading.voltages_v[i]), index),
            )
        )
    return sensors


CHARGER_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=_enum_options(EvseStatus),
        value_fn=lambda reading, _d: reading.evse_status.name.lower(),
    ),
    ChargerSensorDescription(
        key="iec_state",
        translation_key="iec_state",
        device_class=SensorDeviceClass.ENUM,
        options=_enum_options(IecState),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: reading.iec_state.name.lower(),
    ),
    ChargerSensorDescription(
        key="power",
        translation_key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda reading, _d: reading.power_w,
    ),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda reading, _d: round(reading.session_energy_kwh, 2),
    ),
    ChargerSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda reading, _d: reading.session_duration_s,
    ),
    ChargerSensorDescription(
        key="lifetime_energy",
        translation_key="lifetime_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda reading, _d: round(reading.lifetime_energy_kwh, 2),
    ),
    ChargerSensorDescription(
        key="temperature",
        translation_key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: round(reading.temperature_c, 1),
    ),
    ChargerSensorDescription(
        key="current_limit_cause",
        translation_key="current_limit_cause",
        device_class=SensorDeviceClass.ENUM,
        options=_enum_options(CurrentLimitCause),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: reading.current_limit_cause.name.lower(),
    ),
    ChargerSensorDescription(
        key="warnings",
        translation_key="warnings",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: _flag_names(reading.warnings),
    ),
    ChargerSensorDescription(
        key="errors",
        translation_key="errors",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: _flag_names(reading.errors),
    ),
    ChargerSensorDescription(
        key="allocated_current",
        translation_key="allocated_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda _r, decision: None if decision is None else decision.target_current,
    ),
    ChargerSensorDescription(
        key="balancing_reason",
        translation_key="balancing_reason",
        device_class=SensorDeviceClass.ENUM,
        options=[reason.value for reason in Reason],
        value_fn=lambda _r, decision: None if decision is None else decision.reason.value,
    ),
    *_phase_current_sensors(),
)


def _flag_names(flags: Any) -> str:
    """Name the raised flags ("none" when none), e.g. "temperature, overcurrent_draw"."""
    names = [flag.name.lower() for flag in type(flags) if flag in flags and flag.name]
    return ", ".join(names) if names else "none"


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
                suggested_display_precision=1,
                value_fn=_meter_phase(lambda reading, i: _amps(reading.phases[i].current_a), index),
                exists_fn=has_phase,
            ),
            MeterSensorDescription(
                key=f"power_{phase}",
                translation_key=f"power_{phase}",
                device_class=SensorDeviceClass.POWER,
                native_unit_of_measurement=UnitOfPower.WATT,
                state_class=SensorStateClass.MEASUREMENT,
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
        value_fn=lambda reading: round(reading.total_power_w),
    ),
    MeterSensorDescription(
        key="import_energy",
        translation_key="import_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda reading: _rounded(reading.import_energy_kwh, 3),
        exists_fn=lambda reading: reading.import_energy_kwh is not None,
    ),
    MeterSensorDescription(
        key="export_energy",
        translation_key="export_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
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
                return None if values is None else _amps(values[i])

            sensors.append(
                GroupSensorDescription(
                    key=f"{figure}_{phase}",
                    translation_key=f"{figure}_{phase}",
                    device_class=SensorDeviceClass.CURRENT,
                    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
                    state_class=SensorStateClass.MEASUREMENT,
                    suggested_display_precision=1,
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
        value_fn=lambda figures: round(sum(figures.allocated) * NOMINAL_VOLTAGE_V),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConfigEntry[Any],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the sensors of a charger, meter or group entry."""
    kind = entry.data[CONF_KIND]
    if kind == ENTRY_KIND_CHARGER:
        coordinator = entry.runtime_data.coordinator
        async_add_entities(
            ChargerSensor(coordinator, description) for description in CHARGER_SENSORS
        )
    elif kind == ENTRY_KIND_METER:
        meter_coordinator = entry.runtime_data.coordinator
        reading = meter_coordinator.data
        async_add_entities(
            MeterSensor(meter_coordinator, description)
            for description in METER_SENSORS
            if reading is None or description.exists_fn(reading)
        )
    else:
        async_add_entities(GroupSensor(entry, description) for description in GROUP_SENSORS)


class ChargerSensor(ChargerEntity, SensorEntity):
    """A charger sensor."""

    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value from the latest reading and decision."""
        return self.entity_description.value_fn(self.coordinator.data, self.decision)


class MeterSensor(MeterEntity, SensorEntity):
    """A meter sensor."""

    entity_description: MeterSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value from the latest reading."""
        return self.entity_description.value_fn(self.coordinator.data)


class GroupSensor(GroupEntity, SensorEntity):
    """A group figure for one phase."""

    entity_description: GroupSensorDescription

    @property
    def native_value(self) -> StateType:
        """The figure from the last decision."""
        figures = self.figures
        return None if figures is None else self.entity_description.value_fn(figures)
