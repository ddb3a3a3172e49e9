"""What an emulated meter measures: per-phase signed currents and voltages, set by a test."""

from __future__ import annotations

from dataclasses import dataclass, field

NOMINAL_VOLTAGE_V = 230.0


@dataclass(slots=True)
class EmulatedPhase:
    """One phase at the metering point: + import, - export."""

    voltage_v: float = NOMINAL_VOLTAGE_V
    current_a: float = 0.0
    """Signed: positive when importing, negative when exporting."""
    power_factor: float = 1.0

    @property
    def power_w(self) -> float:
        """Signed active power, derived as the device would measure it."""
        return self.voltage_v * self.current_a * self.power_factor


@dataclass(slots=True)
class MeterState:
    """The readings an emulator serves; tests and the virtual site change them at any time."""

    phases: list[EmulatedPhase] = field(default_factory=lambda: [EmulatedPhase() for _ in range(3)])
    import_energy_kwh: float = 0.0
    export_energy_kwh: float = 0.0

    @classmethod
    def single_phase(cls) -> MeterState:
        """Create a state with one phase (SDM120, a single-phase P1 meter)."""
        return cls(phases=[EmulatedPhase()])

    @property
    def total_power_w(self) -> float:
        """Signed active power of all phases."""
        return sum(phase.power_w for phase in self.phases)

    def set_currents(self, *currents_a: float) -> None:
        """Set the signed current of each phase, L1 first (+ import, - export)."""
        if len(currents_a) != len(self.phases):
            raise ValueError(f"expected {len(self.phases)} currents, got {len(currents_a)}")
        for phase, current in zip(self.phases, currents_a, strict=True):
            phase.current_a = current

    def set_voltages(self, *voltages_v: float) -> None:
        """Set the voltage of each phase, L1 first."""
        if len(voltages_v) != len(self.phases):
            raise ValueError(f"expected {len(self.phases)} voltages, got {len(voltages_v)}")
        for phase, voltage in zip(self.phases, voltages_v, strict=True):
            phase.voltage_v = voltage

    def advance(self, seconds: float) -> None:
        """Integrate the present power into the energy counters over `seconds`."""
        energy_kwh = self.total_power_w * seconds / 3_600_000
        if energy_kwh >= 0:
            self.import_energy_kwh += energy_kwh
        else:
            self.export_energy_kwh -= energy_kwh


class ManualClock:
    """A clock that only moves when told to; inject it into drivers to stamp readings."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        """Return the present time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
