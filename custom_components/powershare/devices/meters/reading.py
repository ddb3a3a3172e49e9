"""The one reading type every meter driver returns, and the plausibility rules it obeys.

Sign convention (seed 003): + import from the grid, - export (solar surplus). Many meters
report currents unsigned; the driver then takes the sign from the phase's active power, so
exporting does not look like importing and the balancer does not throttle for nothing.

Where the data is ambiguous the reading errs toward import, because a wrong sign must never
create spare capacity: a current counts as export only as far as the active power exported
on that phase carries it (`signed_current`), and a current a meter does not report is derived
from its power with voltages that neither understate an import nor overstate an export
(`current_from_power`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from custom_components.powershare.devices.errors import ImplausibleValueError

type Clock = Callable[[], float]
"""Returns the time a reading is stamped with (seconds); injectable so tests control it."""

WALL_CLOCK: Clock = time.time
"""The default clock: Unix time in seconds."""

MIN_PLAUSIBLE_VOLTAGE_V = 100.0
"""Below this a phase is out (a blown fuse, a phase outage): its readings are still true."""
MAX_PLAUSIBLE_VOLTAGE_V = 300.0
LOWEST_SUPPLY_VOLTAGE_V = 207.0
"""230 V - 10 %, the lowest supply voltage EN 50160 allows: an import's current derived with it
is never less than the one flowing at that power (at a power factor of 1; the 10 % also cover
a power factor down to 0.9 at the nominal voltage)."""
HIGHEST_SUPPLY_VOLTAGE_V = 253.0
"""230 V + 10 %: an export's current derived with it is never more than the one flowing."""
ANY_METER_MAX_CURRENT_A = 10_000.0
"""The bound for meters behind current transformers of any size: no building we balance
draws more per phase. Models with a fixed range pass their own (`max_current_a`)."""


