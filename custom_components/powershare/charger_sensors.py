"""The sensors of a charger entry, by kind of charger (the platform is `sensor`).

Every kind shows what the balancing decided (allocated current, reason) and what happens if
Home Assistant stops; a TeltoCharge, read over Modbus, also shows what its registers tell. A
charger driven through another integration's entities shows nothing that integration already
shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
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

from .const import CHARGER_TELTOCHARGE
from .devices.teltocharge import CurrentLimitCause, EvseStatus, IecState
from .engine.model import Reason
from .settings import charger_type

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.typing import StateType

    from .engine.model import ChargerDecision

PHASE_NAMES = ("l1", "l2", "l3")

POWER_RESOLUTION_W = 100.0
"""A power to 100 W when written (0.43 A on a phase, below the whole amps of any decision):
finer figures change every second and tell nothing a fuse or a tariff acts on. In W still,
so the entities already in use keep their unit and their statistics."""


def amps(value: float) -> float:
    """Round currents to 0.1 A, as read; entities show (and write) whole amps of it."""
    return round(value, 1)


def status_option(status: EvseStatus) -> str:
    """Return the status sensor's option: the member's name, but never `unknown`.

    Home Assistant's own `unknown` is a sensor without a value; the TeltoCharge's "unknown
    state" is IEC state E.
    """
    return "state_e" if status is EvseStatus.UNKNOWN else status.name.lower()


def enum_options(enum: type[Any]) -> list[str]:
    """Return the options of an enum sensor: the members' names in lower case."""
    return [member.name.lower() for member in enum]


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A charger sensor: from the reading, from the decision, or both."""

    value_fn: Callable[[Any, ChargerDecision | None], StateType]
    """Called with the kind's own reading and the last decision."""
    resolution: float | None = None
    """The power of ten the figure is rounded to when written (`RecordedSensor`); None: as is."""


def _charger_phase(
    value: Callable[[Any, int], StateType], index: int
) -> Callable[[Any, ChargerDecision | None], StateType]:
    """Bind a per-phase value to one phase."""
    return lambda reading, _decision: value(reading, index)


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
                suggested_display_precision=0,  # whole amps, as the limit the car follows
                value_fn=_charger_phase(lambda reading, i: amps(reading.currents_a[i]), index),
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
                suggested_display_precision=0,
                value_fn=_charger_phase(lambda reading, i: round(reading.voltages_v[i]), index),
            )
        )
    return sensors


DECISION_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="allocated_current",
        translation_key="allocated_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,  # a decision in whole amps: every change at once
        value_fn=lambda _r, decision: None if decision is None else decision.target_current,
    ),
    ChargerSensorDescription(
        key="balancing_reason",
        translation_key="balancing_reason",
        device_class=SensorDeviceClass.ENUM,
        options=[reason.value for reason in Reason],
        value_fn=lambda _r, decision: None if decision is None else decision.reason.value,
    ),
)
"""Every kind of charger has these."""

TELTOCHARGE_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status_option(status) for status in EvseStatus],
        value_fn=lambda reading, _d: status_option(reading.evse_status),
    ),
    ChargerSensorDescription(
        key="iec_state",
        translation_key="iec_state",
        device_class=SensorDeviceClass.ENUM,
        options=enum_options(IecState),
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # protocol detail; *Status* says the same
        value_fn=lambda reading, _d: reading.iec_state.name.lower(),
    ),
    ChargerSensorDescription(
        key="power",
        translation_key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        resolution=POWER_RESOLUTION_W,
        value_fn=lambda reading, _d: reading.power_w,
    ),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # Back to 0 at each new session: total_increasing reads a fall as a new cycle, so
        # the statistics never show a session's start as negative consumption.
        state_class=SensorStateClass.TOTAL_INCREASING,
        # 0.1 kWh: a session's energy is read as "12.3 kWh"; written exact at each 0.1 kWh.
        suggested_display_precision=1,
        value_fn=lambda reading, _d: round(reading.session_energy_kwh, 2),
    ),
    ChargerSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,  # 0.01 h = 36 s, not a state every second
        value_fn=lambda reading, _d: reading.session_duration_s,
    ),
    ChargerSensorDescription(
        key="lifetime_energy",
        translation_key="lifetime_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda reading, _d: round(reading.lifetime_energy_kwh, 2),
    ),
    ChargerSensorDescription(
        key="temperature",
        translation_key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda reading, _d: round(reading.temperature_c, 1),
    ),
    ChargerSensorDescription(
        key="current_limit_cause",
        translation_key="current_limit_cause",
        device_class=SensorDeviceClass.ENUM,
        options=enum_options(CurrentLimitCause),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda reading, _d: reading.current_limit_cause.name.lower(),
    ),
    *_phase_current_sensors(),
)


"""A TeltoCharge's registers."""


def charger_sensors(entry: ConfigEntry[Any]) -> tuple[ChargerSensorDescription, ...]:
    """Return the sensors a charger entry has, by the kind of charger it drives."""
    if charger_type(entry) == CHARGER_TELTOCHARGE:
        return DECISION_SENSORS + TELTOCHARGE_SENSORS
    return DECISION_SENSORS


IF_HOME_ASSISTANT_STOPS = SensorEntityDescription(
    key="if_home_assistant_stops",
    translation_key="if_home_assistant_stops",
    device_class=SensorDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    entity_category=EntityCategory.DIAGNOSTIC,
)
"""The most the charger may draw if Home Assistant stops: its watchdog's failsafe current, or
(without a watchdog) the last limit it was given, which it keeps."""
