"""`TeltoCharge`: the driver of one Teltonika TeltoCharge (EVC2), as its Modbus primary.

One block read of registers 0-44 per cycle gives everything (see `reading`); the caller compares
the present writable registers with what Powershare wants and calls `TeltoCharge.apply` to write
only what differs (see `commands`).

Which read function works is learned, not configured: reads use FC3 and fall back to FC4 once
the charger answers "illegal function" (then FC4 is remembered). Single registers are written
with FC6 (`WRITE_SINGLE`), runs of registers with FC16.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from custom_components.powershare.devices.errors import (
    ModbusExceptionError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.modbus import RegisterType

from .commands import plan_writes, validate_amps, validate_member, validate_watchdog
from .reading import decode_identity, decode_reading
from .registers import (
    BLOCK_LENGTH,
    BLOCK_START,
    DEFAULT_FAILSAFE_CURRENT_A,
    DEFAULT_WATCHDOG_TIMEOUT_S,
    WRITE_SINGLE,
    LockMode,
    PhaseSelection,
    Register,
    StopStartRequest,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from custom_components.powershare.devices.modbus import ModbusBus

    from .reading import TeltoChargeIdentity, TeltoChargeReading, TeltoChargeSettings

# The package's name, not this module's: log records keep the logger name they had before the
# driver was split into modules, so users' logger settings and log filters still match.
_LOGGER = logging.getLogger(__package__)


class TeltoCharge:
    """Driver of one TeltoCharge on a Modbus bus (RTU or TCP), as its primary.

    The bus is shared (see `ModbusBus`); this object holds only the unit id and what it
    learned about the device (which read function works, its identity).
    """

    def __init__(
        self,
        bus: ModbusBus,
        unit_id: int,
        *,
        read_function: RegisterType = RegisterType.HOLDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus: Final = bus
        self.unit_id: Final = unit_id
        self._read_function = read_function
        self.clock: Final = clock
        """The clock of `TeltoChargeReading.measured_at`."""
        self.identity: TeltoChargeIdentity | None = None
        """Set by `identify` (and refreshed by every `read`)."""

    @property
    def read_function(self) -> RegisterType:
        """The function code reads use now (FC4 after a fallback)."""
        return self._read_function

    async def read_block(self) -> list[int]:
        """Read registers 0-44 in one request, falling back from FC3 to FC4 once if needed."""
        try:
            return await self.bus.read_registers(
                self.unit_id, BLOCK_START, BLOCK_LENGTH, function=self._read_function
            )
        except ModbusExceptionError as err:
            if not err.is_illegal_function:
                raise
            other = (
                RegisterType.INPUT
                if self._read_function is RegisterType.HOLDING
                else RegisterType.HOLDING
            )
            registers = await self.bus.read_registers(
                self.unit_id, BLOCK_START, BLOCK_LENGTH, function=other
            )
            _LOGGER.info(
                "TeltoCharge unit %s on %s answers function %s, not %s; using it from now on",
                self.unit_id,
                self.bus.endpoint,
                int(other),
                int(self._read_function),
            )
            self._read_function = other
            return registers

    async def identify(self) -> TeltoChargeIdentity:
        """Check that the unit is a TeltoCharge and return its identity.

        Raises `UnsupportedDeviceError` when register 9 is not 21571 ("TC").
        """
        self.identity = decode_identity(await self.read_block())
        return self.identity

    async def read(self) -> TeltoChargeReading:
        """One block read, decoded. Raises `UnsupportedDeviceError` if the device changed."""
        registers = await self.read_block()
        reading = decode_reading(registers, self.clock())
        if self.identity is not None and reading.identity.serial != self.identity.serial:
            raise UnsupportedDeviceError(
                f"unit {self.unit_id} on {self.bus.endpoint} is now serial "
                f"{reading.identity.serial}, expected {self.identity.serial}"
            )
        self.identity = reading.identity
        return reading

    # -- commands ----------------------------------------------------------------------

    async def set_amps(self, amps: int) -> None:
        """Set register 15, the current the charger may use: 0 (pause) or 6-32 A."""
        await self._write_one(Register.AMPS_TO_USE, validate_amps(amps))

    async def set_phases(self, phases: PhaseSelection) -> None:
        """Set register 14, the phases the charger uses."""
        member = validate_member(PhaseSelection, phases, "phases")
        await self._write_one(Register.PHASE_TO_USE, int(member))

    async def request_stop(self) -> None:
        """Stop the session (register 16 = 1)."""
        await self._write_one(Register.STOP_START_REQUEST, int(StopStartRequest.STOP))

    async def request_start(self) -> None:
        """Start a stopped session (register 16 = 2)."""
        await self._write_one(Register.STOP_START_REQUEST, int(StopStartRequest.START))

    async def authorize(self) -> None:
        """Request authorisation of the session (register 17 = 1)."""
        await self._write_one(Register.AUTHORIZE_REQUEST, 1)

    async def set_lock_mode(self, mode: LockMode) -> None:
        """Set register 18, the socket lock mode."""
        member = validate_member(LockMode, mode, "lock mode")
        await self._write_one(Register.LOCK_MODE, int(member))

    async def configure_watchdog(
        self,
        timeout_s: int = DEFAULT_WATCHDOG_TIMEOUT_S,
        failsafe_current_a: int = DEFAULT_FAILSAFE_CURRENT_A,
    ) -> None:
        """Set registers 19-20 in one request: the watchdog and the current it falls back to.

        With `timeout_s` > 0 the primary must talk at least every `timeout_s` / 2 seconds.
        """
        values = [validate_watchdog(timeout_s), validate_amps(failsafe_current_a)]
        await self.bus.write_registers(self.unit_id, Register.WATCHDOG_TIMEOUT, values)

    async def reboot(self) -> None:
        """Request a reboot (register 21 = 1)."""
        await self._write_one(Register.REBOOT_REQUEST, 1)

    async def apply(
        self,
        present: TeltoChargeSettings | None,
        *,
        amps: int | None = None,
        phases: PhaseSelection | None = None,
        lock_mode: LockMode | None = None,
        watchdog_timeout_s: int | None = None,
        failsafe_current_a: int | None = None,
    ) -> int:
        """Re-assert what Powershare owns: write only the values that differ from `present`.

        `present` is the `settings` of the latest reading (None writes everything given).
        Everything is validated before anything is written; adjacent registers go out in one
        FC16 request. Returns the number of requests sent.
        """
        runs = plan_writes(
            present,
            amps=amps,
            phases=phases,
            lock_mode=lock_mode,
            watchdog_timeout_s=watchdog_timeout_s,
            failsafe_current_a=failsafe_current_a,
        )
        for start, values in runs:
            if len(values) == 1:
                await self._write_one(start, values[0])
            else:
                await self.bus.write_registers(self.unit_id, start, values)
        return len(runs)

    async def _write_one(self, register: Register, value: int) -> None:
        if WRITE_SINGLE == 6:  # noqa: PLR2004  # the function code itself
            await self.bus.write_register(self.unit_id, int(register), value)
        else:
            await self.bus.write_registers(self.unit_id, int(register), [value])
