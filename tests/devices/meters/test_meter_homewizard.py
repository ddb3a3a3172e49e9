"""HomeWizard P1 drivers against their emulators: API v1 over HTTP, API v2 over real TLS."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from aiohttp import ClientSession
from cryptography import x509

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    PowershareDeviceError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.meters.homewizard import (
    HomeWizardP1V1Meter,
    HomeWizardP1V2Meter,
    PairingButtonNotPressedError,
    async_homewizard_ssl_context,
    homewizard_ssl_context,
    request_token,
    wait_for_token,
)
from custom_components.powershare.devices.meters.homewizard_ca import HOMEWIZARD_CA_PEM
from custom_components.powershare.devices.meters.http_client import MeterAuthenticationError
from simulators.meters.homewizard import HomeWizardV1Emulator, HomeWizardV2Emulator
from simulators.meters.state import ManualClock, MeterState
from simulators.meters.tls import TestCertificateAuthority


async def test_v1_reads_unsigned_currents_as_signed(
    http_session: ClientSession, clock: ManualClock
) -> None:
    async with HomeWizardV1Emulator() as emulator:
        emulator.state.set_currents(-9.0, 2.0, -0.5)
        emulator.state.import_energy_kwh = 12_345.678
        emulator.state.export_energy_kwh = 2_345.5
        meter = HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port, clock=clock)
        reading = await meter.read()
        info = await meter.identify()
    assert emulator.count("/api/v1/data") == meter.requests_per_read == 1
    assert reading.currents_a == pytest.approx((-9.0, 2.0, -0.5))
    assert reading.total_power_w == pytest.approx(230.0 * -7.5)
    assert reading.import_energy_kwh == pytest.approx(12_345.678)
    assert reading.export_energy_kwh == pytest.approx(2_345.5)
    assert (info.manufacturer, info.model, info.serial) == ("HomeWizard", "HWE-P1", "3c39e7aabbcc")


async def test_v1_single_phase_meter(http_session: ClientSession) -> None:
    async with HomeWizardV1Emulator(MeterState.single_phase()) as emulator:
        emulator.state.set_currents(-4.0)
        reading = await HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port).read()
    assert reading.currents_a == pytest.approx((-4.0,))
    assert reading.total_power_w == pytest.approx(-920.0)


async def test_v1_disabled_api_and_implausible_voltage(http_session: ClientSession) -> None:
    async with HomeWizardV1Emulator() as emulator:
        meter = HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port)
        emulator.local_api_enabled = False
        with pytest.raises(PowershareDeviceError, match="local API is disabled"):
            await meter.read()
        emulator.local_api_enabled = True
        emulator.state.phases[2].voltage_v = 320.0
        with pytest.raises(ImplausibleValueError, match="L3 voltage"):
            await meter.read()


async def test_v2_token_flow_then_signed_measurement_over_verified_tls(
    http_session: ClientSession, clock: ManualClock
) -> None:
    async with HomeWizardV2Emulator() as emulator:
        emulator.state.set_currents(5.0, -15.0, 0.25)
        context = await async_homewizard_ssl_context(emulator.ca_pem, verify_hostname=True)
        where = {"port": emulator.port, "ssl_context": context, "device_name": emulator.device_name}

        with pytest.raises(PairingButtonNotPressedError):
            await request_token(http_session, emulator.host, name="powershare", **where)
        emulator.press_button()
        token = await request_token(http_session, emulator.host, name="powershare", **where)
        assert emulator.tokens[token] == "local/powershare"

        meter = HomeWizardP1V2Meter(http_session, emulator.host, token, clock=clock, **where)
        before = emulator.count("/api/measurement")
        reading = await meter.read()
        assert emulator.count("/api/measurement") - before == meter.requests_per_read == 1
        assert emulator.last_headers["Authorization"] == f"Bearer {token}"
        assert emulator.last_headers["X-Api-Version"] == "2"
        info = await meter.identify()

        refused = HomeWizardP1V2Meter(http_session, emulator.host, "wrong", **where)
        with pytest.raises(MeterAuthenticationError):
            await refused.read()
    assert reading.currents_a == pytest.approx((5.0, -15.0, 0.25))
    assert reading.measured_at == clock.now
    assert (info.serial, info.firmware) == ("5c2fafabcdef", "6.0200")


async def test_v2_wait_for_token_polls_until_the_button_is_pressed(
    http_session: ClientSession,
) -> None:
    async with HomeWizardV2Emulator() as emulator:
        context = homewizard_ssl_context(emulator.ca_pem)

        async def press_later() -> None:
            await asyncio.sleep(0.15)
            emulator.press_button()

        presser = asyncio.create_task(press_later())
        token = await wait_for_token(
            http_session,
            emulator.host,
            name="ps",
            port=emulator.port,
            ssl_context=context,
            interval=0.05,
        )
        await presser
        assert token in emulator.tokens
        assert emulator.count("/api/user") >= 2


async def test_v2_pairing_window_closes(http_session: ClientSession) -> None:
    emulated_time = ManualClock()
    async with HomeWizardV2Emulator(clock=emulated_time) as emulator:
        context = homewizard_ssl_context(emulator.ca_pem)
        emulator.press_button()
        emulated_time.advance(31.0)  # the 30 s window has passed
        with pytest.raises(PairingButtonNotPressedError):
            await wait_for_token(
                http_session,
                emulator.host,
                name="ps",
                port=emulator.port,
                ssl_context=context,
                window=0.1,
                interval=0.05,
            )


async def test_v2_refuses_a_server_not_signed_by_the_trusted_ca(
    http_session: ClientSession,
) -> None:
    async with HomeWizardV2Emulator() as emulator:
        emulator.press_button()
        stranger = TestCertificateAuthority.generate("appliance/p1dongle/000000000000")
        for context, name in (
            # The shipped HomeWizard CA did not sign the emulator's certificate.
            (homewizard_ssl_context(), None),
            (homewizard_ssl_context(stranger.ca_pem), None),
            # Right CA, wrong device name.
            (
                homewizard_ssl_context(emulator.ca_pem, verify_hostname=True),
                "appliance/p1dongle/000000000000",
            ),
        ):
            with pytest.raises(UnsupportedDeviceError, match="certificate"):
                await request_token(
                    http_session,
                    emulator.host,
                    name="ps",
                    port=emulator.port,
                    ssl_context=context,
                    device_name=name,
                )
    assert "POST /api/user" not in emulator.requests


def test_shipped_homewizard_ca_is_the_appliance_access_ca() -> None:
    certificate = x509.load_pem_x509_certificate(HOMEWIZARD_CA_PEM.encode())
    assert certificate.subject.rfc4514_string() == (
        "CN=Appliance Access CA,O=HomeWizard,ST=ZH,C=NL"
    )
    assert certificate.issuer == certificate.subject
    context = homewizard_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert not context.check_hostname
    assert [ca["serialNumber"] for ca in context.get_ca_certs()] == [
        format(certificate.serial_number, "X")
    ]


async def test_v1_fills_in_what_a_meter_does_not_report(http_session: ClientSession) -> None:
    async with HomeWizardV1Emulator(MeterState.single_phase()) as emulator:
        meter = HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port)
        emulator.state.set_currents(-4.0)
        # A single-phase meter without per-phase power: the total is the phase's power.
        emulator.omitted_keys = {"active_power_l1_w"}
        assert (await meter.read()).phases[0].power_w == pytest.approx(-920.0)
        # No current: derived from the power, an export at the highest supply voltage (253 V)
        # so it is not overstated, and said to be derived.
        emulator.omitted_keys = {"active_current_l1_a"}
        phase = (await meter.read()).phases[0]
        assert phase.current_a == pytest.approx(-920.0 / 253.0)
        assert phase.current_derived
        # Neither current nor voltage: the same (HomeWizard documents every point as optional).
        emulator.omitted_keys = {"active_current_l1_a", "active_voltage_l1_v"}
        assert (await meter.read()).currents_a == pytest.approx((-920.0 / 253.0,))
        # An import at the lowest supply voltage (207 V), so it is not understated.
        emulator.state.set_currents(9.0)
        assert (await meter.read()).currents_a == pytest.approx((230.0 * 9.0 / 207.0,))
        emulator.state.set_currents(-4.0)
        emulator.omitted_keys = {"active_power_l1_w", "active_power_w"}
        with pytest.raises(ImplausibleValueError, match="no power"):
            await meter.read()
        emulator.omitted_keys = {"active_power_l1_w", "active_current_l1_a"}
        with pytest.raises(ImplausibleValueError, match="no phase"):
            await meter.read()


async def test_v1_three_phase_meter_missing_one_phase_power(http_session: ClientSession) -> None:
    async with HomeWizardV1Emulator() as emulator:
        emulator.omitted_keys = {"active_power_l2_w"}
        with pytest.raises(ImplausibleValueError, match="L2 reports a current but no power"):
            await HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port).read()


async def test_v1_reads_a_belgian_meters_demand_and_leaves_out_a_broken_one(
    http_session: ClientSession,
) -> None:
    async with HomeWizardV1Emulator() as emulator:
        meter = HomeWizardP1V1Meter(http_session, emulator.host, port=emulator.port)
        emulator.extra = {"active_power_average_w": 2345.0, "montly_power_peak_w": 4321.0}
        reading = await meter.read()
        assert (reading.average_demand_w, reading.month_peak_w) == (2345.0, 4321.0)
        # Only the peak budget uses them: a broken one leaves the reading usable.
        emulator.extra = {"active_power_average_w": "high", "montly_power_peak_w": -5.0}
        reading = await meter.read()
        assert (reading.average_demand_w, reading.month_peak_w) == (None, None)
        assert reading.currents_a == pytest.approx((0.0, 0.0, 0.0))
