"""`fake_charger`: a small Home Assistant integration that exists only in the tests.

It brings a charger into Home Assistant as another integration would: a config entry, a device,
and real entities (a current-limit number, phase current sensors, a status sensor, a switch
that allows charging), with unique ids and translation keys. Behind them a simulated car
follows the limit after `follow_s` of the test's clock (`FakeCharger.advance`). It can refuse
writes that come too soon (`rate_limit_s`, as cloud services answer HTTP 429), have its limit
changed by "its own app" (`app_sets_limit`), and go unavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.number import NumberEntity
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import HANDLERS, ConfigEntry, ConfigFlow
from homeassistant.const import Platform, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

DOMAIN = "fake_charger"
PLATFORMS = (Platform.NUMBER, Platform.SENSOR, Platform.SWITCH)


@dataclass
class FakeCharger:
    """The charger and its car, on the test's clock."""

    serial: str = "FC1"
    limit: float = 16.0
    allowed: bool = True
    car_connected: bool = True
    car_max_a: float = 32.0
    phases: int = 3
    follow_s: float = 2.0
    rate_limit_s: float = 0.0
    now: float = 0.0
    available: bool = True
    drawing: float = 0.0
    """What the car draws now (it moves towards `limit` once `follow_s` passed)."""
    changes: list[tuple[float, float]] = field(default_factory=list)
    """(when, limit) of every change of the limit."""
    writes: list[tuple[float, str, Any]] = field(default_factory=list)
    """(when, what, value) of every write Home Assistant made (not the app's)."""
    refused: int = 0
    entities: list[Entity] = field(default_factory=list)
    takes_time: Callable[[], None] | None = None
    """Called as a write arrives, before the entity shows it (a test moves the clock)."""
    answer_takes: Callable[[], Awaitable[None]] | None = None
    """Awaited after a write showed, before the call returns (the device takes time to answer:
    a test moves the clock, and a poll may read the entity meanwhile)."""

    def target(self) -> float:
        """The current the car follows: the limit set at least `follow_s` ago."""
        settled = [limit for when, limit in self.changes if self.now - when >= self.follow_s]
        limit = settled[-1] if settled else self.changes[0][1] if self.changes else self.limit
        if not (self.car_connected and self.allowed):
            return 0.0
        return min(limit, self.car_max_a)

    def advance(self, seconds: float) -> None:
        """Move the clock; the car follows; the entities report."""
        self.now += seconds
        self.drawing = self.target()
        self.publish()

    def publish(self) -> None:
        """Write every entity's state (entities report as their integration polls)."""
        for entity in self.entities:
            if entity.hass is not None:
                entity.async_write_ha_state()

    def currents(self) -> list[float]:
        """The car's draw per phase."""
        return [self.drawing if phase < self.phases else 0.0 for phase in range(3)]

    def write(self, what: str, value: Any) -> None:
        """A write from Home Assistant; refused when it comes within `rate_limit_s`."""
        last = self.writes[-1][0] if self.writes else float("-inf")
        if self.now - last < self.rate_limit_s:
            self.refused += 1
            raise HomeAssistantError("429 Too Many Requests")
        self.writes.append((self.now, what, value))

    def set_limit(self, value: float) -> None:
        """The limit changes (from Home Assistant or the app)."""
        self.limit = value
        self.changes.append((self.now, value))

    def app_sets_limit(self, value: float) -> None:
        """The charger's own app (or its load balancer) sets the limit behind our back."""
        self.set_limit(value)
        self.publish()


class _FakeEntity(Entity):
    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, charger: FakeCharger, key: str) -> None:
        self.charger = charger
        self._attr_unique_id = f"{charger.serial}_{key}"
        self._attr_translation_key = key
        self._attr_name = key.replace("_", " ")
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, charger.serial)},
            name="Fake charger",
            manufacturer="Test",
            model="Fake",
        )
        charger.entities.append(self)

    @property
    def available(self) -> bool:
        return self.charger.available


class LimitNumber(_FakeEntity, NumberEntity):
    """The current limit, 0-32 A (0 pauses)."""

    _attr_native_min_value = 0
    _attr_native_max_value = 32
    _attr_native_step = 1
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE

    @property
    def native_value(self) -> float:
        return self.charger.limit

    async def async_set_native_value(self, value: float) -> None:
        self.charger.write("limit", value)
        if self.charger.takes_time is not None:
            self.charger.takes_time()
        self.charger.set_limit(value)
        self.async_write_ha_state()  # the new value, reported during the call
        if self.charger.answer_takes is not None:
            await self.charger.answer_takes()


class PhaseCurrent(_FakeEntity, SensorEntity):
    """The car's draw on one phase."""

    _attr_device_class = SensorDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE

    def __init__(self, charger: FakeCharger, phase: int) -> None:
        super().__init__(charger, f"current_l{phase + 1}")
        self.phase = phase

    @property
    def native_value(self) -> float:
        return self.charger.currents()[self.phase]


class StatusSensor(_FakeEntity, SensorEntity):
    """no_car, connected or charging."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = ["no_car", "connected", "charging"]  # noqa: RUF012  # as Home Assistant's own

    @property
    def native_value(self) -> str:
        if not self.charger.car_connected:
            return "no_car"
        return "charging" if self.charger.drawing > 1.0 else "connected"


class ChargingSwitch(_FakeEntity, SwitchEntity):
    """On: charging allowed."""

    @property
    def is_on(self) -> bool:
        return self.charger.allowed

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.charger.write("allowed", value=True)
        self.charger.allowed = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self.charger.write("allowed", value=False)
        self.charger.allowed = False
        self.async_write_ha_state()


class FakeChargerFlow(ConfigFlow):
    """The integration's config flow (its entries are made by the tests)."""

    VERSION = 1


async def async_setup_fake_charger(hass: HomeAssistant, charger: FakeCharger) -> MockConfigEntry:
    """Register the integration, set up one entry with `charger`; return the entry."""

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        return True

    async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)

    def platform(build: Any) -> MockPlatform:
        async def setup(hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback) -> None:
            add(build())

        return MockPlatform(async_setup_entry=setup)

    mock_integration(
        hass,
        MockModule(DOMAIN, async_setup_entry=setup_entry, async_unload_entry=unload_entry),
    )
    mock_platform(hass, f"{DOMAIN}.config_flow", None)
    HANDLERS.setdefault(DOMAIN, FakeChargerFlow)
    mock_platform(
        hass, f"{DOMAIN}.number", platform(lambda: [LimitNumber(charger, "charge_limit")])
    )
    mock_platform(
        hass,
        f"{DOMAIN}.sensor",
        platform(
            lambda: [
                *(PhaseCurrent(charger, phase) for phase in range(3)),
                StatusSensor(charger, "status"),
            ]
        ),
    )
    mock_platform(hass, f"{DOMAIN}.switch", platform(lambda: [ChargingSwitch(charger, "charging")]))
    entry = MockConfigEntry(domain=DOMAIN, title="Fake charger")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger.advance(0.0)
    await hass.async_block_till_done()
    return entry
