"""Register-map vocabulary for Modbus meters: encodings, fields, block planning and decoding.

A Modbus meter is described as data (see `modbus_models.py`); this module turns such a
description into the fewest block reads and decodes the registers that come back.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from custom_components.powershare.devices.errors import ImplausibleValueError
from custom_components.powershare.devices.modbus import MAX_READ_REGISTERS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


class Encoding(StrEnum):
    """How a value is laid out in 16-bit registers (A = most significant byte)."""

    FLOAT32_ABCD = "float32_abcd"
    """IEEE-754 single, high word first (Eastron, Siemens, Inepro, Chint)."""
    FLOAT32_CDAB = "float32_cdab"
    """IEEE-754 single, low word first (Shelly Pro 3EM)."""
    FLOAT64_ABCD = "float64_abcd"
    """IEEE-754 double, high word first (Siemens PAC energy counters)."""
    INT32_CDAB = "int32_cdab"
    """Signed 32-bit, low word first (Carlo Gavazzi)."""
    UINT32_ABCD = "uint32_abcd"
    """Unsigned 32-bit, high word first (ABB)."""
    INT32_ABCD = "int32_abcd"
    """Signed 32-bit, high word first (ABB)."""
    UINT64_ABCD = "uint64_abcd"
    """Unsigned 64-bit, high word first (ABB energy counters)."""
    UINT16 = "uint16"
    """Unsigned 16-bit, one register (Acrel voltages and currents)."""

    @property
    def register_count(self) -> int:
        """How many 16-bit registers one value occupies."""
        return _REGISTER_COUNTS[self]


_REGISTER_COUNTS: dict[Encoding, int] = {
    Encoding.FLOAT32_ABCD: 2,
    Encoding.FLOAT32_CDAB: 2,
    Encoding.FLOAT64_ABCD: 4,
    Encoding.INT32_CDAB: 2,
    Encoding.UINT32_ABCD: 2,
    Encoding.INT32_ABCD: 2,
    Encoding.UINT64_ABCD: 4,
    Encoding.UINT16: 1,
}

# The raw patterns that mean "not available" on meters that use them (ABB: all ones for
# unsigned values, the largest positive value for signed ones). Floats use NaN instead.
_NOT_AVAILABLE: dict[Encoding, int] = {
    Encoding.UINT32_ABCD: 0xFFFF_FFFF,
    Encoding.INT32_ABCD: 0x7FFF_FFFF,
    Encoding.INT32_CDAB: 0x7FFF_FFFF,
    Encoding.UINT64_ABCD: 0xFFFF_FFFF_FFFF_FFFF,
    Encoding.UINT16: 0xFFFF,
}


@dataclass(frozen=True, slots=True)
class RegisterField:
    """One value in a register map: where it is, how it is encoded, how to scale it."""

    address: int
    """PDU address (0-based, as on the wire)."""
    encoding: Encoding
    scale: float = 1.0
    """Multiply the decoded number by this to get V, A, W or kWh."""

    @property
    def count(self) -> int:
        """Number of registers the field occupies."""
        return self.encoding.register_count

    @property
    def end(self) -> int:
        """The first address after the field."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class RegisterBlock:
    """A contiguous range read with one request."""

    address: int
    count: int

    @property
    def end(self) -> int:
        """The first address after the block."""
        return self.address + self.count


def plan_blocks(
    fields: Iterable[RegisterField],
    *,
    max_block: int = MAX_READ_REGISTERS,
    max_gap: int | None = None,
) -> tuple[RegisterBlock, ...]:
    """Group fields into the fewest contiguous reads.

    Fields are merged into the current block while the block stays within `max_block`
    registers and the unread gap before the next field is at most `max_gap` (None: any gap).
    Some meters answer "illegal data address" when a read spans unmapped registers; their
    table entry sets a small `max_gap`.
    """
    ordered = sorted(fields, key=lambda field: field.address)
    blocks: list[RegisterBlock] = []
    for field in ordered:
        if field.count > max_block:
            raise ValueError(f"field at {field.address} is larger than a block")
        if blocks:
            last = blocks[-1]
            gap = field.address - last.end
            span_end = max(last.end, field.end)
            if span_end - last.address <= max_block and (max_gap is None or gap <= max_gap):
                blocks[-1] = RegisterBlock(last.address, span_end - last.address)
                continue
        blocks.append(RegisterBlock(field.address, field.count))
    return tuple(blocks)


