"""Selects: a charger's charging mode and phase mode; the root group's capacity tariff mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.exceptions import ServiceValidationError

from .const import (
    CONF_METER,
    CONF_PARENT,
    CONF_PEAK_MODE,
    DOMAIN,
)
from .coordinator import ChargerRuntimeData
from .engine.model import ChargingMode, PhasePolicy
from .entity import ChargerEntity, GroupEntity
from .peak import PeakMode
from .settings import OPT_MODE, OPT_PHASE_POLICY, setting, switches_phases

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SettingSelectDescription(SelectEntityDescription):
    """A select stored as an entry option."""

    option: str
    default: str


CHARGING_MODE = SettingSelectDescription(
    key="charging_mode",
    translation_key="charging_mode",
    options=[mode.value for mode in ChargingMode],
    option=OPT_MODE,
    default=ChargingMode.FAST.value,
)
PHASE_MODE = SettingSelectDescription(
    key="phase_mode",
    translation_key="phase_mode",
    options=[policy.value for policy in PhasePolicy],
    option=OPT_PHASE_POLICY,
    default=PhasePolicy.AUTO.value,
)

PEAK_MODE = SettingSelectDescription(
    key="peak_mode",
    translation_key="peak_mode",
    entity_category=EntityCategory.CONFIG,
    options=[mode.value for mode in PeakMode],
    option=CONF_PEAK_MODE,
    default=PeakMode.OFF.value,
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's selects (phase mode only for three-phase wiring of a kind that switches).

    A group gets the capacity tariff's mode if it is the root (the grid connection).
    """
    runtime = entry.runtime_data
    if not isinstance(runtime, ChargerRuntimeData):
        if not entry.data.get(CONF_PARENT):
            async_add_entities([PeakModeSelect(entry, PEAK_MODE)])
        return
    coordinator = runtime.coordinator
    descriptions = [CHARGING_MODE]
    if switches_phases(entry, phase_switching=coordinator.charger.capabilities.phase_switching):
        descriptions.append(PHASE_MODE)
    async_add_entities(ChargerSelect(coordinator, description) for description in descriptions)


class ChargerSelect(ChargerEntity, SelectEntity):
    """A charger's mode setting."""

    entity_description: SettingSelectDescription

    @property
    def current_option(self) -> str:
        """The option in force."""
        entry = self.coordinator.config_entry
        return str(setting(entry, self.entity_description.option, self.entity_description.default))

    async def async_select_option(self, option: str) -> None:
        """Store the option; the balancing service uses it from the next cycle on."""
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, self.entity_description.option: option}
        )
        self.async_write_ha_state()


class PeakModeSelect(GroupEntity, SelectEntity):
    """The capacity tariff's mode at the root group: off, a fixed limit, or the month's peak."""

    entity_description: SettingSelectDescription

    @property
    def available(self) -> bool:
        """A setting is always available."""
        return True

    @property
    def current_option(self) -> str:
        """The mode in force."""
        return str(setting(self.entry, CONF_PEAK_MODE, PeakMode.OFF.value))

    async def async_select_option(self, option: str) -> None:
        """Store the mode; a budget needs the root group's meter to count the energy."""
        if option != PeakMode.OFF.value and not self.entry.data.get(CONF_METER):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="peak_needs_meter",
                translation_placeholders={"group": self.entry.title},
            )
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_PEAK_MODE: option}
        )
        self.async_write_ha_state()
