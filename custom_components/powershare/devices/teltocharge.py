"""Teltonika TeltoCharge (EVC2) driven as a Modbus secondary (register map: seed 002).

One block read of registers 0-44 per cycle gives everything: measurements, states, the
identification, and the present values of the writable registers (14-21), which the charger's
own app may change at any time; the caller compares them with what Powershare wants and calls
`TeltoCharge.apply` to write only what differs.

Undocumented points are constants, easy to correct ([U] in protocols.md):
- function codes: reads use FC3 and fall back to FC4 once the charger answers "illegal
  function" (then FC4 is remembered); single registers are written with FC6 (`WRITE_SINGLE`),
  runs of registers with FC16;
- energy registers count `ENERGY_KWH_PER_COUNT` kWh (the map says "*100kWh").

Multi-word values are low word first (registers 7-8, 24-25, 41-44).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Final

from .errors import (
    ImplausibleValueError,
    InvalidCommandError,
    ModbusExceptionError,
    UnsupportedDeviceError,
)
from .modbus import RegisterType

if TYPE_CHECKING:
    from collections.abc import Callable

    from .modbus import ModbusBus

_LOGGER = logging.getLogger(__name__)

TELTOCHARGE_ID: Final = 21571
"""Register 9 of every TeltoCharge: the characters "TC"."""
BLOCK_START: Final = 0
BLOCK_LENGTH: Final = 45
"""Registers 0-44, read in one request."""
ENERGY_KWH_PER_COUNT: Final = 0.01
"""kWh per count of registers 39 and 41-44 ("*100kWh" in the map) [U: unconfirmed]."""
CURRENT_SCALE: Final = 0.1
"""Amperes per count of registers 3-5."""
TEMPERATURE_SCALE: Final = 0.1
"""Degrees Celsius per count of register 31."""
WRITE_SINGLE: Final = 6
"""Function code for writing one register (6; set to 16 if a firmware only accepts FC16)."""

MIN_CHARGE_CURRENT_A: Final = 6
MAX_CHARGE_CURRENT_A: Final = 32
MAX_WATCHDOG_TIMEOUT_S: Final = 600
DEFAULT_WATCHDOG_TIMEOUT_S: Final = 30
"""Watchdog Powershare sets by default: the charger's own default; talk at least every 15 s."""
DEFAULT_FAILSAFE_CURRENT_A: Final = 6
"""Current the charger falls back to when the watchdog fires (the charger's default)."""

# Plausibility limits: readings outside them are garbage, not measurements.
_MAX_VOLTAGE_V: Final = 300
_MIN_CURRENT_A: Final = -1.0
_MAX_CURRENT_A: Final = 50.0
_MIN_TEMPERATURE_C: Final = -40.0
_MAX_TEMPERATURE_C: Final = 125.0
_MAX_POWER_W: Final = 30_000


class Register(IntEnum):
    """Register addresses of the secondary-mode map (PDU addresses, 0-based)."""

    VOLTAGE_L1 = 0
    CURRENT_L1 = 3
    EVSE_STATUS = 6
    EVSE_STATUS_TIME = 7
    EVSE_ID = 9
    THREE_PHASE_POSSIBLE = 10
    PHASE_CHANGE_POSSIBLE = 11
    AMP_LIMIT = 12
    PHASES_CONNECTED = 13
    PHASE_TO_USE = 14
    AMPS_TO_USE = 15
    STOP_START_REQUEST = 16
    AUTHORIZE_REQUEST = 17
    LOCK_MODE = 18
    WATCHDOG_TIMEOUT = 19
    FAILSAFE_CURRENT = 20
    REBOOT_REQUEST = 21
    AUTHORIZATION_REQUIRED = 22
    PRODUCT_CODE = 23
    SERIAL = 24
    FIRMWARE = 26
    CHARGE_POINT_STATE = 27
    MAX_POWER_FROM_GRID = 28
    USER_MAX_CURRENT = 29
    LOCK_STATUS = 30
    TEMPERATURE = 31
    OCPP_CONNECTED = 32
    IEC_STATE = 33
    WARNINGS = 34
    ERRORS = 35
    CURRENT_LIMIT_CAUSE = 36
    MAX_SUPPORTED_POWER = 37
    POWER = 38
    SESSION_ENERGY = 39
    SESSION_DURATION = 40
    LIFETIME_ENERGY = 41


