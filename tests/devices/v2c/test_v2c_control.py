"""The V2C Trydan behind the charger interface, against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession

from custom_components.powershare.devices.charger import ChargeCommand
from custom_components.powershare.devices.errors import PowershareDeviceError
from custom_components.powershare.devices.v2c import V2CControl, V2CTrydan
from simulators.meters.state import ManualClock
from simulators.v2c import TrydanEmulator, TrydanState


@pytest.fixture
async def emulator(car_clock: ManualClock) -> AsyncIterator[TrydanEmulator]:
    state = TrydanState(clock=car_clock, phases=3, max_intensity_a=32)
    async with TrydanEmulator(state) as running:
        running.charger.plug_in()
        car_clock.advance(running.charger.response_delay_s)
        yield running


def _control(session: ClientSession, emulator: TrydanEmulator) -> V2CControl:
    return V2CControl(V2CTrydan(session, emulator.host, port=emulator.port), wired_phases=3)


async def test_identity_and_reading(http_session: ClientSession, emulator: TrydanEmulator) -> None:
    control = _control(http_session, emulator)
    identity = await control.identify()
    assert (identity.unique_id, identity.manufacturer, identity.model_name) == (
        "EMU123",
        "V2C",
        "Trydan",
    )
    reading = await control.read()
    assert (reading.ev_connected, reading.charging) == (True, True)
    # 16 A on three phases, known only by the power: at least P / 3U on L1, nothing for sure
    # on L2 and L3 (a one-phase car would draw 48 A on L1), counted on every wired phase.
    assert reading.currents_a == pytest.approx((16.0, 0.0, 0.0))
    assert reading.car_phases == frozenset({0, 1, 2})
    assert reading.amp_limit_a == 32
    assert control.capabilities.watchdog is False


async def test_a_command_is_written_once_pauses_and_resumes(
    http_session: ClientSession, emulator: TrydanEmulator, car_clock: ManualClock
) -> None:
    control = _control(http_session, emulator)
    await control.read()
    assert await control.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0) == 1
    # A cycle before the next poll: what was written counts, nothing goes out again.
    assert await control.command(ChargeCommand(amps=10, failsafe_a=6), now=1.0) == 0
    assert emulator.writes == [("Intensity", 10)]
    car_clock.advance(5.0)
    await control.read()
    assert await control.command(ChargeCommand(amps=0, failsafe_a=6), now=2.0) == 1
    assert emulator.writes[-1] == ("Paused", 1)
    await control.read()
    assert await control.command(ChargeCommand(amps=12, failsafe_a=6), now=3.0) == 2
    assert emulator.writes[-2:] == [("Intensity", 12), ("Paused", 0)]


async def test_its_own_dynamic_control_is_held_then_given_back(
    http_session: ClientSession, emulator: TrydanEmulator
) -> None:
    emulator.charger.dynamic = True
    emulator.charger.dynamic_intensity_a = 20  # its own control would keep setting 20 A
    control = _control(http_session, emulator)
    await control.read()
    await control.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0)
    assert ("PauseDynamic", 1) in emulator.writes
    reading = await control.read()
    assert reading.answer.intensity_a == 10  # no longer overwritten by its own control
    await control.release(failsafe_a=8)
    assert emulator.writes[-2:] == [("Intensity", 8), ("PauseDynamic", 0)]


async def test_below_its_own_minimum_it_pauses_never_raised(
    http_session: ClientSession, emulator: TrydanEmulator
) -> None:
    emulator.charger.min_intensity_a = 8
    control = _control(http_session, emulator)
    await control.read()
    await control.command(ChargeCommand(amps=6, failsafe_a=6), now=0.0)
    assert emulator.writes == [("Paused", 1)]
    await control.release(failsafe_a=6)
    assert emulator.writes[-1] == ("Paused", 1)


async def test_release_at_zero_pauses(
    http_session: ClientSession, emulator: TrydanEmulator
) -> None:
    control = _control(http_session, emulator)
    await control.read()
    await control.release(failsafe_a=0)
    assert emulator.writes == [("Paused", 1)]


async def test_the_interface_reads_the_session_energy(
    http_session: ClientSession, emulator: TrydanEmulator, car_clock: ManualClock
) -> None:
    control = _control(http_session, emulator)
    car_clock.advance(3600.0)  # an hour at 16 A on three phases
    reading = await control.read()
    assert reading.session_energy_kwh == pytest.approx(reading.answer.session_energy_kwh)
    assert reading.session_energy_kwh > 0
    assert reading.lifetime_energy_kwh is None


async def test_nothing_is_written_before_a_first_answer(
    http_session: ClientSession, emulator: TrydanEmulator
) -> None:
    control = _control(http_session, emulator)
    assert await control.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0) == 0
    await control.release(6)
    assert emulator.writes == []  # what it is set to now is not known: nothing assumed


async def test_a_failed_write_forgets_what_was_sent(
    http_session: ClientSession, emulator: TrydanEmulator
) -> None:
    control = _control(http_session, emulator)
    await control.read()
    emulator.faults.status = 500
    with pytest.raises(PowershareDeviceError):
        await control.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0)
    emulator.faults.clear()
    # The next command writes again: the failed one may not have arrived.
    assert await control.command(ChargeCommand(amps=10, failsafe_a=6), now=1.0) == 1
    assert emulator.writes[-1] == ("Intensity", 10)
