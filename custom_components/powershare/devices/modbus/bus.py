"""`ModbusBus`: one Modbus connection and its lock, shared by every device on that bus.

What the bus guarantees:

- Requests on one bus never overlap (one `asyncio.Lock`); on serial a gap of at least 3.5
  character times separates frames.
- Each request is bounded by `BusSettings.timeout`; a timeout raises `DeviceTimeoutError` and
  resets the connection, so a late answer can never be taken for the answer to the next request.
- A failed connection attempt starts an exponential backoff (`backoff_initial` doubling up to
  `backoff_max`); until it expires requests fail at once with `DeviceUnreachableError` without
  touching the wire, so an outage never turns into a request storm. A connection that drops
  while it was working is retried once at the next request, then the backoff applies.
- Every reply must answer its request (`replies.mismatch`: function code, TCP transaction id,
  the echo of a write), on every pymodbus version; one that does not drops the connection.
- Only `PowershareDeviceError` subclasses escape (see `errors.py`); pymodbus exceptions do not.
  Arguments out of the protocol's ranges (unit id, address, count, value) raise
  `InvalidCommandError` before anything is sent.
- The bus logs once when it goes down and once when it comes back, never per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from pymodbus.exceptions import ModbusIOException

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ModbusExceptionCode,
    ModbusExceptionError,
    UnitNotAnsweringError,
)

from .client import Client, new_client, unit
from .endpoints import BusSettings, SerialEndpoint, TcpEndpoint
from .protocol import (
    RegisterType,
    check_address,
    check_read_count,
    check_unit,
    check_value,
    check_write_count,
)
from .replies import WRITE_MULTIPLE, WRITE_SINGLE, Request, mismatch

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from .endpoints import Endpoint

# The package's name, not this module's: log records keep the logger name they had before the
# transport was split into modules, so users' logger settings and log filters still match.
_LOGGER = logging.getLogger(__package__)

type _Call = Callable[[Client], Awaitable[Any]]
"""One request, given the connected client; returns a pymodbus PDU (classes differ by version)."""

GATEWAY_CODES: Final = frozenset(
    {
        ModbusExceptionCode.GATEWAY_PATH_UNAVAILABLE,
        ModbusExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND,
    }
)
"""Exceptions a gateway answers for a unit behind it that does not answer (or does not exist)."""


class BusState(IntEnum):
    """Connection state of a bus, as last observed."""

    DISCONNECTED = 0
    CONNECTED = 1
    UNREACHABLE = 2


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
        self._client: Client | None = None
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
        check_unit(unit_id)
        check_read_count(count)
        check_address(address, count)
        method_name = (
            "read_holding_registers" if function is RegisterType.HOLDING else "read_input_registers"
        )

        def call(client: Client) -> Awaitable[Any]:
            method: Callable[..., Awaitable[Any]] = getattr(client, method_name)
            return method(address, count=count, **unit(unit_id))

        response = await self._execute(unit_id, Request(int(function), address), call)
        registers = list(getattr(response, "registers", []) or [])
        if len(registers) != count:
            # A short answer means the framing is off: start again on a fresh connection.
            await self._reset_connection()
            raise DeviceUnreachableError(
                f"{self.endpoint} unit {unit_id}: asked for {count} registers at {address}, "
                f"got {len(registers)}"
            )
        return registers

    async def write_register(self, unit_id: int, address: int, value: int) -> None:
        """Write one register with function 6 (write single register)."""
        check_unit(unit_id)
        check_address(address, 1)
        check_value(value)

        def call(client: Client) -> Awaitable[Any]:
            return client.write_register(address, value, **unit(unit_id))

        await self._execute(unit_id, Request(WRITE_SINGLE, address, value), call)

    async def write_registers(self, unit_id: int, address: int, values: Sequence[int]) -> None:
        """Write consecutive registers with function 16 (write multiple registers)."""
        check_unit(unit_id)
        check_write_count(len(values))
        check_address(address, len(values))
        for value in values:
            check_value(value)
        payload = list(values)

        def call(client: Client) -> Awaitable[Any]:
            return client.write_registers(address, payload, **unit(unit_id))

        await self._execute(unit_id, Request(WRITE_MULTIPLE, address, len(payload)), call)

    async def close(self) -> None:
        """Close the connection. The bus can still be used: it reconnects on the next request."""
        async with self._lock:
            await self._reset_connection()
            self._state = BusState.DISCONNECTED

    # -- one request --------------------------------------------------------------------------

    async def _execute(self, unit_id: int, request: Request, call: _Call) -> Any:
        """Send one request under the lock; return the answer or raise a typed error."""
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
                    # An error answer that is no Modbus exception: the link is suspect.
                    await self._reset_connection()
                    raise DeviceUnreachableError(
                        f"{self.endpoint} unit {unit_id}: error answer {response!r}"
                    )
                if int(code) in GATEWAY_CODES:
                    raise UnitNotAnsweringError(
                        f"{self.endpoint} unit {unit_id}: the gateway says the unit does not "
                        f"answer (Modbus exception {int(code)})"
                    )
                raise ModbusExceptionError(
                    int(code), function=request.function, unit_id=unit_id, address=request.address
                )
            problem = mismatch(request, response, self._transaction_id(client))
            if problem is not None:
                await self._reset_connection()
                raise DeviceUnreachableError(f"{self.endpoint} unit {unit_id}: {problem}")
            return response

    def _transaction_id(self, client: Client) -> int | None:
        """Return the id the last request went out with (None on serial: RTU has none)."""
        if not isinstance(self.endpoint, TcpEndpoint):
            return None
        # pymodbus 3.8-3.11 number requests in the client's transaction manager; the lock
        # keeps ours the last one sent.
        sent = getattr(getattr(client, "ctx", None), "next_tid", None)
        return sent if isinstance(sent, int) else None

    async def _send(self, client: Client, unit_id: int, call: _Call) -> Any:
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
            # Connected when it was sent, and the client gave up on the reply (an answer it
            # could not decode, as a server gives for a unit it does not serve): the host
            # answered, the unit did not.
            await self._connection_lost(err)
            raise UnitNotAnsweringError(
                f"{self.endpoint} unit {unit_id}: no usable answer, connection dropped ({err})"
            ) from err
        except Exception as err:
            # ConnectionException, OSError, or what pymodbus raises on a garbled frame (struct,
            # index, state errors): callers are promised typed errors, and the link is suspect.
            await self._connection_lost(err)
            raise DeviceUnreachableError(
                f"{self.endpoint} unit {unit_id}: {type(err).__name__}: {err}"
            ) from err

    async def _wait_frame_gap(self) -> None:
        """On serial, keep the line silent long enough for every device to see a frame end."""
        if not isinstance(self.endpoint, SerialEndpoint):
            return
        gap = self.settings.frame_gap
        if gap is None:
            gap = self.endpoint.frame_gap
        wait = self._last_frame_end + gap - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    # -- the connection and its backoff -------------------------------------------------------

    async def _ensure_connected(self) -> Client:
        """Return a connected client, connecting now unless the backoff forbids it."""
        if self._client is not None and self._client.connected:
            return self._client
        now = self._clock()
        if self._state is BusState.UNREACHABLE and now < self._retry_at:
            raise DeviceUnreachableError(
                f"{self.endpoint} is unreachable; next attempt in {self._retry_at - now:.1f} s"
            )
        await self._reset_connection()
        client = new_client(self.endpoint, self.settings)
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
        self._connected(client)
        return client

    def _connected(self, client: Client) -> None:
        """Adopt a fresh connection and end the backoff."""
        self._client = client
        if self._state is BusState.UNREACHABLE:
            _LOGGER.info("Modbus bus %s is reachable again", self.endpoint)
        self._state = BusState.CONNECTED
        self._failed_connects = 0
        self._retry_at = 0.0

    def _connect_failed(self, reason: str) -> None:
        """Schedule the next attempt: `backoff_initial` doubling per failure, up to the cap."""
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
        """Close the connection, if any, and let the transport finish closing."""
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
