"""The TeltoCharge (EVC2) secondary-mode register map: addresses, scales, limits and code tables.

Everything here comes from Teltonika's map (seed 002 in protocols.md); the letters (a)-(f) in the
docstrings are the map's tables. Undocumented points are constants, easy to correct ([U] in
protocols.md): `WRITE_SINGLE`, the function code for single-register writes, and
`ENERGY_KWH_PER_COUNT`, the energy scale (the map says "*100kWh").

Multi-word values are low word first (registers 7-8, 24-25, 41-44).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final

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
