"""Switches: lock a charger (nobody charges), auto-lock, and the socket's cable lock (reg. 18)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .const import CHARGER_TELTOCHARGE
from .coordinator import charger_data
from .devices.teltocharge import LockMode
from .entity import ChargerEntity
from .settings import OPT_AUTO_LOCK, OPT_CHARGING_LOCKED, charger_type, setting

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import PowershareConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SettingSwitchDescription(SwitchEntityDescription):
    """A switch stored as an entry option."""

    option: str
    always_available: bool = False
    inverted: bool = False
    """On while the option is off (the option says what is forbidden, the switch what may)."""


CHARGING_ENABLED = SettingSwitchDescription(
    key="charging_enabled",
    translation_key="charging_enabled",
    option=OPT_CHARGING_LOCKED,
    inverted=True,
)
"""Off: the charger is locked, nobody can charge (Powershare gives it 0 A). The sense of
peblar's *Charge* and easee's *Charger enabled* switches: on is the normal state."""
AUTO_LOCK = SettingSwitchDescription(
    key="auto_lock",
    translation_key="auto_lock",
    entity_category=EntityCategory.CONFIG,
    option=OPT_AUTO_LOCK,
    always_available=True,
)
"""On: the charger locks itself after a minute without a car or a car drawing."""
CABLE_LOCK = SwitchEntityDescription(key="cable_lock", translation_key="cable_lock")


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: PowershareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's switches (only charger entries forward this platform)."""
    coordinator = charger_data(entry).coordinator
    switches: list[SwitchEntity] = [
        SettingSwitch(coordinator, CHARGING_ENABLED),
        SettingSwitch(coordinator, AUTO_LOCK),
    ]
    if charger_type(entry) == CHARGER_TELTOCHARGE:
        switches.append(CableLockSwitch(coordinator, CABLE_LOCK))
    async_add_entities(switches)


class SettingSwitch(ChargerEntity, SwitchEntity):
    """A charger setting stored as an entry option: the lock, or auto-lock."""

    entity_description: SettingSwitchDescription

    @property
    def available(self) -> bool:
        """As the charger, unless the setting matters whatever the charger does."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool:
        """Whether the switch is on (the option, or its opposite for an inverted switch)."""
        entry = self.coordinator.config_entry
        value = bool(setting(entry, self.entity_description.option, default=False))
        return value is not self.entity_description.inverted

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the switch on; balancing applies it from the next cycle."""
        self._store(on=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the switch off (turning auto-lock off leaves a lock it made until unlocked)."""
        self._store(on=False)

    def _store(self, *, on: bool) -> None:
        entry = self.coordinator.config_entry
        value = on is not self.entity_description.inverted
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, self.entity_description.option: value}
        )
        self.async_write_ha_state()


class CableLockSwitch(ChargerEntity, SwitchEntity):
    """On: the cable stays locked in the socket (register 18 = always locked)."""

    @property
    def is_on(self) -> bool:
        """Whether the socket is set to keep the cable locked."""
        reading = self.teltocharge.latest
        return reading is not None and reading.settings.lock_mode is LockMode.ALWAYS_LOCKED

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Keep the cable locked."""
        await self._write(LockMode.ALWAYS_LOCKED)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Back to automatic locking (locked while charging)."""
        await self._write(LockMode.AUTO)

    async def _write(self, mode: LockMode) -> None:
        driver = self.teltocharge.driver
        await self.coordinator.async_run_command(lambda: driver.set_lock_mode(mode))
