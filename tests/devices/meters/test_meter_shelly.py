"""Shelly drivers against their emulators over loopback HTTP."""

from __future__ import annotations

import asyncio
import math

import pytest
from aiohttp import ClientSession

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.meters.http_client import (
    DigestAuth,
    MeterAuthenticationError,
    digest_response,
)
from custom_components.powershare.devices.meters.shelly import (
    Shelly3EmGen1Meter,
    ShellyPro3EmRpcMeter,
)
from simulators.meters.shelly import Shelly3EmGen1Emulator, ShellyPro3EmRpcEmulator
from simulators.meters.state import ManualClock

PASSWORD = "s3cret"  # noqa: S105 - the emulator's test credential


async def test_pro_3em_rpc_reads_signed_phases_in_two_requests(
    http_session: ClientSession, clock: ManualClock
) -> None:
    async with ShellyPro3EmRpcEmulator() as emulator:
        emulator.state.set_currents(8.0, -6.5, 0.0)
        emulator.state.set_voltages(229.5, 231.0, 230.2)
        emulator.state.import_energy_kwh = 4321.5
        emulator.state.export_energy_kwh = 99.25
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port, clock=clock)
        await meter.identify()  # the profile, once (the first reading asks when not known)
        before = len(emulator.requests)

        reading = await meter.read()

    assert len(emulator.requests) - before == meter.requests_per_read == 2
    assert reading.currents_a == pytest.approx((8.0, -6.5, 0.0))
    assert [p.voltage_v for p in reading.phases] == pytest.approx([229.5, 231.0, 230.2])
    assert reading.phases[1].power_w == pytest.approx(-6.5 * 231.0, abs=0.1)
    assert reading.total_power_w == pytest.approx(emulator.state.total_power_w, abs=0.1)
    assert reading.import_energy_kwh == pytest.approx(4321.5)
    assert reading.export_energy_kwh == pytest.approx(99.25)
    assert reading.measured_at == clock.now


async def test_pro_3em_identifies_by_mac(http_session: ClientSession) -> None:
    async with ShellyPro3EmRpcEmulator(mac="34987A0000FF") as emulator:
        info = await ShellyPro3EmRpcMeter(
            http_session, emulator.host, port=emulator.port
        ).identify()
    assert (info.manufacturer, info.model, info.firmware) == ("Shelly", "SPEM-003CEBEU", "1.4.4")
    assert info.unique_id == "34987a0000ff"


async def test_pro_3em_digest_auth_costs_no_extra_request_per_cycle(
    http_session: ClientSession,
) -> None:
    async with ShellyPro3EmRpcEmulator(password=PASSWORD) as emulator:
        meter = ShellyPro3EmRpcMeter(
            http_session, emulator.host, port=emulator.port, password=PASSWORD
        )
        await meter.read()  # learns the challenge (one 401 and a retry) and the profile
        first = len(emulator.requests)
        await meter.read()
        steady = len(emulator.requests) - first
        emulator.renew_nonce()  # a stale nonce costs one retry, then works again
        reading = await meter.read()

        wrong = ShellyPro3EmRpcMeter(
            http_session, emulator.host, port=emulator.port, password=PASSWORD + "x"
        )
        with pytest.raises(MeterAuthenticationError):
            await wrong.read()
        without = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        with pytest.raises(MeterAuthenticationError, match="needs a password"):
            await without.identify()
    assert first == 4  # the device info (after the 401), then the two readings
    assert steady == 2
    assert len(reading.phases) == 3


