"""Steady control in the real loop: the charger is read less often than the meter.

In production the meter is read every second and the charger every two: a cycle sees a
charger reading older than the meter's, and it runs before the charger is read back after a
write. These tests make both happen on purpose, in the order the polls can take.
"""

from __future__ import annotations

import asyncio

from emulated_site import Site
from homeassistant.core import HomeAssistant

from custom_components.powershare.hub import async_get_hub
from simulators.teltocharge import AMPS_TO_USE, EmulatedCar

WRITES = (6, 16)
"""Modbus function codes of register writes."""


async def _read(site: Site, index: int) -> None:
    """Refresh one coordinator (0 the charger, 1 the meter), retried on a loaded machine."""
    entry = site.charger_entry if index == 0 else site.meter_entry
    coordinator = entry.runtime_data.coordinator
    for _ in range(3):
        await coordinator.async_refresh()
        if coordinator.last_update_success:
            return


async def _cycle_with_a_late_meter(site: Site, lag_s: float) -> None:
    """Read the charger, let `lag_s` pass (the car ramps on), read the meter, decide."""
    await _read(site, 0)
    await asyncio.sleep(lag_s)
    await _read(site, 1)  # the meter syncs with the chargers as it is read
    await async_get_hub(site.hass).balancing.async_run_cycle()
    await site.hass.async_block_till_done()


async def _cycle_on_the_meter_alone(site: Site) -> None:
    """Read the meter and decide, with the charger's reading as it is."""
    await _read(site, 1)
    await async_get_hub(site.hass).balancing.async_run_cycle()
    await site.hass.async_block_till_done()


def _current_writes(site: Site) -> int:
    """Count the write requests that reached the charger's current register."""
    return sum(
        1
        for function, address, count in site.charger.requests
        if function in WRITES and address <= AMPS_TO_USE < address + count
    )


async def test_an_increase_is_followed_by_no_cut_while_the_car_ramps(
    hass: HomeAssistant, site: Site
) -> None:
    """A car ramping up between the charger's reading and the meter's is not house load.

    Before the safety issue the meter's figure less the older charger reading made the ramp
    look like the house rising, held for the load window: 16 A was cut to 14 A and climbed
    back, over and over.
    """
    site.live.house_a = [24.0, 24.0, 24.0]  # 32 - 1 - 24 = 7 A for the car
    car = EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0)
    site.charger.plug_in(car)
    for _ in range(3):
        await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 7

    car.ramp_s = 2.0  # 7 -> 16 A in two seconds
    site.live.house_a = [15.0, 15.0, 15.0]  # static from now on: exactly 16 A of room
    # The 24 A are held for the load window (5 s); then the car gets its 16 A.
    for _ in range(20):
        await asyncio.sleep(0.5)
        await site.cycle()
        if site.charger.settings[AMPS_TO_USE] == 16:
            break
    assert site.charger.settings[AMPS_TO_USE] == 16
    commands: list[int] = []
    for _ in range(8):
        await _cycle_with_a_late_meter(site, lag_s=0.4)
        commands.append(site.charger.settings[AMPS_TO_USE])
    assert commands == [16] * 8
    decision = async_get_hub(hass).balancing.decision
    assert decision is not None
    # The house figure stayed the house, not the house and the ramp.
    house = decision.groups[site.group_entry.entry_id].non_ev_load
    assert max(house) <= 15.0 + 0.2


async def test_each_command_is_written_once(hass: HomeAssistant, site: Site) -> None:
    """A cycle before the charger is read back does not write the same current again.

    Before the safety issue every new current went out twice: the next meter reading's cycle
    compared it with the charger's reading from before the write.
    """
    await site.charge_a_16_a_car()
    assert site.charger.settings[AMPS_TO_USE] == 16
    writes = _current_writes(site)
    site.live.house_a = [24.0, 24.0, 24.0]
    await _cycle_on_the_meter_alone(site)
    assert site.charger.settings[AMPS_TO_USE] == 7
    for _ in range(3):
        await _cycle_on_the_meter_alone(site)
    assert site.charger.settings[AMPS_TO_USE] == 7
    assert _current_writes(site) - writes == 1


async def test_what_the_app_changed_after_a_write_is_set_back(
    hass: HomeAssistant, site: Site
) -> None:
    """A reading taken after Powershare's write is the authority again."""
    await site.charge_a_16_a_car()
    site.charger.settings[AMPS_TO_USE] = 10  # the charger's own app
    await site.cycle()
    assert site.charger.settings[AMPS_TO_USE] == 16
