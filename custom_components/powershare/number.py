"""Numbers: charger limits, failsafe current and charging goal; group fuses; the peak limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, Platform, UnitOfElectricCurrent, UnitOfPower
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er

from .balancing.peak import connection_kw
from .const import (
    CONF_FUSE,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_NETWORK,
    CONF_PARENT,
    CONF_PEAK_FLOOR,
    CONF_PEAK_LIMIT,
    CONF_PRIORITY,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
    DOMAIN,
    MAX_CURRENT_LIMIT,
    MAX_FUSE,
    MAX_PRIORITY,
    MIN_CURRENT_LIMIT,
    MIN_FUSE,
)
from .coordinator import ChargerRuntimeData, GroupRuntimeData
from .engine import Network
from .entity import ChargerEntity, GroupEntity
from .peak import DEFAULT_FLOOR_W, MIN_LIMIT_W
from .plan_entities import GOAL_NUMBERS, GoalNumber
from .settings import DEFAULT_FAILSAFE_CURRENT, OPT_FAILSAFE_CURRENT, setting

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

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

PRIORITY = SettingNumberDescription(
    key="priority",
    translation_key="priority",
    native_min_value=0,
    native_max_value=MAX_PRIORITY,
    native_step=1,
    entity_category=EntityCategory.CONFIG,
    mode=NumberMode.BOX,
    option=CONF_PRIORITY,
    default=0,
)
"""Who is served first when there is not enough for everyone (higher first)."""

GROUP_FUSE = _current_number(
    key="fuse",
    translation_key="fuse",
    option=CONF_FUSE,
    default=MIN_FUSE,
    native_min_value=MIN_FUSE,
    native_max_value=MAX_FUSE,
)
GROUP_PHASE_FUSES = tuple(
    _current_number(
        key=f"fuse_l{phase + 1}",
        translation_key=f"fuse_l{phase + 1}",
        option=CONF_FUSE,
        default=MIN_FUSE,
        native_min_value=MIN_FUSE,
        native_max_value=MAX_FUSE,
    )
    for phase in range(3)
)
"""A group whose phases have different fuses gets a number per phase instead of one."""

PEAK_LIMIT = SettingNumberDescription(
    key="peak_limit",
    translation_key="peak_limit",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    native_step=0.1,
    native_min_value=MIN_LIMIT_W / 1000,
    native_max_value=MAX_FUSE * 3 * 0.23,
    entity_category=EntityCategory.CONFIG,
    mode=NumberMode.BOX,
    option=CONF_PEAK_LIMIT,
    default=DEFAULT_FLOOR_W / 1000,
)
"""The capacity tariff's fixed limit (mode fixed), at the root group."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's limits or a group's fuse."""
    runtime = entry.runtime_data
    if isinstance(runtime, ChargerRuntimeData):
        coordinator = runtime.coordinator
        numbers: list[NumberEntity] = [
            ChargerNumber(coordinator, desc) for desc in (*CHARGER_NUMBERS, PRIORITY)
        ]
        numbers.extend(GoalNumber(coordinator, desc) for desc in GOAL_NUMBERS)
        async_add_entities(numbers)
    elif isinstance(runtime, GroupRuntimeData):
        if len(set(_fuses(entry))) == 1:
            numbers = [GroupFuseNumber(entry, GROUP_FUSE)]
            unused: tuple[SettingNumberDescription, ...] = GROUP_PHASE_FUSES
        else:
            numbers = [
                GroupFuseNumber(entry, description, phase=phase)
                for phase, description in enumerate(GROUP_PHASE_FUSES)
            ]
            unused = (GROUP_FUSE,)
        # The other form's numbers (from before the fuses became equal, or different) go.
        registry = er.async_get(hass)
        for description in unused:
            unique_id = f"{entry.unique_id or entry.entry_id}_{description.key}"
            if entity_id := registry.async_get_entity_id(Platform.NUMBER, DOMAIN, unique_id):
                registry.async_remove(entity_id)
        if not entry.data.get(CONF_PARENT):
            numbers.append(PeakLimitNumber(entry, PEAK_LIMIT))
        async_add_entities(numbers)


def _fuses(entry: ConfigEntry[Any]) -> list[float]:
    """Return a group's fuse per phase (L1, L2, L3), as in force."""
    fuse = setting(entry, CONF_FUSE, MIN_FUSE)
    return [float(amps) for amps in fuse] if isinstance(fuse, list | tuple) else [float(fuse)] * 3


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
    """A group's fuse: all three phases when they are equal, else one phase (`phase`).

    A group with different fuses per phase (25/25/16 A) gets a number per phase, so no number
    can put one phase's rating on another.
    """

    entity_description: SettingNumberDescription

    def __init__(
        self,
        entry: ConfigEntry[Any],
        description: SettingNumberDescription,
        phase: int | None = None,
    ) -> None:
        """Bind to the group `entry`, for all phases (None) or one."""
        super().__init__(entry, description)
        self.phase = phase

    @property
    def available(self) -> bool:
        """A setting is always available."""
        return True

    @property
    def native_value(self) -> float:
        """The phase's fuse; for all phases, the smallest (the one that binds)."""
        fuses = _fuses(self.entry)
        return min(fuses) if self.phase is None else fuses[self.phase]

    async def async_set_native_value(self, value: float) -> None:
        """Set the fuse of all three phases, or of this number's phase only."""
        fuses = [float(value)] * 3
        if self.phase is not None:
            fuses = _fuses(self.entry)
            fuses[self.phase] = float(value)
        _store(self.entry, self.hass, CONF_FUSE, fuses)
        self.async_write_ha_state()


class PeakLimitNumber(GroupEntity, NumberEntity):
    """The capacity tariff's fixed limit, in kW: from 1 kW to what the connection carries."""

    entity_description: SettingNumberDescription

    @property
    def available(self) -> bool:
        """A setting is always available."""
        return True

    @property
    def native_max_value(self) -> float:
        """What the connection's fuses carry."""
        return round(self._most_kw(), 1)

    @property
    def native_value(self) -> float:
        """The fixed limit in force (the floor until one is set)."""
        floor = setting(self.entry, CONF_PEAK_FLOOR, DEFAULT_FLOOR_W / 1000)
        return float(setting(self.entry, CONF_PEAK_LIMIT, floor))

    async def async_set_native_value(self, value: float) -> None:
        """Store a new limit (Home Assistant refused one outside the range already)."""
        _store(self.entry, self.hass, CONF_PEAK_LIMIT, float(value))
        self.async_write_ha_state()

    def _most_kw(self) -> float:
        network = Network(setting(self.entry, CONF_NETWORK, Network.THREE_PHASE_WITH_NEUTRAL.value))
        return connection_kw(_fuses(self.entry), network)
