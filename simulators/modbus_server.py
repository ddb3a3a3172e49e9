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
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import shutil
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, Self

import pymodbus.constants
import pymodbus.datastore
import pymodbus.exceptions
from pymodbus import FramerType
from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

# Names that changed between pymodbus versions, looked up once so one code path serves all:
# a device context base class up to 3.13 (renamed at 3.10), none from 3.14, where the server
# asks the server context itself, passing the unit id.
_BaseContext: Any = (
    getattr(pymodbus.datastore, "ModbusBaseDeviceContext", None)
    or getattr(pymodbus.datastore, "ModbusBaseSlaveContext", None)
    or object
)
_SERVER_CONTEXT_DISPATCHES: Final = hasattr(ModbusServerContext, "async_getValues")
"""Whether the server calls `ModbusServerContext.async_getValues(device_id, ...)` (3.14+)."""
_NoSuchUnit: Any = getattr(pymodbus.exceptions, "NoSuchIdException", None) or getattr(
    pymodbus.exceptions, "NoSuchSlaveException", KeyError
)
_ExcCodes: Any = getattr(pymodbus.constants, "ExcCodes", None)
"""From pymodbus 3.10 a datastore returns an exception code instead of raising."""
_ServerContext: Any = ModbusServerContext  # untyped in some versions
_IGNORE_MISSING: Final = (
    "ignore_missing_devices"
    if "ignore_missing_devices" in inspect.signature(ModbusSerialServer.__init__).parameters
    else "ignore_missing_slaves"
)
"""Keyword that keeps a serial server silent for unit ids it does not serve, as on RS485."""

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

LOOPBACK: Final = "127.0.0.1"
READ_HOLDING: Final = 3
READ_INPUT: Final = 4
WRITE_SINGLE: Final = 6
WRITE_MULTIPLE: Final = 16
ILLEGAL_FUNCTION: Final = 1
ILLEGAL_ADDRESS: Final = 2
ILLEGAL_VALUE: Final = 3
SERVER_FAILURE: Final = 4


class ModbusReply(Exception):  # noqa: N818  # it is a reply, not an error of the emulator
    """Raise from a `ServedUnit` to answer the request with Modbus exception `code`."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Modbus exception {code}")
        self.code = code


class DropConnection(Exception):  # noqa: N818  # an instruction to the server, not an error
    """Raise from a `ServedUnit` to close the client connections instead of answering."""


class ServedUnit(Protocol):
    """One emulated Modbus unit (a unit id on a bus)."""

    async def read(self, function: int, address: int, count: int) -> list[int]:
        """Answer FC3 (`function` 3) or FC4 (4); raise `ModbusReply` to refuse."""
        ...

    async def write(self, function: int, address: int, values: list[int]) -> None:
        """Apply FC6 (`function` 6, one value) or FC16 (16); raise `ModbusReply` to refuse."""
        ...


@dataclass(slots=True)
class Faults:
    """What a `RegisterUnit` does wrong, settable from a test at any time."""

    delay: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout = no answer)."""
    exception_code: int | None = None
    """Answer every request with this Modbus exception code."""
    refused_functions: set[int] = field(default_factory=set)
    """Function codes answered with "illegal function" (e.g. {3} for an FC4-only device)."""
    garbage: dict[int, int] = field(default_factory=dict)
    """Register address -> raw value served instead of the real one (reads only)."""
    drop_connection: bool = False
    """Close the client's connection instead of answering the next request (TCP; then off)."""

    def clear(self) -> None:
        """Back to a well-behaved device."""
        self.delay = 0.0
        self.exception_code = None
        self.refused_functions.clear()
        self.garbage.clear()
        self.drop_connection = False


