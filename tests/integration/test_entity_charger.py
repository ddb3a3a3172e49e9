"""A charger driven through another integration's entities, against a real (test) integration.

`fake_charger` provides the charger as real entities with a simulated car; the meter is made of
Home Assistant sensors that the test sets to the house load plus what the car draws. The clock
is frozen and moved by the test, so the states' times and the engine's agree.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from unittest.mock import patch

import pytest
from fake_charger import DOMAIN as FAKE
from fake_charger import FakeCharger, async_setup_fake_charger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.const import (
    CHARGER_HA_ENTITIES,
    CONF_CHARGER_TYPE,
    CONF_CONNECTION,
    CONF_CURRENT_ENTITIES,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_FUSE,
    CONF_GROUP,
    CONF_KIND,
    CONF_MAX_CURRENT,
    CONF_METER,
    CONF_MIN_CURRENT,
    CONF_MODEL,
    CONF_NAME,
    CONF_PRESET,
    CONF_ROTATION,
    CONF_WIRING,
    CONNECTION_HA_SENSORS,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    METER_MODEL_HA_SENSORS,
)
from custom_components.powershare.engine import Reason
from custom_components.powershare.entity_charger import CUSTOM, PRESETS
from custom_components.powershare.hub import async_get_hub

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

GRID = ("sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3")
LIMIT = "number.fake_charger_charge_limit"
SWITCH = "switch.fake_charger_charging"
FUSE_A = 25.0


@dataclass
class EntitySite:
    """Home Assistant with the fake charger, a sensor meter, a group and Powershare's charger."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    charger: FakeCharger
    entry: MockConfigEntry
    house_a: float = 5.0

    async def cycle(self, seconds: float = 2.0) -> None:
        """Move time, let the car follow, report the meter, run one balancing cycle."""
        self.freezer.tick(seconds)
        self.charger.advance(seconds)
        for entity_id, amps in zip(GRID, self.charger.currents(), strict=True):
            self.hass.states.async_set(
                entity_id, str(self.house_a + amps), {"unit_of_measurement": "A"}
            )
        await self.hass.async_block_till_done()
        await async_get_hub(self.hass).balancing.async_run_cycle()
        await self.hass.async_block_till_done()

    def app_sets_limit(self, amps: float) -> None:
        """A second later, the charger's own app (or its load balancer) sets the limit."""
        self.freezer.tick(1.0)
        self.charger.app_sets_limit(amps)

    def limit(self) -> float:
        return float(self.hass.states.get(LIMIT).state)

    @property
    def decision(self):  # noqa: ANN201
        decision = async_get_hub(self.hass).balancing.decision
        assert decision is not None
        return decision.chargers[self.entry.entry_id]


