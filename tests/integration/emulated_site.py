"""An emulated site for the Home Assistant tests: a TeltoCharge and a meter at the main fuse.

Shared by the test modules of this folder (imported as `emulated_site`; the fixture itself is
in conftest.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.hub import async_get_hub
from simulators.live_site import LiveSite
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import EmulatorServer
from simulators.teltocharge import EmulatedCar, TeltoChargeEmulator

FUSE_A = 32
STEP_S = 20.0
"""A cycle of `Clocks.cycles`: long enough for any cut to show in the draw before the next."""


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


class Clocks:
    """The service's wall clock and the emulated charger's clock, moved together."""

    def __init__(self, hass: HomeAssistant, site: Site) -> None:
        """Take over the service's, the meter's and the charger's clocks."""
        self.wall = time.time()
        self.charger = time.monotonic()
        self.site = site
        async_get_hub(hass).balancing.clock = lambda: self.wall
        site.meter_entry.runtime_data.coordinator.meter.driver._clock = lambda: self.wall
        site.charger._clock = lambda: self.charger

    async def cycles(self, count: int) -> None:
        for _ in range(count):
            self.wall += STEP_S
            self.charger += STEP_S
            await self.site.cycle()
