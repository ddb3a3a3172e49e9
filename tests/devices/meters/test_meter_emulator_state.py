"""The emulators' shared state: what a test or the virtual site sets."""

from __future__ import annotations

import pytest

from simulators.meters.state import ManualClock, MeterState


def test_power_and_energy_follow_the_currents() -> None:
    state = MeterState()
    state.set_currents(10.0, -4.0, 0.0)
    state.set_voltages(230.0, 240.0, 230.0)
    state.phases[0].power_factor = 0.5
    assert state.total_power_w == pytest.approx(1150.0 - 960.0)
    state.advance(3600.0)
    assert state.import_energy_kwh == pytest.approx(0.19)
    state.set_currents(0.0, -10.0, 0.0)
    state.advance(1800.0)
    assert state.export_energy_kwh == pytest.approx(1.2)
    assert state.import_energy_kwh == pytest.approx(0.19)


def test_wrong_phase_count_is_refused() -> None:
    state = MeterState.single_phase()
    with pytest.raises(ValueError, match="expected 1 currents"):
        state.set_currents(1.0, 2.0)
    with pytest.raises(ValueError, match="expected 1 voltages"):
        state.set_voltages(230.0, 230.0, 230.0)


def test_manual_clock() -> None:
    clock = ManualClock(5.0)
    clock.advance(2.5)
    assert clock() == 7.5
