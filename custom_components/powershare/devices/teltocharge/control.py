"""`TeltoChargeControl`: the TeltoCharge as a `ChargerControl` (the charger interface).

Only registers that differ from what the charger reports are written, so what the charger's own
app changed is re-asserted. Each write sets the watchdog (register 19) and the failsafe current
(register 20) as well, and with no other write a feed every `WATCHDOG_FEED_S` keeps the watchdog
fed: if Powershare stops talking, the charger falls back to its failsafe current by itself.
Nothing is written on release: that watchdog takes over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.powershare.devices.charger import ChargerCapabilities

from .commands import settings_after
from .registers import MAX_CHARGE_CURRENT_A, MIN_CHARGE_CURRENT_A, PhaseSelection

if TYPE_CHECKING:
    from custom_components.powershare.devices.charger import ChargeCommand

    from .driver import TeltoCharge
    from .reading import TeltoChargeIdentity, TeltoChargeReading, TeltoChargeSettings

WATCHDOG_TIMEOUT_S = 30
"""Register 19: the charger falls back to its failsafe current after this much silence (30 s is
the charger's own default)."""
WATCHDOG_FEED_S = 10.0
"""At least one write this often: the register map does not say whether reads count as the
"valid communication" that feeds the watchdog, so a write (registers 19-20, unchanged values)
keeps it fed either way, for one request per charger every 10 s."""

TELTOCHARGE_CAPABILITIES = ChargerCapabilities(
    watchdog=True,
    phase_switching=True,
    min_current_a=MIN_CHARGE_CURRENT_A,
    max_current_a=MAX_CHARGE_CURRENT_A,
)
"""Phase switching where the charger says it can (register 34, `phase_change_possible`)."""

_SELECTION_BY_PHASES: dict[tuple[int, ...], PhaseSelection] = {
    (0,): PhaseSelection.L1,
    (1,): PhaseSelection.L2,
    (2,): PhaseSelection.L3,
    (0, 1): PhaseSelection.L1_L2,
    (0, 2): PhaseSelection.L1_L3,
    (1, 2): PhaseSelection.L2_L3,
    (0, 1, 2): PhaseSelection.THREE_PHASE,
}


class TeltoChargeControl:
    """One TeltoCharge driven by Powershare: its driver, and what Powershare last wrote."""

    def __init__(self, driver: TeltoCharge) -> None:
        self.driver = driver
        self.latest: TeltoChargeReading | None = None
        self.sent: TeltoChargeSettings | None = None
        """The charger's settings as Powershare's last write left them."""
        self.sent_at = float("-inf")
        """When that write began (the driver's clock, which dates the readings)."""
        self.last_write = float("-inf")
        """When Powershare last wrote to the charger (the service's clock)."""

    @property
    def capabilities(self) -> ChargerCapabilities:
        """A watchdog, phase switching where the charger allows it, 6-32 A."""
        return TELTOCHARGE_CAPABILITIES

    @property
    def overwritten(self) -> bool:
        """Never: what the charger's app changes is set back every cycle."""
        return False

    def clock(self) -> float:
        """Return the time on the driver's clock."""
        return self.driver.clock()

    async def identify(self) -> TeltoChargeIdentity:
        """Check register 9 = "TC" and return the serial number, product code and firmware."""
        return await self.driver.identify()

    async def read(self) -> TeltoChargeReading:
        """One block read of registers 0-44."""
        self.latest = await self.driver.read()
        return self.latest

    def settings_now(self, reading: TeltoChargeReading) -> TeltoChargeSettings:
        """Return the charger's settings: the reading's, or what was written after it was taken.

        A cycle that runs before the charger is read again would otherwise write the same
        values a second time; a reading taken after the write is the authority again (what
        the charger's own app changed is re-asserted).
        """
        if self.sent is not None and reading.measured_at < self.sent_at:
            return self.sent
        return reading.settings

    async def command(self, command: ChargeCommand, now: float) -> int:
        """Write what differs from the charger's settings; feed the watchdog when due."""
        reading = self.latest
        if reading is None:
            return 0
        phases: PhaseSelection | None = None
        if (
            command.phases is not None
            and len(command.phases) in (1, 3)
            and reading.phase_change_possible
        ):
            phases = _SELECTION_BY_PHASES.get(tuple(sorted(command.phases)))
        present = self.settings_now(reading)
        started = self.driver.clock()
        try:
            written = await self.driver.apply(
                present,
                amps=command.amps,
                phases=phases,
                watchdog_timeout_s=WATCHDOG_TIMEOUT_S,
                failsafe_current_a=command.failsafe_a,
            )
            if not written and now - self.last_write >= WATCHDOG_FEED_S:
                await self.driver.configure_watchdog(WATCHDOG_TIMEOUT_S, command.failsafe_a)
                written = 1
        except Exception:
            # What was sent before the failure is not known to have arrived: all of it again.
            self.sent = None
            raise
        if written:
            self.last_write = now
            self.sent_at = started
            self.sent = settings_after(
                present,
                amps=command.amps,
                phases=phases,
                watchdog_timeout_s=WATCHDOG_TIMEOUT_S,
                failsafe_current_a=command.failsafe_a,
            )
        return written

    async def release(self, failsafe_a: int) -> None:
        """Nothing to write: the watchdog brings the charger to its failsafe current."""
