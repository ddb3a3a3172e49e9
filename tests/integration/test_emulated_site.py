"""The emulated site's own loop: a slow answer must not turn into a different test.

CI once failed `test_a_charging_profile_caps_the_charger_or_the_group` with the charger at its
failsafe 6 A, paced: a read missed its timeout, the failed reading asked the service for a
cycle of its own at the same hand-moved clock, that cycle saw a meter 20 s old, and the
explicit cycle after the repeated read was then held back by pacing.
"""

from __future__ import annotations

import asyncio

import pytest
from emulated_site import Clocks, Site
from homeassistant.core import HomeAssistant

from custom_components.powershare.engine import Reason
from custom_components.powershare.hub import async_get_hub

SLOW_S = 1.6
"""Longer than the bus's 1 s timeout (and its 0.5 s grace): every read in this time misses."""
SLOW_FOR_S = 4.0
"""Long enough for three reads in a row to miss, as on a loaded CI machine."""


@pytest.mark.parametrize("device", ["meter", "charger"])
async def test_a_slow_read_neither_skips_nor_splits_a_cycle(
    hass: HomeAssistant, site: Site, device: str
) -> None:
    site.live.house_a = [0.0, 0.0, 0.0]
    clocks = Clocks(hass, site)
    await site.charge_a_16_a_car()
    await clocks.cycles(1)
    emulator = site.meter if device == "meter" else site.charger
    emulator.faults.delay = SLOW_S
    asyncio.get_running_loop().call_later(SLOW_FOR_S, emulator.faults.clear)
    await clocks.cycles(1)
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    verdict = decision.chargers[site.charger_entry.entry_id]
    assert (verdict.target_current, verdict.reason) == (16, Reason.AT_REQUEST)
    await asyncio.sleep(SLOW_S)  # the late answers go out before the servers stop
