"""`V2CControl`: the V2C Trydan as a `ChargerControl` (the charger interface).

- The charger's own dynamic power control is held (`PauseDynamic=1`, as evcc does: with
  `Dynamic=0` the charger stops reporting power) while Powershare sets `Intensity`, or the
  two would fight; it is given back on release.
- 0 A pauses (`Paused=1`); a current resumes first.
- The car's draw: `ChargePower` over the wired phases at the installation's voltage.
  `IntensityMeasure_L1..3` are not used: on one installation they were the grid's currents,
  not the car's (evcc-io/evcc#33154).
- No watchdog: if Home Assistant stops, the charger keeps its last `Intensity`; on release it
  is set to the failsafe current (or paused at 0 A).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from custom_components.powershare.devices.charger import (
    NOMINAL_VOLTAGE_V,
    ChargerCapabilities,
    power_lower_bound,
)

from .reading import MAX_INTENSITY_A, MIN_INTENSITY_A

if TYPE_CHECKING:
    from custom_components.powershare.devices.charger import ChargeCommand

    from .driver import V2CTrydan
    from .reading import V2CReading

V2C_CAPABILITIES = ChargerCapabilities(
    watchdog=False,
    phase_switching=False,
    min_current_a=MIN_INTENSITY_A,
    max_current_a=MAX_INTENSITY_A,
    response_s=10.0,
)
"""Polled every 2 s over the local network; the car's 5 s and the charger's own step."""


@dataclass(frozen=True, slots=True)
class V2CChargerReading:
    """A Trydan's answer as the balancing service reads it (a `ChargerReading`)."""

    answer: V2CReading
    wired_phases: int

    @property
    def measured_at(self) -> float:
        """When the answer arrived."""
        return self.answer.measured_at

    @property
    def ev_connected(self) -> bool:
        """Whether a car is plugged in."""
        return self.answer.connected

    @property
    def charging(self) -> bool:
        """Whether the car charges (not while paused)."""
        return self.answer.charging

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """What the car draws at least per phase, from the charge power (`power_lower_bound`)."""
        volts = self.answer.voltage_v or NOMINAL_VOLTAGE_V
        return power_lower_bound(self.answer.power_w, volts, self.wired_phases)

    @property
    def session_energy_kwh(self) -> float:
        """The session's energy (`ChargeEnergy`)."""
        return self.answer.session_energy_kwh

    @property
    def lifetime_energy_kwh(self) -> None:
        """Not in `/RealTimeData`."""
        return None

    @property
    def car_phases(self) -> frozenset[int]:
        """Every wired phase: from its power alone, the car's phases are not known."""
        return frozenset(range(self.wired_phases))

    @property
    def amp_limit_a(self) -> int:
        """The charger's MaxIntensity."""
        return self.answer.max_intensity_a

    @property
    def phase_change_possible(self) -> bool:
        """Never: the Trydan does not switch phases."""
        return False


@dataclass(frozen=True, slots=True)
class V2CChargerIdentity:
    """Who the Trydan is."""

    unique_id: str
    firmware_version: str | None
    manufacturer: str = "V2C"
    model_name: str = "Trydan"


class V2CControl:
    """One V2C Trydan driven by Powershare."""

    def __init__(self, driver: V2CTrydan, *, wired_phases: int = 3) -> None:
        self.driver = driver
        self.wired_phases = wired_phases
        self.latest: V2CChargerReading | None = None
        self.held_dynamic = False
        """Whether Powershare paused the charger's own dynamic control (given back on release)."""
        self.sent: V2CReading | None = None
        """The answer as Powershare's last writes left it (until a newer answer)."""
        self.sent_at = float("-inf")

    @property
    def capabilities(self) -> ChargerCapabilities:
        """No watchdog, no phase switching, 6-32 A, pauses."""
        return V2C_CAPABILITIES

    @property
    def overwritten(self) -> bool:
        """Never: what the charger's app changes is set back (its dynamic control is held)."""
        return False

    def clock(self) -> float:
        """Return the time on the clock of the readings."""
        return time.time()

    async def identify(self) -> V2CChargerIdentity:
        """Check that it answers as a Trydan; its device id (or host) and firmware."""
        identity = await self.driver.identify()
        return V2CChargerIdentity(
            unique_id=identity.device_id or self.driver.host, firmware_version=identity.firmware
        )

    async def read(self) -> V2CChargerReading:
        """One `/RealTimeData`."""
        self.latest = V2CChargerReading(await self.driver.read(), self.wired_phases)
        return self.latest

    async def command(self, command: ChargeCommand, now: float) -> int:  # noqa: ARG002
        """Hold its own control, pause or resume, and set `Intensity` where they differ.

        What was written after the latest answer counts over it: a cycle before the next
        poll does not write it again.
        """
        if self.latest is None:
            return 0
        answer = self.latest.answer
        if self.sent is not None and answer.measured_at < self.sent_at:
            answer = self.sent
        started = self.clock()
        writes = 0
        try:
            if answer.dynamic and not answer.pause_dynamic:
                await self.driver.set_pause_dynamic(True)  # the driver's API
                self.held_dynamic = True
                answer = replace(answer, pause_dynamic=True)
                writes += 1
            amps = V2C_CAPABILITIES.settable(command.amps)
            if amps < answer.min_intensity_a:
                amps = 0  # below the Trydan's own minimum: paused, never raised to it
                if not answer.paused:
                    await self.driver.set_paused(True)
                    answer = replace(answer, paused=True)
                    writes += 1
            else:
                amps = min(amps, answer.max_intensity_a)
                if answer.intensity_a != amps:
                    await self.driver.set_intensity(amps)
                    answer = replace(answer, intensity_a=amps)
                    writes += 1
                if answer.paused:
                    await self.driver.set_paused(False)
                    answer = replace(answer, paused=False)
                    writes += 1
        except Exception:
            self.sent = None  # what arrived is not known: the next answer decides
            raise
        if writes:
            self.sent, self.sent_at = answer, started
        return writes

    async def release(self, failsafe_a: int) -> None:
        """Leave it at its failsafe current (paused at 0 A), its own control given back."""
        if self.latest is None:
            return
        answer = self.latest.answer
        amps = V2C_CAPABILITIES.settable(failsafe_a)
        if amps < answer.min_intensity_a:
            await self.driver.set_paused(True)  # never raised to its own minimum
        else:
            await self.driver.set_intensity(min(amps, answer.max_intensity_a))
        if self.held_dynamic:
            await self.driver.set_pause_dynamic(False)
            self.held_dynamic = False
