"""The pymodbus side of the bus: which keyword names the unit, and how a client is built.

pymodbus renamed the unit id keyword of every request method from `slave=` to `device_id=` in
3.10. The name is chosen once, at import, from the installed client's method signature, so one
code base runs on pymodbus 3.8 to the newest (tested with 3.8.6, 3.11.2 and 3.16.1).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Final

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

from .endpoints import TcpEndpoint

if TYPE_CHECKING:
    from .endpoints import BusSettings, Endpoint

type Client = AsyncModbusTcpClient | AsyncModbusSerialClient


def unit_keyword() -> str:
    """Return the name of the unit id keyword: `device_id` from pymodbus 3.10, else `slave`."""
    parameters = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return "device_id" if "device_id" in parameters else "slave"


UNIT_KEYWORD: Final = unit_keyword()


def unit(unit_id: int) -> dict[str, Any]:
    """Return the unit id as the keyword argument the installed pymodbus expects."""
    return {UNIT_KEYWORD: unit_id}


def new_client(endpoint: Endpoint, settings: BusSettings) -> Client:
    """Build an unconnected pymodbus client for `endpoint`."""
    # pymodbus' own retries and background reconnects are off: the bus paces them.
    common: dict[str, Any] = {
        "timeout": settings.timeout,
        "retries": 0,
        "reconnect_delay": 0,
        "reconnect_delay_max": 0,
    }
    if isinstance(endpoint, TcpEndpoint):
        return AsyncModbusTcpClient(endpoint.host, port=endpoint.port, **common)
    return AsyncModbusSerialClient(
        endpoint.port,
        baudrate=endpoint.baudrate,
        parity=endpoint.parity,
        stopbits=endpoint.stopbits,
        bytesize=endpoint.bytesize,
        **common,
    )
