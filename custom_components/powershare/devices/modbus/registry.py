"""Sharing buses: one `ModbusBus` per TCP host and port or serial device, closed by its last user.

Several config entries (a meter and chargers on one RS485 line, each with its own unit id) must
end up on one connection and one lock, or their frames would collide on the wire.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

from custom_components.powershare.devices.errors import InvalidCommandError

from .bus import ModbusBus
from .endpoints import TcpEndpoint

if TYPE_CHECKING:
    from .endpoints import BusSettings, Endpoint

type _BusKey = tuple[str, int] | str


def _bus_key(endpoint: Endpoint) -> _BusKey:
    """Return what makes two endpoints one bus: host and port, or the serial device path."""
    if isinstance(endpoint, TcpEndpoint):
        return (endpoint.host, endpoint.port)
    return endpoint.port


class ModbusBusRegistry:
    """Hands out one shared `ModbusBus` per bus and closes it when its last user leaves.

    A bus is a TCP host and port, or a serial device path: asking for one serial port with other
    line settings (baud rate, parity...) than the open bus is a configuration error and raises
    `InvalidCommandError`. The settings of the first `acquire` of a bus win.
    Keep one registry per application (the Home Assistant layer keeps it in `hass.data`).
    """

    def __init__(self) -> None:
        self._buses: dict[_BusKey, ModbusBus] = {}
        self._users: Counter[_BusKey] = Counter()
        self._lock = asyncio.Lock()

    async def acquire(self, endpoint: Endpoint, settings: BusSettings | None = None) -> ModbusBus:
        """Return the bus of `endpoint`, creating it on first use; pair with `release`."""
        key = _bus_key(endpoint)
        async with self._lock:
            bus = self._buses.get(key)
            if bus is None:
                bus = self._buses[key] = ModbusBus(endpoint, settings)
            elif bus.endpoint != endpoint:
                raise InvalidCommandError(
                    f"{key} is already open as {bus.endpoint}; every device on one serial "
                    "line must use the same line settings"
                )
            self._users[key] += 1
            return bus

    async def release(self, bus: ModbusBus) -> None:
        """Give back a bus obtained from `acquire`; the last release closes its connection."""
        key = _bus_key(bus.endpoint)
        async with self._lock:
            if self._buses.get(key) is not bus:
                return
            self._users[key] -= 1
            if self._users[key] > 0:
                return
            del self._users[key]
            del self._buses[key]
        await bus.close()

    def users(self, endpoint: Endpoint) -> int:
        """How many users hold the bus of `endpoint` (0 when it is not open)."""
        return self._users.get(_bus_key(endpoint), 0)

    async def close_all(self) -> None:
        """Close every bus (application shutdown)."""
        async with self._lock:
            buses = list(self._buses.values())
            self._buses.clear()
            self._users.clear()
        for bus in buses:
            await bus.close()