class RegisterUnit:
    """A unit serving two register tables (holding and input) with fault injection.

    Registers not in a table answer "illegal data address" (like a real device outside its
    map) unless `default` is set. Subclasses can override `before_read` to refresh values from
    their behaviour model and `on_write` to act on commands.
    """

    def __init__(
        self,
        *,
        holding: Mapping[int, int] | None = None,
        input_registers: Mapping[int, int] | None = None,
        default: int | None = None,
    ) -> None:
        self.holding: dict[int, int] = dict(holding or {})
        self.input: dict[int, int] = dict(input_registers or {})
        self.default = default
        self.faults = Faults()
        self.requests: deque[tuple[int, int, int]] = deque(maxlen=10_000)
        """(function, address, count) of the requests received, oldest first (last 10 000)."""

    async def read(self, function: int, address: int, count: int) -> list[int]:
        """Serve a read, applying the faults."""
        await self._apply_faults(function, address, count)
        self.before_read(function, address, count)
        table = self.holding if function == READ_HOLDING else self.input
        values: list[int] = []
        for register in range(address, address + count):
            value = self.faults.garbage.get(register, table.get(register, self.default))
            if value is None:
                raise ModbusReply(ILLEGAL_ADDRESS)
            values.append(value & 0xFFFF)
        return values

    async def write(self, function: int, address: int, values: list[int]) -> None:
        """Serve a write into the holding table, applying the faults."""
        await self._apply_faults(function, address, len(values))
        self.check_write(address, values)
        for offset, value in enumerate(values):
            self.holding[address + offset] = value
        self.on_write(address, values)

    def before_read(self, function: int, address: int, count: int) -> None:
        """Refresh the tables before a read (hook for emulators with behaviour)."""

    def check_write(self, address: int, values: list[int]) -> None:
        """Refuse a write by raising `ModbusReply` (hook).

        By default only registers present in the holding table are writable (any register
        when `default` is set).
        """
        for offset in range(len(values)):
            if address + offset not in self.holding and self.default is None:
                raise ModbusReply(ILLEGAL_ADDRESS)

    def on_write(self, address: int, values: list[int]) -> None:
        """React to a write that was stored (hook for emulators with behaviour)."""

    async def _apply_faults(self, function: int, address: int, count: int) -> None:
        self.requests.append((function, address, count))
        if self.faults.delay > 0:
            await asyncio.sleep(self.faults.delay)
        if self.faults.drop_connection:
            self.faults.drop_connection = False
            raise DropConnection
        if function in self.faults.refused_functions:
            raise ModbusReply(ILLEGAL_FUNCTION)
        if self.faults.exception_code is not None:
            raise ModbusReply(self.faults.exception_code)


class _ExceptionRelay:
    """Carries a unit's exception code from the datastore to the response PDU.

    pymodbus < 3.10 cannot return an exception code from a datastore, so the datastore raises,
    the server builds a generic "server failure" response, and the PDU trace hook rewrites it
    with the right function and exception code before it is framed.
    """

    def __init__(self) -> None:
        self._request_function: dict[int, int] = {}
        self._pending_code: dict[int, int] = {}

    def set_code(self, unit_id: int, code: int) -> None:
        self._pending_code[unit_id] = code

    def trace_pdu(self, sending: bool, pdu: Any) -> Any:  # noqa: FBT001  # pymodbus' callback
        unit_id = int(getattr(pdu, "dev_id", 0))
        if not sending:
            self._request_function[unit_id] = int(pdu.function_code)
            self._pending_code.pop(unit_id, None)
            return pdu
        code = self._pending_code.pop(unit_id, None)
        if code is not None and isinstance(pdu, ExceptionResponse):
            pdu.function_code = self._request_function.get(unit_id, 0) | 0x80
            pdu.exception_code = code
        return pdu


