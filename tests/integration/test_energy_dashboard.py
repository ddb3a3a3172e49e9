"""The Energy dashboard accepts Powershare's energy and cost sensors (its own validation says so).

A module of its own: the recorder's database must exist before Home Assistant starts
(`mock_recorder_before_hass`), which the other tests do not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from emulated_site import Clocks
from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.energy.validate import async_validate
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from test_costs import CHARGER, SITE, submit, tariff_flow

if TYPE_CHECKING:
    from emulated_site import Site
    from homeassistant.core import HomeAssistant


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Start the recorder's database before Home Assistant."""


async def test_the_energy_dashboard_accepts_the_energy_and_cost_sensors(
    recorder_mock: Any, hass: HomeAssistant, site: Site
) -> None:
    """Home Assistant's own energy validation finds nothing to say about them."""
    clocks = Clocks(hass, site)
    await submit(hass, await tariff_flow(hass, site.group_entry, "flat"), {"price": 0.25})
    await site.charge_a_16_a_car()
    await clocks.cycles(3)
    assert await async_setup_component(hass, "energy", {})
    await async_wait_recording_done(hass)
    now = dt_util.utcnow()  # statistics of the 5-minute period the states were written in
    do_adhoc_statistics(
        hass, start=now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    )
    await async_wait_recording_done(hass)

    energy = [
        f"{CHARGER}_session_energy",
        f"{CHARGER}_total_energy_charged",
        f"{SITE}_ev_energy",
    ]
    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [
                {
                    "type": "grid",
                    "flow_from": [
                        {
                            "stat_energy_from": f"{SITE}_ev_energy",
                            "stat_cost": f"{SITE}_ev_charging_cost",
                            "entity_energy_price": None,
                            "number_energy_price": None,
                        }
                    ],
                    "flow_to": [],
                    "cost_adjustment_day": 0.0,
                }
            ],
            "device_consumption": [{"stat_consumption": entity_id} for entity_id in energy],
        }
    )
    result = (await async_validate(hass)).as_dict()
    assert result["energy_sources"] == [[]]
    assert result["device_consumption"] == [[], [], []]
