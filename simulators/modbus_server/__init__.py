"""Run emulated Modbus devices on a real pymodbus server: loopback TCP or RTU on a pseudo-terminal.

Emulators implement `ServedUnit` (or subclass `RegisterUnit`, a register table with fault
injection) and are served by an `EmulatorServer`, one server per bus, any number of unit ids::

    unit = RegisterUnit(holding={0: 230, 1: 231})
    server = EmulatorServer({1: unit, 3: charger})
    await server.start_tcp(port)                  # 127.0.0.1 only
    # or, for RTU over a pty pair made by socat:
    async with open_pty_pair() as pty:
        await server.start_rtu(pty.server_port, baudrate=9600)
        ...  # clients open pty.client_port
    await server.stop()

Fault injection, per unit (`RegisterUnit.faults`, a mutable `Faults`): a delay before answering,
a Modbus exception code for every request, function codes the unit refuses with "illegal
function", garbage register values that override the real ones, and a dropped connection
instead of the next answer. Per server:
`drop_connections()` closes every client connection (TCP), `stop()` / `restart()` take the
whole server away and bring it back on the same port or device.

Works with pymodbus 3.8 to the newest (tested with 3.8.6, 3.11.2 and 3.16.1): the datastore
base class was renamed at 3.10, exception codes can be returned from a datastore from 3.10 (before,
they travel through the server's PDU trace hook), and from 3.14 the server asks the server
context itself with the unit id; each difference is detected once at import.

The package: `units` (what a unit is, and faults), `datastore` (the pymodbus adapters, one
code path for every version), `server` (`EmulatorServer`, `free_tcp_port`) and `pty_pair`
(`open_pty_pair`); the public names are re-exported here.
"""

from .pty_pair import PtyPair, open_pty_pair, socat_available
from .server import LOOPBACK, EmulatorServer, free_tcp_port
from .units import (
    ILLEGAL_ADDRESS,
    ILLEGAL_FUNCTION,
    ILLEGAL_VALUE,
    READ_HOLDING,
    READ_INPUT,
    SERVER_FAILURE,
    WRITE_MULTIPLE,
    WRITE_SINGLE,
    DropConnection,
    Faults,
    ModbusReply,
    RegisterUnit,
    ServedUnit,
)

__all__ = [
    "ILLEGAL_ADDRESS",
    "ILLEGAL_FUNCTION",
    "ILLEGAL_VALUE",
    "LOOPBACK",
    "READ_HOLDING",
    "READ_INPUT",
    "SERVER_FAILURE",
    "WRITE_MULTIPLE",
    "WRITE_SINGLE",
    "DropConnection",
    "EmulatorServer",
    "Faults",
    "ModbusReply",
    "PtyPair",
    "RegisterUnit",
    "ServedUnit",
    "free_tcp_port",
    "open_pty_pair",
    "socat_available",
]
