"""A TeltoCharge EVC2 in Modbus secondary mode, with a car, for tests, the demo and benchmarks.

Serves registers 0-44 of the map in seed 002 (written out here from the seed, independently of
the driver, so a driver mistake is not mirrored by the emulator). Behaviour, evaluated in real
time whenever the emulator is read or asked (no background task needed):

- a car (`EmulatedCar`: connected, how many phases it draws on, the most it accepts, its ramp
  time) draws min(offered, accepted) on its phases, reaching it linearly over `ramp_s`;
- the offered current is register 15 (amps to use), capped by the charger's limit (register
  12), 0 while stopped (register 16) or without authorisation when it is required (17, 22),
  and the failsafe current (register 20) once the primary has been silent longer than the
  watchdog (register 19, 0 = off);
- EVSE status (6), charge point state (27) and IEC state (33) follow; energy counters (39,
  41-44, in `ENERGY_KWH_PER_COUNT` units) and the session duration (40) advance;
- phase to use (14) picks the phases the car's current flows on; lock mode (18) drives the lock
  status (30); reboot (21) resets the session;
- faults come from `RegisterUnit.faults` (delay, exception code, refused function codes,
  garbage values); `serve_fc4_only()` makes it answer FC3 with "illegal function".

Typical use::

    charger = TeltoChargeEmulator(serial=1001)
    server = EmulatorServer({3: charger})
    await server.start_tcp(port)
    charger.plug_in(EmulatedCar(phases=1, max_current_a=16))

The package: `registers` (the register map and its raw values) and `emulator` (the car and
the charger); every public name is re-exported here.
"""

from .emulator import EmulatedCar, TeltoChargeEmulator
from .registers import (
    AMPS_TO_USE,
    AUTHORIZE,
    CP_AWAITING_PERMISSION,
    CP_CHARGING,
    CP_COMPLETE,
    CP_ERROR,
    CP_NO_EV,
    CP_PAUSED,
    CP_STOPPED_BY_USER,
    ENERGY_KWH_PER_COUNT,
    EVSE_CHARGING,
    EVSE_ERROR,
    EVSE_NO_EV,
    EVSE_NOT_AUTHORIZED,
    EVSE_PAUSED,
    EVSE_PAUSED_WAS_CHARGING,
    EVSE_STOPPED_BY_EV,
    FAILSAFE,
    IEC_A,
    IEC_B1,
    IEC_B2,
    IEC_C2,
    IEC_F,
    LIMIT_EVSE_DEFAULT,
    LIMIT_HARDWARE,
    LIMIT_LOAD_BALANCE,
    LOCK_MODE,
    MIN_CURRENT_A,
    PHASE_TO_USE,
    REBOOT,
    REGISTER_COUNT,
    STOP_START,
    TELTOCHARGE_ID,
    WATCHDOG,
)

__all__ = [
    "AMPS_TO_USE",
    "AUTHORIZE",
    "CP_AWAITING_PERMISSION",
    "CP_CHARGING",
    "CP_COMPLETE",
    "CP_ERROR",
    "CP_NO_EV",
    "CP_PAUSED",
    "CP_STOPPED_BY_USER",
    "ENERGY_KWH_PER_COUNT",
    "EVSE_CHARGING",
    "EVSE_ERROR",
    "EVSE_NOT_AUTHORIZED",
    "EVSE_NO_EV",
    "EVSE_PAUSED",
    "EVSE_PAUSED_WAS_CHARGING",
    "EVSE_STOPPED_BY_EV",
    "FAILSAFE",
    "IEC_A",
    "IEC_B1",
    "IEC_B2",
    "IEC_C2",
    "IEC_F",
    "LIMIT_EVSE_DEFAULT",
    "LIMIT_HARDWARE",
    "LIMIT_LOAD_BALANCE",
    "LOCK_MODE",
    "MIN_CURRENT_A",
    "PHASE_TO_USE",
    "REBOOT",
    "REGISTER_COUNT",
    "STOP_START",
    "TELTOCHARGE_ID",
    "WATCHDOG",
    "EmulatedCar",
    "TeltoChargeEmulator",
]
