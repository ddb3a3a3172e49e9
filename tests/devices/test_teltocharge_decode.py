"""Decoding of the TeltoCharge register block, without a bus."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    InvalidCommandError,
    ModbusExceptionError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.teltocharge import (
    ENERGY_KWH_PER_COUNT,
    ErrorFlag,
    MaxSupportedPower,
    PhaseSelection,
    WarningFlag,
    decode_identity,
    decode_reading,
)
from custom_components.powershare.devices.teltocharge.commands import (
    validate_member,
    validate_watchdog,
)
from simulators.teltocharge import TeltoChargeEmulator


def idle_block() -> list[int]:
    """A plausible block, taken from the emulator (itself written from the seed)."""
    return TeltoChargeEmulator(clock=lambda: 0.0).registers()


@given(serial=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_serial_is_low_word_first(serial: int) -> None:
    block = idle_block()
    block[24], block[25] = serial & 0xFFFF, serial >> 16
    assert decode_identity(block).serial == serial


@given(
    counts=st.integers(min_value=0, max_value=2**64 - 1),
    session=st.integers(min_value=0, max_value=0xFFFF),
    status_time=st.integers(min_value=0, max_value=2**32 - 1),
)
@settings(max_examples=50, deadline=None)
def test_counters(counts: int, session: int, status_time: int) -> None:
    block = idle_block()
    block[41:45] = [(counts >> (16 * word)) & 0xFFFF for word in range(4)]
    block[39] = session
    block[7], block[8] = status_time & 0xFFFF, status_time >> 16
    reading = decode_reading(block, 12.5)
    assert reading.lifetime_energy_kwh == pytest.approx(counts * ENERGY_KWH_PER_COUNT)
    assert reading.session_energy_kwh == pytest.approx(session * ENERGY_KWH_PER_COUNT)
    assert reading.evse_status_time_s == status_time
    assert reading.measured_at == 12.5


@given(tenths=st.integers(min_value=-10, max_value=500))
@settings(max_examples=50, deadline=None)
def test_currents_are_signed_tenths(tenths: int) -> None:
    block = idle_block()
    block[4] = tenths & 0xFFFF
    assert decode_reading(block, 0.0).currents_a[1] == pytest.approx(tenths / 10)


def test_negative_temperature() -> None:
    block = idle_block()
    block[31] = -123 & 0xFFFF
    assert decode_reading(block, 0.0).temperature_c == -12.3


def test_flags() -> None:
    block = idle_block()
    block[34] = (1 << 1) | (1 << 10)
    block[35] = 1 << 9
    reading = decode_reading(block, 0.0)
    assert reading.warnings == WarningFlag.TEMPERATURE | WarningFlag.PEN_FAULT_DETECTED
    assert reading.errors == ErrorFlag.SOCKET_LOCK


def test_not_a_teltocharge() -> None:
    block = idle_block()
    block[9] = 0x4142
    with pytest.raises(UnsupportedDeviceError):
        decode_reading(block, 0.0)
    with pytest.raises(UnsupportedDeviceError):
        decode_identity(block[:40])


def test_enum_helpers() -> None:
    assert PhaseSelection.L1_L3.phases == (1, 3)
    assert PhaseSelection.NONE.phases == ()
    assert MaxSupportedPower.KW_11.max_current_a == 16
    assert MaxSupportedPower.KW_7_4.phases == 1
    assert MaxSupportedPower.KW_22.phases == 3


def test_phase_connected_out_of_range() -> None:
    block = idle_block()
    block[13] = 8
    with pytest.raises(ImplausibleValueError, match="phases_connected"):
        decode_reading(block, 0.0)


def test_exception_error_names_unknown_codes() -> None:
    err = ModbusExceptionError(0x42, function=3, unit_id=1, address=0)
    assert "unknown exception" in str(err)
    assert not err.is_illegal_function


@pytest.mark.parametrize("timeout_s", [True, 1.5, "30"])
def test_a_watchdog_timeout_is_whole_seconds(timeout_s: object) -> None:
    with pytest.raises(InvalidCommandError, match="whole seconds"):
        validate_watchdog(timeout_s)  # type: ignore[arg-type]


def test_true_is_no_phase_selection() -> None:
    # bool is an int: True would pass as 1 without this check.
    with pytest.raises(InvalidCommandError, match="must be a PhaseSelection, got True"):
        validate_member(PhaseSelection, True, "phases")  # noqa: FBT003
