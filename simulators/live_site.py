"""A live site in real time: emulated chargers and a meter at the main fuse, kept consistent.

The meter at the main fuse must show the house load, minus solar production, plus what the
emulated chargers draw (mapped through their phase rotation): any charger model whose car's
draw can be asked (`ChargerDraw`: a TeltoCharge emulator, a V2C Trydan's state, the demo's
HTTP wallbox). `LiveSite.sync()` writes that
sum into the meter's state; `measure_on_read(emulator)` makes the meter emulator do so at every
read, as a real meter measures what flows when it is asked (and `run()` keeps the state in step
for HTTP meters), so Powershare running against the emulators closes the loop exactly as it
would on a real installation.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simulators.meters.modbus import ModbusMeterEmulator
    from simulators.meters.state import MeterState

PHASE_COUNT = 3


class ChargerDraw(Protocol):
    """An emulated charger as the site sees it: what its car draws now."""

    def update(self) -> None:
        """Advance the model to now."""

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """The current drawn on the charger's L1, L2, L3 now."""


@dataclass
class LiveCharger:
    """An emulated charger and how its L1, L2, L3 land on the site's phases (0-based)."""

    emulator: ChargerDraw
    site_phases: tuple[int, int, int] = (0, 1, 2)


@dataclass
class LiveSite:
    """The house load and solar of one metering point, plus the chargers behind it."""

    meter: MeterState
    chargers: list[LiveCharger] = field(default_factory=list)
    house_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Non-EV load per site phase (A, >= 0)."""
    solar_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Solar production per site phase (A, >= 0), subtracted from the load."""
    _task: asyncio.Task[None] | None = None

    def charger_currents(self) -> list[float]:
        """Return what the chargers draw now, per site phase."""
        totals = [0.0] * PHASE_COUNT
        for charger in self.chargers:
            charger.emulator.update()
            for charger_phase, current in enumerate(charger.emulator.currents_a):
                totals[charger.site_phases[charger_phase]] += current
        return totals

    def sync(self) -> list[float]:
        """Write house - solar + chargers into the meter; return the currents written."""
        chargers = self.charger_currents()
        currents = [
            self.house_a[phase] - self.solar_a[phase] + chargers[phase]
            for phase in range(PHASE_COUNT)
        ]
        self.meter.set_currents(*currents[: len(self.meter.phases)])
        return currents

    def measure_on_read(self, emulator: ModbusMeterEmulator) -> None:
        """Make `emulator` (serving this site's meter state) sync before each read."""
        emulator.on_read = self.sync

    async def run(self, period_s: float = 0.2) -> None:
        """Keep the meter in step with the chargers until cancelled."""
        while True:
            self.sync()
            await asyncio.sleep(period_s)

    def start(self, period_s: float = 0.2) -> None:
        """Run `run()` in the background."""
        self._task = asyncio.get_running_loop().create_task(self.run(period_s))

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