@dataclass(frozen=True, slots=True)
class PhaseReading:
    """One phase of a metering point, signed: + import, - export."""

    voltage_v: float | None
    """Line-to-neutral voltage; None when the device does not report it (some P1 meters)."""
    current_a: float
    """Signed current: positive when importing, negative when exporting."""
    power_w: float
    """Signed active power: positive when importing, negative when exporting."""
    current_derived: bool = False
    """The meter did not report the current: it is derived from the power
    (`current_from_power`)."""


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What a metering point measured at one instant."""

    phases: tuple[PhaseReading, ...]
    """L1 first; one entry for a single-phase meter, three for a three-phase one."""
    total_power_w: float
    """Signed active power of all phases together (+ import, - export)."""
    import_energy_kwh: float | None
    """Lifetime energy imported from the grid; None when the device does not offer it."""
    export_energy_kwh: float | None
    """Lifetime energy exported to the grid; None when the device does not offer it."""
    measured_at: float
    """When the request was sent, on the driver's clock (seconds).

    The earliest moment the values can describe: a charger reading that arrived before it
    is the one to subtract from these figures (`ChargerLink.reading_at` in balancing).
    """
    average_demand_w: float | None = None
    """The meter's own average import of the running billing window (a capacity tariff's
    quarter-hour: DSMR `current_average_demand`, HomeWizard `average_power_15m_w`)."""
    month_peak_w: float | None = None
    """The meter's own record of this month's highest window average."""

    @property
    def currents_a(self) -> tuple[float, ...]:
        """The signed current of each phase, L1 first."""
        return tuple(phase.current_a for phase in self.phases)


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """Identification of a meter, used for unique ids and the device registry."""

    manufacturer: str
    model: str
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None

    @property
    def unique_id(self) -> str | None:
        """A stable identifier: the serial number, else the MAC address, else None."""
        if self.serial:
            return self.serial
        if self.mac:
            return self.mac.replace(":", "").lower()
        return None


def signed_current(current_a: float, power_w: float, voltage_v: float | None = None) -> float:
    """Give a current the sign of the phase's active power (+ import, - export).

    Devices that report signed currents agree with their power anyway, so the rule is applied
    to every device: one code path, and a device with unsigned currents cannot slip through.
    A current exported counts only as far as the active power exported carries it (at the
    phase's voltage, or `HIGHEST_SUPPLY_VOLTAGE_V` without one): 1.6 A with 0 W, or with -5 W,
    is not 1.6 A of spare capacity. A current with a power of 0 W or more is an import,
    whatever sign the meter gave it.
    """
    magnitude = abs(current_a)
    if power_w >= 0:
        return magnitude
    volts = HIGHEST_SUPPLY_VOLTAGE_V
    if voltage_v is not None and voltage_v >= MIN_PLAUSIBLE_VOLTAGE_V:
        volts = voltage_v
    return -min(magnitude, -power_w / volts)


def current_from_power(power_w: float) -> float:
    """Return the current of a phase that reports only its power (signed as the power).

    An import is divided by the lowest supply voltage and an export by the highest: neither
    a load nor a surplus is made smaller or larger than it can be.
    """
    if power_w >= 0:
        return power_w / LOWEST_SUPPLY_VOLTAGE_V
    return power_w / HIGHEST_SUPPLY_VOLTAGE_V


def require_finite(name: str, value: float) -> float:
    """Return the value, or raise ImplausibleValueError for NaN or infinity."""
    if not math.isfinite(value):
        raise ImplausibleValueError(f"{name} is {value}, not a measurement")
    return value


def require_plausible_voltage(name: str, value: float) -> float:
    """Return a voltage that can be real (0 included: a phase out), or raise."""
    require_finite(name, value)
    if not 0 <= value <= MAX_PLAUSIBLE_VOLTAGE_V:
        raise ImplausibleValueError(f"{name} is {value} V, outside 0-{MAX_PLAUSIBLE_VOLTAGE_V:g} V")
    return value


def build_phase(
    index: int,
    *,
    voltage_v: float | None,
    current_a: float,
    power_w: float,
    max_current_a: float = ANY_METER_MAX_CURRENT_A,
    current_derived: bool = False,
) -> PhaseReading:
    """Check one phase's raw values and return it signed (+ import, - export).

    `max_current_a` is the most the model can measure: a larger current or power (at the
    highest plausible voltage) is garbage, not a reading.
    """
    label = f"L{index + 1}"
    if voltage_v is not None:
        require_plausible_voltage(f"{label} voltage", voltage_v)
    require_finite(f"{label} current", current_a)
    require_finite(f"{label} power", power_w)
    if abs(current_a) > max_current_a:
        raise ImplausibleValueError(
            f"{label} current is {current_a} A, beyond the meter's {max_current_a:g} A"
        )
    if abs(power_w) > max_current_a * MAX_PLAUSIBLE_VOLTAGE_V:
        raise ImplausibleValueError(
            f"{label} power is {power_w} W, beyond what the meter's {max_current_a:g} A allow"
        )
    return PhaseReading(
        voltage_v=voltage_v,
        current_a=signed_current(current_a, power_w, voltage_v),
        power_w=power_w,
        current_derived=current_derived,
    )


def build_reading(
    phases: Sequence[PhaseReading],
    *,
    total_power_w: float | None,
    import_energy_kwh: float | None,
    export_energy_kwh: float | None,
    measured_at: float,
) -> MeterReading:
    """Check the totals and assemble a reading; a missing total is the sum of the phases."""
    if not phases:
        raise ImplausibleValueError("the meter reported no phase")
    voltages = [phase.voltage_v for phase in phases if phase.voltage_v is not None]
    if voltages and max(voltages) < MIN_PLAUSIBLE_VOLTAGE_V:
        # One phase out is an outage (the others still count); all of them is a wrong
        # register map, or no power anywhere, and nothing to balance on.
        raise ImplausibleValueError(
            f"no phase has a voltage of {MIN_PLAUSIBLE_VOLTAGE_V:g} V or more"
        )
    total = sum(phase.power_w for phase in phases) if total_power_w is None else total_power_w
    require_finite("total power", total)
    for name, energy in (
        ("import energy", import_energy_kwh),
        ("export energy", export_energy_kwh),
    ):
        if energy is not None:
            require_finite(name, energy)
            if energy < 0:
                raise ImplausibleValueError(f"{name} is negative ({energy} kWh)")
    return MeterReading(
        phases=tuple(phases),
        total_power_w=total,
        import_energy_kwh=import_energy_kwh,
        export_energy_kwh=export_energy_kwh,
        measured_at=measured_at,
    )
