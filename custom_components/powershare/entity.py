"""Entity base classes: one device per config entry, names from translation keys.

`RecordedSensor` is the write-rate policy of the sensors: which of their new values reach the
state machine, and so the recorder's database (see its docstring).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.components.sensor.const import UNIT_CONVERTERS
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_METER_ID, CONF_MODEL, DOMAIN
from .devices.meters import METER_MODELS
from .devices.teltocharge import TeltoChargeControl
from .hub import async_get_hub

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.components.sensor import SensorEntityDescription
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity import EntityDescription
    from homeassistant.helpers.typing import StateType

    from .balancing import BalancingService
    from .coordinator import ChargerCoordinator, MeterCoordinator, SensorMeterCoordinator
    from .engine.model import ChargerDecision, GroupFigures


def charger_device_info(entry: ConfigEntry[Any]) -> DeviceInfo:
    """Describe a charger from its identification (maker, model, serial, firmware)."""
    identity = entry.runtime_data.identity
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer=identity.manufacturer,
        model=identity.model_name,
        serial_number=identity.unique_id,
        sw_version=identity.firmware_version,
        name=entry.title,
    )


def meter_device_info(entry: ConfigEntry[Any]) -> DeviceInfo:
    """Describe a meter; Home Assistant sensor meters are a service, not hardware."""
    model = METER_MODELS.get(entry.data.get(CONF_MODEL, ""))
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=model.manufacturer if model else "Home Assistant",
        model=model.name if model else "Home Assistant sensors",
        serial_number=entry.data.get(CONF_METER_ID),
        entry_type=None if model else DeviceEntryType.SERVICE,
    )


def group_device_info(entry: ConfigEntry[Any]) -> DeviceInfo:
    """Describe a group (a fuse and what hangs below it) as a service device."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer="Powershare",
        model="Group",
        entry_type=DeviceEntryType.SERVICE,
    )


class ChargerEntity(CoordinatorEntity["ChargerCoordinator"]):
    """An entity of a charger: device data from its coordinator, decisions from the service."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: ChargerCoordinator, description: EntityDescription) -> None:
        """Bind to `coordinator`'s entry; unique id = charger serial + key."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.runtime_data.identity.unique_id}_{description.key}"
        self._attr_device_info = charger_device_info(entry)

    @property
    def service(self) -> BalancingService:
        """The instance's balancing service."""
        return async_get_hub(self.hass).balancing

    @property
    def decision(self) -> ChargerDecision | None:
        """This charger's part of the last decision."""
        last = self.service.decision
        return None if last is None else last.chargers.get(self.coordinator.config_entry.entry_id)

    @property
    def teltocharge(self) -> TeltoChargeControl:
        """The charger's TeltoCharge control (entities only TeltoCharge entries have)."""
        control = self.coordinator.charger
        if not isinstance(control, TeltoChargeControl):
            raise TypeError(f"{self.coordinator.config_entry.title} is not a TeltoCharge")
        return control

    async def async_added_to_hass(self) -> None:
        """Also follow the balancing service's cycles."""
        await super().async_added_to_hass()
        self.async_on_remove(self.service.async_add_listener(self._handle_coordinator_update))


class MeterEntity(CoordinatorEntity["MeterCoordinator | SensorMeterCoordinator"]):
    """An entity of a meter."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: MeterCoordinator | SensorMeterCoordinator,
        description: EntityDescription,
    ) -> None:
        """Bind to `coordinator`'s entry; unique id = meter id (serial/MAC or entry) + key."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        base = entry.unique_id or entry.entry_id
        self._attr_unique_id = f"{base}_{description.key}"
        self._attr_device_info = meter_device_info(entry)


class GroupEntity(Entity):
    """An entity of a group: it shows the balancing service's figures for the group."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: ConfigEntry[Any], description: EntityDescription) -> None:
        """Bind to the group `entry`."""
        self.entity_description = description
        self.entry = entry
        self._attr_unique_id = f"{entry.unique_id or entry.entry_id}_{description.key}"
        self._attr_device_info = group_device_info(entry)

    @property
    def service(self) -> BalancingService:
        """The instance's balancing service."""
        return async_get_hub(self.hass).balancing

    @property
    def figures(self) -> GroupFigures | None:
        """The group's figures in the last decision."""
        last = self.service.decision
        return None if last is None else last.groups.get(self.entry.entry_id)

    @property
    def available(self) -> bool:
        """Available while the service has decided for this group."""
        return self.figures is not None

    async def async_added_to_hass(self) -> None:
        """Follow the balancing service's cycles."""
        self.async_on_remove(self.service.async_add_listener(self.async_write_ha_state))


# -- the write-rate policy of sensors ---------------------------------------------------------

