"""`EmulatorServer`: a pymodbus server answering for emulated units, on loopback TCP or RTU."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any, Final, Self

from pymodbus import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from .datastore import _IGNORE_MISSING, _ExceptionRelay, _server_context, _UnitContext
from .units import RegisterUnit

GATEWAY_TARGET_FAILED_TO_RESPOND: Final = 0x0B

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .units import ServedUnit

LOOPBACK: Final = "127.0.0.1"


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
        kind, where, baudrate = self._start
        contexts: dict[int, _UnitContext] = (
            _GatewayUnits(self._relay, self.drop_connections) if kind == "tcp" else {}
        )
        contexts.update(
            (unit_id, _UnitContext(unit_id, unit, self._relay, self.drop_connections))
            for unit_id, unit in self.units.items()
        )
        context = _server_context(contexts)
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


class _GatewayUnits(dict[int, _UnitContext]):
    """Every unit id, as a Modbus TCP gateway serves them.

    The emulated units answer; any other unit id answers "gateway target device failed to
    respond" (0x0B), as a real gateway does for a unit that is not on its line. (pymodbus' own
    server answers those with a frame of function 0x80, which no real device sends and which
    its 3.8 client cannot decode.)
    """

    def __init__(self, relay: _ExceptionRelay, drop_connections: Any) -> None:
        super().__init__()
        self._relay = relay
        self._drop_connections = drop_connections

    def __contains__(self, unit_id: object) -> bool:
        return True

    def get(self, unit_id: int, default: object = None) -> _UnitContext:  # noqa: ARG002
        """Every unit id is served (pymodbus up to 3.9 looks units up with `get`)."""
        return self[unit_id]

    def __missing__(self, unit_id: int) -> _UnitContext:
        absent = RegisterUnit()
        absent.faults.exception_code = GATEWAY_TARGET_FAILED_TO_RESPOND
        context = _UnitContext(unit_id, absent, self._relay, self._drop_connections)
        self[unit_id] = context
        return context


def free_tcp_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
