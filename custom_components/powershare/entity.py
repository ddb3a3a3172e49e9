"""Entity base classes: one device per config entry, names from translation keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_METER_ID, CONF_MODEL, DOMAIN
from .devices.meters import METER_MODELS
from .devices.teltocharge import TeltoChargeControl
from .hub import async_get_hub

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity import EntityDescription

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
