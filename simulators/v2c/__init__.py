"""V2C Trydan emulator speaking the charger's local HTTP API on loopback, with a car behind it.

`TrydanEmulator` serves `/RealTimeData` and `/write/<Key>=<value>` from a `TrydanState` (the
charger's settings and the car: plugged in, following `Intensity` after a delay, energy
growing) that a test changes at any time; faults come from `HttpFaults` of the meter emulators.
"""

from .emulator import TrydanEmulator
from .state import NOMINAL_VOLTAGE_V, TrydanState, firmware_tuple

__all__ = ["NOMINAL_VOLTAGE_V", "TrydanEmulator", "TrydanState", "firmware_tuple"]
