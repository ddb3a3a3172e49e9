"""The register map of a TeltoCharge EVC2 in Modbus secondary mode, as the emulator serves it.

Registers 0-44 of the map in seed 002, written out here from the seed, independently of the
driver (so a driver mistake is not mirrored by the emulator): the writable registers and their
ranges, the raw state values (seed 002 tables a, b, c) and how the EVSE status maps onto the
charge point state (register 27) and the IEC 61851 state (register 33).
"""

from __future__ import annotations

from typing import Final

TELTOCHARGE_ID: Final = 21571
ENERGY_KWH_PER_COUNT: Final = 0.01
"""The emulator's reading of "*100kWh" (the same unconfirmed guess as the driver's)."""
REGISTER_COUNT: Final = 45
MIN_CURRENT_A: Final = 6

# Writable registers (seed 002).
PHASE_TO_USE: Final = 14
AMPS_TO_USE: Final = 15
STOP_START: Final = 16
AUTHORIZE: Final = 17
LOCK_MODE: Final = 18
WATCHDOG: Final = 19
FAILSAFE: Final = 20
REBOOT: Final = 21
_WRITABLE: Final = range(PHASE_TO_USE, REBOOT + 1)

# Raw state values (seed 002 tables a, b, c).
EVSE_CHARGING: Final = 0
EVSE_PAUSED_WAS_CHARGING: Final = 2
EVSE_PAUSED: Final = 3
EVSE_STOPPED_BY_EV: Final = 4
EVSE_NOT_AUTHORIZED: Final = 5
EVSE_NO_EV: Final = 7
EVSE_ERROR: Final = 8
CP_NO_EV: Final = 0
CP_AWAITING_PERMISSION: Final = 1
CP_CHARGING: Final = 3
CP_PAUSED: Final = 4
CP_COMPLETE: Final = 5
CP_STOPPED_BY_USER: Final = 6
CP_ERROR: Final = 7
IEC_A: Final = 0
IEC_B1: Final = 1
IEC_B2: Final = 2
IEC_C2: Final = 4
IEC_F: Final = 8
LIMIT_HARDWARE: Final = 0
LIMIT_EVSE_DEFAULT: Final = 5
LIMIT_LOAD_BALANCE: Final = 6

_PHASE_SETS: Final[dict[int, tuple[int, ...]]] = {
    0: (0,),
    1: (1,),
    2: (2,),
    3: (0, 1),
    4: (0, 2),
    5: (1, 2),
    6: (0, 1, 2),
    7: (),
}
"""Register 14/13 value -> phase indexes (0 = L1)."""
_PHASE_CODES: Final = {phases: code for code, phases in _PHASE_SETS.items()}
_POWER_CLASS_LIMIT: Final = {0: 32, 1: 16, 2: 32}
_POWER_CLASS_PHASES: Final = {0: 1, 1: 3, 2: 3}


def _valid_setting(register: int, value: int) -> bool:
    """Whether `value` is in the documented range of writable `register`."""
    if register in (AMPS_TO_USE, FAILSAFE):
        return value == 0 or MIN_CURRENT_A <= value <= 32
    limits = {PHASE_TO_USE: 7, STOP_START: 2, AUTHORIZE: 1, LOCK_MODE: 2, WATCHDOG: 600, REBOOT: 1}
    return 0 <= value <= limits[register]


def charge_point_state(status: int, *, stopped: bool) -> int:
    """Return register 27 (charge point state) for EVSE status `status` (register 6)."""
    if status == EVSE_ERROR:
        return CP_ERROR
    if status == EVSE_NO_EV:
        return CP_NO_EV
    if status == EVSE_NOT_AUTHORIZED:
        return CP_AWAITING_PERMISSION
    if status == EVSE_CHARGING:
        return CP_CHARGING
    if status == EVSE_STOPPED_BY_EV:
        return CP_COMPLETE
    return CP_STOPPED_BY_USER if stopped else CP_PAUSED


def iec_state(status: int) -> int:
    """Return register 33 (IEC 61851 state) for EVSE status `status` (register 6)."""
    if status == EVSE_ERROR:
        return IEC_F
    if status == EVSE_NO_EV:
        return IEC_A
    if status == EVSE_CHARGING:
        return IEC_C2
    if status == EVSE_STOPPED_BY_EV:
        return IEC_B2
    return IEC_B1


def lock_status(mode: int, *, car_connected: bool) -> int:
    """Return register 30 (1 = locked) for lock mode `mode` (register 18)."""
    if mode == 1:
        return 1
    if mode == 2:  # force unlock
        return 0
    return 1 if car_connected else 0


def limit_cause(*, watchdog_tripped: bool, amps_to_use: int, amp_limit_a: int) -> int:
    """Return register 36 (what limits the current now)."""
    if watchdog_tripped:
        return LIMIT_EVSE_DEFAULT
    if amps_to_use < amp_limit_a:
        return LIMIT_LOAD_BALANCE
    return LIMIT_HARDWARE
