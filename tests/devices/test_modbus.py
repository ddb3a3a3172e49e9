"""The Modbus transport against real pymodbus servers on 127.0.0.1 and on a pty pair."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import pymodbus
import pytest

from custom_components.powershare.devices import modbus
from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    InvalidCommandError,
    ModbusExceptionCode,
    ModbusExceptionError,
    PowershareDeviceError,
    UnitNotAnsweringError,
)
from custom_components.powershare.devices.modbus import (
    BusSettings,
    BusState,
    ModbusBus,
    ModbusBusRegistry,
    RegisterType,
    SerialEndpoint,
    TcpEndpoint,
)
from custom_components.powershare.devices.modbus import bus as bus_module
from simulators.modbus_server import EmulatorServer, RegisterUnit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from simulators.modbus_server import PtyPair

FAST = BusSettings(timeout=0.3, connect_timeout=1.0, backoff_initial=0.2, backoff_max=0.8)


class FakeClock:
    """A monotonic clock the test moves by hand (for the backoff arithmetic)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_unit(base: int) -> RegisterUnit:
    return RegisterUnit(
        holding={address: base + address for address in range(20)},
        input_registers={address: base + 100 + address for address in range(20)},
    )


@pytest.fixture
def unit() -> RegisterUnit:
    return make_unit(1000)


@pytest.fixture
async def tcp_server(unit: RegisterUnit, tcp_port: int) -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer({1: unit, 2: make_unit(2000)})
    await server.start_tcp(tcp_port)
    yield server
    await server.stop()


@pytest.fixture
async def tcp_bus(tcp_server: EmulatorServer, tcp_port: int) -> AsyncIterator[ModbusBus]:
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    yield bus
    await bus.close()


def test_unit_keyword_follows_the_installed_pymodbus() -> None:
    major, minor = (int(part) for part in pymodbus.__version__.split(".")[:2])
    expected = "device_id" if (major, minor) >= (3, 10) else "slave"
    assert expected == modbus._UNIT_KEYWORD


async def test_block_reads_of_both_tables(tcp_bus: ModbusBus) -> None:
    assert await tcp_bus.read_registers(1, 2, 5) == [1002, 1003, 1004, 1005, 1006]
    assert await tcp_bus.read_registers(1, 0, 3, function=RegisterType.INPUT) == [1100, 1101, 1102]
    assert await tcp_bus.read_registers(2, 0, 2) == [2000, 2001]
    assert tcp_bus.requests_sent == {1: 2, 2: 1}
    assert tcp_bus.state is BusState.CONNECTED


async def test_writes_single_and_multiple(tcp_bus: ModbusBus, unit: RegisterUnit) -> None:
    await tcp_bus.write_register(1, 4, 42)
    await tcp_bus.write_registers(1, 6, [7, 8, 9])
    assert [unit.holding[a] for a in (4, 6, 7, 8)] == [42, 7, 8, 9]
    assert [request[0] for request in unit.requests] == [6, 16]
    assert await tcp_bus.read_registers(1, 4, 5) == [42, 1005, 7, 8, 9]


@pytest.mark.parametrize(
    "code",
    [
        ModbusExceptionCode.ILLEGAL_FUNCTION,
        ModbusExceptionCode.ILLEGAL_DATA_VALUE,
        ModbusExceptionCode.SERVER_DEVICE_FAILURE,
        ModbusExceptionCode.SERVER_DEVICE_BUSY,
    ],
)
async def test_exception_codes_become_typed_errors(
    tcp_bus: ModbusBus, unit: RegisterUnit, code: ModbusExceptionCode
) -> None:
    unit.faults.exception_code = code
    with pytest.raises(ModbusExceptionError) as caught:
        await tcp_bus.read_registers(1, 0, 4)
    assert caught.value.code == code
    assert caught.value.function == 3
    assert caught.value.unit_id == 1
    with pytest.raises(ModbusExceptionError) as caught:
        await tcp_bus.write_register(1, 0, 1)
    assert caught.value.code == code
    assert caught.value.function == 6
    unit.faults.clear()
    assert await tcp_bus.read_registers(1, 0, 1) == [1000]


async def test_reading_outside_the_map_is_an_illegal_address(tcp_bus: ModbusBus) -> None:
    with pytest.raises(ModbusExceptionError) as caught:
        await tcp_bus.read_registers(1, 15, 10)
    assert caught.value.code == ModbusExceptionCode.ILLEGAL_DATA_ADDRESS
    assert not caught.value.is_illegal_function


