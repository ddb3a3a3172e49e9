"""One DataUpdateCoordinator per device entry: chargers, polled meters, and sensor meters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfPower,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util.unit_conversion import (
    ElectricCurrentConverter,
    ElectricPotentialConverter,
    EnergyConverter,
    PowerConverter,
)

from .const import (
    CONF_AVERAGE_DEMAND_ENTITY,
    CONF_CURRENT_ENTITIES,
    CONF_EXPORT_ENERGY_ENTITY,
    CONF_IMPORT_ENERGY_ENTITY,
    CONF_MONTH_PEAK_ENTITY,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITIES,
    CONF_VOLTAGE_ENTITIES,
    DEFAULT_CHARGER_POLL_INTERVAL,
    DEFAULT_METER_POLL_INTERVAL,
    DOMAIN,
    LOGGER,
)
from .devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
    ModbusExceptionError,
    PowershareDeviceError,
)
from .devices.meters import MeterAuthenticationError, MeterReading, PhaseReading

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.config_entries import ConfigEntry

    from .connection import OpenMeter
    from .devices.charger import ChargerControl, ChargerIdentity, ChargerReading

NOMINAL_VOLTAGE_V = 230.0


def _update_failed(err: PowershareDeviceError) -> UpdateFailed:
    """Translate a device error into an UpdateFailed a user can read."""
    key = "communication_error"
    if isinstance(err, DeviceTimeoutError):
        key = "timeout"
    elif isinstance(err, ModbusExceptionError):
        key = "modbus_exception"
    elif isinstance(err, ImplausibleValueError):
        key = "implausible_value"
    elif not isinstance(err, DeviceUnreachableError):
        key = "device_error"
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


def _interval(entry: ConfigEntry[Any], default: float) -> timedelta:
    return timedelta(seconds=float(entry.options.get(CONF_POLL_INTERVAL, default)))


class ChargerCoordinator(DataUpdateCoordinator["ChargerReading"]):
    """Reads one charger, of any kind (the charger interface), every poll interval."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], charger: ChargerControl
    ) -> None:
        """Poll `charger` for `entry` (default every 2 s; the options flow changes it)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Powershare charger {entry.title}",
            update_interval=_interval(entry, DEFAULT_CHARGER_POLL_INTERVAL),
            always_update=False,
        )
        self.charger = charger

    async def _async_update_data(self) -> ChargerReading:
        try:
            return await self.charger.read()
        except PowershareDeviceError as err:
            raise _update_failed(err) from err

    @callback
    def async_follow(self, entity_ids: tuple[str, ...]) -> Callable[[], None]:
        """Refresh when one of `entity_ids` changes; return the function that stops it."""
        return _async_refresh_on_change(self, entity_ids, "powershare charger entities")

    async def async_run_command(self, command: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run a write on the charger, then read it back so entities show the result.

        Not through the debounced `async_request_refresh`: the balancing service's own
        writes keep that in its cooldown, and a user's command must show at once.
        """
        try:
            await command()
        except PowershareDeviceError as err:
            raise _update_failed(err) from err
        await self.async_refresh()


class MeterCoordinator(DataUpdateCoordinator[MeterReading]):
    """Reads one polled meter (Modbus or HTTP) every poll interval (default 1 s)."""

    config_entry: ConfigEntry[Any]

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], meter: OpenMeter) -> None:
        """Poll `meter` for `entry`."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Powershare meter {entry.title}",
            update_interval=_interval(entry, DEFAULT_METER_POLL_INTERVAL),
            always_update=False,
        )
        self.meter = meter

    async def _async_update_data(self) -> MeterReading:
        try:
            return await self.meter.driver.read()
        except MeterAuthenticationError as err:
            # A changed password or a revoked token: Home Assistant asks the user (reauth).
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="meter_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except PowershareDeviceError as err:
            raise _update_failed(err) from err


@dataclass(frozen=True, slots=True)
class SensorMeterEntities:
    """The Home Assistant entities that stand in for a meter, L1 first."""

    currents: tuple[str, ...] = ()
    powers: tuple[str, ...] = ()
    voltages: tuple[str, ...] = ()
    import_energy: str | None = None
    export_energy: str | None = None
    average_demand: str | None = None
    """The meter's own average import of the running window (DSMR `current_average_demand`)."""
    month_peak: str | None = None
    """The meter's own month peak (DSMR `maximum_demand_current_month`)."""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SensorMeterEntities:
        """Read the entity ids stored in a meter entry."""
        return cls(
            currents=tuple(data.get(CONF_CURRENT_ENTITIES) or ()),
            powers=tuple(data.get(CONF_POWER_ENTITIES) or ()),
            voltages=tuple(data.get(CONF_VOLTAGE_ENTITIES) or ()),
            import_energy=data.get(CONF_IMPORT_ENERGY_ENTITY),
            export_energy=data.get(CONF_EXPORT_ENERGY_ENTITY),
            average_demand=data.get(CONF_AVERAGE_DEMAND_ENTITY),
            month_peak=data.get(CONF_MONTH_PEAK_ENTITY),
        )

    @property
    def all(self) -> tuple[str, ...]:
        """Every entity id involved."""
        return self.currents + self.powers + self.voltages


class SensorMeterError(Exception):
    """A source entity is missing, unavailable, or not a number in a known unit."""


