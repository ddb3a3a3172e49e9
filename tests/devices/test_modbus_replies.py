"""Replies that do not answer their request are refused, on every pymodbus version.

The device here is a raw Modbus TCP server on loopback (MBAP header and PDU written by hand,
so it can answer wrongly in ways a real server never would on purpose): it answers each request
correctly, then `spoil` changes the reply the way a faulty device or gateway does.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
)
from custom_components.powershare.devices.modbus import (
    BusSettings,
    ModbusBus,
    RegisterType,
    TcpEndpoint,
)
from custom_components.powershare.devices.modbus.replies import Request, mismatch

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

FAST = BusSettings(timeout=0.5, connect_timeout=1.0, backoff_initial=0.0, backoff_max=0.0)
REGISTERS = [100 + address for address in range(16)]

type Frame = tuple[int, int, bytes]
"""Transaction id, unit id, PDU."""


def correct_reply(frame: Frame) -> Frame:
    """Answer FC3/FC4 reads from REGISTERS and echo FC6/FC16 writes, as a device does."""
    tid, unit, pdu = frame
    function = pdu[0]
    if function in (3, 4):
        address, count = struct.unpack(">HH", pdu[1:5])
        values = REGISTERS[address : address + count]
        return tid, unit, struct.pack(f">BB{count}H", function, 2 * count, *values)
    return tid, unit, pdu[:5]  # FC6: address and value; FC16: address and count


class RawModbusDevice:
    """A Modbus TCP device that answers through `spoil` (identity by default)."""

    def __init__(self) -> None:
        self.spoil: Callable[[Frame], Frame] = lambda frame: frame
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                tid, unit, reply = self.spoil(correct_reply((tid, unit, pdu)))
                writer.write(struct.pack(">HHHB", tid, 0, len(reply) + 1, unit) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def device() -> AsyncIterator[tuple[RawModbusDevice, ModbusBus]]:
    raw = RawModbusDevice()
    port = await raw.start()
    bus = ModbusBus(TcpEndpoint("127.0.0.1", port), FAST)
    yield raw, bus
    await bus.close()
    await raw.stop()


async def test_a_correct_device_is_read_and_written(
    device: tuple[RawModbusDevice, ModbusBus],
) -> None:
    _, bus = device
    assert await bus.read_registers(1, 2, 3) == REGISTERS[2:5]
    assert await bus.read_registers(1, 0, 2, function=RegisterType.INPUT) == REGISTERS[:2]
    await bus.write_register(1, 7, 42)
    await bus.write_registers(1, 3, [1, 2, 3])


async def test_an_fc4_reply_to_an_fc3_request_is_refused(
    device: tuple[RawModbusDevice, ModbusBus],
) -> None:
    raw, bus = device
    raw.spoil = lambda frame: (frame[0], frame[1], bytes([4]) + frame[2][1:])
    with pytest.raises(DeviceUnreachableError, match="function 4 reply to a function 3"):
        await bus.read_registers(1, 0, 4)


async def test_a_reply_to_another_transaction_is_refused(
    device: tuple[RawModbusDevice, ModbusBus],
) -> None:
    # pymodbus 3.8 does not compare the transaction id: the bus does (3.10+ raise themselves).
    raw, bus = device
    raw.spoil = lambda frame: ((frame[0] + 1) % 0x10000, frame[1], frame[2])
    with pytest.raises((DeviceUnreachableError, DeviceTimeoutError)):
        await bus.read_registers(1, 0, 4)
    raw.spoil = lambda frame: frame
    assert await bus.read_registers(1, 0, 4) == REGISTERS[:4]  # a fresh connection works


@pytest.mark.parametrize(
    ("spoiled", "write"),
    [
        ("value", "single"),
        ("address", "single"),
        ("count", "multiple"),
        ("address", "multiple"),
    ],
)
async def test_a_write_echo_that_differs_is_refused(
    device: tuple[RawModbusDevice, ModbusBus], spoiled: str, write: str
) -> None:
    raw, bus = device

    def spoil(frame: Frame) -> Frame:
        tid, unit, pdu = frame
        address, second = struct.unpack(">HH", pdu[1:5])
        if spoiled == "address":
            address += 1
        else:
            second += 1
        return tid, unit, struct.pack(">BHH", pdu[0], address, second)

    raw.spoil = spoil
    written = (
        bus.write_register(1, 7, 42) if write == "single" else bus.write_registers(1, 3, [1, 2, 3])
    )
    with pytest.raises(DeviceUnreachableError, match="an echo of"):
        await written


def test_the_rules_without_a_device() -> None:
    class Reply:
        function_code = 6
        transaction_id = 9
        address = 7
        registers = [42]  # noqa: RUF012 - a stand-in for a pymodbus PDU

    assert mismatch(Request(6, 7, 42), Reply(), 9) is None
    assert mismatch(Request(6, 7, 42), Reply(), None) is None  # RTU: no transaction id
    assert mismatch(Request(6, 7, 42), Reply(), 8) == "the reply to transaction 9 instead of 8"
    assert mismatch(Request(3, 7), Reply(), 9) == "a function 6 reply to a function 3 request"
    assert mismatch(Request(6, 7, 43), Reply(), 9) == "an echo of 42 at 7 for 43 written at 7"