async def test_timeout_then_recovery_without_stale_answers(
    tcp_bus: ModbusBus, unit: RegisterUnit
) -> None:
    unit.faults.delay = 0.6
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError):
        await tcp_bus.read_registers(1, 0, 2)
    assert time.monotonic() - started < 0.3 + 0.5
    unit.faults.delay = 0.0
    # The late answer to the first request (registers 0-1) must not be taken for this one.
    assert await tcp_bus.read_registers(1, 10, 3) == [1010, 1011, 1012]
    await asyncio.sleep(0.5)
    assert await tcp_bus.read_registers(1, 5, 1) == [1005]


async def test_dropped_connection_is_reopened(
    tcp_bus: ModbusBus, tcp_server: EmulatorServer
) -> None:
    assert await tcp_bus.read_registers(1, 0, 1) == [1000]
    assert tcp_server.drop_connections() == 1
    await asyncio.sleep(0.05)
    results: list[list[int] | PowershareDeviceError] = []
    for _ in range(3):
        try:
            results.append(await tcp_bus.read_registers(1, 0, 1))
        except PowershareDeviceError as err:
            results.append(err)
    # At most the request in flight when the connection died fails; then the bus reconnects.
    assert results[-2:] == [[1000], [1000]]
    assert all(isinstance(r, DeviceUnreachableError) for r in results if not isinstance(r, list))


async def test_outage_backoff_and_recovery_logged_once(
    tcp_server: EmulatorServer, tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    settings = BusSettings(timeout=0.3, connect_timeout=1.0, backoff_initial=1.0, backoff_max=4.0)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), settings, clock=clock)
    caplog.set_level(logging.INFO, logger=modbus.__name__)
    assert await bus.read_registers(1, 0, 1) == [1000]
    await tcp_server.stop()

    with pytest.raises(DeviceUnreachableError):  # the connection dies mid-request
        await bus.read_registers(1, 0, 1)
    delays = []
    for _ in range(5):
        with pytest.raises(DeviceUnreachableError):  # a real connection attempt, refused
            await bus.read_registers(1, 0, 1)
        assert bus.state is BusState.UNREACHABLE
        delays.append(bus.retry_at - clock.now)
        # Until the backoff expires, requests fail at once, without touching the wire.
        started = time.monotonic()
        for _ in range(50):
            with pytest.raises(DeviceUnreachableError, match="next attempt"):
                await bus.read_registers(1, 0, 1)
        assert time.monotonic() - started < 0.5
        clock.now = bus.retry_at
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0]

    await tcp_server.restart()
    assert await bus.read_registers(1, 0, 1) == [1000]
    assert bus.state is BusState.CONNECTED
    assert bus.retry_at == 0.0
    messages = [record.getMessage() for record in caplog.records if record.name == modbus.__name__]
    # One line per state change: connected -> (lost ->) unreachable -> reachable again,
    # however many requests failed in between. Whether the loss is seen mid-request or at the
    # next connection attempt depends on when the closed socket is noticed.
    assert sum("lost its connection" in m for m in messages) <= 1
    assert sum("is unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    await bus.close()


async def test_nothing_listening_is_unreachable(tcp_port: int) -> None:
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    with pytest.raises(DeviceUnreachableError):
        await bus.read_registers(1, 0, 1)
    assert bus.state is BusState.UNREACHABLE
    await bus.close()


async def test_missing_serial_port_is_unreachable(tmp_path: object) -> None:
    bus = ModbusBus(SerialEndpoint(f"{tmp_path}/no-such-tty"), FAST)
    with pytest.raises(DeviceUnreachableError):
        await bus.read_registers(1, 0, 1)
    await bus.close()


async def test_concurrent_requests_are_serialised(tcp_bus: ModbusBus) -> None:
    async def read(unit_id: int, address: int) -> tuple[int, int, list[int]]:
        return unit_id, address, await tcp_bus.read_registers(unit_id, address, 2)

    results = await asyncio.gather(*(read(1 + i % 2, i % 15) for i in range(30)))
    for unit_id, address, values in results:
        base = 1000 * unit_id
        assert values == [base + address, base + address + 1]
    assert sum(tcp_bus.requests_sent.values()) == 30


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("read_registers", (1, 0, 0)),
        ("read_registers", (1, 0, 126)),
        ("read_registers", (248, 0, 1)),
        ("read_registers", (1, 65535, 2)),
        ("write_register", (1, 0, 65536)),
        ("write_register", (1, -1, 1)),
        ("write_registers", (1, 0, [])),
        ("write_registers", (1, 0, [1, -2])),
    ],
)
async def test_invalid_arguments_never_reach_the_wire(
    tcp_bus: ModbusBus, unit: RegisterUnit, call: str, args: tuple[object, ...]
) -> None:
    with pytest.raises(InvalidCommandError):
        await getattr(tcp_bus, call)(*args)
    assert not unit.requests
    assert tcp_bus.requests_sent == {}


