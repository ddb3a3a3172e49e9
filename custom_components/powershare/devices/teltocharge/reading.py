"""Decoding the 45-register block 0-44 of a TeltoCharge into a typed, checked reading.

One block read per cycle gives everything: measurements, states, the identification, and the
present values of the writable registers 14-21 (`TeltoChargeSettings`), which the charger's own
app may change at any time. Values that cannot be true raise `ImplausibleValueError` rather than
becoming numbers: a garbled current read as zero would look like spare capacity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Final

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    UnsupportedDeviceError,
)

from .registers import (
    BLOCK_LENGTH,
    CURRENT_SCALE,
    ENERGY_KWH_PER_COUNT,
    MAX_CHARGE_CURRENT_A,
    MAX_WATCHDOG_TIMEOUT_S,
    MIN_CHARGE_CURRENT_A,
    TELTOCHARGE_ID,
    TEMPERATURE_SCALE,
    ChargePointState,
    CurrentLimitCause,
    ErrorFlag,
    EvseStatus,
    IecState,
    LockMode,
    MaxSupportedPower,
    PhaseSelection,
    Register,
    StopStartRequest,
    WarningFlag,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# Plausibility limits: readings outside them are garbage, not measurements.
_MAX_VOLTAGE_V: Final = 300
_MIN_CURRENT_A: Final = -1.0
_MAX_CURRENT_A: Final = 50.0
_MIN_TEMPERATURE_C: Final = -40.0
_MAX_TEMPERATURE_C: Final = 125.0
_MAX_POWER_W: Final = 30_000


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

    @property
    def manufacturer(self) -> str:
        """The maker."""
        return "Teltonika"

    @property
    def model_name(self) -> str:
        """The model as users know it, e.g. "TeltoCharge EVC1234"."""
        return f"TeltoCharge {self.model}"

    @property
    def firmware_version(self) -> str:
        """The firmware number as text."""
        return str(self.firmware)


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

    @property
    def car_phases(self) -> None:
        """Found from the phase currents the charger measures."""
        return None


# -- decoding -------------------------------------------------------------------------------


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
        serial=_u32(registers, Register.SERIAL),
        product_code=registers[Register.PRODUCT_CODE],
        firmware=registers[Register.FIRMWARE],
    )


def decode_settings(registers: list[int]) -> TeltoChargeSettings:
    """Decode the writable registers 14-21 out of the block 0-44."""
    watchdog = registers[Register.WATCHDOG_TIMEOUT]
    _in_range(watchdog, 0, MAX_WATCHDOG_TIMEOUT_S, "register 19 (watchdog timeout)")
    return TeltoChargeSettings(
        phase_to_use=_enum(PhaseSelection, registers, Register.PHASE_TO_USE),
        amps_to_use=_charge_current(registers, Register.AMPS_TO_USE),
        stop_start_request=_enum(StopStartRequest, registers, Register.STOP_START_REQUEST),
        authorize_request=_flag(registers, Register.AUTHORIZE_REQUEST),
        lock_mode=_enum(LockMode, registers, Register.LOCK_MODE),
        watchdog_timeout_s=watchdog,
        failsafe_current_a=_charge_current(registers, Register.FAILSAFE_CURRENT),
        reboot_request=_flag(registers, Register.REBOOT_REQUEST),
    )


def decode_reading(registers: list[int], measured_at: float) -> TeltoChargeReading:
    """Decode the block 0-44 into a reading; `ImplausibleValueError` on impossible values."""
    identity = decode_identity(registers)
    voltages, currents = _phase_values(registers)
    temperature = round(_s16(registers[Register.TEMPERATURE]) * TEMPERATURE_SCALE, 1)
    _in_range(temperature, _MIN_TEMPERATURE_C, _MAX_TEMPERATURE_C, "temperature")
    power = registers[Register.POWER]
    _in_range(power, 0, _MAX_POWER_W, "power")
    # The keyword arguments are evaluated in order: it decides which error a block with several
    # bad values raises, so keep it when adding fields.
    return TeltoChargeReading(
        voltages_v=voltages,
        currents_a=currents,
        evse_status=_enum(EvseStatus, registers, Register.EVSE_STATUS),
        evse_status_time_s=_u32(registers, Register.EVSE_STATUS_TIME),
        three_phase_possible=_flag(registers, Register.THREE_PHASE_POSSIBLE),
        phase_change_possible=_flag(registers, Register.PHASE_CHANGE_POSSIBLE),
        amp_limit_a=_charge_current(registers, Register.AMP_LIMIT),
        phases_connected=_enum(PhaseSelection, registers, Register.PHASES_CONNECTED),
        settings=decode_settings(registers),
        authorization_required=_flag(registers, Register.AUTHORIZATION_REQUIRED),
        identity=identity,
        charge_point_state=_enum(ChargePointState, registers, Register.CHARGE_POINT_STATE),
        max_power_from_grid=registers[Register.MAX_POWER_FROM_GRID],
        user_max_current_a=registers[Register.USER_MAX_CURRENT],
        locked=_flag(registers, Register.LOCK_STATUS),
        temperature_c=temperature,
        ocpp_connected=_flag(registers, Register.OCPP_CONNECTED),
        iec_state=_enum(IecState, registers, Register.IEC_STATE),
        warnings=_flags(WarningFlag, registers, Register.WARNINGS),
        errors=_flags(ErrorFlag, registers, Register.ERRORS),
        current_limit_cause=_enum(CurrentLimitCause, registers, Register.CURRENT_LIMIT_CAUSE),
        max_supported_power=_enum(MaxSupportedPower, registers, Register.MAX_SUPPORTED_POWER),
        power_w=power,
        session_energy_kwh=round(registers[Register.SESSION_ENERGY] * ENERGY_KWH_PER_COUNT, 3),
        session_duration_s=registers[Register.SESSION_DURATION],
        lifetime_energy_kwh=round(
            _u64(registers, Register.LIFETIME_ENERGY) * ENERGY_KWH_PER_COUNT, 3
        ),
        measured_at=measured_at,
    )


# -- one value each: raw words to checked values ----------------------------------------------


def _phase_values(
    registers: Sequence[int],
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Return the voltages (V) and currents (A) of L1-L3, each checked for plausibility."""
    v1, v2, v3 = (float(_s16(registers[Register.VOLTAGE_L1 + i])) for i in range(3))
    a1, a2, a3 = (
        round(_s16(registers[Register.CURRENT_L1 + i]) * CURRENT_SCALE, 1) for i in range(3)
    )
    for phase, voltage in enumerate((v1, v2, v3), start=1):
        _in_range(voltage, 0, _MAX_VOLTAGE_V, f"voltage L{phase}")
    for phase, current in enumerate((a1, a2, a3), start=1):
        _in_range(current, _MIN_CURRENT_A, _MAX_CURRENT_A, f"current L{phase}")
    return (v1, v2, v3), (a1, a2, a3)