def _raw_integer(words: Sequence[int], encoding: Encoding) -> int:
    """Assemble the words of an integer in the encoding's word order (unsigned)."""
    ordered = list(reversed(words)) if encoding is Encoding.INT32_CDAB else list(words)
    value = 0
    for word in ordered:
        value = (value << 16) | (word & 0xFFFF)
    return value


def decode(words: Sequence[int], encoding: Encoding, *, not_available_marker: bool) -> float:
    """Decode one value from its registers.

    With `not_available_marker`, the meter's "not available" pattern raises
    ImplausibleValueError instead of being read as a huge number (or as zero).
    """
    if len(words) != encoding.register_count:
        raise ValueError(f"{encoding} needs {encoding.register_count} registers")
    if encoding in {Encoding.FLOAT32_ABCD, Encoding.FLOAT32_CDAB, Encoding.FLOAT64_ABCD}:
        ordered = list(reversed(words)) if encoding is Encoding.FLOAT32_CDAB else list(words)
        packed = struct.pack(f">{len(ordered)}H", *ordered)
        return float(struct.unpack(">f" if len(ordered) == 2 else ">d", packed)[0])  # noqa: PLR2004 - 2 words make a float32
    raw = _raw_integer(words, encoding)
    if not_available_marker and raw == _NOT_AVAILABLE[encoding]:
        raise ImplausibleValueError(f"the meter reports 'not available' ({raw:#x})")
    if encoding in {Encoding.INT32_CDAB, Encoding.INT32_ABCD} and raw & 0x8000_0000:
        raw -= 1 << 32
    return float(raw)


def encode(value: float, encoding: Encoding) -> list[int]:
    """Encode a value as the device would (the inverse of `decode`; used by the emulators)."""
    if encoding in {Encoding.FLOAT32_ABCD, Encoding.FLOAT32_CDAB}:
        high, low = struct.unpack(">2H", struct.pack(">f", value))
        return [low, high] if encoding is Encoding.FLOAT32_CDAB else [high, low]
    if encoding is Encoding.FLOAT64_ABCD:
        return list(struct.unpack(">4H", struct.pack(">d", value)))
    if math.isnan(value):
        # Integer encodings cannot carry NaN: emulate the device's "not available" pattern.
        raw = _NOT_AVAILABLE[encoding]
    else:
        raw = round(value)
        bits = 16 * encoding.register_count
        raw &= (1 << bits) - 1
    words = [(raw >> (16 * index)) & 0xFFFF for index in reversed(range(encoding.register_count))]
    return list(reversed(words)) if encoding is Encoding.INT32_CDAB else words


def read_field(
    field: RegisterField,
    registers: Mapping[int, int],
    *,
    not_available_marker: bool,
) -> float:
    """Decode and scale a field from a map of address -> register value."""
    try:
        words = [registers[address] for address in range(field.address, field.end)]
    except KeyError as err:
        raise ValueError(f"register {err} was not read") from err
    try:
        value = decode(words, field.encoding, not_available_marker=not_available_marker)
    except ImplausibleValueError as err:
        raise ImplausibleValueError(f"register {field.address}: {err}") from err
    return value * field.scale


def decode_ascii(words: Sequence[int]) -> str:
    """Decode text stored two characters per register (high byte first), without padding."""
    raw = b"".join((word & 0xFFFF).to_bytes(2, "big") for word in words)
    return raw.rstrip(b"\0 ").decode("ascii", errors="replace")


def encode_ascii(text: str, count: int) -> list[int]:
    """Encode text into `count` registers, zero padded (the inverse of `decode_ascii`)."""
    raw = text.encode("ascii")[: 2 * count].ljust(2 * count, b"\0")
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