class EvseStatus(IntEnum):
    """Register 6, table (a): the EVSE state in dynamic load management."""

    CHARGING = 0
    """C: charging."""
    WAITING_FOR_EV = 1
    """B1: EV connected, authorised, waiting for the EV to start charging."""
    PAUSED_NO_POWER_WAS_CHARGING = 2
    """B2: EV connected, authorised, was charging, not enough power."""
    PAUSED_NO_POWER = 3
    """B3: EV connected, authorised, was not charging, not enough power."""
    STOPPED_BY_EV = 4
    """D1: EV connected, charging stopped by the EV."""
    NOT_AUTHORIZED = 5
    """D2: EV connected, no authorisation."""
    NOT_ALLOWED = 6
    """D3: EV connected, simplified CP or D state charging not allowed."""
    NO_EV = 7
    """A: EV not connected."""
    ERROR = 8
    """F: error state."""
    UNKNOWN = 9
    """E: unknown state."""


class ChargePointState(IntEnum):
    """Register 27, table (b)."""

    NO_EV = 0
    AWAITING_PERMISSION = 1
    AUTHORIZED = 2
    CHARGING = 3
    PAUSED = 4
    COMPLETE = 5
    STOPPED_BY_USER = 6
    ERROR = 7
    RESERVED = 8
    OTHER = 9


class IecState(IntEnum):
    """Register 33, table (c): IEC 61851 control pilot state."""

    A = 0
    B1 = 1
    B2 = 2
    C1 = 3
    C2 = 4
    D1 = 5
    D2 = 6
    E = 7
    F = 8


class WarningFlag(IntFlag):
    """Register 34, table (d): warning bits."""

    MIDPLATE_OPEN = 1 << 0
    TEMPERATURE = 1 << 1
    OVERCURRENT_DRAW = 1 << 2
    VENTILATION_REQUIRED = 1 << 3
    CLOCK_LOST = 1 << 4
    SIMPLIFIED_CP_DENIED = 1 << 5
    SIMPLIFIED_CP_DETECTED = 1 << 6
    NO_VENTILATION_DENIED = 1 << 7
    PEN_CT_NOT_CALIBRATED = 1 << 8
    NFC_FAULT = 1 << 9
    PEN_FAULT_DETECTED = 1 << 10


class ErrorFlag(IntFlag):
    """Register 35, table (e): error bits."""

    INPUT_VOLTAGE = 1 << 0
    OUTPUT_VOLTAGE = 1 << 1
    LEAKAGE_SENSOR_TEST = 1 << 2
    EV_DIODE_OR_CP = 1 << 3
    OVERCURRENT = 1 << 4
    TEMPERATURE = 1 << 5
    PEN_FAULT = 1 << 6
    PROXIMITY_PILOT = 1 << 7
    LEAKAGE_DETECTED = 1 << 8
    SOCKET_LOCK = 1 << 9
    INTERNAL = 1 << 10


class CurrentLimitCause(IntEnum):
    """Register 36, table (f): what limits the charging current now."""

    HARDWARE = 0
    MAX_POWER_FROM_GRID = 1
    USER_SETTING = 2
    CABLE = 3
    SIMPLE_CP = 4
    EVSE_DEFAULT = 5
    LOAD_BALANCE = 6
    TEMPERATURE = 7
    OTHER = 8
    """The map gives 0-8 as the range but names only 0-7."""