def test_digest_response_matches_rfc_7616_examples() -> None:
    common = {
        "username": "Mufasa",
        "password": "Circle of Life",
        "realm": "http-auth@example.org",
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "method": "GET",
        "uri": "/dir/index.html",
        "count": "00000001",
        "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    }
    assert digest_response(algorithm="MD5", **common) == "8ca523f5e9506fed4657c9700eebdbec"
    assert (
        digest_response(algorithm="SHA-256", **common)
        == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    )


def test_digest_auth_ignores_other_challenges() -> None:
    auth = DigestAuth("admin", "pw")
    assert auth.header("GET", "/") is None
    assert not auth.accept_challenge('Basic realm="x"')
    assert not auth.accept_challenge('Digest qop="auth"')
    assert auth.accept_challenge('Digest realm="r", nonce="n", qop="auth"')
    header = auth.header("GET", "/rpc/EM.GetStatus?id=0")
    assert header is not None
    assert "algorithm=MD5" in header
    assert "nc=00000001" in header


@pytest.mark.parametrize("field", ["a_voltage", "b_act_power", "c_current"])
async def test_pro_3em_nan_or_out_of_range_is_a_bad_reading(
    field: str, http_session: ClientSession
) -> None:
    async with ShellyPro3EmRpcEmulator() as emulator:
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        phase = emulator.state.phases["abc".index(field[0])]
        if field.endswith("voltage"):
            phase.voltage_v = 320.0
        elif field.endswith("power"):
            phase.power_factor = math.nan
        else:
            phase.current_a = math.inf
        with pytest.raises(ImplausibleValueError):
            await meter.read()


async def test_pro_3em_http_faults_become_typed_errors(http_session: ClientSession) -> None:
    async with ShellyPro3EmRpcEmulator() as emulator:
        meter = ShellyPro3EmRpcMeter(
            http_session, emulator.host, port=emulator.port, request_timeout=0.2
        )
        emulator.faults.status = 500
        with pytest.raises(DeviceUnreachableError, match="HTTP 500"):
            await meter.read()
        emulator.faults.clear()
        emulator.faults.garbage = True
        with pytest.raises(ImplausibleValueError, match="not JSON"):
            await meter.read()
        emulator.faults.clear()
        emulator.faults.drop = True
        with pytest.raises(DeviceUnreachableError):
            await meter.read()
        emulator.faults.clear()
        emulator.faults.delay = 0.4
        with pytest.raises(DeviceTimeoutError):
            await meter.read()
        await asyncio.sleep(0.3)
        emulator.faults.clear()
        assert len((await meter.read()).phases) == 3
    with pytest.raises(DeviceUnreachableError):
        await meter.read()  # the emulator has stopped: connection refused


async def test_gen1_reads_status_in_one_request_with_basic_auth(
    http_session: ClientSession, clock: ManualClock
) -> None:
    async with Shelly3EmGen1Emulator(password=PASSWORD) as emulator:
        emulator.state.set_currents(-3.0, 12.0, 1.5)
        emulator.state.import_energy_kwh = 300.0
        emulator.state.export_energy_kwh = 30.0
        meter = Shelly3EmGen1Meter(
            http_session, emulator.host, port=emulator.port, password=PASSWORD, clock=clock
        )
        reading = await meter.read()
        info = await meter.identify()
        refused = Shelly3EmGen1Meter(http_session, emulator.host, port=emulator.port)
        with pytest.raises(MeterAuthenticationError):
            await refused.read()
    assert emulator.count("/status") == 2
    assert meter.requests_per_read == 1
    assert reading.currents_a == pytest.approx((-3.0, 12.0, 1.5))
    assert reading.total_power_w == pytest.approx(230.0 * 10.5)
    assert reading.import_energy_kwh == pytest.approx(300.0)
    assert reading.export_energy_kwh == pytest.approx(30.0)
    assert (info.model, info.unique_id) == ("SHEM-3", "c45bbe6a1f20")


async def test_gen1_invalid_phase_or_missing_emeters_is_a_bad_reading(
    http_session: ClientSession,
) -> None:
    async with Shelly3EmGen1Emulator() as emulator:
        meter = Shelly3EmGen1Meter(http_session, emulator.host, port=emulator.port)
        emulator.valid[2] = False
        with pytest.raises(ImplausibleValueError, match="L3 as not valid"):
            await meter.read()
        emulator.valid[2] = True
        emulator.state.phases.clear()
        with pytest.raises(ImplausibleValueError, match="emeters"):
            await meter.read()


async def test_pro_3em_monophase_profile_reads_its_three_channels(
    http_session: ClientSession,
) -> None:
    # Before: every reading asked EM.GetStatus, which this profile answers with HTTP 500.
    async with ShellyPro3EmRpcEmulator(profile="monophase") as emulator:
        emulator.state.set_currents(12.0, -3.0, 0.5)
        emulator.state.import_energy_kwh = 300.0
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        reading = await meter.read()  # learns the profile first
        before = len(emulator.requests)
        await meter.read()
    assert meter.profile == "monophase"
    assert len(emulator.requests) - before == meter.requests_per_read == 1
    assert reading.currents_a == pytest.approx((12.0, -3.0, 0.5), abs=1e-3)
    assert reading.import_energy_kwh == pytest.approx(300.0)


async def test_pro_3em_unknown_profile_is_refused_clearly(http_session: ClientSession) -> None:
    async with ShellyPro3EmRpcEmulator(profile="wattmeter") as emulator:
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        with pytest.raises(UnsupportedDeviceError, match="'wattmeter' profile"):
            await meter.identify()


@pytest.mark.parametrize("profile", ["triphase", "monophase"])
async def test_pro_3em_flags_make_a_reading_missing(
    http_session: ClientSession, profile: str
) -> None:
    async with ShellyPro3EmRpcEmulator(profile=profile) as emulator:
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        emulator.phase_errors = {1: ["out_of_range:current"]}
        with pytest.raises(ImplausibleValueError, match="flags L2: out_of_range:current"):
            await meter.read()
        emulator.phase_errors = {}
        if profile == "triphase":  # the device-wide error of the three-phase meter
            emulator.errors = ["power_meter_failure"]
            with pytest.raises(ImplausibleValueError, match="power_meter_failure"):
                await meter.read()
            emulator.errors = ["phase_sequence"]  # wiring advice, not a failed measurement
        assert len((await meter.read()).phases) == 3


async def test_pro_3em_on_a_single_phase_house_keeps_the_phase_in_use(
    http_session: ClientSession,
) -> None:
    # The unused phases read about 0.1 V and are flagged for it: a phase not connected.
    async with ShellyPro3EmRpcEmulator() as emulator:
        emulator.state.set_currents(10.0, 0.0, 0.0)
        emulator.state.set_voltages(231.0, 0.1, 0.1)
        emulator.phase_errors = {1: ["out_of_range:voltage"], 2: ["out_of_range:voltage"]}
        meter = ShellyPro3EmRpcMeter(http_session, emulator.host, port=emulator.port)
        reading = await meter.read()
    assert reading.currents_a == pytest.approx((10.0, 0.0, 0.0))
