"""Fixtures for the meter tests: emulators on loopback and a Modbus bus to reach them.

Sockets are allowed by `tests/devices/conftest.py` (`loopback_sockets_allowed`, autouse).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from custom_components.powershare.devices.modbus import BusSettings, ModbusBus, TcpEndpoint
from simulators.meters.state import ManualClock
from simulators.modbus_server import EmulatorServer, RegisterUnit, free_tcp_port

# Short timeouts and backoff keep the fault tests fast.
FAST_BUS = BusSettings(timeout=0.3, connect_timeout=1.0, backoff_initial=0.05, backoff_max=0.2)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


type ServeModbus = Callable[[dict[int, RegisterUnit]], Awaitable[ModbusBus]]


@pytest.fixture
async def modbus_tcp() -> AsyncIterator[ServeModbus]:
    """Start an emulator server for some units on 127.0.0.1 and return a bus reaching it."""
    servers: list[EmulatorServer] = []
    buses: list[ModbusBus] = []

    async def serve(units: dict[int, RegisterUnit]) -> ModbusBus:
        server = EmulatorServer(units)
        port = free_tcp_port()
        await server.start_tcp(port)
        servers.append(server)
        bus = ModbusBus(TcpEndpoint("127.0.0.1", port), FAST_BUS)
        buses.append(bus)
        return bus

    yield serve
    for bus in buses:
        await bus.close()
    for server in servers:
        await server.stop()
