"""The Entes MPR-1x and Acrel ADW300 maps, checked against register words built by hand.

No real register dump of either meter is published, so each test builds the words the way
the makers' tables describe them (Entes: voltages uint32 in V/10, currents uint32 in mA,
powers float32 in W; Acrel: voltages and currents uint16 with 1 and 2 decimals, powers int32
in kW with 3 decimals, energies uint32 in kWh with 2 decimals) and serves them as a real
device would: the map must decode them, and the emulator must agree with them.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

import pytest

from custom_components.powershare.devices.errors import ImplausibleValueError
from custom_components.powershare.devices.meters import METER_MODELS
from custom_components.powershare.devices.meters.modbus_meter import ModbusMeter
from custom_components.powershare.devices.meters.modbus_models import MODBUS_METER_MAPS
from custom_components.powershare.devices.meters.registers import (
    Encoding,
    RegisterBlock,
    decode,
    encode,
    read_field,
)
from custom_components.powershare.devices.modbus import RegisterType
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import RegisterUnit

if TYPE_CHECKING:
    from .conftest import ServeModbus


def _u32(value: int) -> list[int]:
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def _f32(value: float) -> list[int]:
    return list(struct.unpack(">2H", struct.pack(">f", value)))


def _u64(value: int) -> list[int]:
    return [(value >> shift) & 0xFFFF for shift in (48, 32, 16, 0)]


def _entes_registers() -> dict[int, int]:
    """An MPR-1x on a site with solar: L1 and L3 import, L2 exports."""
    words: dict[int, int] = dict.fromkeys(range(240), 0)
    layout = {
        0: _u32(2304),  # 230.4 V
        2: _u32(2317),  # 231.7 V
        4: _u32(2289),  # 228.9 V
        14: _u32(10_250),  # 10.25 A
        16: _u32(4_100),  # 4.1 A
        18: _u32(650),  # 0.65 A
        26: _f32(2295.5),
        28: _f32(-910.25),
        30: _f32(120.0),
        38: _f32(1505.25),  # P1 + P2 + P3
        216: _u64(12_345_678),  # 12345.678 kWh consumed
        236: _u64(987_654),  # 987.654 kWh delivered
    }
    for address, values in layout.items():
        for offset, word in enumerate(values):
            words[address + offset] = word
    return words


def _acrel_registers() -> dict[int, int]:
    """An ADW300 exporting on L1 (int32 powers, two's complement)."""
    words: dict[int, int] = dict.fromkeys(range(66), 0)
    words.update({20: 2305, 21: 2298, 22: 2311})  # 230.5 / 229.8 / 231.1 V
    words.update({26: 1234, 27: 567, 28: 8})  # 12.34 / 5.67 / 0.08 A
    layout = {
        30: _u32(-2_800 & 0xFFFF_FFFF),  # -2.800 kW
        32: _u32(1_300),  # 1.300 kW
        34: _u32(18),  # 0.018 kW
        36: _u32(-1_482 & 0xFFFF_FFFF),
        62: _u32(123_456),  # 1234.56 kWh forward
        64: _u32(7_890),  # 78.90 kWh reverse
    }
    for address, values in layout.items():
        for offset, word in enumerate(values):
            words[address + offset] = word
    return words


def test_uint16_is_one_register_and_all_ones_is_not_available() -> None:
    assert Encoding.UINT16.register_count == 1
    assert encode(2305, Encoding.UINT16) == [2305]
    assert decode([2305], Encoding.UINT16, not_available_marker=False) == 2305.0
    assert encode(math.nan, Encoding.UINT16) == [0xFFFF]
    with pytest.raises(ImplausibleValueError):
        decode([0xFFFF], Encoding.UINT16, not_available_marker=True)


def test_the_maps_read_holding_registers_in_the_fewest_blocks() -> None:
    entes = MODBUS_METER_MAPS["entes_mpr1x"]
    acrel = MODBUS_METER_MAPS["acrel_adw300"]
    assert entes.function is acrel.function is RegisterType.HOLDING
    # Measurements 0-39, energies 216-239 (uint64 each).
    assert entes.blocks == (RegisterBlock(0, 40), RegisterBlock(216, 24))
    # Voltages at 20 to the export energy at 64-65: one read.
    assert acrel.blocks == (RegisterBlock(20, 46),)
    assert (entes.default_unit_id, entes.serial.baudrate, entes.serial.parity) == (1, 9600, "N")
    assert (acrel.default_unit_id, acrel.serial.baudrate, acrel.serial.parity) == (1, 9600, "N")
    assert entes.serial_number is None
    assert acrel.serial_number is None


def test_the_config_flow_lists_both_models() -> None:
    assert METER_MODELS["entes_mpr1x"].name == "Entes MPR-1x (Modbus)"
    assert METER_MODELS["acrel_adw300"].name == "Acrel ADW300 (Modbus)"


async def test_entes_mpr1x_decodes_the_tables_types_and_scales(modbus_tcp: ServeModbus) -> None:
    bus = await modbus_tcp({1: RegisterUnit(holding=_entes_registers())})
    meter = ModbusMeter(bus, MODBUS_METER_MAPS["entes_mpr1x"])
    reading = await meter.read()
    assert [p.voltage_v for p in reading.phases] == pytest.approx([230.4, 231.7, 228.9])
    assert [p.power_w for p in reading.phases] == pytest.approx([2295.5, -910.25, 120.0])
    # Currents are unsigned in mA; L2's sign comes from its power.
    assert reading.currents_a == pytest.approx((10.25, -910.25 / 231.7, 0.65))
    assert reading.total_power_w == pytest.approx(1505.25)
    assert (reading.import_energy_kwh, reading.export_energy_kwh) == pytest.approx(
        (12345.678, 987.654)
    )
    assert meter.requests_per_read == 2
    info = await meter.identify()
    assert (info.manufacturer, info.model, info.serial) == ("Entes", "MPR-1x", None)


async def test_acrel_adw300_decodes_the_manuals_types_and_scales(modbus_tcp: ServeModbus) -> None:
    bus = await modbus_tcp({1: RegisterUnit(holding=_acrel_registers())})
    meter = ModbusMeter(bus, MODBUS_METER_MAPS["acrel_adw300"])
    reading = await meter.read()
    assert [p.voltage_v for p in reading.phases] == pytest.approx([230.5, 229.8, 231.1])
    assert [p.power_w for p in reading.phases] == pytest.approx([-2800.0, 1300.0, 18.0])
    # L1 exports 12.34 A, counted as far as its 2.8 kW carry it at 230.5 V.
    assert reading.currents_a == pytest.approx((-2800.0 / 230.5, 5.67, 0.08))
    assert reading.total_power_w == pytest.approx(-1482.0)
    assert (reading.import_energy_kwh, reading.export_energy_kwh) == pytest.approx((1234.56, 78.9))
    assert meter.requests_per_read == 1
    info = await meter.identify()
    assert (info.manufacturer, info.model, info.serial) == ("Acrel", "ADW300", None)


@pytest.mark.parametrize(
    ("key", "registers"),
    [("entes_mpr1x", _entes_registers()), ("acrel_adw300", _acrel_registers())],
)
def test_the_emulator_encodes_as_the_tables_say(key: str, registers: dict[int, int]) -> None:
    # The emulator (used by the balancing tests with these models) writes each field with
    # `encode(value / scale)`: it must give back the hand-built words for the same figures.
    for field in MODBUS_METER_MAPS[key].fields:
        value = read_field(field, registers, not_available_marker=False)
        words = encode(value / field.scale, field.encoding)
        assert words == [registers[a] for a in range(field.address, field.end)], field


@pytest.mark.parametrize("key", ["entes_mpr1x", "acrel_adw300"])
async def test_a_missing_voltage_is_a_bad_reading_not_a_zero(
    key: str, modbus_tcp: ServeModbus
) -> None:
    # Integer voltages cannot carry NaN: the emulator serves all ones (6553.5 V on the
    # ADW300, 429 MV on the MPR-1x), which must be refused, not read.
    emulator = ModbusMeterEmulator.for_model(key)
    emulator.state.phases[1].voltage_v = math.nan
    bus = await modbus_tcp({1: emulator})
    with pytest.raises(ImplausibleValueError, match="L2 voltage"):
        await ModbusMeter(bus, emulator.meter_map).read()