class _UnitContext(_BaseContext):  # type: ignore[misc]  # a base class chosen at import
    """pymodbus datastore adapter that forwards requests to a `ServedUnit`."""

    def __init__(
        self,
        unit_id: int,
        unit: ServedUnit,
        relay: _ExceptionRelay,
        drop_connections: Callable[[], object],
    ) -> None:
        super().__init__()
        self._drop_connections = drop_connections
        self._unit_id = unit_id
        self._unit = unit
        self._relay = relay
        self._written: dict[int, int] = {}

    def reset(self) -> None:
        """Nothing to reset: the unit owns its state."""

    def validate(self, *_args: object, **_kwargs: object) -> bool:
        """Accept every address here: the unit decides (pymodbus < 3.10 asks first)."""
        return True

    async def async_getValues(  # noqa: N802  # pymodbus' name
        self, func_code: int, address: int, count: int = 1
    ) -> Any:  # list[int], or an ExcCodes member from pymodbus 3.10
        if func_code in (WRITE_SINGLE, WRITE_MULTIPLE):
            # The echo of a write: what was just written, without running the unit again.
            return [self._written.get(address + offset, 0) for offset in range(count)]
        try:
            return await self._unit.read(func_code, address, count)
        except ModbusReply as reply:
            return self._refuse(reply)
        except DropConnection:
            return self._drop()

    async def async_setValues(  # noqa: N802  # pymodbus' name
        self, func_code: int, address: int, values: Sequence[int | bool]
    ) -> Any:  # None, or an ExcCodes member from pymodbus 3.10
        registers = [int(value) for value in values]
        try:
            await self._unit.write(func_code, address, registers)
        except ModbusReply as reply:
            return self._refuse(reply)
        except DropConnection:
            return self._drop()
        for offset, value in enumerate(registers):
            self._written[address + offset] = value
        return None

    def _drop(self) -> Any:  # whatever it returns goes to a closed connection
        self._drop_connections()
        return self._refuse(ModbusReply(SERVER_FAILURE))

    def _refuse(self, reply: ModbusReply) -> Any:  # an ExcCodes member
        if _ExcCodes is not None:
            with contextlib.suppress(ValueError):
                return _ExcCodes(reply.code)
        # pymodbus < 3.10 (or a code ExcCodes does not know): raise, the relay fixes the PDU.
        self._relay.set_code(self._unit_id, reply.code)
        raise reply

    def getValues(self, func_code: int, address: int, count: int = 1) -> list[int]:  # noqa: N802
        """Unused: pymodbus calls the async variant."""
        raise NotImplementedError

    def setValues(self, func_code: int, address: int, values: Sequence[int | bool]) -> None:  # noqa: N802
        """Unused: pymodbus calls the async variant."""
        raise NotImplementedError