class MaxSupportedPower(IntEnum):
    """Register 37: the charger's power class."""

    KW_7_4 = 0
    """7.4 kW: 1 phase, 32 A."""
    KW_11 = 1
    """11 kW: 3 phases, 16 A."""
    KW_22 = 2
    """22 kW: 3 phases, 32 A."""

    @property
    def max_current_a(self) -> int:
        """Highest current per phase of this power class."""
        return 16 if self is MaxSupportedPower.KW_11 else 32

    @property
    def phases(self) -> int:
        """Number of phases of this power class."""
        return 1 if self is MaxSupportedPower.KW_7_4 else 3


class PhaseSelection(IntEnum):
    """Registers 13 (connected) and 14 (to use): which phases."""

    L1 = 0
    L2 = 1
    L3 = 2
    L1_L2 = 3
    L1_L3 = 4
    L2_L3 = 5
    THREE_PHASE = 6
    NONE = 7

    @property
    def phases(self) -> tuple[int, ...]:
        """The phases as 1-based numbers, e.g. (1, 3) for L1_L3."""
        return _PHASES[self]


_PHASES: Final[dict[PhaseSelection, tuple[int, ...]]] = {
    PhaseSelection.L1: (1,),
    PhaseSelection.L2: (2,),
    PhaseSelection.L3: (3,),
    PhaseSelection.L1_L2: (1, 2),
    PhaseSelection.L1_L3: (1, 3),
    PhaseSelection.L2_L3: (2, 3),
    PhaseSelection.THREE_PHASE: (1, 2, 3),
    PhaseSelection.NONE: (),
}


class StopStartRequest(IntEnum):
    """Register 16."""

    LEAVE = 0
    STOP = 1
    START = 2


class LockMode(IntEnum):
    """Register 18."""

    AUTO = 0
    ALWAYS_LOCKED = 1
    FORCE_UNLOCK = 2
    """Unlock in auto mode; the charger resets this when the car leaves (state A)."""


@dataclass(frozen=True, slots=True)
class TeltoChargeIdentity:
    """What identifies a TeltoCharge: for unique ids and the device registry."""

    serial: int
    product_code: int
    firmware: int

    @property
    def model(self) -> str:
        """Model name as Teltonika writes it, e.g. "EVC1234"."""
        return f"EVC{self.product_code}"

    @property
    def unique_id(self) -> str:
        """The serial number as text."""
        return str(self.serial)


@dataclass(frozen=True, slots=True)
class TeltoChargeSettings:
    """The writable registers 14-21 as they are on the charger now."""

    phase_to_use: PhaseSelection
    amps_to_use: int
    stop_start_request: StopStartRequest
    authorize_request: bool
    lock_mode: LockMode
    watchdog_timeout_s: int
    failsafe_current_a: int
    reboot_request: bool


@dataclass(frozen=True, slots=True)
class TeltoChargeReading:
    """Everything one block read of registers 0-44 tells."""

    voltages_v: tuple[float, float, float]
    currents_a: tuple[float, float, float]
    evse_status: EvseStatus
    evse_status_time_s: int
    three_phase_possible: bool
    phase_change_possible: bool
    amp_limit_a: int
    """Register 12: the most the EVSE can supply."""
    phases_connected: PhaseSelection
    settings: TeltoChargeSettings
    authorization_required: bool
    identity: TeltoChargeIdentity
    charge_point_state: ChargePointState
    max_power_from_grid: int
    user_max_current_a: int
    locked: bool
    temperature_c: float
    ocpp_connected: bool
    iec_state: IecState
    warnings: WarningFlag
    errors: ErrorFlag
    current_limit_cause: CurrentLimitCause
    max_supported_power: MaxSupportedPower
    power_w: int
    session_energy_kwh: float
    session_duration_s: int
    lifetime_energy_kwh: float
    measured_at: float
    """When the answer arrived, on the driver's clock (seconds)."""

    @property
    def charging(self) -> bool:
        """Whether the EVSE reports an ongoing charge."""
        return self.evse_status is EvseStatus.CHARGING

    @property
    def ev_connected(self) -> bool:
        """Whether a car is plugged in."""
        return self.evse_status not in (EvseStatus.NO_EV, EvseStatus.ERROR, EvseStatus.UNKNOWN)


