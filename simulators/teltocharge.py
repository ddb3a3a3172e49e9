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
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .modbus_server import ILLEGAL_ADDRESS, ILLEGAL_VALUE, READ_HOLDING, ModbusReply, RegisterUnit

if TYPE_CHECKING:
    from collections.abc import Callable

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


@dataclass(slots=True)
class EmulatedCar:
    """A car plugged into the emulator; change its fields at any time."""

    phases: int = 3
    """How many of the offered phases the car draws on (1-3)."""
    max_current_a: float = 16.0
    """The most the car accepts per phase."""
    ramp_s: float = 2.0
    """Seconds to move from one current to the next (0 = at once)."""
    wants_charge: bool = True
    """False once the battery is full: the car stops drawing (EVSE status D1)."""


class TeltoChargeEmulator(RegisterUnit):
    """An emulated TeltoCharge; serve it with `EmulatorServer` under any unit id."""

    def __init__(
        self,
        *,
        serial: int = 123_456_789,
        product_code: int = 1234,
        firmware: int = 12_000,
        max_supported_power: int = 2,
        voltage_v: float = 230.0,
        amps_to_use: int = 16,
        watchdog_s: int = 30,
        failsafe_a: int = 6,
        requires_authorization: bool = False,
        lifetime_energy_kwh: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._clock = clock
        now = clock()
        self.serial = serial
        self.product_code = product_code
        self.firmware = firmware
        self.max_supported_power = max_supported_power
        self.amp_limit_a = _POWER_CLASS_LIMIT[max_supported_power]
        self.three_phase = _POWER_CLASS_PHASES[max_supported_power] == 3
        self.voltages_v = [voltage_v] * 3 if self.three_phase else [voltage_v, 0.0, 0.0]
        self.temperature_c = 25.0
        self.requires_authorization = requires_authorization
        self.error_bits = 0
        """Register 35; any bit set puts the EVSE in its error state."""
        self.warning_bits = 0
        """Register 34."""
        self.car: EmulatedCar | None = None
        self.settings: dict[int, int] = {
            PHASE_TO_USE: 6 if self.three_phase else 0,
            AMPS_TO_USE: amps_to_use,
            STOP_START: 0,
            AUTHORIZE: 0,
            LOCK_MODE: 0,
            WATCHDOG: watchdog_s,
            FAILSAFE: failsafe_a,
            REBOOT: 0,
        }
        self.reboots = 0
        self._stopped = False
        self._last_contact = now
        self._updated_at = now
        self._currents = [0.0, 0.0, 0.0]
        self._ramp_from = [0.0, 0.0, 0.0]
        self._ramp_to = [0.0, 0.0, 0.0]
        self._ramp_start = now
        self._was_charging = False
        self._status = EVSE_NO_EV
        self._status_since = now
        self._session_wh = 0.0
        self._session_start = now
        self._lifetime_wh = lifetime_energy_kwh * 1000.0
        self._fc4_only = False

    # -- control from a test -----------------------------------------------------------------

    def plug_in(self, car: EmulatedCar | None = None) -> EmulatedCar:
        """Connect a car (a default one if none is given); a new session starts."""
        self.update()
        self.car = car or EmulatedCar()
        self._session_wh = 0.0
        self._session_start = self._clock()
        self.update()
        return self.car

    def unplug(self) -> None:
        """Disconnect the car: state A; stop/start, authorisation and forced unlock reset."""
        self.update()
        self.car = None
        self._stopped = False
        self.settings[STOP_START] = 0
        self.settings[AUTHORIZE] = 0
        if self.settings[LOCK_MODE] == 2:  # force unlock resets on state A
            self.settings[LOCK_MODE] = 0
        self.update()

    def serve_fc4_only(self, *, enabled: bool = True) -> None:
        """Answer FC3 with "illegal function" and serve the map on FC4 only."""
        self._fc4_only = enabled
        if enabled:
            self.faults.refused_functions.add(READ_HOLDING)
        else:
            self.faults.refused_functions.discard(READ_HOLDING)

    def silence_for_watchdog(self, seconds: float) -> None:
        """Pretend the primary was last heard `seconds` ago (to trip the watchdog quickly)."""
        self.update()
        self._last_contact = self._clock() - seconds
        self.update()

    # -- what a test can observe ---------------------------------------------------------------

    @property
    def watchdog_tripped(self) -> bool:
        """Whether the primary has been silent longer than register 19."""
        timeout = self.settings[WATCHDOG]
        return timeout > 0 and self._clock() - self._last_contact > timeout

    @property
    def offered_current_a(self) -> int:
        """What the charger offers the car now (the PWM duty, in amps)."""
        if self.error_bits or self._stopped or not self._authorized:
            return 0
        limit = self.settings[AMPS_TO_USE]
        if self.watchdog_tripped:
            limit = self.settings[FAILSAFE]
        limit = min(limit, self.amp_limit_a)
        return limit if limit >= MIN_CURRENT_A else 0

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """The current drawn on L1, L2, L3 now."""
        self.update()
        return (self._currents[0], self._currents[1], self._currents[2])

    @property
    def power_w(self) -> float:
        """Active power drawn now."""
        self.update()
        return self._power()

    @property
    def session_energy_kwh(self) -> float:
        """Energy delivered in this session."""
        self.update()
        return self._session_wh / 1000.0

    @property
    def lifetime_energy_kwh(self) -> float:
        """Energy delivered in the charger's life."""
        self.update()
        return self._lifetime_wh / 1000.0

    @property
    def evse_status(self) -> int:
        """Register 6 as it is now."""
        self.update()
        return self._status

    def registers(self) -> list[int]:
        """Return registers 0-44 as the charger would serve them now."""
        self.update()
        return self._register_values()

    # -- RegisterUnit hooks --------------------------------------------------------------------

    def before_read(self, function: int, address: int, count: int) -> None:  # noqa: ARG002
        """Refresh both tables from the model; the primary was heard."""
        self._heard()
        values = dict(enumerate(self._register_values()))
        self.input = values
        self.holding = {} if self._fc4_only else dict(values)

    def check_write(self, address: int, values: list[int]) -> None:
        """Only registers 14-21 are writable, each within its documented range."""
        self._heard()
        for offset, value in enumerate(values):
            register = address + offset
            if register not in _WRITABLE:
                raise ModbusReply(ILLEGAL_ADDRESS)
            if not _valid_setting(register, value):
                raise ModbusReply(ILLEGAL_VALUE)

    def on_write(self, address: int, values: list[int]) -> None:
        """Apply a write to the behaviour model."""
        self.update()
        for offset, value in enumerate(values):
            register = address + offset
            self.settings[register] = value
            if register == STOP_START and value == 1:
                self._stopped = True
            elif register == STOP_START and value == 2:
                self._stopped = False
            elif register == REBOOT and value == 1:
                self._reboot()
        self.update()

    # -- the model -------------------------------------------------------------------------

    @property
    def _authorized(self) -> bool:
        return not self.requires_authorization or self.settings[AUTHORIZE] == 1

    def _heard(self) -> None:
        self.update()
        self._last_contact = self._clock()
        self.update()

    def _reboot(self) -> None:
        self.reboots += 1
        self._stopped = False
        self.settings[STOP_START] = 0
        self.settings[AUTHORIZE] = 0
        self.settings[REBOOT] = 0
        self._session_wh = 0.0
        self._session_start = self._clock()

    def _target_currents(self) -> list[float]:
        car = self.car
        targets = [0.0, 0.0, 0.0]
        if car is None or not car.wants_charge:
            return targets
        offered = self.offered_current_a
        if offered < MIN_CURRENT_A:
            return targets
        phases = _PHASE_SETS[self.settings[PHASE_TO_USE]]
        if not self.three_phase:
            phases = phases[:1]
        draw = min(float(offered), car.max_current_a)
        for phase in phases[: max(car.phases, 0)]:
            targets[phase] = draw
        return targets

    def _currents_at(self, now: float) -> list[float]:
        ramp_s = self.car.ramp_s if self.car is not None else 0.0
        if ramp_s <= 0 or now - self._ramp_start >= ramp_s:
            return list(self._ramp_to)
        share = (now - self._ramp_start) / ramp_s
        return [a + (b - a) * share for a, b in zip(self._ramp_from, self._ramp_to, strict=True)]

    def _power(self) -> float:
        return sum(v * i for v, i in zip(self.voltages_v, self._currents, strict=True))

    def update(self) -> None:
        """Advance the model to now (called by every read, write and observation)."""
        now = self._clock()
        elapsed = max(now - self._updated_at, 0.0)
        power_before = self._power()
        self._currents = self._currents_at(now)
        targets = self._target_currents()
        if targets != self._ramp_to:
            self._ramp_from = list(self._currents)
            self._ramp_to = targets
            self._ramp_start = now
            if self.car is None or self.car.ramp_s <= 0:
                self._currents = list(targets)
        # Trapezoid: the current moves linearly between updates while ramping.
        energy_wh = (power_before + self._power()) / 2 * elapsed / 3600.0
        self._session_wh += energy_wh
        self._lifetime_wh += energy_wh
        self._updated_at = now
        status = self._evse_status()
        if status != self._status:
            self._status = status
            self._status_since = now
        if status == EVSE_CHARGING:
            self._was_charging = True
        elif self.car is None:
            self._was_charging = False

    def _evse_status(self) -> int:
        car = self.car
        if self.error_bits:
            return EVSE_ERROR
        if car is None:
            return EVSE_NO_EV
        if not self._authorized:
            return EVSE_NOT_AUTHORIZED
        if any(current > 0 for current in self._ramp_to):
            return EVSE_CHARGING
        if not car.wants_charge:
            return EVSE_STOPPED_BY_EV
        return EVSE_PAUSED_WAS_CHARGING if self._was_charging else EVSE_PAUSED

    def _charge_point_state(self) -> int:
        if self._status == EVSE_ERROR:
            return CP_ERROR
        if self._status == EVSE_NO_EV:
            return CP_NO_EV
        if self._status == EVSE_NOT_AUTHORIZED:
            return CP_AWAITING_PERMISSION
        if self._status == EVSE_CHARGING:
            return CP_CHARGING
        if self._status == EVSE_STOPPED_BY_EV:
            return CP_COMPLETE
        return CP_STOPPED_BY_USER if self._stopped else CP_PAUSED

    def _iec_state(self) -> int:
        if self._status == EVSE_ERROR:
            return IEC_F
        if self._status == EVSE_NO_EV:
            return IEC_A
        if self._status == EVSE_CHARGING:
            return IEC_C2
        if self._status == EVSE_STOPPED_BY_EV:
            return IEC_B2
        return IEC_B1

    def _limit_cause(self) -> int:
        if self.watchdog_tripped:
            return LIMIT_EVSE_DEFAULT
        if self.settings[AMPS_TO_USE] < self.amp_limit_a:
            return LIMIT_LOAD_BALANCE
        return LIMIT_HARDWARE

    def _locked(self) -> int:
        mode = self.settings[LOCK_MODE]
        if mode == 1:
            return 1
        if mode == 2:  # force unlock
            return 0
        return 1 if self.car is not None else 0

    def _register_values(self) -> list[int]:
        now = self._clock()
        drawn = tuple(i for i, current in enumerate(self._currents) if current > 0)
        status_time = int(now - self._status_since)
        session_counts = round(self._session_wh / 1000.0 / ENERGY_KWH_PER_COUNT)
        lifetime_counts = round(self._lifetime_wh / 1000.0 / ENERGY_KWH_PER_COUNT)
        values = [0] * REGISTER_COUNT
        for phase in range(3):
            values[phase] = round(self.voltages_v[phase]) & 0xFFFF
            values[3 + phase] = round(self._currents[phase] * 10) & 0xFFFF
        values[6] = self._status
        values[7] = status_time & 0xFFFF
        values[8] = (status_time >> 16) & 0xFFFF
        values[9] = TELTOCHARGE_ID
        values[10] = int(self.three_phase)
        values[11] = int(self.three_phase)
        values[12] = self.amp_limit_a
        values[13] = _PHASE_CODES.get(drawn, 7)
        for register in _WRITABLE:
            values[register] = self.settings[register]
        values[22] = int(self.requires_authorization)
        values[23] = self.product_code
        values[24] = self.serial & 0xFFFF
        values[25] = (self.serial >> 16) & 0xFFFF
        values[26] = self.firmware
        values[27] = self._charge_point_state()
        values[28] = 30
        values[29] = self.amp_limit_a
        values[30] = self._locked()
        values[31] = round(self.temperature_c * 10) & 0xFFFF
        values[32] = 0
        values[33] = self._iec_state()
        values[34] = self.warning_bits & 0xFFFF
        values[35] = self.error_bits & 0xFFFF
        values[36] = self._limit_cause()
        values[37] = self.max_supported_power
        values[38] = min(round(self._power()), 0xFFFF)
        values[39] = min(session_counts, 0xFFFF)
        values[40] = min(int(now - self._session_start), 0xFFFF) if self.car is not None else 0
        for word in range(4):
            values[41 + word] = (lifetime_counts >> (16 * word)) & 0xFFFF
        return values


def _valid_setting(register: int, value: int) -> bool:
    """Whether `value` is in the documented range of writable `register`."""
    if register in (AMPS_TO_USE, FAILSAFE):
        return value == 0 or MIN_CURRENT_A <= value <= 32
    limits = {PHASE_TO_USE: 7, STOP_START: 2, AUTHORIZE: 1, LOCK_MODE: 2, WATCHDOG: 600, REBOOT: 1}
    return 0 <= value <= limits[register]
