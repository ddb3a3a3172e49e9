"""Numbers: a charger's current limits and failsafe current, and a group's fuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.exceptions import ServiceValidationError

from .const import (
    CONF_FUSE,
    CONF_KIND,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    MAX_CURRENT_LIMIT,
    MAX_FUSE,
    MIN_CURRENT_LIMIT,
    MIN_FUSE,
)
from .entity import ChargerEntity, GroupEntity
from .settings import DEFAULT_FAILSAFE_CURRENT, OPT_FAILSAFE_CURRENT, setting

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SettingNumberDescription(NumberEntityDescription):
    """A number stored as an entry option; `check_fn` refuses values that make no sense."""

    option: str
    default: float
    check_fn: Callable[[ConfigEntry[Any], float], str | None] = lambda _entry, _value: None
    """Return a translation key of the error, or None when the value is fine."""


def _check_min(entry: ConfigEntry[Any], value: float) -> str | None:
    maximum = float(setting(entry, CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT))
    return "min_above_max" if value > maximum else None


def _check_max(entry: ConfigEntry[Any], value: float) -> str | None:
    minimum = float(setting(entry, CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT))
    return "max_below_min" if value < minimum else None


def _check_failsafe(_entry: ConfigEntry[Any], value: float) -> str | None:
    # The TeltoCharge takes 0 (stop) or 6-32 A in register 20; 1-5 A does not exist.
    return "failsafe_not_allowed" if 0 < value < MIN_CURRENT_LIMIT else None


def _current_number(**kwargs: Any) -> SettingNumberDescription:
    return SettingNumberDescription(
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_step=1,
        entity_category=EntityCategory.CONFIG,
        mode=NumberMode.BOX,
        **kwargs,
    )


CHARGER_NUMBERS: tuple[SettingNumberDescription, ...] = (
    _current_number(
        key="max_current",
        translation_key="max_current",
        option=CONF_MAX_CURRENT,
        default=DEFAULT_MAX_CURRENT,
        native_min_value=MIN_CURRENT_LIMIT,
        native_max_value=MAX_CURRENT_LIMIT,
        check_fn=_check_max,
    ),
    _current_number(
        key="min_current",
        translation_key="min_current",
        option=CONF_MIN_CURRENT,
        default=DEFAULT_MIN_CURRENT,
        native_min_value=MIN_CURRENT_LIMIT,
        native_max_value=MAX_CURRENT_LIMIT,
        check_fn=_check_min,
    ),
    _current_number(
        key="failsafe_current",
        translation_key="failsafe_current",
        option=OPT_FAILSAFE_CURRENT,
        default=DEFAULT_FAILSAFE_CURRENT,
        native_min_value=0,
        native_max_value=MAX_CURRENT_LIMIT,
        check_fn=_check_failsafe,
    ),
)

GROUP_FUSE = _current_number(
    key="fuse",
    translation_key="fuse",
    option=CONF_FUSE,
    default=MIN_FUSE,
    native_min_value=MIN_FUSE,
    native_max_value=MAX_FUSE,
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConfigEntry[Any],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add a charger's limits or a group's fuse."""
    kind = entry.data[CONF_KIND]
    if kind == ENTRY_KIND_CHARGER:
        coordinator = entry.runtime_data.coordinator
        async_add_entities(ChargerNumber(coordinator, desc) for desc in CHARGER_NUMBERS)
    elif kind == ENTRY_KIND_GROUP:
        async_add_entities([GroupFuseNumber(entry, GROUP_FUSE)])


def _store(entry: ConfigEntry[Any], hass: HomeAssistant, option: str, value: Any) -> None:
    """Save a user setting; the entry's update listener hands it to the balancing service."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, option: value})


class ChargerNumber(ChargerEntity, NumberEntity):
    """A current setting of a charger."""

    entity_description: SettingNumberDescription

    @property
    def native_value(self) -> float:
        """The setting in force."""
        entry = self.coordinator.config_entry
        description = self.entity_description
        return float(setting(entry, description.option, description.default))

    async def async_set_native_value(self, value: float) -> None:
        """Store a new value after checking it."""
        entry = self.coordinator.config_entry
        if (error := self.entity_description.check_fn(entry, value)) is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=error,
                translation_placeholders={"value": f"{value:g}"},
            )
        _store(entry, self.hass, self.entity_description.option, int(value))
        self.async_write_ha_state()


class GroupFuseNumber(GroupEntity, NumberEntity):
    """A group's fuse; setting it sets all three phases to the same value."""

    entity_description: SettingNumberDescription

    @property
    def available(self) -> bool:
        """A setting is always available."""
        return True

    @property
    def native_value(self) -> float:
        """The smallest of the three phases' fuses (the one that binds)."""
        fuse = setting(self.entry, CONF_FUSE, MIN_FUSE)
        return float(min(fuse) if isinstance(fuse, list | tuple) else fuse)

    async def async_set_native_value(self, value: float) -> None:
        """Set the fuse of all three phases."""
        _store(self.entry, self.hass, CONF_FUSE, [float(value)] * 3)
        self.async_write_ha_state()
