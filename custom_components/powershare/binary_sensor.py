"""Binary sensors: car connected, charging, a problem flag per charger, and each fault flag.

A TeltoCharge reports warnings (register 34) and errors (register 35) as bits: each bit is a
translated problem sensor of its own (diagnostic, disabled by default, as peblar does with its
detail), and *Problem* sums up the errors (and the EVSE's error state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

from .const import CHARGER_TELTOCHARGE
from .coordinator import charger_data
from .devices.teltocharge import ErrorFlag, EvseStatus, WarningFlag
from .entity import ChargerEntity
from .settings import charger_type

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerBinaryDescription(BinarySensorEntityDescription):
    """A flag taken from the charger's reading."""

    is_on_fn: Callable[[Any], bool]
    """Called with the kind's own reading."""
    teltocharge_only: bool = False


def _raised(register: str, flag: WarningFlag | ErrorFlag) -> Callable[[Any], bool]:
    """Whether `flag` is raised in the reading's `warnings` or `errors`."""
    return lambda reading: flag in getattr(reading, register)


def _bit_sensors(
    prefix: str, register: str, flags: type[WarningFlag | ErrorFlag]
) -> list[ChargerBinaryDescription]:
    """One problem sensor per bit of a fault register (diagnostic, disabled by default)."""
    return [
        ChargerBinaryDescription(
            key=f"{prefix}_{flag.name.lower()}",
            translation_key=f"{prefix}_{flag.name.lower()}",
            device_class=BinarySensorDeviceClass.PROBLEM,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            is_on_fn=_raised(register, flag),
            teltocharge_only=True,
        )
        for flag in flags
        if flag.name
    ]


BINARY_SENSORS: tuple[ChargerBinaryDescription, ...] = (
    ChargerBinaryDescription(
        key="car_connected",
        translation_key="car_connected",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda reading: reading.ev_connected,
    ),
    ChargerBinaryDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda reading: reading.charging,
    ),
    ChargerBinaryDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda reading: bool(reading.errors) or reading.evse_status is EvseStatus.ERROR,
        teltocharge_only=True,
    ),
    *_bit_sensors("warning", "warnings", WarningFlag),
    *_bit_sensors("error", "errors", ErrorFlag),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's binary sensors (only charger entries forward this platform)."""
    coordinator = charger_data(entry).coordinator
    teltocharge = charger_type(entry) == CHARGER_TELTOCHARGE
    async_add_entities(
        ChargerBinarySensor(coordinator, desc)
        for desc in BINARY_SENSORS
        if teltocharge or not desc.teltocharge_only
    )


class ChargerBinarySensor(ChargerEntity, BinarySensorEntity):
    """A flag of a charger."""

    entity_description: ChargerBinaryDescription

    @property
    def is_on(self) -> bool:
        """The flag from the latest reading."""
        return self.entity_description.is_on_fn(self.coordinator.data)
