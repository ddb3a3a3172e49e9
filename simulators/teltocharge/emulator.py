"""The emulated TeltoCharge: a car, the charger's behaviour in real time, its Modbus face.

`TeltoChargeEmulator` is a `RegisterUnit` whose registers (`simulators.teltocharge.registers`)
are computed from the model whenever it is read, and whose writable registers drive it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulators.modbus_server import (
    ILLEGAL_ADDRESS,
    ILLEGAL_VALUE,
    READ_HOLDING,
    ModbusReply,
    RegisterUnit,
)

from .registers import (
    _PHASE_CODES,
    _PHASE_SETS,
    _POWER_CLASS_LIMIT,
    _POWER_CLASS_PHASES,
    _WRITABLE,
    AMPS_TO_USE,
    AUTHORIZE,
    ENERGY_KWH_PER_COUNT,
    EVSE_CHARGING,
    EVSE_ERROR,
    EVSE_NO_EV,
    EVSE_NOT_AUTHORIZED,
    EVSE_PAUSED,
    EVSE_PAUSED_WAS_CHARGING,
    EVSE_STOPPED_BY_EV,
    FAILSAFE,
    LOCK_MODE,
    MIN_CURRENT_A,
    PHASE_TO_USE,
    REBOOT,
    REGISTER_COUNT,
    STOP_START,
    TELTOCHARGE_ID,
    WATCHDOG,
    _valid_setting,
    charge_point_state,
    iec_state,
    limit_cause,
    lock_status,
)

if TYPE_CHECKING:
    from collections.abc import Callable


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
        values[27] = charge_point_state(self._status, stopped=self._stopped)
        values[28] = 30
        values[29] = self.amp_limit_a
        values[30] = lock_status(self.settings[LOCK_MODE], car_connected=self.car is not None)
        values[31] = round(self.temperature_c * 10) & 0xFFFF
        values[32] = 0
        values[33] = iec_state(self._status)
        values[34] = self.warning_bits & 0xFFFF
        values[35] = self.error_bits & 0xFFFF
        values[36] = limit_cause(
            watchdog_tripped=self.watchdog_tripped,
            amps_to_use=self.settings[AMPS_TO_USE],
            amp_limit_a=self.amp_limit_a,
        )
        values[37] = self.max_supported_power
        values[38] = min(round(self._power()), 0xFFFF)
        values[39] = min(session_counts, 0xFFFF)
        values[40] = min(int(now - self._session_start), 0xFFFF) if self.car is not None else 0
        for word in range(4):
            values[41 + word] = (lifetime_counts >> (16 * word)) & 0xFFFF
        return values
