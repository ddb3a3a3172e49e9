"""Teltonika TeltoCharge (EVC2) driven as a Modbus secondary (register map: seed 002).

One block read of registers 0-44 per cycle gives everything: measurements, states, the
identification, and the present values of the writable registers (14-21), which the charger's
own app may change at any time; the caller compares them with what Powershare wants and calls
`TeltoCharge.apply` to write only what differs.

The modules, from the map up:

- `registers`: the register map, scales, limits and the map's code tables (enums and flags);
- `reading`: decoding the block 0-44 into a checked `TeltoChargeReading`;
- `commands`: validating commands and planning the fewest writes;
- `driver`: `TeltoCharge`, which reads and writes one charger on a shared `ModbusBus`.

Undocumented points are constants in `registers`, easy to correct ([U] in protocols.md).
Import from this package, not from its modules: the modules are its layout, not its interface.
"""

from __future__ import annotations

from .commands import settings_after, validate_amps, validate_watchdog
from .control import (
    TELTOCHARGE_CAPABILITIES,
    WATCHDOG_FEED_S,
    WATCHDOG_TIMEOUT_S,
    TeltoChargeControl,
)
from .driver import TeltoCharge
from .reading import (
    TeltoChargeIdentity,
    TeltoChargeReading,
    TeltoChargeSettings,
    decode_identity,
    decode_reading,
    decode_settings,
)
from .registers import (
    BLOCK_LENGTH,
    BLOCK_START,
    CURRENT_SCALE,
    DEFAULT_FAILSAFE_CURRENT_A,
    DEFAULT_WATCHDOG_TIMEOUT_S,
    ENERGY_KWH_PER_COUNT,
    MAX_CHARGE_CURRENT_A,
    MAX_WATCHDOG_TIMEOUT_S,
    MIN_CHARGE_CURRENT_A,
    TELTOCHARGE_ID,
    TEMPERATURE_SCALE,
    WRITE_SINGLE,
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

__all__ = [
    "BLOCK_LENGTH",
    "BLOCK_START",
    "CURRENT_SCALE",
    "DEFAULT_FAILSAFE_CURRENT_A",
    "DEFAULT_WATCHDOG_TIMEOUT_S",
    "ENERGY_KWH_PER_COUNT",
    "MAX_CHARGE_CURRENT_A",
    "MAX_WATCHDOG_TIMEOUT_S",
    "MIN_CHARGE_CURRENT_A",
    "TELTOCHARGE_CAPABILITIES",
    "TELTOCHARGE_ID",
    "TEMPERATURE_SCALE",
    "WATCHDOG_FEED_S",
    "WATCHDOG_TIMEOUT_S",
    "WRITE_SINGLE",
    "ChargePointState",
    "CurrentLimitCause",
    "ErrorFlag",
    "EvseStatus",
    "IecState",
    "LockMode",
    "MaxSupportedPower",
    "PhaseSelection",
    "Register",
    "StopStartRequest",
    "TeltoCharge",
    "TeltoChargeControl",
    "TeltoChargeIdentity",
    "TeltoChargeReading",
    "TeltoChargeSettings",
    "WarningFlag",
    "decode_identity",
    "decode_reading",
    "decode_settings",
    "settings_after",
    "validate_amps",
    "validate_watchdog",
]