def _u32(low: int, high: int) -> int:
    return low | (high << 16)


def _s16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def _enum[E: IntEnum](enum: type[E], raw: int, register: Register) -> E:
    try:
        return enum(raw)
    except ValueError:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw}, not a {enum.__name__}"
        ) from None


def _flags[F: IntFlag](flags: type[F], raw: int, register: Register) -> F:
    known = 0
    for member in flags:
        known |= int(member)
    if raw & ~known:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) has undefined bits: {raw:#06x}"
        )
    return flags(raw)


def _flag(raw: int, register: Register) -> bool:
    if raw not in (0, 1):
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw}, not 0 or 1"
        )
    return raw == 1


def _in_range(value: float, low: float, high: float, what: str) -> None:
    if math.isnan(value) or not low <= value <= high:
        raise ImplausibleValueError(f"{what} is {value}, outside {low}-{high}")


def _charge_current(raw: int, register: Register) -> int:
    if raw != 0 and not MIN_CHARGE_CURRENT_A <= raw <= MAX_CHARGE_CURRENT_A:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw} A, not 0 or 6-32"
        )
    return raw


def decode_identity(registers: list[int]) -> TeltoChargeIdentity:
    """Identify a TeltoCharge from registers 0-44; `UnsupportedDeviceError` if it is not one."""
    if len(registers) != BLOCK_LENGTH:
        raise UnsupportedDeviceError(f"expected {BLOCK_LENGTH} registers, got {len(registers)}")
    if registers[Register.EVSE_ID] != TELTOCHARGE_ID:
        raise UnsupportedDeviceError(
            f'register 9 holds {registers[Register.EVSE_ID]}, not {TELTOCHARGE_ID} ("TC"): '
            "this is not a TeltoCharge in secondary mode"
        )
    return TeltoChargeIdentity(
        serial=_u32(registers[Register.SERIAL], registers[Register.SERIAL + 1]),
        product_code=registers[Register.PRODUCT_CODE],
        firmware=registers[Register.FIRMWARE],
    )


def decode_settings(registers: list[int]) -> TeltoChargeSettings:
    """Decode the writable registers 14-21 out of the block 0-44."""
    watchdog = registers[Register.WATCHDOG_TIMEOUT]
    _in_range(watchdog, 0, MAX_WATCHDOG_TIMEOUT_S, "register 19 (watchdog timeout)")
    return TeltoChargeSettings(
        phase_to_use=_enum(PhaseSelection, registers[Register.PHASE_TO_USE], Register.PHASE_TO_USE),
        amps_to_use=_charge_current(registers[Register.AMPS_TO_USE], Register.AMPS_TO_USE),
        stop_start_request=_enum(
            StopStartRequest,
            registers[Register.STOP_START_REQUEST],
            Register.STOP_START_REQUEST,
        ),
        authorize_request=_flag(registers[Register.AUTHORIZE_REQUEST], Register.AUTHORIZE_REQUEST),
        lock_mode=_enum(LockMode, registers[Register.LOCK_MODE], Register.LOCK_MODE),
        watchdog_timeout_s=watchdog,
        failsafe_current_a=_charge_current(
            registers[Register.FAILSAFE_CURRENT], Register.FAILSAFE_CURRENT
        ),
        reboot_request=_flag(registers[Register.REBOOT_REQUEST], Register.REBOOT_REQUEST),
    )


