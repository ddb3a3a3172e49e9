"""Modbus transport shared by every Modbus driver: one connection and one lock per bus.

A *bus* is one Modbus TCP endpoint (host, port) or one serial port. Every device on it (a meter
and several chargers on one RS485 line, each with its own unit id) shares a single `ModbusBus`,
obtained from a `ModbusBusRegistry` that keys buses by TCP host and port or by serial device
path, and closes a bus when its last user releases it::

    registry = ModbusBusRegistry()                       # one per application
    bus = await registry.acquire(SerialEndpoint("/dev/ttyUSB0", baudrate=9600))
    regs = await bus.read_registers(3, 0, 45)            # FC3, unit 3, registers 0-44
    regs = await bus.read_registers(1, 0, 12, function=RegisterType.INPUT)   # FC4
    await bus.write_register(3, 15, 16)                  # FC6
    await bus.write_registers(3, 14, [6, 16])            # FC16
    await registry.release(bus)

The modules, from the wire up:

- `protocol`: what Modbus allows (register tables, request sizes, value ranges) and the checks;
- `endpoints`: TCP and serial endpoints, and the timing of a bus (`BusSettings`);
- `client`: the pymodbus side, including the unit keyword shim (`slave=` before pymodbus 3.10,
  `device_id=` from 3.10);
- `bus`: `ModbusBus`, with its lock, timeouts, reconnect backoff and typed errors;
- `registry`: `ModbusBusRegistry`, which shares one bus among the devices on it.

Import from this package, not from its modules: the modules are its layout, not its interface.
"""

from __future__ import annotations

from typing import Final

from custom_components.powershare.devices.errors import PowershareDeviceError

from .bus import BusState, ModbusBus
from .client import UNIT_KEYWORD
from .endpoints import BusSettings, Endpoint, SerialEndpoint, TcpEndpoint
from .protocol import MAX_READ_REGISTERS, MAX_WRITE_REGISTERS, RegisterType
from .registry import ModbusBusRegistry

_UNIT_KEYWORD: Final = UNIT_KEYWORD
"""The keyword under its name from before the split, which the tests read to check the shim."""

__all__ = [
    "MAX_READ_REGISTERS",
    "MAX_WRITE_REGISTERS",
    "BusSettings",
    "BusState",
    "Endpoint",
    "ModbusBus",
    "ModbusBusRegistry",
    "PowershareDeviceError",
    "RegisterType",
    "SerialEndpoint",
    "TcpEndpoint",
]