async def test_registry_shares_one_bus_per_endpoint_and_closes_with_the_last_user(
    tcp_server: EmulatorServer, tcp_port: int
) -> None:
    registry = ModbusBusRegistry()
    endpoint = TcpEndpoint("127.0.0.1", tcp_port)
    first = await registry.acquire(endpoint, FAST)
    second = await registry.acquire(TcpEndpoint("127.0.0.1", tcp_port))
    other = await registry.acquire(TcpEndpoint("127.0.0.1", tcp_port + 1), FAST)
    assert first is second
    assert other is not first
    assert registry.users(endpoint) == 2
    assert await first.read_registers(1, 0, 1) == [1000]
    await registry.release(first)
    assert first.state is BusState.CONNECTED  # still used by the second device
    await registry.release(second)
    assert (registry.users(endpoint), first.state) == (0, BusState.DISCONNECTED)
    third = await registry.acquire(endpoint, FAST)
    assert third is not first
    await registry.close_all()
    assert registry.users(TcpEndpoint("127.0.0.1", tcp_port + 1)) == 0


async def test_rtu_on_a_pty_two_units_one_bus(pty_pair: PtyPair) -> None:
    first, second = make_unit(1000), make_unit(2000)
    server = EmulatorServer({1: first, 7: second})
    await server.start_rtu(pty_pair.server_port, baudrate=9600)
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port, baudrate=9600), FAST)
    try:
        for _ in range(3):
            assert await bus.read_registers(1, 0, 3) == [1000, 1001, 1002]
            assert await bus.read_registers(7, 0, 2, function=RegisterType.INPUT) == [2100, 2101]
        await bus.write_registers(7, 3, [5, 6])
        assert second.holding[3] == 5
        assert second.holding[4] == 6
        first.faults.exception_code = ModbusExceptionCode.ILLEGAL_DATA_VALUE
        with pytest.raises(ModbusExceptionError) as caught:
            await bus.read_registers(1, 0, 3)
        assert caught.value.code == ModbusExceptionCode.ILLEGAL_DATA_VALUE
        assert await bus.read_registers(7, 0, 1) == [2000]
        assert bus.requests_sent == {1: 4, 7: 5}
    finally:
        await bus.close()
        await server.stop()


async def test_rtu_frames_keep_the_gap(pty_pair: PtyPair) -> None:
    server = EmulatorServer({1: make_unit(0)})
    await server.start_rtu(pty_pair.server_port)
    gap = 0.05
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port), BusSettings(timeout=0.5, frame_gap=gap))
    try:
        await bus.read_registers(1, 0, 1)
        started = time.monotonic()
        for _ in range(5):
            await bus.read_registers(1, 0, 1)
        assert time.monotonic() - started >= 5 * gap
    finally:
        await bus.close()
        await server.stop()


def test_serial_frame_gap_is_three_and_a_half_characters() -> None:
    assert SerialEndpoint("/dev/x", baudrate=9600).frame_gap == pytest.approx(3.5 * 11 / 9600)
    assert SerialEndpoint("/dev/x", baudrate=115200).frame_gap == pytest.approx(0.00175)


async def test_rtu_timeout_when_the_unit_is_silent(pty_pair: PtyPair) -> None:
    unit = make_unit(0)
    server = EmulatorServer({1: unit})
    await server.start_rtu(pty_pair.server_port)
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port), FAST)
    try:
        with pytest.raises(DeviceTimeoutError):
            await bus.read_registers(9, 0, 1)  # nobody answers unit 9
        assert await bus.read_registers(1, 0, 1) == [0]
    finally:
        await bus.close()
        await server.stop()


async def test_a_unit_can_drop_the_connection_instead_of_answering(
    tcp_bus: ModbusBus, unit: RegisterUnit
) -> None:
    assert await tcp_bus.read_registers(1, 0, 1) == [1000]
    unit.faults.drop_connection = True
    with pytest.raises(DeviceUnreachableError):
        await tcp_bus.read_registers(1, 0, 1)
    assert not unit.faults.drop_connection
    assert await tcp_bus.read_registers(1, 1, 1) == [1001]  # reconnected at once


