"""A real meter driver and a charger driver on one RS485 line (a pseudo-terminal pair)."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.powershare.devices.meters import MODBUS_METER_MAPS, ModbusMeter
from custom_components.powershare.devices.modbus import (
    BusSettings,
    ModbusBusRegistry,
    SerialEndpoint,
)
from custom_components.powershare.devices.teltocharge import TeltoCharge
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import EmulatorServer, PtyPair
from simulators.teltocharge import EmulatedCar, TeltoChargeEmulator


async def test_eastron_and_two_teltocharges_share_one_rtu_line(pty_pair: PtyPair) -> None:
    meter = ModbusMeterEmulator.for_model("eastron_sdm630")
    meter.state.set_currents(10.0, 4.0, 0.5)
    chargers = {3: TeltoChargeEmulator(serial=3), 4: TeltoChargeEmulator(serial=4)}
    server = EmulatorServer({1: meter, **chargers})
    await server.start_rtu(pty_pair.server_port, baudrate=9600)
    registry = ModbusBusRegistry()
    endpoint = SerialEndpoint(pty_pair.client_port, baudrate=9600)
    settings = BusSettings(timeout=1.0)
    # Each device acquires the line on its own, as the config entries do: one bus for all.
    buses = [await registry.acquire(endpoint, settings) for _ in range(3)]
    assert buses[0] is buses[1] is buses[2]
    assert registry.users(endpoint) == 3
    bus = buses[0]
    meter_driver = ModbusMeter(bus, MODBUS_METER_MAPS["eastron_sdm630"], unit_id=1)
    drivers = [TeltoCharge(bus, 3), TeltoCharge(bus, 4)]
    try:
        chargers[4].plug_in(EmulatedCar(phases=3, ramp_s=0))
        for _ in range(2):
            reading, *charger_readings = await asyncio.gather(
                meter_driver.read(), *(driver.read() for driver in drivers)
            )
            assert reading.currents_a == pytest.approx((10.0, 4.0, 0.5), abs=0.01)
            assert [r.identity.serial for r in charger_readings] == [3, 4]
            assert charger_readings[1].currents_a == (16.0, 16.0, 16.0)
        requests = bus.requests_sent
        assert requests[1] == 2 * meter_driver.requests_per_read
        assert requests[3] == requests[4] == 2  # one block read per charger and cycle
    finally:
        for shared in buses:
            await registry.release(shared)
        assert registry.users(endpoint) == 0
        await server.stop()
