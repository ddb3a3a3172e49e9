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

What the bus guarantees:

- Requests on one bus never overlap (one `asyncio.Lock`); on serial a gap of at least 3.5
  character times separates frames.
- Each request is bounded by `BusSettings.timeout`; a timeout raises `DeviceTimeoutError` and
  resets the connection, so a late answer can never be taken for the answer to the next request.
- A failed connection attempt starts an exponential backoff (`backoff_initial` doubling up to
  `backoff_max`); until it expires requests fail at once with `DeviceUnreachableError` without
  touching the wire, so an outage never turns into a request storm. A connection that drops
  while it was working is retried once at the next request, then the backoff applies.
- Only `PowershareDeviceError` subclasses escape (see `errors.py`); pymodbus exceptions do not.
  Arguments out of the protocol's ranges (unit id, address, count, value) raise
  `InvalidCommandError` before anything is sent.
- The bus logs once when it goes down and once when it comes back, never per request.

Works with pymodbus 3.8 to the newest (tested with 3.8.6, 3.11.2 and 3.16.1): the unit keyword
(`slave=` before 3.10, `device_id=` from 3.10) is chosen once from the client's method signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import Counter
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from .errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    InvalidCommandError,
    ModbusExceptionError,
    PowershareDeviceError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

_LOGGER = logging.getLogger(__name__)

MAX_READ_REGISTERS: Final = 125
"""The most registers one FC3/FC4 request may read (Modbus specification)."""
MAX_WRITE_REGISTERS: Final = 123
"""The most registers one FC16 request may write (Modbus specification)."""
_MAX_UNIT_ID: Final = 247
_MAX_ADDRESS: Final = 0xFFFF
_MAX_REGISTER_VALUE: Final = 0xFFFF
_MIN_FRAME_GAP_S: Final = 0.00175
"""Modbus over serial line v1.02, 2.5.1.1: above 19200 baud use a fixed 1.75 ms gap."""
_BITS_PER_CHARACTER: Final = 11
"""Start bit, 8 data bits, parity or second stop bit, stop bit."""


def _unit_keyword() -> str:
    """Return the name of the unit id keyword: `device_id` from pymodbus 3.10, else `slave`."""
    parameters = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return "device_id" if "device_id" in parameters else "slave"


_UNIT_KEYWORD: Final = _unit_keyword()


def _unit(unit_id: int) -> dict[str, Any]:
    """Return the unit id as the keyword argument the installed pymodbus expects."""
    return {_UNIT_KEYWORD: unit_id}


class RegisterType(IntEnum):
    """Which register table a read uses; the value is the Modbus function code."""

    HOLDING = 3
    INPUT = 4


@dataclass(frozen=True, slots=True)
class TcpEndpoint:
    """A Modbus TCP server (a device or an RS485 gateway)."""

    host: str
    port: int = 502

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialEndpoint:
    """A serial port carrying Modbus RTU (RS485)."""

    port: str
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __str__(self) -> str:
        return f"{self.port}@{self.baudrate}{self.parity}{self.bytesize}{self.stopbits}"

    @property
    def frame_gap(self) -> float:
        """Silent interval between two RTU frames: 3.5 character times, at least 1.75 ms."""
        return max(3.5 * _BITS_PER_CHARACTER / self.baudrate, _MIN_FRAME_GAP_S)


type Endpoint = TcpEndpoint | SerialEndpoint


@dataclass(frozen=True, slots=True)
class BusSettings:
    """Timing of one bus. The defaults suit a 1 s balancing cycle."""

    timeout: float = 1.0
    """Seconds a request may take before it fails with `DeviceTimeoutError`."""
    connect_timeout: float = 3.0
    """Seconds a connection attempt may take."""
    backoff_initial: float = 1.0
    """Seconds to wait after the first failed connection attempt."""
    backoff_max: float = 60.0
    """Cap of the exponential backoff between connection attempts."""
    frame_gap: float | None = None
    """Silence between serial frames; None = 3.5 character times at the port's baud rate."""


class BusState(IntEnum):
    """Connection state of a bus, as last observed."""

    DISCONNECTED = 0
    CONNECTED = 1
    UNREACHABLE = 2


type _Client = AsyncModbusTcpClient | AsyncModbusSerialClient


