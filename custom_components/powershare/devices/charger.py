"""The charger interface: what the balancing service asks of every kind of charger.

Each kind (the TeltoCharge over Modbus, the V2C Trydan over HTTP, a charger driven through
another integration's Home Assistant entities) implements `ChargerControl` and declares its
`ChargerCapabilities`; the engine and the service read the capabilities, never the kind:

- `watchdog`: the charger falls back to a failsafe current that Powershare sets when Powershare
  stops talking to it. Without one, the charger keeps its last limit if Home Assistant stops:
  the service writes the failsafe current when the entry unloads and says where a crash could
  overload a fuse.
- `response_s`: how soon a new current shows in the charger's draw (the car's 5 s included).
- `min_write_interval_s`: the shortest interval between writes the charger tolerates (cloud
  services rate-limit): increases wait for it, a decrease that protects a fuse never does.
- the current range and step it takes, whether it pauses (0 A or a pause switch), whether it
  switches between one and three phases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

NOMINAL_VOLTAGE_V = 230.0
"""Phase to neutral, where a charger gives a power and no voltage."""
DEFAULT_RESPONSE_S = 5.0
"""IEC 61851-1 gives the car 5 s to follow a lower pilot current."""


@dataclass(frozen=True, slots=True)
class ChargerCapabilities:
    """What a kind of charger can do, and how fast (see the module docstring)."""

    watchdog: bool
    phase_switching: bool
    pause: bool = True
    min_current_a: int = 6
    max_current_a: int = 32
    step_a: int = 1
    response_s: float = DEFAULT_RESPONSE_S
    min_write_interval_s: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a range or timing that cannot be real."""
        if not 0 < self.min_current_a <= self.max_current_a:
            raise ValueError(f"current range {self.min_current_a}-{self.max_current_a} A")
        if self.step_a < 1 or self.response_s < 0 or self.min_write_interval_s < 0:
            raise ValueError("step, response time and write interval must be positive")

    def settable(self, amps: int) -> int:
        """Return the current the charger can take at or below `amps` (0 below its minimum)."""
        if amps < self.min_current_a:
            return 0
        amps = min(amps, self.max_current_a)
        return amps - (amps - self.min_current_a) % self.step_a


class ChargerReading(Protocol):
    """What the balancing service reads from any charger (each kind's reading has more)."""

    @property
    def measured_at(self) -> float:
        """When the charger was read, on its driver's clock (seconds)."""

    @property
    def ev_connected(self) -> bool:
        """Whether a car is plugged in."""

    @property
    def charging(self) -> bool:
        """Whether the car is charging."""

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """What the car draws on the charger's L1, L2, L3."""

    @property
    def amp_limit_a(self) -> int:
        """The charger's own limit (cable, connector, installer setting); 0 when unknown."""

    @property
    def phase_change_possible(self) -> bool:
        """Whether the charger can switch phases now."""

    @property
    def session_energy_kwh(self) -> float | None:
        """The energy of the current session, where the charger knows it."""

    @property
    def lifetime_energy_kwh(self) -> float | None:
        """The charger's total energy, where it knows it."""

    @property
    def car_phases(self) -> frozenset[int] | None:
        """The charger phases (0-2) the car is to be counted on; None: found from the currents.

        A charger that knows only its power cannot tell a one-phase car from a three-phase
        one: it says all its wired phases, and reports in `currents_a` what the car draws at
        least on each (`power_lower_bound`).
        """


def power_lower_bound(
    power_w: float, voltage_v: float, wired_phases: int
) -> tuple[float, float, float]:
    """Return, from a charger's power alone, a current no phase can be below.

    A three-phase car draws P / 3U on each phase, a one-phase car P / U on the charger's L1
    (where type 2 chargers feed single-phase cars): L1 carries at least P / (U x phases), the
    others nothing for sure. A meter that includes the charger has only that subtracted, so
    the house is never underestimated on any phase.
    """
    return (max(power_w, 0.0) / (voltage_v * wired_phases), 0.0, 0.0)


class ChargerIdentity(Protocol):
    """Who a charger is, for its device in Home Assistant and its entities' unique ids."""

    @property
    def unique_id(self) -> str:
        """Stable across restarts and reconnections (a serial number, a device id)."""

    @property
    def manufacturer(self) -> str:
        """The maker."""

    @property
    def model_name(self) -> str:
        """The model, as users know it."""

    @property
    def firmware_version(self) -> str | None:
        """The firmware, when the charger tells."""


@dataclass(frozen=True, slots=True)
class ChargeCommand:
    """What Powershare wants of a charger this cycle.

    `amps` 0 pauses. `phases` are the charger phases to use (0, 1, 2 for its L1, L2, L3; one or
    all three), None to leave them. `failsafe_a` is the current a charger with a watchdog falls
    back to when Powershare goes silent, and what one without is set to when Powershare unloads.
    """

    amps: int
    phases: tuple[int, ...] | None = None
    failsafe_a: int = 0


class ChargerControl(Protocol):
    """One charger, as the balancing service drives it."""

    @property
    def capabilities(self) -> ChargerCapabilities:
        """What this charger can do (see `ChargerCapabilities`)."""

    @property
    def overwritten(self) -> bool:
        """Whether something else keeps changing the limit and Powershare stopped fighting it."""

    @property
    def latest(self) -> ChargerReading | None:
        """The last reading `read` returned (None before the first)."""

    def clock(self) -> float:
        """Return the time on the clock of `ChargerReading.measured_at`."""

    async def identify(self) -> ChargerIdentity:
        """Check that the device is the kind expected and say who it is."""

    async def read(self) -> ChargerReading:
        """Read the charger (raises a `PowershareDeviceError` when it cannot)."""

    async def command(self, command: ChargeCommand, now: float) -> int:
        """Make the charger do `command`: write what differs; return the number of writes.

        `now` is the service's clock (for the watchdog feed and the write interval). A failed
        write raises and leaves nothing assumed: the next command writes everything again.
        """

    async def release(self, failsafe_a: int) -> None:
        """Powershare lets go (the entry unloads): leave the charger safe on its own."""
