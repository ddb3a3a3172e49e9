"""The sensors' write-rate policy (`RecordedSensor`): what reaches the recorder, and what not.

A noisy meter (the emulated site's house load jitters every cycle) must not write a state
per cycle, while Powershare still decides every cycle on the fresh reading; a real step
shows at once; a figure that moved by less than its unit is written after
`WRITE_AT_LEAST_EVERY_S`. The policy's clock is stepped one second per cycle, so a
simulated minute takes a fraction of a real one.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
from emulated_site import Site
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.powershare import entity as entity_module
from custom_components.powershare.charger_sensors import TELTOCHARGE_SENSORS
from custom_components.powershare.const import DOMAIN
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.peak_sensors import PEAK_SENSORS
from custom_components.powershare.sensor import GROUP_SENSORS, METER_SENSORS
from custom_components.powershare.session_sensors import CHARGER_TOTALS

HOUSE_A = 10.0
NOISE_A = 0.2
"""A meter's jitter on a steady house, every reading (a class 1 meter: 1 % of 10-20 A)."""
MAX_WRITES_PER_MINUTE = 12
"""Per entity, for a simulated minute of a noisy meter and a steady car (60 cycles), against
60 without the policy. Only the total power gets near it: the jitter of three phases adds up
to +-140 W, and a move of 100 W is a change of the figure shown; every other figure stays
put."""
METER_CURRENT = "sensor.main_meter_current_l1"


class PolicyClock:
    """The policy's clock, stepped by the test."""

    def __init__(self) -> None:
        # From the real clock's reading: the entities took their first values before the
        # test patched the clock.
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy_clock() -> Iterator[PolicyClock]:
    clock = PolicyClock()
    with patch.object(entity_module, "clock", clock):
        yield clock


def _ours(hass: HomeAssistant, events: list[Any]) -> Counter[str]:
    registry = er.async_get(hass)
    writes: Counter[str] = Counter()
    for event in events:
        entry = registry.async_get(event.data["entity_id"])
        if entry is not None and entry.platform == DOMAIN:
            writes[event.data["entity_id"]] += 1
    return writes


async def _noisy_cycles(site: Site, clock: PolicyClock, seconds: int, seed: int = 14) -> list[Any]:
    """Run one cycle per simulated second with a jittering house; return each decision."""
    noise = random.Random(seed)  # noqa: S311  # a repeatable jitter, not a secret
    service = async_get_hub(site.hass).balancing
    decisions = []
    for _ in range(seconds):
        site.live.house_a = [HOUSE_A + noise.uniform(-NOISE_A, NOISE_A) for _ in range(3)]
        clock.now += 1.0
        await site.cycle()
        decision = service.decision
        assert decision is not None
        # Balancing decides on this cycle's reading, to the tenth of an amp the meter gives.
        reading = site.meter_entry.runtime_data.coordinator.data
        assert decision.groups[site.group_entry.entry_id].meter == pytest.approx(reading.currents_a)
        decisions.append(decision)
    return decisions


