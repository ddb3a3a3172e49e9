"""Meter emulators speaking the real protocols on loopback (Modbus TCP/RTU, Shelly, HomeWizard).

Every emulator serves a `MeterState` (per-phase signed currents and voltages, energy
counters) that a test or the virtual site changes at any time; several emulators may share one
state. Faults: `RegisterUnit.faults` for Modbus (delay, exception codes, garbage registers),
`HttpFaults` for HTTP (delay, dropped connection, HTTP status, garbage body); NaN or
out-of-range values are set through the state.
"""

from .homewizard import HomeWizardV1Emulator, HomeWizardV2Emulator
from .http_base import HttpFaults, HttpMeterEmulator
from .modbus import ModbusMeterEmulator
from .shelly import Shelly3EmGen1Emulator, ShellyPro3EmRpcEmulator
from .state import EmulatedPhase, ManualClock, MeterState
from .tls import TestCertificateAuthority

__all__ = [
    "EmulatedPhase",
    "HomeWizardV1Emulator",
    "HomeWizardV2Emulator",
    "HttpFaults",
    "HttpMeterEmulator",
    "ManualClock",
    "MeterState",
    "ModbusMeterEmulator",
    "Shelly3EmGen1Emulator",
    "ShellyPro3EmRpcEmulator",
    "TestCertificateAuthority",
]
