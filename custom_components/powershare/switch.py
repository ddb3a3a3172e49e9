"""Switches: lock a charger (nobody charges), auto-lock, and the socket's cable lock (reg. 18)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .const import CHARGER_TELTOCHARGE
from .devices.teltocharge import LockMode
from .entity import ChargerEntity
from .settings import OPT_AUTO_LOCK, OPT_CHARGING_LOCKED, charger_type, setting

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

PARALLEL_UPDATES = 1

CHARGING_LOCK = SwitchEntityDescription(key="charging_lock", translation_key="charging_lock")
CABLE_LOCK = SwitchEntityDescription(key="cable_lock", translation_key="cable_lock")
AUTO_LOCK = SwitchEntityDescription(
    key="auto_lock", translation_key="auto_lock", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charger's switches (only charger entries forward this platform)."""
    coordinator = entry.runtime_data.coordinator
    switches: list[SwitchEntity] = [
        ChargingLockSwitch(coordinator, CHARGING_LOCK),
        AutoLockSwitch(coordinator, AUTO_LOCK),
    ]
    if charger_type(entry) == CHARGER_TELTOCHARGE:
        switches.append(CableLockSwitch(coordinator, CABLE_LOCK))
    async_add_entities(switches)


class ChargingLockSwitch(ChargerEntity, SwitchEntity):
    """On: the charger is locked, nobody can charge (Powershare gives it 0 A)."""

    @property
    def is_on(self) -> bool:
        """Whether the charger is locked."""
        return bool(setting(self.coordinator.config_entry, OPT_CHARGING_LOCKED, default=False))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Lock the charger."""
        self._store(locked=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Unlock the charger."""
        self._store(locked=False)

    def _store(self, *, locked: bool) -> None:
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, OPT_CHARGING_LOCKED: locked}
        )
        self.async_write_ha_state()


class AutoLockSwitch(ChargerEntity, SwitchEntity):
    """On: the charger locks itself after a minute without a car or a car drawing."""

    @property
    def available(self) -> bool:
        """A setting is always available."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether auto-lock is on."""
        return bool(setting(self.coordinator.config_entry, OPT_AUTO_LOCK, default=False))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn auto-lock on."""
        self._store(auto_lock=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn auto-lock off (a lock already made stays until unlocked)."""
        self._store(auto_lock=False)

    def _store(self, *, auto_lock: bool) -> None:
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, OPT_AUTO_LOCK: auto_lock}
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