def _u32(registers: Sequence[int], register: Register) -> int:
    """Return the 32-bit value in `register` and the next one, low word first."""
    return registers[register] | (registers[register + 1] << 16)


def _u64(registers: Sequence[int], register: Register) -> int:
    """Return the 64-bit value in `register` and the three next ones, low word first."""
    value = 0
    for word in range(4):
        value |= registers[register + word] << (16 * word)
    return value


def _s16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def _enum[E: IntEnum](enum: type[E], registers: Sequence[int], register: Register) -> E:
    raw = registers[register]
    try:
        return enum(raw)
    except ValueError:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw}, not a {enum.__name__}"
        ) from None


def _flags[F: IntFlag](flags: type[F], registers: Sequence[int], register: Register) -> F:
    raw = registers[register]
    known = 0
    for member in flags:
        known |= int(member)
    if raw & ~known:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) has undefined bits: {raw:#06x}"
        )
    return flags(raw)


def _flag(registers: Sequence[int], register: Register) -> bool:
    raw = registers[register]
    if raw not in (0, 1):
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw}, not 0 or 1"
        )
    return raw == 1


def _in_range(value: float, low: float, high: float, what: str) -> None:
    if math.isnan(value) or not low <= value <= high:
        raise ImplausibleValueError(f"{what} is {value}, outside {low}-{high}")


def _charge_current(registers: Sequence[int], register: Register) -> int:
    """Return a current register's value, which must be 0 (none) or 6-32 A."""
    raw = registers[register]
    if raw != 0 and not MIN_CHARGE_CURRENT_A <= raw <= MAX_CHARGE_CURRENT_A:
        raise ImplausibleValueError(
            f"register {int(register)} ({register.name.lower()}) holds {raw} A, not 0 or 6-32"
        )
    return raw
