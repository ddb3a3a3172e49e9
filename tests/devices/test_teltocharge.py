"""The TeltoCharge driver against the emulator, over Modbus TCP on 127.0.0.1 and RTU on a pty."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
    InvalidCommandError,
    ModbusExceptionCode,
    ModbusExceptionError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.modbus import (
    BusSettings,
    ModbusBus,
    RegisterType,
    SerialEndpoint,
    TcpEndpoint,
)
from custom_components.powershare.devices.teltocharge import (
    ChargePointState,
    CurrentLimitCause,
    ErrorFlag,
    EvseStatus,
    IecState,
    LockMode,
    MaxSupportedPower,
    PhaseSelection,
    StopStartRequest,
    TeltoCharge,
    WarningFlag,
)
from simulators.modbus_server import EmulatorServer, RegisterUnit
from simulators.teltocharge import EmulatedCar, TeltoChargeEmulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from simulators.modbus_server import PtyPair

FAST = BusSettings(timeout=0.3, connect_timeout=1.0, backoff_initial=0.1, backoff_max=0.4)
UNIT = 3


def tripped(emulator: TeltoChargeEmulator) -> bool:
    """Read the property afresh (a plain attribute access would be narrowed by mypy)."""
    return emulator.watchdog_tripped


def read_function(charger: TeltoCharge) -> RegisterType:
    return charger.read_function


@pytest.fixture
def emulator() -> TeltoChargeEmulator:
    return TeltoChargeEmulator(serial=0x0102_0304, product_code=1234, firmware=12_345)


@pytest.fixture
async def server(emulator: TeltoChargeEmulator, tcp_port: int) -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer({UNIT: emulator})
    await server.start_tcp(tcp_port)
    yield server
    await server.stop()


@pytest.fixture
async def bus(server: EmulatorServer, tcp_port: int) -> AsyncIterator[ModbusBus]:
    bus = ModbusBus(TcpEndpoint("127.0.0.1", tcp_port), FAST)
    yield bus
    await bus.close()


@pytest.fixture
def charger(bus: ModbusBus) -> TeltoCharge:
    return TeltoCharge(bus, UNIT)


async def test_identify(charger: TeltoCharge) -> None:
    identity = await charger.identify()
    assert identity.serial == 0x0102_0304  # low word in 24, high word in 25
    assert identity.unique_id == str(0x0102_0304)
    assert identity.product_code == 1234
    assert identity.model == "EVC1234"
    assert identity.firmware == 12_345


async def test_an_unknown_device_is_refused(bus: ModbusBus, server: EmulatorServer) -> None:
    server.units[UNIT + 1] = RegisterUnit(holding=dict.fromkeys(range(45), 0))
    await server.restart()
    with pytest.raises(UnsupportedDeviceError, match="not a TeltoCharge"):
        await TeltoCharge(bus, UNIT + 1).identify()


async def test_a_device_swapped_under_the_same_address_is_refused(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    await charger.identify()
    emulator.serial = 999
    with pytest.raises(UnsupportedDeviceError, match="serial 999"):
        await charger.read()


async def test_idle_reading(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    reading = await charger.read()
    assert reading.evse_status is EvseStatus.NO_EV
    assert reading.charge_point_state is ChargePointState.NO_EV
    assert reading.iec_state is IecState.A
    assert not reading.ev_connected
    assert not reading.charging
    assert reading.currents_a == (0.0, 0.0, 0.0)
    assert reading.voltages_v == (230.0, 230.0, 230.0)
    assert reading.power_w == 0
    assert reading.max_supported_power is MaxSupportedPower.KW_22
    assert reading.three_phase_possible
    assert reading.phase_change_possible
    assert reading.amp_limit_a == 32
    assert reading.temperature_c == 25.0
    assert reading.warnings == WarningFlag(0)
    assert reading.errors == ErrorFlag(0)
    assert not reading.locked
    assert reading.settings.amps_to_use == 16
    assert reading.settings.phase_to_use is PhaseSelection.THREE_PHASE
    assert reading.settings.watchdog_timeout_s == 30
    assert reading.settings.failsafe_current_a == 6
    assert reading.settings.stop_start_request is StopStartRequest.LEAVE
    assert reading.settings.lock_mode is LockMode.AUTO
    assert emulator.requests[-1] == (3, 0, 45)


async def test_charging_follows_offer_and_car(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.plug_in(EmulatedCar(phases=3, max_current_a=13, ramp_s=0.2))
    await charger.set_amps(10)
    await asyncio.sleep(0.3)
    reading = await charger.read()
    assert reading.charging
    assert reading.charge_point_state is ChargePointState.CHARGING
    assert reading.iec_state is IecState.C2
    assert reading.currents_a == (10.0, 10.0, 10.0)
    assert reading.phases_connected is PhaseSelection.THREE_PHASE
    assert reading.power_w == 3 * 230 * 10
    assert reading.locked
    assert reading.current_limit_cause is CurrentLimitCause.LOAD_BALANCE
    # The car accepts 13 A at most: offering 20 A gives 13 A.
    await charger.set_amps(20)
    await asyncio.sleep(0.3)
    reading = await charger.read()
    assert reading.currents_a == (13.0, 13.0, 13.0)
    assert reading.settings.amps_to_use == 20
    # Pausing with 0 A stops the current but keeps the car connected.
    await charger.set_amps(0)
    await asyncio.sleep(0.3)
    reading = await charger.read()
    assert reading.currents_a == (0.0, 0.0, 0.0)
    assert reading.evse_status is EvseStatus.PAUSED_NO_POWER_WAS_CHARGING
    assert reading.charge_point_state is ChargePointState.PAUSED


async def test_ramp_is_gradual(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    emulator.plug_in(EmulatedCar(phases=1, max_current_a=32, ramp_s=1.0))
    await charger.set_amps(32)
    await asyncio.sleep(0.3)
    during = (await charger.read()).currents_a[0]
    assert 0.0 < during < 32.0
    await asyncio.sleep(0.9)
    assert (await charger.read()).currents_a[0] == 32.0


async def test_energy_counters_advance(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    emulator.plug_in(EmulatedCar(phases=3, max_current_a=32, ramp_s=0))
    before_write = time.monotonic()
    await charger.set_amps(32)
    after_write = time.monotonic()
    first = await charger.read()
    await asyncio.sleep(1.2)
    second = await charger.read()
    energy_kwh = emulator.session_energy_kwh
    now = time.monotonic()
    assert second.session_energy_kwh >= first.session_energy_kwh
    assert second.session_duration_s >= 1
    # 3 x 230 V x 32 A = 22.08 kW, drawn from the write until now.
    assert 22.08 * (now - after_write) / 3600 <= energy_kwh * 1.001
    assert energy_kwh <= 22.08 * (now - before_write) / 3600 * 1.001
    assert second.lifetime_energy_kwh == second.session_energy_kwh


async def test_lifetime_energy_is_64_bit_low_word_first(
    bus: ModbusBus, server: EmulatorServer
) -> None:
    server.units[UNIT + 1] = TeltoChargeEmulator(lifetime_energy_kwh=123_456_789.01)
    await server.restart()
    raw = await bus.read_registers(UNIT + 1, 41, 4)
    counts = 12_345_678_901  # 0.01 kWh per count
    assert raw == [(counts >> (16 * word)) & 0xFFFF for word in range(4)]
    reading = await TeltoCharge(bus, UNIT + 1).read()
    assert reading.lifetime_energy_kwh == pytest.approx(123_456_789.01)


async def test_phase_to_use_moves_a_one_phase_car(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.plug_in(EmulatedCar(phases=1, max_current_a=16, ramp_s=0))
    await charger.set_amps(16)
    assert (await charger.read()).currents_a == (16.0, 0.0, 0.0)
    await charger.set_phases(PhaseSelection.L2)
    reading = await charger.read()
    assert reading.currents_a == (0.0, 16.0, 0.0)
    assert reading.phases_connected is PhaseSelection.L2
    assert reading.settings.phase_to_use is PhaseSelection.L2
    await charger.set_phases(PhaseSelection.NONE)
    assert (await charger.read()).currents_a == (0.0, 0.0, 0.0)


async def test_stop_and_start(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    emulator.plug_in(EmulatedCar(ramp_s=0))
    await charger.request_stop()
    reading = await charger.read()
    assert reading.currents_a == (0.0, 0.0, 0.0)
    assert reading.charge_point_state is ChargePointState.STOPPED_BY_USER
    assert reading.settings.stop_start_request is StopStartRequest.STOP
    await charger.request_start()
    reading = await charger.read()
    assert reading.charging
    assert reading.currents_a == (16.0, 16.0, 16.0)


async def test_authorization(bus: ModbusBus, server: EmulatorServer) -> None:
    emulator = TeltoChargeEmulator(requires_authorization=True)
    server.units[UNIT + 1] = emulator
    await server.restart()
    charger = TeltoCharge(bus, UNIT + 1)
    emulator.plug_in(EmulatedCar(ramp_s=0))
    reading = await charger.read()
    assert reading.authorization_required
    assert reading.evse_status is EvseStatus.NOT_AUTHORIZED
    assert reading.charge_point_state is ChargePointState.AWAITING_PERMISSION
    await charger.authorize()
    reading = await charger.read()
    assert reading.settings.authorize_request
    assert reading.charging


async def test_lock_modes(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    await charger.set_lock_mode(LockMode.ALWAYS_LOCKED)
    assert (await charger.read()).locked
    emulator.plug_in()
    await charger.set_lock_mode(LockMode.FORCE_UNLOCK)
    reading = await charger.read()
    assert not reading.locked
    assert reading.settings.lock_mode is LockMode.FORCE_UNLOCK
    emulator.unplug()  # forced unlock resets on state A
    assert (await charger.read()).settings.lock_mode is LockMode.AUTO


async def test_watchdog_falls_back_to_failsafe_and_recovers(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.plug_in(EmulatedCar(phases=3, max_current_a=32, ramp_s=0))
    await charger.configure_watchdog(timeout_s=1, failsafe_current_a=0)
    await charger.set_amps(20)
    reading = await charger.read()
    assert reading.settings.watchdog_timeout_s == 1
    assert reading.settings.failsafe_current_a == 0
    assert reading.currents_a == (20.0, 20.0, 20.0)
    await asyncio.sleep(1.3)  # the primary is silent longer than register 19
    assert tripped(emulator)
    assert emulator.currents_a == (0.0, 0.0, 0.0)
    await charger.configure_watchdog(timeout_s=1, failsafe_current_a=6)
    await asyncio.sleep(1.3)
    assert emulator.currents_a == (6.0, 6.0, 6.0)
    reading = await charger.read()  # talking again ends the failsafe
    assert not tripped(emulator)
    assert reading.currents_a == (20.0, 20.0, 20.0)


async def test_watchdog_is_on_by_default(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.settings[19] = 0
    emulator.settings[20] = 0
    await charger.configure_watchdog()
    settings_now = (await charger.read()).settings
    assert settings_now.watchdog_timeout_s == 30
    assert settings_now.failsafe_current_a == 6
    assert emulator.requests[0] == (16, 19, 2)  # one FC16 request for both registers


async def test_reboot(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    await charger.reboot()
    assert emulator.reboots == 1


@given(amps=st.integers(min_value=-1000, max_value=1000))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_amps_are_validated_before_the_wire(
    charger: TeltoCharge, emulator: TeltoChargeEmulator, amps: int
) -> None:
    emulator.requests.clear()
    if amps == 0 or 6 <= amps <= 32:
        await charger.set_amps(amps)
        assert emulator.settings[15] == amps
        assert list(emulator.requests) == [(6, 15, 1)]
    else:
        with pytest.raises(InvalidCommandError, match="amps"):
            await charger.set_amps(amps)
        assert not emulator.requests


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        ("set_amps", 16.5),
        ("set_amps", True),
        ("set_phases", 8),
        ("set_lock_mode", 3),
        ("configure_watchdog", 601),
        ("configure_watchdog", -1),
    ],
)
async def test_invalid_commands_never_reach_the_wire(
    charger: TeltoCharge, emulator: TeltoChargeEmulator, command: str, argument: object
) -> None:
    with pytest.raises(InvalidCommandError):
        await getattr(charger, command)(argument)
    with pytest.raises(InvalidCommandError):
        await charger.configure_watchdog(30, 5)
    assert not emulator.requests


async def test_apply_writes_only_what_differs(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    present = (await charger.read()).settings
    emulator.requests.clear()
    sent = await charger.apply(present, amps=16, phases=PhaseSelection.THREE_PHASE)
    assert sent == 0
    assert not emulator.requests
    sent = await charger.apply(present, amps=10, phases=PhaseSelection.L1, lock_mode=LockMode.AUTO)
    assert sent == 1  # registers 14 and 15 in one FC16 request
    assert list(emulator.requests) == [(16, 14, 2)]
    # The app changed amps behind our back: re-asserting writes just that register.
    emulator.settings[15] = 32
    present = (await charger.read()).settings
    emulator.requests.clear()
    assert await charger.apply(present, amps=10, phases=PhaseSelection.L1) == 1
    assert list(emulator.requests) == [(6, 15, 1)]
    assert emulator.settings[15] == 10
    with pytest.raises(InvalidCommandError):
        await charger.apply(present, amps=10, failsafe_current_a=3)
    emulator.requests.clear()
    assert await charger.apply(None, lock_mode=LockMode.ALWAYS_LOCKED, watchdog_timeout_s=20) == 1
    assert list(emulator.requests) == [(16, 18, 2)]  # registers 18 and 19 are adjacent
    assert await charger.apply(None, amps=6, lock_mode=LockMode.AUTO) == 2


async def test_fc4_fallback_is_remembered(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.serve_fc4_only()
    assert read_function(charger) is RegisterType.HOLDING
    await charger.identify()
    assert charger.read_function is RegisterType.INPUT
    assert list(emulator.requests) == [(3, 0, 45), (4, 0, 45)]
    for _ in range(3):
        await charger.read()
    assert list(emulator.requests)[2:] == [(4, 0, 45)] * 3
    await charger.set_amps(8)  # writes still work
    assert emulator.settings[15] == 8


async def test_one_request_per_cycle(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    for _ in range(5):
        await charger.read()
    assert len(emulator.requests) == 5
    assert charger.bus.requests_sent == {UNIT: 5}


async def test_other_exceptions_are_not_taken_for_a_missing_function(
    charger: TeltoCharge, emulator: TeltoChargeEmulator
) -> None:
    emulator.faults.exception_code = ModbusExceptionCode.SERVER_DEVICE_BUSY
    with pytest.raises(ModbusExceptionError) as caught:
        await charger.read()
    assert caught.value.code == ModbusExceptionCode.SERVER_DEVICE_BUSY
    assert charger.read_function is RegisterType.HOLDING
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(
    ("register", "value", "what"),
    [
        (6, 42, "evse_status"),
        (0, 0xFFFF, "voltage L1"),
        (3, 0x7FFF, "current L1"),
        (31, 2000, "temperature"),
        (33, 9, "iec_state"),
        (34, 0x8000, "undefined bits"),
        (35, 0xF800, "undefined bits"),
        (15, 5, "amps_to_use"),
        (30, 2, "lock_status"),
        (38, 0xFFFF, "power"),
        (19, 601, "watchdog"),
    ],
)
async def test_garbage_is_implausible(
    charger: TeltoCharge, emulator: TeltoChargeEmulator, register: int, value: int, what: str
) -> None:
    emulator.faults.garbage[register] = value
    with pytest.raises(ImplausibleValueError, match=what):
        await charger.read()
    emulator.faults.clear()
    await charger.read()


async def test_timeout_and_outage(
    charger: TeltoCharge, emulator: TeltoChargeEmulator, server: EmulatorServer
) -> None:
    emulator.faults.delay = 0.5
    with pytest.raises(DeviceTimeoutError):
        await charger.read()
    emulator.faults.clear()
    await charger.read()
    await server.stop()
    with pytest.raises(DeviceUnreachableError):
        await charger.read()
    with pytest.raises(DeviceUnreachableError):
        await charger.read()
    await server.restart()
    await asyncio.sleep(FAST.backoff_max)
    assert (await charger.read()).identity.serial == 0x0102_0304


async def test_rtu_charger_and_meter_share_one_bus(pty_pair: PtyPair) -> None:
    chargers = {3: TeltoChargeEmulator(serial=3), 4: TeltoChargeEmulator(serial=4)}
    meter = RegisterUnit(input_registers={a: 100 + a for a in range(0x50)})  # a meter's FC4 map
    server = EmulatorServer({1: meter, **chargers})
    await server.start_rtu(pty_pair.server_port, baudrate=9600)
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port, baudrate=9600), FAST)
    drivers = [TeltoCharge(bus, 3), TeltoCharge(bus, 4)]
    try:
        chargers[4].plug_in(EmulatedCar(phases=1, ramp_s=0))
        for driver in drivers:
            await driver.identify()
        for _ in range(3):  # cycles: one meter read, one block read per charger
            meter_values = await bus.read_registers(1, 0, 0x4C, function=RegisterType.INPUT)
            assert meter_values[:3] == [100, 101, 102]
            readings = await asyncio.gather(*(driver.read() for driver in drivers))
            assert [r.identity.serial for r in readings] == [3, 4]
            assert readings[0].currents_a == (0.0, 0.0, 0.0)
            assert readings[1].currents_a == (16.0, 0.0, 0.0)
        await drivers[1].set_amps(6)
        assert (await drivers[1].read()).currents_a == (6.0, 0.0, 0.0)
        assert bus.requests_sent == {1: 3, 3: 4, 4: 6}
    finally:
        await bus.close()
        await server.stop()


async def test_rtu_fc4_fallback_and_exception(pty_pair: PtyPair) -> None:
    emulator = TeltoChargeEmulator()
    emulator.serve_fc4_only()
    server = EmulatorServer({5: emulator})
    await server.start_rtu(pty_pair.server_port)
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port), FAST)
    driver = TeltoCharge(bus, 5)
    try:
        await driver.read()
        assert driver.read_function is RegisterType.INPUT
        emulator.faults.exception_code = ModbusExceptionCode.SERVER_DEVICE_FAILURE
        with pytest.raises(ModbusExceptionError):
            await driver.read()
    finally:
        await bus.close()
        await server.stop()


async def test_error_state(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    emulator.plug_in(EmulatedCar(ramp_s=0))
    emulator.error_bits = 1 << 5
    emulator.warning_bits = 1 << 1
    reading = await charger.read()
    assert reading.errors == ErrorFlag.TEMPERATURE
    assert reading.warnings == WarningFlag.TEMPERATURE
    assert reading.evse_status is EvseStatus.ERROR
    assert reading.charge_point_state is ChargePointState.ERROR
    assert reading.iec_state is IecState.F
    assert reading.currents_a == (0.0, 0.0, 0.0)
    assert not reading.ev_connected


async def test_full_battery(charger: TeltoCharge, emulator: TeltoChargeEmulator) -> None:
    car = emulator.plug_in(EmulatedCar(ramp_s=0))
    assert (await charger.read()).charging
    car.wants_charge = False
    reading = await charger.read()
    assert reading.evse_status is EvseStatus.STOPPED_BY_EV
    assert reading.charge_point_state is ChargePointState.COMPLETE
    assert reading.iec_state is IecState.B2
    assert reading.currents_a == (0.0, 0.0, 0.0)


async def test_single_phase_charger(bus: ModbusBus, server: EmulatorServer) -> None:
    emulator = TeltoChargeEmulator(max_supported_power=0)
    server.units[UNIT + 1] = emulator
    await server.restart()
    emulator.plug_in(EmulatedCar(phases=3, max_current_a=32, ramp_s=0))
    reading = await TeltoCharge(bus, UNIT + 1).read()
    assert reading.max_supported_power is MaxSupportedPower.KW_7_4
    assert not reading.three_phase_possible
    assert reading.voltages_v == (230.0, 0.0, 0.0)
    assert reading.currents_a == (16.0, 0.0, 0.0)
    assert reading.phases_connected is PhaseSelection.L1


async def test_writes_outside_the_map_are_refused(bus: ModbusBus) -> None:
    with pytest.raises(ModbusExceptionError) as caught:
        await bus.write_register(UNIT, 9, 1)  # read-only identification register
    assert caught.value.code == ModbusExceptionCode.ILLEGAL_DATA_ADDRESS
    with pytest.raises(ModbusExceptionError) as caught:
        await bus.write_register(UNIT, 15, 40)  # the emulator checks ranges like a device
    assert caught.value.code == ModbusExceptionCode.ILLEGAL_DATA_VALUE
