"""An emulated site for the Home Assistant tests: a TeltoCharge and a meter at the main fuse.

Shared by the test modules of this folder (imported as `emulated_site`; the fixture itself is
in conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest
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
READ_ATTEMPTS = 8
READ_RETRY_WAIT_S = 0.5
"""Eight reads half a second apart outlast the bus's first two reconnect backoffs (1 s, 2 s)."""


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
        balancing = async_get_hub(self.hass).balancing
        # A reading (or a failed one) asks the service for a cycle of its own, at the same
        # clock reading. Holding the cycle lock makes that cycle wait for both answers: else a
        # read that has to be repeated lets it run on the other device's stale data.
        async with balancing._cycle_lock:
            for index, entry in ((0, self.charger_entry), (1, self.meter_entry)):
                await self._read(entry, self.servers[index])
        await balancing.async_run_cycle()
        await self.hass.async_block_till_done()

    async def _read(self, entry: MockConfigEntry, server: EmulatorServer) -> None:
        """Read a device whose emulator runs until a read succeeds; a stopped one is read once.

        A loaded 2-core CI machine can make a loopback request miss its 1 s timeout, and the
        bus then waits out its reconnect backoff (1 s, then 2 s) before it tries again. With
        `Clocks` a cycle is 20 s, so one missed read would make the device stale and the
        engine fall back to its failsafe: a different test. The tests are about the loop, so
        read again, past the backoff, and fail plainly if the device never answers.
        """
        coordinator = entry.runtime_data.coordinator
        for attempt in range(READ_ATTEMPTS):
            await coordinator.async_refresh()
            if coordinator.last_update_success or not server.running:
                return
            if attempt < READ_ATTEMPTS - 1:
                await asyncio.sleep(READ_RETRY_WAIT_S)
        pytest.fail(
            f"{entry.title} did not answer in {READ_ATTEMPTS} reads: {coordinator.last_exception!r}"
        )

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