WRITE_AT_LEAST_EVERY_S: Final = 300.0
"""A figure that moved by less than its unit is written once this long after the last write.

Five minutes: Home Assistant compiles its statistics (the Energy dashboard, the long-term
history) from 5-minute periods, so each period still gets the exact figure, while a figure
that only wanders within its unit costs at most one row per 5 minutes."""

clock: Callable[[], float] = time.monotonic
"""The policy's clock (a test steps it: a simulated minute in a fraction of a second)."""


def write_unit(description: SensorEntityDescription) -> float:
    """Return the sensor's unit of change in its native unit (0.0: every change counts).

    A description's own `resolution` if it has one (the figure is rounded to it), else one
    unit of its suggested display precision, in the unit it is displayed in by default
    (0.01 h is 36 s for a duration kept in seconds).
    """
    if (resolution := getattr(description, "resolution", None)) is not None:
        return float(resolution)
    if (precision := description.suggested_display_precision) is None:
        return 0.0
    unit = 10.0**-precision
    native = description.native_unit_of_measurement
    shown = description.suggested_unit_of_measurement or native
    if shown != native and (converter := UNIT_CONVERTERS.get(description.device_class)):
        to_native = converter.converter_factory(shown, native)
        unit = abs(to_native(unit) - to_native(0.0))
    return unit


def _number(value: StateType) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _round_to(value: float, resolution: float) -> float:
    """Round to a multiple of `resolution`, a power of ten (1 A, 100 W)."""
    return float(round(value, -round(math.log10(resolution))))


class RecordedSensor(SensorEntity):
    """A sensor that writes a new value when it says something new, not every cycle.

    Every state written is a row in the recorder's database; balancing reads the devices
    every second through the coordinators and the service, never these entities, so what
    is written here is only what a person sees (and what the history keeps). The policy,
    with `unit` one unit of change of the figure (`write_unit`: its displayed precision, or
    the resolution it is rounded to):

    - discrete values (text, enums, None) and availability: written at once when they change;
      so is a measurement that is a decision in whole units (an allocated current, 1 A);
    - a measurement (`state_class` measurement): written when it moved by at least one unit
      from the value written last, so the value written is always less than a unit from the
      truth, while noise within the unit writes nothing; a figure with its own `resolution`
      is rounded to it (a fuse figure in whole amps, a household power to 100 W), and the
      unit is then measured from the rounded figure, as shown;
    - a total (energy and costs, `total` / `total_increasing`, which the Energy dashboard
      reads): written, exact, whenever its displayed figure changes;
    - and either, when it changed by less than that, once `WRITE_AT_LEAST_EVERY_S` has
      passed since the last write.

    Subclasses give the figure as it is now in `current_value`; `native_value` is the figure
    as last written.
    """

    _shown: StateType = None
    _shown_at: float | None = None
    _unit: float | None = None
    """`write_unit` of the description, worked out at the first numeric write."""
    """When `_shown` was taken (None: nothing written yet, or unavailable since)."""

    def current_value(self) -> StateType:
        """Return the figure as it is now (from the latest reading or decision)."""
        raise NotImplementedError

    @property
    def native_value(self) -> StateType:
        """The figure as last written (see the class docstring)."""
        return self._shown

    @callback
    def async_write_ha_state(self) -> None:
        """Take the current figure if the policy says it is worth a write, then write."""
        self._take_current_value()
        super().async_write_ha_state()

    def _take_current_value(self) -> None:
        if not self.available:
            self._shown_at = None  # "unavailable" is written; the first value back is too
            return
        value, now = self.current_value(), clock()
        if self._shown_at is None or self._worth_writing(value, now - self._shown_at):
            self._shown, self._shown_at = self._rounded(value), now

    def _worth_writing(self, value: StateType, age_s: float) -> bool:
        new, old = _number(value), _number(self._shown)
        if new is None or old is None:
            return value != self._shown  # discrete, or to/from unknown: at once
        if self._unit is None:  # the description does not change: work it out once
            self._unit = write_unit(self.entity_description)
        unit = self._unit
        if new == old or unit <= 0.0:
            return new != old
        if self.state_class in (SensorStateClass.TOTAL, SensorStateClass.TOTAL_INCREASING):
            moved = round(new / unit) != round(old / unit)  # the displayed figure changed
        else:
            moved = abs(new - old) >= unit * (1 - 1e-9)  # float crumbs of 0.1 steps
        return moved or age_s >= WRITE_AT_LEAST_EVERY_S

    def _rounded(self, value: StateType) -> StateType:
        resolution = getattr(self.entity_description, "resolution", None)
        number = _number(value)
        if resolution is None or number is None:
            return value
        rounded = _round_to(number, resolution)
        return int(rounded) if resolution >= 1 else rounded