def decode_reading(registers: list[int], measured_at: float) -> TeltoChargeReading:
    """Decode the block 0-44 into a reading; `ImplausibleValueError` on impossible values."""
    identity = decode_identity(registers)
    voltages = tuple(float(_s16(registers[Register.VOLTAGE_L1 + i])) for i in range(3))
    currents = tuple(
        round(_s16(registers[Register.CURRENT_L1 + i]) * CURRENT_SCALE, 1) for i in range(3)
    )
    for phase, voltage in enumerate(voltages, start=1):
        _in_range(voltage, 0, _MAX_VOLTAGE_V, f"voltage L{phase}")
    for phase, current in enumerate(currents, start=1):
        _in_range(current, _MIN_CURRENT_A, _MAX_CURRENT_A, f"current L{phase}")
    temperature = round(_s16(registers[Register.TEMPERATURE]) * TEMPERATURE_SCALE, 1)
    _in_range(temperature, _MIN_TEMPERATURE_C, _MAX_TEMPERATURE_C, "temperature")
    power = registers[Register.POWER]
    _in_range(power, 0, _MAX_POWER_W, "power")
    lifetime_counts = 0
    for word in range(4):  # low word first
        lifetime_counts |= registers[Register.LIFETIME_ENERGY + word] << (16 * word)
    return TeltoChargeReading(
        voltages_v=(voltages[0], voltages[1], voltages[2]),
        currents_a=(currents[0], currents[1], currents[2]),
        evse_status=_enum(EvseStatus, registers[Register.EVSE_STATUS], Register.EVSE_STATUS),
        evse_status_time_s=_u32(
            registers[Register.EVSE_STATUS_TIME], registers[Register.EVSE_STATUS_TIME + 1]
        ),
        three_phase_possible=_flag(
            registers[Register.THREE_PHASE_POSSIBLE], Register.THREE_PHASE_POSSIBLE
        ),
        phase_change_possible=_flag(
            registers[Register.PHASE_CHANGE_POSSIBLE], Register.PHASE_CHANGE_POSSIBLE
        ),
        amp_limit_a=_charge_current(registers[Register.AMP_LIMIT], Register.AMP_LIMIT),
        phases_connected=_enum(
            PhaseSelection, registers[Register.PHASES_CONNECTED], Register.PHASES_CONNECTED
        ),
        settings=decode_settings(registers),
        authorization_required=_flag(
            registers[Register.AUTHORIZATION_REQUIRED], Register.AUTHORIZATION_REQUIRED
        ),
        identity=identity,
        charge_point_state=_enum(
            ChargePointState, registers[Register.CHARGE_POINT_STATE], Register.CHARGE_POINT_STATE
        ),
        max_power_from_grid=registers[Register.MAX_POWER_FROM_GRID],
        user_max_current_a=registers[Register.USER_MAX_CURRENT],
        locked=_flag(registers[Register.LOCK_STATUS], Register.LOCK_STATUS),
        temperature_c=temperature,
        ocpp_connected=_flag(registers[Register.OCPP_CONNECTED], Register.OCPP_CONNECTED),
        iec_state=_enum(IecState, registers[Register.IEC_STATE], Register.IEC_STATE),
        warnings=_flags(WarningFlag, registers[Register.WARNINGS], Register.WARNINGS),
        errors=_flags(ErrorFlag, registers[Register.ERRORS], Register.ERRORS),
        current_limit_cause=_enum(
            CurrentLimitCause,
            registers[Register.CURRENT_LIMIT_CAUSE],
            Register.CURRENT_LIMIT_CAUSE,
        ),
        max_supported_power=_enum(
            MaxSupportedPower,
            registers[Register.MAX_SUPPORTED_POWER],
            Register.MAX_SUPPORTED_POWER,
        ),
        power_w=power,
        session_energy_kwh=round(registers[Register.SESSION_ENERGY] * ENERGY_KWH_PER_COUNT, 3),
        session_duration_s=registers[Register.SESSION_DURATION],
        lifetime_energy_kwh=round(lifetime_counts * ENERGY_KWH_PER_COUNT, 3),
        measured_at=measured_at,
    )


# -- command validation --------------------------------------------------------------------


def validate_amps(amps: int) -> int:
    """Return `amps` if it is 0 or 6-32; otherwise raise `InvalidCommandError`."""
    if isinstance(amps, bool) or not isinstance(amps, int):
        raise InvalidCommandError(f"amps must be a whole number, got {amps!r}")
    if amps != 0 and not MIN_CHARGE_CURRENT_A <= amps <= MAX_CHARGE_CURRENT_A:
        raise InvalidCommandError(
            f"amps must be 0 (pause) or {MIN_CHARGE_CURRENT_A}-{MAX_CHARGE_CURRENT_A}, got {amps}"
        )
    return amps


