"""The pymodbus side of the emulators: datastore adapters that forward requests to the units.

Works with pymodbus 3.8 to the newest (tested with 3.8.6, 3.11.2 and 3.16.1): the datastore
base class was renamed at 3.10, exception codes can be returned from a datastore from 3.10 (before,
they travel through the server's PDU trace hook), and from 3.14 the server asks the server
context itself with the unit id; each difference is detected once at import.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import TYPE_CHECKING, Any, Final

import pymodbus.constants
import pymodbus.datastore
import pymodbus.exceptions
from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse
from pymodbus.server import ModbusSerialServer

from .units import (
    SERVER_FAILURE,
    WRITE_MULTIPLE,
    WRITE_SINGLE,
    DropConnection,
    ModbusReply,
    ServedUnit,
)

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
    from collections.abc import Callable, Mapping, Sequence


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
        self._units = units if isinstance(units, dict) else dict(units)
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
    served = units if isinstance(units, dict) else dict(units)  # a dict subclass stays itself
    return _ServerContext(**{keyword: served, "single": False})