class ModbusBus:
    """One Modbus connection and its lock, shared by every device on that bus.

    Create buses through `ModbusBusRegistry.acquire` so devices on one endpoint share one.
    All methods are coroutine-safe; requests are serialised.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        settings: BusSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint: Final = endpoint
        self.settings: Final = settings or BusSettings()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._client: _Client | None = None
        self._state = BusState.DISCONNECTED
        self._failed_connects = 0
        self._retry_at = 0.0
        self._last_frame_end = 0.0
        self._requests: Counter[int] = Counter()

    # -- public API -----------------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """The connection state as last observed."""
        return self._state

    @property
    def retry_at(self) -> float:
        """Monotonic time before which no connection attempt is made (0 when none pending)."""
        return self._retry_at if self._state is BusState.UNREACHABLE else 0.0

    @property
    def requests_sent(self) -> dict[int, int]:
        """Requests put on the wire so far, per unit id (for diagnostics and benchmarks)."""
        return dict(self._requests)

    async def read_registers(
        self,
        unit_id: int,
        address: int,
        count: int,
        *,
        function: RegisterType = RegisterType.HOLDING,
    ) -> list[int]:
        """Read `count` consecutive 16-bit registers from `address` in one request.

        Raises `ModbusExceptionError` when the device refuses (code 1 = the function is not
        supported, 2 = an address is out of its map), or any other `PowershareDeviceError`.
        """
        _check_unit(unit_id)
        if not 1 <= count <= MAX_READ_REGISTERS:
            raise InvalidCommandError(f"count must be 1-{MAX_READ_REGISTERS}, got {count}")
        _check_address(address, count)
        method_name = (
            "read_holding_registers" if function is RegisterType.HOLDING else "read_input_registers"
        )

        def call(client: _Client) -> Awaitable[Any]:
            method: Callable[..., Awaitable[Any]] = getattr(client, method_name)
            return method(address, count=count, **_unit(unit_id))

        response = await self._execute(unit_id, int(function), address, call)
        registers = list(getattr(response, "registers", []) or [])
        if len(registers) != count:
            await self._reset_connection()
            raise DeviceUnreachableError(
                f"{self.endpoint} unit {unit_id}: asked for {count} registers at {address}, "
                f"got {len(registers)}"
            )
        return registers

    async def write_register(self, unit_id: int, address: int, value: int) -> None:
        """Write one register with function 6 (write single register)."""
        _check_unit(unit_id)
        _check_address(address, 1)
        _check_value(value)

        def call(client: _Client) -> Awaitable[Any]:
            return client.write_register(address, value, **_unit(unit_id))

        await self._execute(unit_id, 6, address, call)

    async def write_registers(self, unit_id: int, address: int, values: Sequence[int]) -> None:
        """Write consecutive registers with function 16 (write multiple registers)."""
        _check_unit(unit_id)
        if not 1 <= len(values) <= MAX_WRITE_REGISTERS:
            raise InvalidCommandError(
                f"between 1 and {MAX_WRITE_REGISTERS} values, got {len(values)}"
            )
        _check_address(address, len(values))
        for value in values:
            _check_value(value)
        payload = list(values)

        def call(client: _Client) -> Awaitable[Any]:
            return client.write_registers(address, payload, **_unit(unit_id))

        await self._execute(unit_id, 16, address, call)

    async def close(self) -> None:
        """Close the connection. The bus can still be used: it reconnects on the next request."""
        async with self._lock:
            await self._reset_connection()
            self._state = BusState.DISCONNECTED

    # -- internals --------------------------------------------------------------------------

    async def _execute(
        self,
        unit_id: int,
        function: int,
        address: int,
        call: Callable[[_Client], Awaitable[Any]],
    ) -> Any:  # a pymodbus PDU, whose classes differ between versions
        async with self._lock:
            client = await self._ensure_connected()
            await self._wait_frame_gap()
            self._requests[unit_id] += 1
            try:
                response = await self._send(client, unit_id, call)
            finally:
                self._last_frame_end = self._clock()
            if response is None:
                await self._reset_connection()
                raise DeviceUnreachableError(f"{self.endpoint} unit {unit_id}: empty answer")
            if response.isError():
                code = getattr(response, "exception_code", None)
                if code is None:
                    await self._reset_connection()
                    raise DeviceUnreachableError(
                        f"{self.endpoint} unit {unit_id}: error answer {response!r}"
                    )
                raise ModbusExceptionError(
                    int(code), function=function, unit_id=unit_id, address=address
                )
            return response

    async def _send(
        self, client: _Client, unit_id: int, call: Callable[[_Client], Awaitable[Any]]
    ) -> Any:  # a pymodbus PDU, or None
        """Put one request on the wire; turn every failure into a typed error."""
        try:
            async with asyncio.timeout(self.settings.timeout + 0.5):
                return await call(client)
        except asyncio.CancelledError:
            # The answer may still arrive; a fresh connection keeps it from being taken for
            # the answer to the next request.
            self._drop_client()
            raise
        except TimeoutError:
            await self._reset_connection()
            raise DeviceTimeoutError(
                f"{self.endpoint} unit {unit_id}: no answer within {self.settings.timeout} s"
            ) from None
        except ModbusIOException as err:
            # pymodbus' "no response" while the connection stands is a timeout.
            if client.connected:
                await self._reset_connection()
                raise DeviceTimeoutError(
                    f"{self.endpoint} unit {unit_id}: no valid answer within "
                    f"{self.settings.timeout} s"
                ) from err
            await self._connection_lost(err)
            raise DeviceUnreachableError(f"{self.endpoint}: connection lost ({err})") from err
        except Exception as err:
            # ConnectionException, OSError, or what pymodbus raises on a garbled frame (struct,
            # index, state errors): callers are promised typed errors, and the link is suspect.
            await self._connection_lost(err)
            raise DeviceUnreachableError(
                f"{self.endpoint} unit {unit_id}: {type(err).__name__}: {err}"
            ) from err

    async def _ensure_connected(self) -> _Client:
        """Return a connected client, connecting now unless the backoff forbids it."""
        if self._client is not None and self._client.connected:
            return self._client
        now = self._clock()
        if self._state is BusState.UNREACHABLE and now < self._retry_at:
            raise DeviceUnreachableError(
                f"{self.endpoint} is unreachable; next attempt in {self._retry_at - now:.1f} s"
            )
        await self._reset_connection()
        client = self._new_client()
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                connected = await client.connect()
        except Exception as err:  # noqa: BLE001  # any failure to connect is "unreachable"
            connected = False
            reason = str(err) or type(err).__name__
        else:
            reason = "connection refused or port unavailable"
        if not connected:
            with contextlib.suppress(Exception):
                client.close()
            self._connect_failed(reason)
            raise DeviceUnreachableError(f"{self.endpoint} is unreachable: {reason}")
        self._client = client
        if self._state is BusState.UNREACHABLE:
            _LOGGER.info("Modbus bus %s is reachable again", self.endpoint)
        self._state = BusState.CONNECTED
        self._failed_connects = 0
        self._retry_at = 0.0
        return client

    def _connect_failed(self, reason: str) -> None:
        self._failed_connects += 1
        delay = min(
            self.settings.backoff_initial * 2 ** (self._failed_connects - 1),
            self.settings.backoff_max,
        )
        self._retry_at = self._clock() + delay
        if self._state is not BusState.UNREACHABLE:
            _LOGGER.warning(
                "Modbus bus %s is unreachable (%s); retrying with backoff up to %s s",
                self.endpoint,
                reason,
                self.settings.backoff_max,
            )
        self._state = BusState.UNREACHABLE

    async def _connection_lost(self, err: BaseException) -> None:
        """Drop a connection that failed mid-request; the next request reconnects at once."""
        await self._reset_connection()
        if self._state is BusState.CONNECTED:
            _LOGGER.warning("Modbus bus %s lost its connection (%s)", self.endpoint, err)
        self._state = BusState.DISCONNECTED

    async def _reset_connection(self) -> None:
        if self._drop_client():
            # Let the transport finish closing before a new connection is opened.
            await asyncio.sleep(0)

    def _drop_client(self) -> bool:
        """Close the connection, if any; return whether there was one."""
        client, self._client = self._client, None
        if client is None:
            return False
        with contextlib.suppress(Exception):
            client.close()
        return True

    async def _wait_frame_gap(self) -> None:
        if not isinstance(self.endpoint, SerialEndpoint):
            return
        gap = self.settings.frame_gap
        if gap is None:
            gap = self.endpoint.frame_gap
        wait = self._last_frame_end + gap - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    def _new_client(self) -> _Client:
        # pymodbus' own retries and background reconnects are off: this class paces them.
        common: dict[str, Any] = {
            "timeout": self.settings.timeout,
            "retries": 0,
            "reconnect_delay": 0,
            "reconnect_delay_max": 0,
        }
        if isinstance(self.endpoint, TcpEndpoint):
            return AsyncModbusTcpClient(self.endpoint.host, port=self.endpoint.port, **common)
        return AsyncModbusSerialClient(
            self.endpoint.port,
            baudrate=self.endpoint.baudrate,
            parity=self.endpoint.parity,
            stopbits=self.endpoint.stopbits,
            bytesize=self.endpoint.bytesize,
            **common,
        )


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


def _check_unit(unit_id: int) -> None:
    if not 0 <= unit_id <= _MAX_UNIT_ID:
        raise InvalidCommandError(f"unit id must be 0-{_MAX_UNIT_ID}, got {unit_id}")


def _check_address(address: int, count: int) -> None:
    if address < 0 or address + count - 1 > _MAX_ADDRESS:
        raise InvalidCommandError(f"registers {address}..{address + count - 1} are outside 0-65535")


def _check_value(value: int) -> None:
    if not 0 <= value <= _MAX_REGISTER_VALUE:
        raise InvalidCommandError(f"a register holds 0-65535, got {value}")


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