async def _site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, charger: FakeCharger, preset: str
) -> EntitySite:
    fake_entry = await async_setup_fake_charger(hass, charger)
    device = next(iter(dr.async_entries_for_config_entry(dr.async_get(hass), fake_entry.entry_id)))
    for entity_id in GRID:
        hass.states.async_set(entity_id, "5.0", {"unit_of_measurement": "A"})
    meter = MockConfigEntry(
        domain=DOMAIN,
        title="Grid",
        data={
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: "Grid",
            CONF_CURRENT_ENTITIES: list(GRID),
        },
    )
    meter.add_to_hass(hass)
    group = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Main fuse",
            CONF_FUSE: [FUSE_A] * 3,
            CONF_METER: meter.entry_id,
        },
        options={"increase_delay_s": 0.0, "margin_a": 0.0},
    )
    group.add_to_hass(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Fake charger",
        unique_id=f"ha_charger_{device.id}",
        data={
            CONF_KIND: ENTRY_KIND_CHARGER,
            CONF_CHARGER_TYPE: CHARGER_HA_ENTITIES,
            CONF_DEVICE_ID: device.id,
            CONF_PRESET: preset,
            CONF_ENTITIES: {
                "limit": LIMIT,
                "currents": [f"sensor.fake_charger_current_l{phase}" for phase in (1, 2, 3)],
                "pause": SWITCH,
            },
            CONF_ROTATION: "L1L2L3",
            CONF_WIRING: 3,
            CONF_MIN_CURRENT: 6,
            CONF_MAX_CURRENT: 16,
            CONF_GROUP: group.entry_id,
        },
        minor_version=3,
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # The service took `time.time` before the clock was frozen: the frozen one, as the states'.
    async_get_hub(hass).balancing.clock = time.time
    return EntitySite(hass, freezer, charger, entry)


FAST = dataclasses.replace(CUSTOM, key=FAKE, domain=FAKE, response_s=0.0)
CLOUD = dataclasses.replace(FAST, min_write_interval_s=30.0)


@pytest.fixture
async def site(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> EntitySite:
    with patch.dict(PRESETS, {FAKE: FAST}):
        site = await _site(hass, freezer, FakeCharger(limit=16.0, car_connected=False), FAKE)
        site.charger.car_connected = True  # a car arrives
        yield site


async def test_a_house_load_step_sets_the_number_in_the_same_cycle(site: EntitySite) -> None:
    for _ in range(5):
        await site.cycle()
    assert site.limit() == 16  # 25 A fuse, 5 A house: the car may have its 16 A
    assert site.charger.drawing == 16
    site.house_a = 15.0  # a kettle and an oven
    await site.cycle()
    assert site.limit() == 10  # 25 - 15, written in this cycle
    assert site.decision.target_current == 10
    assert site.charger.writes[-1][1:] == ("limit", 10)


async def test_its_entities_are_those_of_the_balancing(site: EntitySite) -> None:
    await site.cycle()
    states = site.hass.states
    assert states.get("sensor.fake_charger_allocated_current") is not None
    assert states.get("select.fake_charger_charging_mode") is not None
    # No phase control among its entities: no phase mode that would do nothing.
    assert states.get("select.fake_charger_phase_mode") is None
    # Nothing only a TeltoCharge has.
    assert states.get("switch.fake_charger_cable_locked") is None
    assert states.get("button.fake_charger_restart") is None
    stops = states.get("sensor.fake_charger_current_if_home_assistant_stops")
    assert stops.attributes["fallback"] == "last_limit"


async def test_a_cut_below_the_minimum_pauses_through_the_switch(site: EntitySite) -> None:
    for _ in range(3):
        await site.cycle()
    site.house_a = 22.0  # 3 A left: less than the car's 6 A minimum
    await site.cycle()
    assert site.hass.states.get(SWITCH).state == "off"
    assert site.decision.target_current == 0
    site.house_a = 5.0
    for _ in range(3):
        await site.cycle()
    assert site.hass.states.get(SWITCH).state == "on"  # resumed when there is room again


async def test_an_unavailable_charger_counts_at_its_maximum_until_it_answers(
    site: EntitySite,
) -> None:
    for _ in range(3):
        await site.cycle()
    site.charger.available = False
    await site.cycle()
    assert site.hass.states.get(LIMIT).state == "unavailable"
    assert site.decision.reason is Reason.UNRESPONSIVE
    stops = site.hass.states.get("sensor.fake_charger_current_if_home_assistant_stops")
    assert stops.attributes["fallback"] == "last_limit"
    site.charger.available = True
    for _ in range(2):
        await site.cycle()
    assert site.decision.reason is not Reason.UNRESPONSIVE


async def test_unloading_leaves_the_charger_at_its_failsafe_current(site: EntitySite) -> None:
    for _ in range(3):
        await site.cycle()
    assert site.limit() == 16
    assert await site.hass.config_entries.async_unload(site.entry.entry_id)
    await site.hass.async_block_till_done()
    assert site.limit() == 6  # no watchdog: the failsafe current is written on the way out


async def test_home_assistant_stopping_leaves_the_charger_at_its_failsafe_current(
    site: EntitySite,
) -> None:
    for _ in range(3):
        await site.cycle()
    assert site.limit() == 16
    site.hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await site.hass.async_block_till_done()
    assert site.limit() == 6
    await site.cycle()  # a cycle that comes after does not undo it
    assert site.limit() == 6


async def test_its_own_writes_are_not_taken_for_overwrites(site: EntitySite) -> None:
    # The integration reports the new value during the call, and Powershare reads the charger
    # before the call returns.
    async def answer_takes() -> None:
        await site.entry.runtime_data.coordinator.async_refresh()

    site.charger.takes_time = lambda: site.freezer.tick(0.3)
    site.charger.answer_takes = answer_takes
    for _ in range(3):
        await site.cycle()
    for house in (10.0, 12.0, 14.0, 16.0, 18.0):  # five cuts by Powershare, each sent at once
        site.house_a = house
        await site.cycle()
        assert site.limit() == FUSE_A - house
    issue_id = f"limit_overwritten_{site.entry.entry_id}"
    assert ir.async_get(site.hass).async_get_issue(DOMAIN, issue_id) is None
    assert site.decision.reason is not Reason.UNRESPONSIVE


async def test_a_limit_overwritten_behind_powershares_back_is_set_back_then_left(
    site: EntitySite,
) -> None:
    for _ in range(3):
        await site.cycle()
    site.house_a = 13.0
    await site.cycle()
    assert site.limit() == 12
    issue_id = f"limit_overwritten_{site.entry.entry_id}"
    registry = ir.async_get(site.hass)
    for _ in range(2):
        site.app_sets_limit(32)  # the charger's own app, or its load balancer
        await site.cycle()
        assert site.limit() == 12  # set back
        assert registry.async_get_issue(DOMAIN, issue_id) is None
    site.app_sets_limit(32)  # the third time within ten minutes: stop fighting
    await site.cycle()
    writes = len(site.charger.writes)
    for _ in range(5):
        await site.cycle()
    assert site.limit() == 32
    assert [what for _, what, _ in site.charger.writes[writes:]].count("limit") == 0
    assert registry.async_get_issue(DOMAIN, issue_id) is not None
    # Not fought over through its switch either: it counts at its maximum, as load.
    assert site.charger.writes[writes:] == []
    assert site.decision.reason is Reason.UNRESPONSIVE


async def test_a_rate_limited_charger_waits_to_increase_but_is_cut_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    with patch.dict(PRESETS, {FAKE: CLOUD}):
        charger = FakeCharger(limit=16.0, rate_limit_s=30.0, car_connected=False)
        site = await _site(hass, freezer, charger, FAKE)
        charger.car_connected = True
        for _ in range(20):  # the resume waits for the interval since the pause (no car)
            await site.cycle()
        assert site.charger.writes[-1][1:] == ("allowed", True)
        assert site.charger.writes[-1][0] - site.charger.writes[-2][0] >= 30.0
        await site.cycle(30.0)
        site.house_a = 15.0
        await site.cycle()
        assert site.limit() == 10  # a cut is sent at once
        site.house_a = 5.0
        for _ in range(10):  # 20 s: the increase waits for the charger's 30 s
            await site.cycle()
        assert site.limit() == 10
        assert site.decision.reason is Reason.PACED
        for _ in range(6):
            await site.cycle()
        assert site.limit() == 16
        assert site.charger.refused == 0  # never a write the service refuses