def _number(state: State | None, converter: Any, unit: str) -> float:
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise SensorMeterError(f"{state.entity_id if state else 'entity'} is unavailable")
    try:
        value = float(state.state)
    except ValueError as err:
        raise SensorMeterError(f"{state.entity_id} is not a number: {state.state!r}") from err
    if not math.isfinite(value):
        raise SensorMeterError(f"{state.entity_id} is not finite")
    source_unit = state.attributes.get("unit_of_measurement", unit)
    try:
        return float(converter.convert(value, source_unit, unit))
    except Exception as err:  # HomeAssistantError for units the converter does not know
        raise SensorMeterError(f"{state.entity_id}: unit {source_unit!r} not usable") from err


def read_sensor_meter(hass: HomeAssistant, entities: SensorMeterEntities) -> MeterReading:
    """Build a MeterReading from the entities' states (signed: + import, - export).

    The reading is as old as its OLDEST source: `last_reported` moves even when the value does
    not change, so a sensor that keeps reporting the same number stays fresh, and one that stops
    reporting goes stale, which puts its group on the fallback.
    """
    states = {entity_id: hass.states.get(entity_id) for entity_id in entities.all}
    phases: list[PhaseReading] = []
    count = len(entities.currents) or len(entities.powers)
    for index in range(count):
        voltage = (
            _number(
                states[entities.voltages[index]],
                ElectricPotentialConverter,
                UnitOfElectricPotential.VOLT,
            )
            if index < len(entities.voltages)
            else None
        )
        if entities.currents:
            current = _number(
                states[entities.currents[index]],
                ElectricCurrentConverter,
                UnitOfElectricCurrent.AMPERE,
            )
            power = current * (voltage or NOMINAL_VOLTAGE_V)
        else:
            power = _number(states[entities.powers[index]], PowerConverter, UnitOfPower.WATT)
            current = power / (voltage or NOMINAL_VOLTAGE_V)
        phases.append(PhaseReading(voltage_v=voltage, current_a=current, power_w=power))
    reported = [state.last_reported.timestamp() for state in states.values() if state is not None]
    return MeterReading(
        phases=tuple(phases),
        total_power_w=sum(phase.power_w for phase in phases),
        import_energy_kwh=_extra(hass, entities.import_energy, EnergyConverter, "kWh"),
        export_energy_kwh=_extra(hass, entities.export_energy, EnergyConverter, "kWh"),
        measured_at=min(reported),
        average_demand_w=_extra(hass, entities.average_demand, PowerConverter, UnitOfPower.WATT),
        month_peak_w=_extra(hass, entities.month_peak, PowerConverter, UnitOfPower.WATT),
    )


def _extra(hass: HomeAssistant, entity_id: str | None, converter: Any, unit: str) -> float | None:
    """Return an optional figure for the capacity tariff; None when it cannot be had.

    Only the peak budget uses them, and only to count more energy than it measured itself:
    one that is unavailable or not a number neither fails the reading nor makes it stale.
    """
    if entity_id is None:
        return None
    try:
        value = _number(hass.states.get(entity_id), converter, unit)
    except SensorMeterError:
        return None
    return value if value >= 0 else None


class SensorMeterCoordinator(DataUpdateCoordinator[MeterReading]):
    """A meter made of other integrations' sensors: updated when they report, never polled."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], entities: SensorMeterEntities
    ) -> None:
        """Follow `entities` for `entry`."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Powershare sensor meter {entry.title}",
            always_update=False,
        )
        self.entities = entities

    async def _async_update_data(self) -> MeterReading:
        try:
            return read_sensor_meter(self.hass, self.entities)
        except SensorMeterError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="sensor_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err

    @callback
    def async_start(self) -> Callable[[], None]:
        """Follow the source entities; return the function that stops following them."""
        return _async_refresh_on_change(self, self.entities.all, "powershare sensor meter")


@callback
def _async_refresh_on_change(
    coordinator: DataUpdateCoordinator[Any], entity_ids: tuple[str, ...], name: str
) -> Callable[[], None]:
    """Refresh `coordinator` whenever one of `entity_ids` changes; return how to stop.

    Reading states is synchronous: an eager refresh updates the entities at once.
    """

    @callback
    def _changed(_event: Event[EventStateChangedData]) -> None:
        coordinator.hass.async_create_task(coordinator.async_refresh(), name, eager_start=True)

    return async_track_state_change_event(coordinator.hass, list(entity_ids), _changed)


# -- what a loaded entry holds (`ConfigEntry.runtime_data`) ------------------------------------
# Here, below the platforms, so that every platform, the diagnostics and the config flow can
# take the typed entry.


@dataclass(kw_only=True)
class RuntimeDataBase:
    """What every loaded entry holds: the settings it was last set up or updated with."""

    applied_settings: dict[str, Any]


@dataclass(kw_only=True)
class ChargerRuntimeData(RuntimeDataBase):
    """What a loaded charger entry holds."""

    coordinator: ChargerCoordinator
    identity: ChargerIdentity


@dataclass(kw_only=True)
class MeterRuntimeData(RuntimeDataBase):
    """What a loaded meter entry holds."""

    coordinator: MeterCoordinator | SensorMeterCoordinator


@dataclass(kw_only=True)
class GroupRuntimeData(RuntimeDataBase):
    """A loaded group entry: its figures come from the balancing service's decisions."""


type PowershareRuntimeData = ChargerRuntimeData | MeterRuntimeData | GroupRuntimeData
type PowershareConfigEntry = ConfigEntry[PowershareRuntimeData]


def charger_data(entry: PowershareConfigEntry) -> ChargerRuntimeData:
    """Return a charger entry's runtime data (the platforms only chargers forward call this).

    Raises TypeError for another kind of entry: a platform set up for it is a bug.
    """
    runtime = entry.runtime_data
    if not isinstance(runtime, ChargerRuntimeData):
        raise TypeError(f"{entry.title} is not a charger entry")
    return runtime