def _number(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def test_a_noisy_meter_writes_little_while_balancing_decides_every_cycle(
    hass: HomeAssistant, site: Site, policy_clock: PolicyClock
) -> None:
    await site.charge_a_16_a_car()
    await _noisy_cycles(site, policy_clock, 10)  # settled: the car at 16 A
    events = async_capture_events(hass, EVENT_STATE_CHANGED)
    decisions = await _noisy_cycles(site, policy_clock, 60)

    # A decision every cycle, each on the fresh noisy reading (checked in `_noisy_cycles`).
    assert len({id(decision) for decision in decisions}) == 60
    writes = _ours(hass, events)
    assert max(writes.values(), default=0) <= MAX_WRITES_PER_MINUTE, writes
    assert set(writes) <= {"sensor.main_meter_power"}, writes
    # The noise alone moves no current or fuse figure by a whole amp: nothing to write.
    for key in ("current_l1", "current_l2", "current_l3"):
        assert writes[f"sensor.main_meter_{key}"] == 0
    for key in ("available_l1", "allocated_l1", "usage_l1"):
        assert writes[f"sensor.main_fuse_{key}"] == 0
    # Without the policy the meter's currents alone would have written about a state each
    # per cycle: the reading does change every cycle.
    currents = {decision.groups[site.group_entry.entry_id].meter for decision in decisions}
    assert len(currents) > 50


async def test_a_real_step_shows_at_once(
    hass: HomeAssistant, site: Site, policy_clock: PolicyClock
) -> None:
    await site.charge_a_16_a_car()
    await _noisy_cycles(site, policy_clock, 5)
    before = _number(hass, METER_CURRENT)
    available_before = _number(hass, "sensor.main_fuse_available_l1")

    # The oven: 10 A more on every phase, in one cycle.
    events = async_capture_events(hass, EVENT_STATE_CHANGED)
    site.live.house_a = [HOUSE_A + 10.0] * 3
    policy_clock.now += 1.0
    await site.cycle()
    reading = site.meter_entry.runtime_data.coordinator.data
    assert _number(hass, METER_CURRENT) == pytest.approx(reading.currents_a[0], abs=0.05)
    assert _number(hass, METER_CURRENT) - before == pytest.approx(10.0, abs=1.0)
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    figures = decision.groups[site.group_entry.entry_id]
    assert figures.meter is not None
    # The fuse figures show the step in the same cycle, in whole amps.
    assert _number(hass, "sensor.main_fuse_available_l1") == round(figures.available[0])
    assert available_before - _number(hass, "sensor.main_fuse_available_l1") >= 5
    assert _number(hass, "sensor.main_meter_power") == pytest.approx(reading.total_power_w, abs=100)
    assert {"sensor.main_meter_current_l1", "sensor.main_fuse_available_l1"} <= set(
        _ours(hass, events)
    )


async def test_the_groups_meter_is_kept_once(hass: HomeAssistant, site: Site) -> None:
    """The group's *Meter* figures are the meter device's currents: off by default."""
    registry = er.async_get(hass)
    for phase in ("l1", "l2", "l3"):
        group_meter = registry.async_get(f"sensor.main_fuse_meter_{phase}")
        assert group_meter is not None
        assert group_meter.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(f"sensor.main_meter_current_{phase}") is not None
    available = registry.async_get("sensor.main_fuse_available_l1")
    assert available is not None
    assert available.disabled_by is None


async def test_a_small_drift_is_written_after_the_longest_wait(
    hass: HomeAssistant, site: Site, policy_clock: PolicyClock
) -> None:
    site.live.house_a = [HOUSE_A] * 3
    await site.cycle()
    shown = _number(hass, METER_CURRENT)
    site.live.house_a = [HOUSE_A + 0.6, HOUSE_A, HOUSE_A]  # less than the whole amp shown
    for _ in range(3):
        policy_clock.now += 1.0
        await site.cycle()
    assert _number(hass, METER_CURRENT) == shown
    policy_clock.now += entity_module.WRITE_AT_LEAST_EVERY_S
    await site.cycle()
    reading = site.meter_entry.runtime_data.coordinator.data
    assert _number(hass, METER_CURRENT) == pytest.approx(reading.currents_a[0], abs=0.05)
    assert _number(hass, METER_CURRENT) != shown


def _description(descriptions: Any, key: str) -> Any:
    return next(description for description in descriptions if description.key == key)


def test_each_figure_has_a_unit_of_change() -> None:
    unit = entity_module.write_unit
    assert unit(_description(METER_SENSORS, "current_l1")) == 1.0
    assert unit(_description(METER_SENSORS, "power")) == 100.0
    assert unit(_description(METER_SENSORS, "import_energy")) == pytest.approx(0.1)
    assert unit(_description(GROUP_SENSORS, "available_l2")) == 1.0
    assert unit(_description(GROUP_SENSORS, "allocated_power")) == 1.0
    assert unit(_description(PEAK_SENSORS, "peak_average")) == pytest.approx(100.0)  # W
    assert unit(_description(PEAK_SENSORS, "peak_budget_left")) == pytest.approx(100.0)  # Wh
    assert unit(_description(TELTOCHARGE_SENSORS, "session_duration")) == pytest.approx(36.0)
    assert unit(_description(TELTOCHARGE_SENSORS, "status")) == 0.0  # discrete: every change
    assert unit(_description(CHARGER_TOTALS, "total_energy")) == pytest.approx(0.1)
