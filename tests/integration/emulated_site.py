"""An emulated site for the Home Assistant tests: a TeltoCharge and a meter at the main fuse.

Shared by the test modules of this folder (imported as `emulated_site`; the fixture itself is
in conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.hub import async_get_hub
from simulators.live_site import LiveSite
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import EmulatorServer
from simulators.teltocharge import EmulatedCar, TeltoChargeEmulator

FUSE_A = 32


@dataclass
class Site:
    """Emulators, the live site that couples them, and the three entries."""

    charger: TeltoChargeEmulator
    meter: ModbusMeterEmulator
    live: LiveSite
    servers: list[EmulatorServer]
    group_entry: MockConfigEntry
    meter_entry: MockConfigEntry
    charger_entry: MockConfigEntry
    hass: HomeAssistant

    async def cycle(self) -> None:
        """One loop turn: the site settles, the meter is read, the engine decides and writes."""
        self.live.sync()
        for index, entry in ((0, self.charger_entry), (1, self.meter_entry)):
            coordinator = entry.runtime_data.coordinator
            # A loaded 2-core CI machine can make a loopback request miss its 1 s timeout;
            # the tests are about the loop, not about that, so read again (a few times).
            for _ in range(3):
                await coordinator.async_refresh()
                if coordinator.last_update_success or not self.servers[index].running:
                    break
        await async_get_hub(self.hass).balancing.async_run_cycle()
        await self.hass.async_block_till_done()

    async def charge_a_16_a_car(self) -> None:
        """Plug in a three-phase car that takes 16 A and run the two cycles it takes to start."""
        self.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
        for _ in range(2):
            await self.cycle()
