"""What the Modbus protocol itself allows: the read tables, request sizes and value ranges.

The bus checks every argument against these before anything is sent, so a caller's mistake
raises `InvalidCommandError` at once instead of a Modbus exception, or a garbled frame, later.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from custom_components.powershare.devices.errors import InvalidCommandError

MAX_READ_REGISTERS: Final = 125
"""The most registers one FC3/FC4 request may read (Modbus specification)."""
MAX_WRITE_REGISTERS: Final = 123
"""The most registers one FC16 request may write (Modbus specification)."""
_MAX_UNIT_ID: Final = 247
_MAX_ADDRESS: Final = 0xFFFF
_MAX_REGISTER_VALUE: Final = 0xFFFF


class RegisterType(IntEnum):
    """Which register table a read uses; the value is the Modbus function code."""

    HOLDING = 3
    INPUT = 4


def check_unit(unit_id: int) -> None:
    """Refuse a unit id outside 0-247 (248-255 are reserved by the specification)."""
    if not 0 <= unit_id <= _MAX_UNIT_ID:
        raise InvalidCommandError(f"unit id must be 0-{_MAX_UNIT_ID}, got {unit_id}")


def check_address(address: int, count: int) -> None:
    """Refuse a run of `count` registers from `address` that leaves the 16-bit address space."""
    if address < 0 or address + count - 1 > _MAX_ADDRESS:
        raise InvalidCommandError(f"registers {address}..{address + count - 1} are outside 0-65535")


def check_value(value: int) -> None:
    """Refuse a value that does not fit one 16-bit register."""
    if not 0 <= value <= _MAX_REGISTER_VALUE:
        raise InvalidCommandError(f"a register holds 0-65535, got {value}")


def check_read_count(count: int) -> None:
    """Refuse a read of fewer than 1 or more than `MAX_READ_REGISTERS` registers."""
    if not 1 <= count <= MAX_READ_REGISTERS:
        raise InvalidCommandError(f"count must be 1-{MAX_READ_REGISTERS}, got {count}")


def check_write_count(count: int) -> None:
    """Refuse a write of fewer than 1 or more than `MAX_WRITE_REGISTERS` registers."""
    if not 1 <= count <= MAX_WRITE_REGISTERS:
        raise InvalidCommandError(f"between 1 and {MAX_WRITE_REGISTERS} values, got {count}")
