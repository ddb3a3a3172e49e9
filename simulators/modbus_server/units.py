"""What an emulated Modbus unit is: the `ServedUnit` protocol and `RegisterUnit` with its faults.

A unit answers reads and writes of one unit id on a bus; `RegisterUnit` serves two register
tables (holding and input) and injects the faults of a `Faults`, settable at any time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

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