async def test_registry_keys_serial_buses_by_port() -> None:
    registry = ModbusBusRegistry()
    first = await registry.acquire(SerialEndpoint("/dev/ttyX", baudrate=9600))
    assert await registry.acquire(SerialEndpoint("/dev/ttyX", baudrate=9600)) is first
    with pytest.raises(InvalidCommandError, match="same line settings"):
        await registry.acquire(SerialEndpoint("/dev/ttyX", baudrate=19200))
    assert registry.users(SerialEndpoint("/dev/ttyX")) == 2
    await registry.release(first)
    await registry.release(first)
    await registry.release(first)  # one release too many is ignored
    assert registry.users(SerialEndpoint("/dev/ttyX")) == 0


async def test_a_cancelled_request_leaves_no_stale_answer(
    tcp_bus: ModbusBus, unit: RegisterUnit
) -> None:
    unit.faults.delay = 0.2
    task = asyncio.create_task(tcp_bus.read_registers(1, 0, 2))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    unit.faults.delay = 0.0
    assert await tcp_bus.read_registers(1, 10, 2) == [1010, 1011]
    await asyncio.sleep(0.25)  # the cancelled request's answer has now been sent, and dropped
    assert await tcp_bus.read_registers(1, 12, 1) == [1012]


class ShortAnswers(RegisterUnit):
    """A broken device that answers one register fewer than asked."""

    async def read(self, function: int, address: int, count: int) -> list[int]:
        return (await super().read(function, address, count))[:-1]


async def test_an_answer_of_the_wrong_size_is_refused(tcp_port: int) -> None:
    server = EmulatorServer({1: ShortAnswers(holding=dict.fromkeys(range(10), 7))})
    await server.start_tcp(tcp_port)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    try:
        with pytest.raises(DeviceUnreachableError, match="asked for 4 registers"):
            await bus.read_registers(1, 0, 4)
    finally:
        await bus.close()
        await server.stop()


# -- what pymodbus itself may do wrong, injected at the client: every case is a typed error ---


class _Odd:
    """An answer pymodbus may hand back: an error without an exception code."""

    def isError(self) -> bool:  # noqa: N802 - pymodbus' name
        return True


def _faulty_client(monkeypatch: pytest.MonkeyPatch, **methods: Any) -> None:
    """Make the bus's next clients real ones whose named methods misbehave."""
    real_new_client = bus_module.new_client

    def new_client(*args: Any, **kwargs: Any) -> Any:
        client = real_new_client(*args, **kwargs)
        for name, method in methods.items():
            setattr(client, name, method)
        return client

    monkeypatch.setattr(bus_module, "new_client", new_client)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (None, DeviceUnreachableError, "empty answer"),
        (_Odd(), DeviceUnreachableError, "error answer"),
        (OSError("network is down"), DeviceUnreachableError, "OSError: network is down"),
        ("hang", DeviceTimeoutError, "no answer within 0.3 s"),
    ],
)
async def test_what_pymodbus_gets_wrong_becomes_a_typed_error(
    tcp_server: EmulatorServer,
    tcp_port: int,
    monkeypatch: pytest.MonkeyPatch,
    answer: object,
    error: type[Exception],
    message: str,
) -> None:
    async def read(*_args: Any, **_kwargs: Any) -> object:
        if answer == "hang":
            await asyncio.sleep(5)  # longer than the request timeout (0.3 s + 0.5 s)
        if isinstance(answer, Exception):
            raise answer
        return answer

    _faulty_client(monkeypatch, read_holding_registers=read)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    try:
        with pytest.raises(error, match=message):
            await bus.read_registers(1, 0, 1)
    finally:
        await bus.close()


async def test_a_connect_that_raises_is_unreachable(
    tcp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def connect() -> bool:
        raise OSError("no route to host")

    _faulty_client(monkeypatch, connect=connect)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    try:
        with pytest.raises(DeviceUnreachableError, match="no route to host"):
            await bus.read_registers(1, 0, 1)
    finally:
        await bus.close()


async def test_a_unit_the_server_does_not_serve_is_not_answering(tcp_bus: ModbusBus) -> None:
    # A gateway's 0x0B (pymodbus 3.11) or a reply the 3.8 client drops the connection over:
    # either way the host answered and the unit did not.
    with pytest.raises(UnitNotAnsweringError):
        await tcp_bus.read_registers(7, 0, 1)
    assert await tcp_bus.read_registers(1, 0, 1) == [1000]  # the bus goes on
