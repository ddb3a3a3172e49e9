"""Sessions, energy and costs as sensors: per charger, and for the whole site at the root group.

Per charger: the session's energy, cost and charging time (the session in progress, or else the
last one), the last finished session, and the totals Powershare counted (energy and cost). Per
site: the price of a kWh now, and the energy and cost of all the chargers together. The energy
sensors are `total_increasing` (a session's energy falls to 0 when the next one starts, which
Home Assistant's statistics read as a new cycle, not as negative consumption), and the costs
`monetary` and `total` (a session's with its start as `last_reset`): the Energy dashboard
accepts them as a device's consumption and as a cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfTime
from homeassistant.util import dt as dt_util

from .const import CHARGER_TELTOCHARGE
from .entity import ChargerEntity, GroupEntity, RecordedSensor
from .settings import charger_type

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.typing import StateType

    from .balancing.sessions import Session, Totals


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, kw_only=True)
class SessionSensorDescription(SensorEntityDescription):
    """A charger's session figure, from its session in progress or else its last one."""

    value_fn: Callable[[Session], StateType]
    in_currency: bool = False
    """The unit is Home Assistant's currency."""
    reset_with_session: bool = False
    """A `total` that starts again with each session (its start is the `last_reset`)."""


@dataclass(frozen=True, kw_only=True)
class TotalSensorDescription(SensorEntityDescription):
    """A total so far (a charger's, or the site's)."""

    value_fn: Callable[[Totals], StateType]
    in_currency: bool = False


SESSION_ENERGY = SessionSensorDescription(
    key="session_energy",
    translation_key="session_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    state_class=SensorStateClass.TOTAL_INCREASING,
    suggested_display_precision=1,  # as a TeltoCharge's own session energy
    value_fn=lambda session: round(session.totals.energy_kwh, 2),
)
"""For chargers without a session counter of their own (a TeltoCharge shows its register)."""
SESSION_SENSORS: tuple[SessionSensorDescription, ...] = (
    SessionSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        in_currency=True,
        reset_with_session=True,
        value_fn=lambda session: _rounded(session.totals.cost),
    ),
    SessionSensorDescription(
        key="session_charging_time",
        translation_key="session_charging_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda session: round(session.charging_s / 60.0),
    ),
)


def _energy_total(key: str) -> TotalSensorDescription:
    # 0.1 kWh: a state every 33 s at 11 kW rather than every 3 s (the recorder keeps each).
    return TotalSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda totals: round(totals.energy_kwh, 1),
    )


def _cost_total(key: str) -> TotalSensorDescription:
    return TotalSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        in_currency=True,
        value_fn=lambda totals: _rounded(totals.cost),
    )


CHARGER_TOTALS = (_energy_total("total_energy"), _cost_total("total_cost"))
SITE_TOTALS = (_energy_total("ev_energy"), _cost_total("ev_cost"))
ENERGY_PRICE = SensorEntityDescription(
    key="energy_price",
    translation_key="energy_price",
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=3,
)


LAST_SESSION = SensorEntityDescription(
    key="last_session",
    translation_key="last_session",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)
"""A charger's last finished session: its energy (a session's figure, not a running total)."""


def session_sensors(entry: ConfigEntry[Any]) -> tuple[SessionSensorDescription, ...]:
    """Return a charger's session sensors (a TeltoCharge's energy is its own register's)."""
    if charger_type(entry) == CHARGER_TELTOCHARGE:
        return SESSION_SENSORS
    return (SESSION_ENERGY, *SESSION_SENSORS)


class _InCurrency(RecordedSensor):
    """A sensor whose unit may be Home Assistant's currency (written as `RecordedSensor`)."""

    @property
    def _in_currency(self) -> bool:
        """Whether the description says the unit is the currency."""
        return bool(getattr(self.entity_description, "in_currency", False))

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The currency for costs; else the description's unit."""
        if self._in_currency:
            return self.hass.config.currency
        return super().native_unit_of_measurement


class SessionSensor(ChargerEntity, _InCurrency):
    """A figure of the charger's session in progress, or else of its last one."""

    entity_description: SessionSensorDescription

    @property
    def available(self) -> bool:
        """Always: a session's figures do not depend on the charger answering now."""
        return True

    @property
    def _session(self) -> Session | None:
        return self.service.sessions.recent.get(self.coordinator.config_entry.entry_id)

    def current_value(self) -> StateType:
        """Return the figure (unknown before the first session)."""
        session = self._session
        return None if session is None else self.entity_description.value_fn(session)

    @property
    def last_reset(self) -> datetime | None:
        """The session's start, for a figure that starts again with each session."""
        session = self._session
        if not self.entity_description.reset_with_session or session is None:
            return None
        return dt_util.utc_from_timestamp(session.start)


class ChargerTotalSensor(ChargerEntity, _InCurrency):
    """What Powershare counted at this charger since it was added."""

    entity_description: TotalSensorDescription

    @property
    def available(self) -> bool:
        """Always: a total does not depend on the charger answering now."""
        return True

    def current_value(self) -> StateType:
        """Return the total (0 kWh before the first session; the cost unknown before a price)."""
        totals = self.service.sessions.totals.get(self.coordinator.config_entry.entry_id)
        if totals is None:
            return 0.0 if not self._in_currency else None
        return self.entity_description.value_fn(totals)


class SiteTotalSensor(GroupEntity, _InCurrency):
    """What Powershare counted at all the chargers together (root group)."""

    entity_description: TotalSensorDescription

    @property
    def available(self) -> bool:
        """Always: a total does not depend on this cycle."""
        return True

    def current_value(self) -> StateType:
        """Return the total (the cost unknown before a price)."""
        return self.entity_description.value_fn(self.service.sessions.site)


class EnergyPriceSensor(GroupEntity, RecordedSensor):
    """The price of a kWh now, from the site's tariff (unknown without one)."""

    @property
    def available(self) -> bool:
        """Always: unknown without a price."""
        return True

    @property
    def native_unit_of_measurement(self) -> str:
        """Home Assistant's currency per kWh."""
        return f"{self.hass.config.currency}/{UnitOfEnergy.KILO_WATT_HOUR}"

    def current_value(self) -> StateType:
        """Return the price at the last cycle."""
        return _rounded(self.service.sessions.price, 4)


class LastSessionSensor(ChargerEntity, SensorEntity):
    """The charger's last finished session: energy; start, end, cost, current, limits."""

    @property
    def available(self) -> bool:
        """Always: it tells about the past, whatever the charger does now."""
        return True

    @property
    def native_value(self) -> StateType:
        """The session's energy (unknown before a session ended)."""
        last = self.service.sessions.last.get(self.coordinator.config_entry.entry_id)
        return None if last is None else round(last.energy_kwh, 3)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """When it began and ended, its cost, the most it was given, what limited it."""
        last = self.service.sessions.last.get(self.coordinator.config_entry.entry_id)
        if last is None:
            return None
        return {
            "start": dt_util.utc_from_timestamp(last.start).isoformat(),
            "end": dt_util.utc_from_timestamp(last.end).isoformat(),
            "cost": None if last.cost is None else round(last.cost, 2),
            "charging_time_min": round(last.charging_time_s / 60.0),
            "max_current": last.max_current,
            "limited_by": list(last.limited_by),
        }