def validate_watchdog(timeout_s: int) -> int:
    """Return `timeout_s` if it is 0 (off) to 600 s; otherwise raise `InvalidCommandError`."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
        raise InvalidCommandError(f"watchdog timeout must be whole seconds, got {timeout_s!r}")
    if not 0 <= timeout_s <= MAX_WATCHDOG_TIMEOUT_S:
        raise InvalidCommandError(
            f"watchdog timeout must be 0 (off) to {MAX_WATCHDOG_TIMEOUT_S} s, got {timeout_s}"
        )
    return timeout_s


def _validate_member[E: IntEnum](enum: type[E], value: E | int, what: str) -> E:
    if isinstance(value, bool):
        raise InvalidCommandError(f"{what} must be a {enum.__name__}, got {value!r}")
    try:
        return enum(value)
    except ValueError:
        raise InvalidCommandError(f"{what} must be a {enum.__name__}, got {value!r}") from None


# -- the driver ----------------------------------------------------------------------------


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
        self._clock = clock
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
        reading = decode_reading(registers, self._clock())
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
        member = _validate_member(PhaseSelection, phases, "phases")
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
        member = _validate_member(LockMode, mode, "lock mode")
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
        wanted: dict[Register, int] = {}
        if phases is not None:
            wanted[Register.PHASE_TO_USE] = int(_validate_member(PhaseSelection, phases, "phases"))
        if amps is not None:
            wanted[Register.AMPS_TO_USE] = validate_amps(amps)
        if lock_mode is not None:
            wanted[Register.LOCK_MODE] = int(_validate_member(LockMode, lock_mode, "lock mode"))
        if watchdog_timeout_s is not None:
            wanted[Register.WATCHDOG_TIMEOUT] = validate_watchdog(watchdog_timeout_s)
        if failsafe_current_a is not None:
            wanted[Register.FAILSAFE_CURRENT] = validate_amps(failsafe_current_a)
        if present is not None:
            on_device = _settings_registers(present)
            wanted = {reg: value for reg, value in wanted.items() if on_device[reg] != value}
        requests = 0
        for start, values in _runs(wanted):
            if len(values) == 1:
                await self._write_one(start, values[0])
            else:
                await self.bus.write_registers(self.unit_id, start, values)
            requests += 1
        return requests

    async def _write_one(self, register: Register, value: int) -> None:
        if WRITE_SINGLE == 6:  # noqa: PLR2004  # the function code itself
            await self.bus.write_register(self.unit_id, int(register), value)
        else:
            await self.bus.write_registers(self.unit_id, int(register), [value])


def _settings_registers(settings: TeltoChargeSettings) -> dict[Register, int]:
    """Return the raw register values behind a `TeltoChargeSettings`."""
    return {
        Register.PHASE_TO_USE: int(settings.phase_to_use),
        Register.AMPS_TO_USE: settings.amps_to_use,
        Register.STOP_START_REQUEST: int(settings.stop_start_request),
        Register.AUTHORIZE_REQUEST: int(settings.authorize_request),
        Register.LOCK_MODE: int(settings.lock_mode),
        Register.WATCHDOG_TIMEOUT: settings.watchdog_timeout_s,
        Register.FAILSAFE_CURRENT: settings.failsafe_current_a,
        Register.REBOOT_REQUEST: int(settings.reboot_request),
    }


def _runs(values: dict[Register, int]) -> list[tuple[Register, list[int]]]:
    """Group register writes into runs of adjacent addresses, lowest first."""
    runs: list[tuple[Register, list[int]]] = []
    for register in sorted(values):
        if runs and runs[-1][0] + len(runs[-1][1]) == register:
            runs[-1][1].append(values[register])
        else:
            runs.append((register, [values[register]]))
    return runs