class _DispatchingServerContext(_ServerContext):  # type: ignore[misc]  # untyped base
    """Server context for pymodbus 3.14+, which asks it directly with the unit id."""

    def __init__(self, units: Mapping[int, _UnitContext]) -> None:
        # No super().__init__(): it would wrap device contexts into its own simulator.
        self._units = dict(units)
        self.old_simulator = True  # pymodbus then calls this object's async_*Values
        self.simdevices: list[object] = []

    def _unit(self, device_id: int) -> _UnitContext:
        try:
            return self._units[device_id]
        except KeyError:
            raise _NoSuchUnit(f"no unit {device_id}") from None

    async def async_getValues(  # noqa: N802  # pymodbus' name
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> Any:  # list[int] or an ExcCodes member
        return await self._unit(device_id).async_getValues(func_code, address, count)

    async def async_setValues(  # noqa: N802  # pymodbus' name
        self, device_id: int, func_code: int, address: int, values: Sequence[int | bool]
    ) -> Any:  # None or an ExcCodes member
        return await self._unit(device_id).async_setValues(func_code, address, values)

    def device_ids(self) -> list[int]:
        """Return the unit ids served."""
        return list(self._units)


def _server_context(units: Mapping[int, _UnitContext]) -> Any:
    if _SERVER_CONTEXT_DISPATCHES:
        return _DispatchingServerContext(units)
    keyword = "devices" if _BaseContext.__name__ == "ModbusBaseDeviceContext" else "slaves"
    return _ServerContext(**{keyword: dict(units), "single": False})


class EmulatorServer:
    """A pymodbus server answering for several emulated units, on loopback TCP or a serial port.

    The server can be stopped and started again on the same port or device (an outage), and
    its client connections can be dropped. `units` may be changed between `stop` and
    `restart` (or before a `restart`), e.g. to add a unit id.
    """

    def __init__(self, units: Mapping[int, ServedUnit]) -> None:
        self.units: dict[int, ServedUnit] = dict(units)
        self._relay = _ExceptionRelay()
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._start: tuple[str, str | int, int] | None = None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    async def start_tcp(self, port: int, host: str = LOOPBACK) -> None:
        """Serve Modbus TCP on `host:port` (loopback only)."""
        if host != LOOPBACK:
            raise ValueError("emulators serve on 127.0.0.1 only")
        self._start = ("tcp", port, 0)
        await self._run()

    async def start_rtu(self, device: str, baudrate: int = 9600) -> None:
        """Serve Modbus RTU on a serial device (the server end of a pty pair)."""
        self._start = ("rtu", device, baudrate)
        await self._run()

    async def stop(self) -> None:
        """Stop serving; `restart` brings the server back where it was."""
        server, self._server = self._server, None
        if server is not None:
            shutdown: Any = server.shutdown  # untyped in some versions
            await shutdown()

    async def restart(self) -> None:
        """Start again with the arguments of the last `start_*` call."""
        await self.stop()
        await self._run()

    def drop_connections(self) -> int:
        """Abort every client connection (TCP only); return how many were dropped."""
        if not isinstance(self._server, ModbusTcpServer):
            return 0
        connections = list(self._server.active_connections.values())
        for connection in connections:
            transport: Any = connection.transport
            if transport is not None:
                transport.abort()
        return len(connections)

    async def _run(self) -> None:
        if self._start is None:
            raise RuntimeError("call start_tcp or start_rtu first")
        contexts = {
            unit_id: _UnitContext(unit_id, unit, self._relay, self.drop_connections)
            for unit_id, unit in self.units.items()
        }
        context = _server_context(contexts)
        kind, where, baudrate = self._start
        server: ModbusTcpServer | ModbusSerialServer
        if kind == "tcp":
            server = ModbusTcpServer(
                context, address=(LOOPBACK, int(where)), trace_pdu=self._relay.trace_pdu
            )
        else:
            silent_for_other_units: dict[str, Any] = {_IGNORE_MISSING: True}
            server = ModbusSerialServer(
                context,
                framer=FramerType.RTU,
                port=str(where),
                baudrate=baudrate,
                trace_pdu=self._relay.trace_pdu,
                **silent_for_other_units,
            )
        await server.serve_forever(background=True)
        self._server = server

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


def free_tcp_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PtyPair:
    """Two connected pseudo-terminals: what is written to one is read from the other."""

    server_port: str
    client_port: str


_PTY_LINE: Final = re.compile(rb"PTY is (\S+)")


def socat_available() -> bool:
    """Whether `socat` (Debian package socat) is installed."""
    return shutil.which("socat") is not None


@contextlib.asynccontextmanager
async def open_pty_pair() -> AsyncIterator[PtyPair]:
    """Create a pty pair with `socat -d -d pty,raw,echo=0 pty,raw,echo=0`; remove it on exit.

    The pty does not throttle to any baud rate: frames pass at memory speed.
    """
    socat = shutil.which("socat")
    if socat is None:
        raise RuntimeError("socat is not installed (Debian package socat)")
    process = await asyncio.create_subprocess_exec(
        socat,
        "-d",
        "-d",
        "pty,raw,echo=0",
        "pty,raw,echo=0",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        ports: list[str] = []
        assert process.stderr is not None  # noqa: S101  # set by stderr=PIPE
        async with asyncio.timeout(5):
            while len(ports) < 2:  # a pair
                line = await process.stderr.readline()
                if not line:
                    raise RuntimeError("socat exited before creating the pty pair")
                if match := _PTY_LINE.search(line):
                    ports.append(match.group(1).decode())
        # Keep draining socat's log so it never blocks on a full pipe.
        drain = asyncio.create_task(_drain(process.stderr))
        try:
            yield PtyPair(server_port=ports[0], client_port=ports[1])
        finally:
            drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass
