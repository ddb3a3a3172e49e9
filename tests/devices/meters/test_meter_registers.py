"""Register encodings, block planning, plausibility rules and the model registry."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.powershare.devices.errors import ImplausibleValueError
from custom_components.powershare.devices.meters import METER_MODELS, MeterTransport
from custom_components.powershare.devices.meters.modbus_models import MODBUS_METER_MAPS
from custom_components.powershare.devices.meters.reading import (
    MIN_PLAUSIBLE_VOLTAGE_V,
    MeterInfo,
    PhaseReading,
    build_phase,
    build_reading,
    current_from_power,
    signed_current,
)
from custom_components.powershare.devices.meters.registers import (
    Encoding,
    RegisterBlock,
    RegisterField,
    decode,
    encode,
    plan_blocks,
    read_field,
)


def test_known_encodings() -> None:
    # 230.5 as IEEE-754 single is 0x43668000.
    assert encode(230.5, Encoding.FLOAT32_ABCD) == [0x4366, 0x8000]
    assert encode(230.5, Encoding.FLOAT32_CDAB) == [0x8000, 0x4366]
    assert decode([0x8000, 0x4366], Encoding.FLOAT32_CDAB, not_available_marker=False) == 230.5
    # -2 as a 32-bit integer, low word first (Carlo Gavazzi).
    assert encode(-2, Encoding.INT32_CDAB) == [0xFFFE, 0xFFFF]
    assert decode([0xFFFE, 0xFFFF], Encoding.INT32_CDAB, not_available_marker=False) == -2
    assert decode([0x0001, 0x0000], Encoding.UINT32_ABCD, not_available_marker=False) == 65536
    assert (
        decode([0, 0, 0x0001, 0x86A0], Encoding.UINT64_ABCD, not_available_marker=False) == 100_000
    )
    assert (
        decode(
            encode(1.5e6, Encoding.FLOAT64_ABCD), Encoding.FLOAT64_ABCD, not_available_marker=False
        )
        == 1.5e6
    )


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        (Encoding.UINT32_ABCD, [0xFFFF, 0xFFFF]),
        (Encoding.INT32_ABCD, [0x7FFF, 0xFFFF]),
        (Encoding.UINT64_ABCD, [0xFFFF] * 4),
    ],
)
def test_not_available_patterns(encoding: Encoding, words: list[int]) -> None:
    with pytest.raises(ImplausibleValueError, match="not available"):
        decode(words, encoding, not_available_marker=True)
    assert decode(words, encoding, not_available_marker=False) > 0
    assert encode(math.nan, encoding) == words


def test_wrong_word_count_and_missing_register() -> None:
    with pytest.raises(ValueError, match="needs 2 registers"):
        decode([1], Encoding.FLOAT32_ABCD, not_available_marker=False)
    with pytest.raises(ValueError, match="not read"):
        read_field(RegisterField(10, Encoding.FLOAT32_ABCD), {10: 0}, not_available_marker=False)


@settings(max_examples=200, deadline=None)
@given(
    encoding=st.sampled_from([Encoding.INT32_CDAB, Encoding.INT32_ABCD]),
    value=st.integers(min_value=-(2**31) + 1, max_value=2**31 - 2),
)
def test_signed_integers_round_trip(encoding: Encoding, value: int) -> None:
    assert decode(encode(value, encoding), encoding, not_available_marker=True) == value


@settings(max_examples=200, deadline=None)
@given(
    encoding=st.sampled_from([Encoding.FLOAT32_ABCD, Encoding.FLOAT32_CDAB]),
    value=st.floats(width=32, allow_nan=False),
)
def test_floats_round_trip(encoding: Encoding, value: float) -> None:
    assert decode(encode(value, encoding), encoding, not_available_marker=False) == value


def test_plan_blocks_merges_up_to_the_limits() -> None:
    fields = [RegisterField(a, Encoding.FLOAT32_ABCD) for a in (0, 2, 10, 100, 200)]
    assert plan_blocks(fields) == (RegisterBlock(0, 102), RegisterBlock(200, 2))
    assert plan_blocks(fields, max_gap=5) == (
        RegisterBlock(0, 4),
        RegisterBlock(10, 2),
        RegisterBlock(100, 2),
        RegisterBlock(200, 2),
    )
    assert plan_blocks(fields, max_block=12) == (
        RegisterBlock(0, 12),
        RegisterBlock(100, 2),
        RegisterBlock(200, 2),
    )
    with pytest.raises(ValueError, match="larger than a block"):
        plan_blocks([RegisterField(0, Encoding.UINT64_ABCD)], max_block=2)


@settings(max_examples=100, deadline=None)
@given(
    slots=st.sets(st.integers(min_value=0, max_value=500), min_size=1, max_size=30),
    max_block=st.integers(min_value=4, max_value=125),
    max_gap=st.none() | st.integers(min_value=0, max_value=50),
)
def test_planned_blocks_cover_every_field_within_limits(
    slots: set[int], max_block: int, max_gap: int | None
) -> None:
    # Fields of a register map never overlap: 4-register values on distinct 4-register slots.
    fields = [RegisterField(4 * slot, Encoding.FLOAT64_ABCD) for slot in slots]
    blocks = plan_blocks(fields, max_block=max_block, max_gap=max_gap)
    assert all(block.count <= max_block for block in blocks)
    for field in fields:
        assert any(b.address <= field.address and field.end <= b.end for b in blocks)
    assert all(a.end <= b.address for a, b in itertools.pairwise(blocks))


@pytest.mark.parametrize("key", sorted(MODBUS_METER_MAPS))
def test_every_model_reads_in_at_most_two_blocks(key: str) -> None:
    meter = MODBUS_METER_MAPS[key]
    assert 1 <= len(meter.blocks) <= 2
    ordered = sorted(meter.fields, key=lambda field: field.address)
    assert all(a.end <= b.address for a, b in itertools.pairwise(ordered)), "fields overlap"
    assert meter.phases
    assert METER_MODELS[key].transport in {MeterTransport.MODBUS, MeterTransport.MODBUS_TCP}


def test_registry_lists_every_model_once() -> None:
    assert set(MODBUS_METER_MAPS) < set(METER_MODELS)
    assert METER_MODELS["homewizard_p1_v2"].needs_pairing
    assert METER_MODELS["shelly_pro_3em_modbus"].transport is MeterTransport.MODBUS_TCP
    assert METER_MODELS["eastron_sdm630"].name == "Eastron SDM630 (Modbus)"
    assert all(model.key == key for key, model in METER_MODELS.items())


@settings(max_examples=200, deadline=None)
@given(
    current=st.floats(min_value=-100, max_value=100),
    power=st.floats(min_value=-30_000, max_value=30_000),
    voltage=st.none() | st.floats(min_value=0, max_value=300),
)
def test_current_takes_the_sign_of_power_and_exports_no_more_than_the_power(
    current: float, power: float, voltage: float | None
) -> None:
    signed = signed_current(current, power, voltage)
    if power >= 0:
        assert signed == abs(current)  # an import, whatever sign the meter gave the current
        return
    assert -abs(current) <= signed <= 0
    # The export is no more than the active power exported carries, at the phase's voltage
    # (or the highest supply voltage when the phase has none to speak of).
    volts = voltage if voltage is not None and voltage >= MIN_PLAUSIBLE_VOLTAGE_V else 253.0
    assert -signed * volts <= -power * (1 + 1e-9)
    if abs(current) * volts <= -power:  # a current the power fully carries stays whole
        assert signed == -abs(current)


def test_an_ambiguous_sign_errs_toward_import() -> None:
    # A current of 1.6 A with 0 W on the phase (the total exporting): not spare capacity.
    assert signed_current(1.6, 0.0, 230.0) == 1.6
    assert signed_current(-1.6, 0.0, 230.0) == 1.6
    # 1.6 A while 5 W are exported: 5 W / 230 V of export, not 1.6 A.
    assert signed_current(1.6, -5.0, 230.0) == pytest.approx(-5.0 / 230.0)


def test_a_current_derived_from_power_neither_understates_an_import_nor_overstates_an_export() -> (
    None
):
    assert current_from_power(2070.0) == pytest.approx(10.0)  # 2070 W / 207 V
    assert current_from_power(-2530.0) == pytest.approx(-10.0)  # 2530 W / 253 V
    assert current_from_power(0.0) == 0.0


def test_reading_rules() -> None:
    with pytest.raises(ImplausibleValueError, match="no phase"):
        build_reading(
            [], total_power_w=0, import_energy_kwh=None, export_energy_kwh=None, measured_at=0
        )
    phase = build_phase(0, voltage_v=None, current_a=2.0, power_w=-600.0)
    assert phase == PhaseReading(voltage_v=None, current_a=-2.0, power_w=-600.0)
    with pytest.raises(ImplausibleValueError, match="negative"):
        build_reading(
            [phase],
            total_power_w=None,
            import_energy_kwh=-1.0,
            export_energy_kwh=None,
            measured_at=0,
        )
    with pytest.raises(ImplausibleValueError, match="export energy"):
        build_reading(
            [phase],
            total_power_w=None,
            import_energy_kwh=None,
            export_energy_kwh=math.nan,
            measured_at=0,
        )
    with pytest.raises(ImplausibleValueError, match="total power"):
        build_reading(
            [phase],
            total_power_w=math.inf,
            import_energy_kwh=None,
            export_energy_kwh=None,
            measured_at=0,
        )
    with pytest.raises(ImplausibleValueError, match="0-300 V"):
        build_phase(0, voltage_v=300.1, current_a=0.0, power_w=0.0)
    with pytest.raises(ImplausibleValueError, match="0-300 V"):
        build_phase(0, voltage_v=-1.0, current_a=0.0, power_w=0.0)
    out = build_phase(1, voltage_v=0.0, current_a=0.0, power_w=0.0)  # a phase out is a reading
    with pytest.raises(ImplausibleValueError, match="beyond the meter's 32 A"):
        build_phase(0, voltage_v=230.0, current_a=33.0, power_w=0.0, max_current_a=32.0)
    with pytest.raises(ImplausibleValueError, match=r"power is .* beyond"):
        build_phase(0, voltage_v=230.0, current_a=3.0, power_w=1e5, max_current_a=32.0)
    with pytest.raises(ImplausibleValueError, match="no phase has a voltage"):
        build_reading(
            [out], total_power_w=None, import_energy_kwh=None, export_energy_kwh=None, measured_at=0
        )


def test_unique_id_prefers_serial_then_mac() -> None:
    assert MeterInfo("X", "Y", serial="S1", mac="AA:BB").unique_id == "S1"
    assert MeterInfo("X", "Y", mac="AA:BB:CC").unique_id == "aabbcc"
    assert MeterInfo("X", "Y").unique_id is None
