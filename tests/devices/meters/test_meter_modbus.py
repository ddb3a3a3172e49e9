"""The generic Modbus meter driver against the register-map emulator, over real sockets."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import pytest

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
    ModbusExceptionError,
)
from custom_components.powershare.devices.meters.modbus_meter import ModbusMeter
from custom_components.powershare.devices.meters.modbus_models import MODBUS_METER_MAPS
from custom_components.powershare.devices.meters.registers import Encoding, encode
from custom_components.powershare.devices.modbus import BusSettings, ModbusBus, SerialEndpoint
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.meters.state import ManualClock
from simulators.modbus_server import EmulatorServer, PtyPair, RegisterUnit

type ServeModbus = Callable[[dict[int, RegisterUnit]], Awaitable[ModbusBus]]

# Integer encodings carry 0.1 V / 0.1 W / 0.1 kWh resolution; floats are exact to ~1e-6.
TOLERANCE = 0.11
# Some models send whole watts (Acrel ADW300: kW with 3 decimals): half a step of rounding.
POWER_TOLERANCE = {"acrel_adw300": 0.51}


def _load(emulator: ModbusMeterEmulator) -> None:
    """Mixed site: L1 imports, L2 exports (solar), L3 imports a little."""
    if len(emulator.state.phases) == 3:
        emulator.state.set_voltages(230.0, 231.0, 229.0)
        emulator.state.set_currents(10.0, -5.0, 3.2)
    else:
        emulator.state.set_voltages(232.0)
        emulator.state.set_currents(-7.5)
    emulator.state.import_energy_kwh = 1234.5
    emulator.state.export_energy_kwh = 678.3


@pytest.mark.parametrize("key", sorted(MODBUS_METER_MAPS))
async def test_every_model_reads_signed_values_in_at_most_two_requests(
    key: str, modbus_tcp: ServeModbus, clock: ManualClock
) -> None:
    emulator = ModbusMeterEmulator.for_model(key)
    _load(emulator)
    bus = await modbus_tcp({7: emulator})
    meter = ModbusMeter(bus, MODBUS_METER_MAPS[key], unit_id=7, clock=clock)
    await meter.read()  # the first also reads the transformers' ratio where the model has one

    before = emulator.read_requests
    reading = await meter.read()
    requests = emulator.read_requests - before

    assert requests == meter.requests_per_read <= 2
    watts = POWER_TOLERANCE.get(key, TOLERANCE)
    expected = emulator.state.phases
    assert len(reading.phases) == len(expected)
    for phase, want in zip(reading.phases, expected, strict=True):
        assert phase.voltage_v == pytest.approx(want.voltage_v, abs=TOLERANCE)
        # The emulator serves unsigned currents, like the devices: the sign comes from power.
        assert phase.current_a == pytest.approx(want.current_a, abs=0.01)
        assert phase.power_w == pytest.approx(want.power_w, abs=watts)
    assert reading.total_power_w == pytest.approx(emulator.state.total_power_w, abs=watts)
    assert reading.import_energy_kwh == pytest.approx(1234.5, abs=TOLERANCE)
    assert reading.export_energy_kwh == pytest.approx(678.3, abs=TOLERANCE)
    assert reading.measured_at == clock.now


async def test_reading_is_stamped_when_the_request_leaves(
    modbus_tcp: ServeModbus, clock: ManualClock
) -> None:
    # The meter measures while it answers; the answer may arrive after Powershare has cut a
    # charger. The stamp is the earliest moment the figures can describe, so the balancing
    # service never subtracts a charger reading newer than the meter's measurement.
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    sent_at = clock.now
    emulator.on_read = lambda: clock.advance(0.5)  # the device takes its time
    bus = await modbus_tcp({1: emulator})
    reading = await ModbusMeter(bus, emulator.meter_map, clock=clock).read()

    assert clock.now > sent_at
    assert reading.measured_at == sent_at


async def test_exporting_site_gives_negative_currents(
    modbus_tcp: ServeModbus, clock: ManualClock
) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    emulator.state.set_currents(-12.0, -11.5, -0.4)
    bus = await modbus_tcp({1: emulator})
    reading = await ModbusMeter(bus, emulator.meter_map, clock=clock).read()

    assert reading.currents_a == pytest.approx((-12.0, -11.5, -0.4))
    assert reading.total_power_w == pytest.approx(230.0 * -23.9)
    assert all(phase.power_w < 0 for phase in reading.phases)


async def test_meter_wired_to_one_phase_reads_only_l1(
    modbus_tcp: ServeModbus, clock: ManualClock
) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    emulator.state.set_currents(4.0, 0.0, 0.0)
    emulator.state.set_voltages(230.0, 0.0, 0.0)  # unused phases read 0 V on a real meter
    bus = await modbus_tcp({1: emulator})
    reading = await ModbusMeter(bus, emulator.meter_map, phases=1, clock=clock).read()

    assert reading.currents_a == pytest.approx((4.0,))
    assert reading.total_power_w == pytest.approx(920.0)
    with pytest.raises(ValueError, match="1-3 phases"):
        ModbusMeter(bus, emulator.meter_map, phases=4)


@pytest.mark.parametrize(
    ("key", "voltage"),
    [
        ("eastron_sdm630", math.nan),
        ("eastron_sdm630", math.inf),
        ("eastron_sdm630", 400.0),
        ("shelly_pro_3em_modbus", -5.0),
        ("abb_b23", math.nan),  # the emulator encodes NaN as ABB's all-ones "not available"
        ("carlo_gavazzi_em340", 301.0),
    ],
)
async def test_implausible_voltage_is_a_bad_reading_not_a_zero(
    key: str, voltage: float, modbus_tcp: ServeModbus
) -> None:
    emulator = ModbusMeterEmulator.for_model(key)
    emulator.state.phases[1].voltage_v = voltage
    bus = await modbus_tcp({1: emulator})
    with pytest.raises(ImplausibleValueError, match=r"L2 voltage|not available"):
        await ModbusMeter(bus, emulator.meter_map).read()


async def test_a_phase_out_leaves_the_other_phases_readable(modbus_tcp: ServeModbus) -> None:
    # Before the safety issue one phase below 100 V made the whole meter unavailable.
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    emulator.state.set_voltages(231.0, 0.0, 229.0)
    emulator.state.set_currents(12.0, 0.0, 7.0)
    bus = await modbus_tcp({1: emulator})
    reading = await ModbusMeter(bus, emulator.meter_map).read()
    assert reading.currents_a == pytest.approx((12.0, 0.0, 7.0))
    assert reading.phases[1].voltage_v == pytest.approx(0.0)
    emulator.state.set_voltages(40.0, 0.0, 0.0)  # no phase up: a wrong map, or no power at all
    with pytest.raises(ImplausibleValueError, match="no phase has a voltage"):
        await ModbusMeter(bus, emulator.meter_map).read()


@pytest.mark.parametrize(
    ("key", "amps", "bound"),
    [
        ("shelly_pro_3em_modbus", 1e6, "400 A"),
        ("eastron_sdm120", 60.0, "45 A"),
        ("eastron_sdm630", 1e9, "10000 A"),
    ],
)
async def test_a_current_beyond_the_models_range_is_a_bad_reading(
    key: str, amps: float, bound: str, modbus_tcp: ServeModbus
) -> None:
    emulator = ModbusMeterEmulator.for_model(key)
    emulator.state.phases[0].current_a = amps
    bus = await modbus_tcp({1: emulator})
    with pytest.raises(
        ImplausibleValueError, match=rf"L1 current is .* beyond the meter's {bound}"
    ):
        await ModbusMeter(bus, emulator.meter_map).read()


async def test_nan_power_or_garbage_current_is_a_bad_reading(modbus_tcp: ServeModbus) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    bus = await modbus_tcp({1: emulator})
    meter = ModbusMeter(bus, emulator.meter_map)
    nan_words = encode(math.nan, Encoding.FLOAT32_ABCD)
    emulator.faults.garbage = {0x06: nan_words[0], 0x07: nan_words[1]}  # L1 current
    with pytest.raises(ImplausibleValueError, match="L1 current"):
        await meter.read()
    emulator.faults.clear()
    emulator.state.phases[2].power_factor = math.inf
    with pytest.raises(ImplausibleValueError, match="L3"):
        await meter.read()


async def test_abb_all_ones_current_is_not_available(modbus_tcp: ServeModbus) -> None:
    emulator = ModbusMeterEmulator.for_model("abb_b23")
    bus = await modbus_tcp({1: emulator})
    emulator.faults.garbage = {0x5B0E: 0xFFFF, 0x5B0F: 0xFFFF}
    with pytest.raises(ImplausibleValueError, match="not available"):
        await ModbusMeter(bus, emulator.meter_map).read()


async def test_modbus_exception_code_reaches_the_caller(modbus_tcp: ServeModbus) -> None:
    emulator = ModbusMeterEmulator.for_model("chint_dtsu666")
    emulator.faults.exception_code = 2
    bus = await modbus_tcp({1: emulator})
    with pytest.raises(ModbusExceptionError) as caught:
        await ModbusMeter(bus, emulator.meter_map).read()
    assert caught.value.code == 2


async def test_slow_meter_times_out(modbus_tcp: ServeModbus) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm72dm_v2")
    emulator.faults.delay = 0.5  # longer than the bus timeout (0.3 s)
    bus = await modbus_tcp({1: emulator})
    with pytest.raises(DeviceTimeoutError):
        await ModbusMeter(bus, emulator.meter_map).read()
    await asyncio.sleep(0.5)  # let the emulator finish the late answer before teardown


async def test_stopped_server_is_unreachable(modbus_tcp: ServeModbus) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    bus = await modbus_tcp({1: emulator})
    meter = ModbusMeter(bus, emulator.meter_map)
    await meter.read()
    await bus.close()
    servers_port = bus.endpoint
    other = ModbusBus(servers_port.__class__("127.0.0.1", 1), BusSettings(timeout=0.3))
    with pytest.raises(DeviceUnreachableError):
        await ModbusMeter(other, emulator.meter_map).read()
    await other.close()


async def test_identify_reads_the_serial_where_the_model_has_one(
    modbus_tcp: ServeModbus,
) -> None:
    eastron = ModbusMeterEmulator.for_model("eastron_sdm630")
    eastron.serial_number = 19_061_234
    shelly = ModbusMeterEmulator.for_model("shelly_pro_3em_modbus")
    bus = await modbus_tcp({1: eastron, 2: shelly})

    info = await ModbusMeter(bus, eastron.meter_map, unit_id=1).identify()
    assert (info.manufacturer, info.model, info.serial) == ("Eastron", "SDM630", "19061234")
    assert info.unique_id == "19061234"

    info = await ModbusMeter(bus, shelly.meter_map, unit_id=2).identify()
    assert (info.manufacturer, info.serial, info.mac) == ("Shelly", None, "34987A6789AB")
    assert info.unique_id == "34987a6789ab"
    shelly.faults.refused_functions = {4}
    shelly.faults.exception_code = None
    with pytest.raises(ModbusExceptionError):
        await ModbusMeter(bus, shelly.meter_map, unit_id=2).identify()


async def test_identify_without_serial_register_still_identifies(
    modbus_tcp: ServeModbus,
) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    emulator.faults.refused_functions = {3}  # the serial number lives in holding registers
    bus = await modbus_tcp({1: emulator})
    info = await ModbusMeter(bus, emulator.meter_map).identify()
    assert info.serial is None
    assert info.model == "SDM630"


async def test_eastron_over_rtu_on_a_pseudo_terminal(pty_pair: PtyPair, clock: ManualClock) -> None:
    emulator = ModbusMeterEmulator.for_model("eastron_sdm630")
    emulator.state.set_currents(6.0, -2.0, 0.5)
    server = EmulatorServer({1: emulator})
    await server.start_rtu(pty_pair.server_port, baudrate=9600)
    bus = ModbusBus(SerialEndpoint(pty_pair.client_port, baudrate=9600), BusSettings(timeout=1.0))
    try:
        meter = ModbusMeter(bus, emulator.meter_map, clock=clock)
        reading = await meter.read()
        requests = emulator.read_requests
        info = await meter.identify()
    finally:
        await bus.close()
        await server.stop()
    assert reading.currents_a == pytest.approx((6.0, -2.0, 0.5))
    assert requests == 1
    assert info.serial == "12345678"
