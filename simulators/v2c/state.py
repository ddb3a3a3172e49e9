"""What an emulated V2C Trydan and the car behind it do: setpoint, pause, lock, dynamic mode.

The car follows a new `Intensity` only after `response_delay_s` (a real car takes up to 5 s,
IEC 61851-1), draws at most `car_max_current_a`, and only while plugged in, wanting to charge,
not paused and not locked. Time comes from an injected clock, so a test moves it by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

NOMINAL_VOLTAGE_V = 230.0
WRITABLE_FLAGS = ("Paused", "Locked", "Dynamic", "PauseDynamic")


def firmware_tuple(firmware: str) -> tuple[int, ...]:
    """Return "2.5.0" as (2, 5, 0); parts that are not numbers count as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in firmware.split("."))


@dataclass(slots=True)
class TrydanState:
    """Settings and car of one emulated Trydan; tests change any field at any time."""

    clock: Callable[[], float] = time.monotonic
    firmware: str = "2.5.0"
    device_id: str = "EMU123"
    phases: int = 1
    """1 or 3: the phases the car draws on (the installation's wiring)."""
    voltage_v: float = NOMINAL_VOLTAGE_V
    intensity_a: int = 16
    min_intensity_a: int = 6
    max_intensity_a: int = 16
    paused: bool = False
    locked: bool = False
    dynamic: bool = False
    pause_dynamic: bool = False
    dynamic_intensity_a: int | None = None
    """While `Dynamic` is on and `PauseDynamic` off, the charger's own control sets `Intensity`
    to this on every request (the fight with an external controller); None leaves it alone."""
    plugged_in: bool = False
    car_wants_charge: bool = True
    car_max_current_a: float = 32.0
    response_delay_s: float = 2.0
    paused_keeps_charging_state: bool | None = None
    """Keep `ChargeState` 2 while paused, as evcc reports of firmware 2.5.0; None decides by
    the firmware version."""
    energy_kwh: float = 0.0
    session_start: float | None = None
    _steps: list[tuple[float, int]] = field(default_factory=list)
    """(time it takes effect, setpoint) in order: what the car follows."""
    _last_update: float | None = None

    @property
    def has_phase_measurements(self) -> bool:
        """Whether this firmware sends `IntensityMeasure_L1..3` (2.5.0 and later)."""
        return firmware_tuple(self.firmware) >= (2, 5, 0)

    def plug_in(self) -> None:
        """Plug the car in: a new session starts."""
        self.update()
        self.plugged_in = True
        self.session_start = self.clock()
        self.energy_kwh = 0.0
        self._steps = [(self.clock(), self.intensity_a)]

    def unplug(self) -> None:
        """Unplug the car: the session ends."""
        self.update()
        self.plugged_in = False
        self.session_start = None

    def set_intensity(self, amps: int) -> None:
        """Change the setpoint; a drawing car follows after `response_delay_s`.

        A car that draws nothing (paused, locked, below the minimum) has no current to
        follow from: when it starts, it starts at the pilot's current, the setpoint then.
        """
        self.update()
        if not self.drawing:
            self.intensity_a = amps
            self._steps = [(self.clock(), amps)]
            return
        self.followed_setpoint_a()  # the car keeps what it follows until the delay is over
        self.intensity_a = amps
        self._steps.append((self.clock() + self.response_delay_s, amps))

    def set_locked(self, locked: bool) -> None:  # noqa: FBT001
        """Lock or unlock; locking resets the session's energy and time."""
        self.update()
        self.locked = locked
        if locked:
            self.energy_kwh = 0.0
            self.session_start = self.clock() if self.plugged_in else None

    @property
    def drawing(self) -> bool:
        """Whether the car may draw current now."""
        return (
            self.plugged_in
            and self.car_wants_charge
            and not self.paused
            and not self.locked
            and self.intensity_a >= self.min_intensity_a
        )

    def followed_setpoint_a(self) -> int:
        """Return the setpoint the car has taken up by now."""
        now = self.clock()
        followed = self.intensity_a if not self._steps else self._steps[0][1]
        for since, amps in self._steps:
            if since <= now:
                followed = amps
        self._steps = [step for step in self._steps if step[0] > now] + [(now, followed)]
        self._steps.sort(key=lambda step: step[0])
        return followed

    def car_current_a(self) -> float:
        """Return what the car draws on each of its phases now."""
        if not self.drawing:
            return 0.0
        return min(float(self.followed_setpoint_a()), self.car_max_current_a)

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """What the car draws on the charger's L1, L2, L3 now (on its first `phases`)."""
        amps = self.car_current_a()
        on = [amps if phase < self.phases else 0.0 for phase in range(3)]
        return (on[0], on[1], on[2])

    def power_w(self) -> float:
        """ChargePower: current x voltage x phases."""
        return self.car_current_a() * self.voltage_v * self.phases

    def charge_state(self) -> int:
        """`ChargeState`: 0 no car, 1 connected, 2 charging."""
        if not self.plugged_in:
            return 0
        keep = self.paused_keeps_charging_state
        if keep is None:
            keep = self.has_phase_measurements
        if self.paused and keep and self.car_wants_charge and not self.locked:
            return 2
        return 2 if self.car_current_a() > 0 else 1

    def charge_time_s(self) -> int:
        """Seconds since the session started (0 without a car)."""
        if self.session_start is None:
            return 0
        return int(self.clock() - self.session_start)

    def update(self) -> None:
        """Integrate the power into the session energy and apply the charger's own control."""
        now = self.clock()
        if self._last_update is not None and now > self._last_update:
            self.energy_kwh += self.power_w() * (now - self._last_update) / 3_600_000
        self._last_update = now
        target = self.dynamic_intensity_a
        if self.dynamic and not self.pause_dynamic and target not in {None, self.intensity_a}:
            self.followed_setpoint_a()
            self.intensity_a = int(target or 0)
            self._steps.append((now + self.response_delay_s, self.intensity_a))
