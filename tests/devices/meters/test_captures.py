"""The meter drivers against answers real devices sent (`captures/`, sources in SOURCES.md).

Each capture is served on loopback where the real device served it (`simulators.meters.
captured`); the expectations below are read off the captured bodies by hand, with the rule
that gives each figure: a current the meter does not report is its power over 207 V (import)
or 253 V (export); an export counts no more than its active power carries; a current whose
power is 0 W or more is an import. Every capture in the folders must have an expectation
here, so a new capture cannot go untested.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.powershare.devices.errors import (
    DeviceUnreachableError,
    PowershareDeviceError,
)
from custom_components.powershare.devices.meters.homewizard import (
    HomeWizardP1V1Meter,
    HomeWizardP1V2Meter,
    homewizard_ssl_context,
)
from custom_components.powershare.devices.meters.modbus_meter import ModbusMeter
from custom_components.powershare.devices.meters.modbus_models import MODBUS_METER_MAPS
from custom_components.powershare.devices.meters.registers import read_field
from custom_components.powershare.devices.meters.shelly import (
    MONOPHASE,
    TRIPHASE,
    Shelly3EmGen1Meter,
    ShellyPro3EmRpcMeter,
)
from simulators.meters.captured import Capture, CapturedHttpDevice, CapturedRegisters

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from custom_components.powershare.devices.meters import MeterReading

    from .conftest import ServeModbus

CAPTURES = Path(__file__).parent / "captures"
IMPORT_V = 207.0
EXPORT_V = 253.0


@dataclass(frozen=True)
class Expected:
    """What a capture must give."""

    currents: tuple[float, ...] | None = None
    """The signed currents of the reading (None: the capture holds no reading to take)."""
    derived: bool = False
    """Whether the currents are derived from the powers."""
    energy: tuple[float | None, float | None] | None = None
    """Import and export in kWh (None: not checked)."""
    model: str | None = None
    """What `identify` names (None: the capture holds no identification)."""
    refused: str | None = None
    """The error a reading must raise, when the capture is not one to use."""
    demand: tuple[float | None, float | None] = (None, None)
    """The meter's own average demand and month peak in W (a Belgian meter's)."""


HTTP: dict[str, Expected] = {
    # HomeWizard P1, API v1.
    "v1_single_phase_nl_iskra_2m550e_fw6": Expected(
        (-0.446,), energy=(10201.212, 6554.178), model="HWE-P1"
    ),
    "v1_single_phase_nl_kaifa_export_signed_current": Expected((-11.43,)),
    # No current, no voltage, L2 and L3 null, energy per tariff only.
    "v1_single_phase_nl_sagemcom_xs210_l2_l3_null": Expected(
        (-892 / EXPORT_V,), derived=True, energy=(11588.132, 173.527)
    ),
    # 3 x 230 V without neutral: L2 at 0 V; 0 W on every phase while the total exports, so
    # the currents count as imports.
    "v1_three_phase_be_3x230_zero_voltage_excerpt": Expected((1.65, 0.0, 0.93)),
    "v1_three_phase_iskra_2m551t_import_only": Expected(
        (0.467, 1.247, 1.429), energy=(5658.695, None)
    ),
    # Exporting 12.4 kW with unsigned currents: signed by the power (L1 20 A, 4530 W at 226 V).
    "v1_three_phase_kaifa_t3_unsigned_currents": Expected(
        (-20.0, -4310 / 231.0, -3540 / 230.0), energy=(17188.517, 21057.65)
    ),
    "v1_three_phase_nl_kaifa_signed_current": Expected((-0.129, 4.324, 2.948)),
    "v1_three_phase_nl_landis_gyr_dsmr42_no_l3_voltage": Expected(
        (19.0, 19.0, 32.0), model="HWE-P1"
    ),
    "v1_three_phase_nl_landis_gyr_signed_current": Expected((-0.092, 0.252, 0.747)),
    "v1_three_phase_nl_sagemcom_t210d_no_currents": Expected(
        (3809 / IMPORT_V, 3811 / IMPORT_V, 3775 / IMPORT_V),
        derived=True,
        energy=(18068.525, 11773.823),
    ),
    "v1_three_phase_se_ell5_blurred_fw505": Expected((0.9, 6.2, 0.9)),
    "v1_three_phase_se_ell5_t1_only": Expected((0.3, 2.9, 0.3), energy=(11033.43, 0.0)),
    # HomeWizard P1, API v2 (the documentation's example: no real v2 capture is published).
    "v2_single_phase_doc_example_tariff_only": Expected(
        (-676 / EXPORT_V,), derived=True, energy=(13779.338, 4162.461), model="HWE-P1"
    ),
    "v2_three_phase_doc_example_no_voltages": Expected(
        (-2.672, 2.0, 0.0), model="HWE-P1", demand=(123.0, 1111.0)
    ),
    # Shelly 3EM gen 1 on two firmware versions.
    "3em_gen1_fw1140_matterbridge": Expected((0.07, 0.01, 0.01), model="SHEM-3"),
    "3em_gen1_fw20200205_shellyforhass_issue191": Expected((14.35, 1.12, 1.12)),
    # Shelly Pro 3EM, three-phase profile (the firmware 0.14.2 device predates profiles).
    "pro3em400_fw0142_deviceinfo_no_profile_bieniu_issue468": Expected(model="SPEM-003CEBEU400"),
    "pro3em_triphase_addon_bieniu_issue333": Expected((1.576, 0.412, 1.687)),
    "pro3em_triphase_aioshelly_fw110": Expected((2.392, 1.037, 0.428), model="SPEM-003CEBEU"),
    "pro3em_triphase_ha_core": Expected((9.592, 0.044, 1.479), model="SPEM-003CEBEU"),
    "pro3em_triphase_opendtu_issue611": Expected((2.145, 1.29, 1.362)),
    # A single-phase house: two phases at 0 V with a few mA of noise, the third in use.
    "pro3em_triphase_singlephase_house_fw143_matterbridge": Expected(
        (0.029, 0.027, 0.027), model="SPEM-003CEBEU"
    ),
    "pro3em_triphase_singlephase_house_fw175_matterbridge": Expected(
        (0.028, 0.027, 0.068), model="SPEM-003CEBEU"
    ),
    # Shelly Pro 3EM, single-phase (monophase) profile: three channels, read as L1-L3.
    "pro3em63_monophase_fw160beta1_bieniu_issue621": Expected((0.149, 2.016, 0.1)),
    "pro3em_monophase_fw143_matterbridge": Expected((0.028, 0.028, 0.027), model="SPEM-003CEBEU"),
    "pro3em_monophase_fw175_matterbridge": Expected((0.028, 0.027, 0.068), model="SPEM-003CEBEU"),
    # The thread cut the capture after channel 0's status (no counters, no other channel):
    # no reading of the three channels to take.
    "pro3em_monophase_fw144_dbus_shelly_issue13": Expected(
        model="SPEM-003CEBEU", refused="no channel em1:0"
    ),
    "pro3em_monophase_fw144_deviceinfo_evcc": Expected(model="SPEM-003CEBEU"),
}


def _captures(kind: str) -> list[Capture]:
    return [Capture.load(path) for path in sorted((CAPTURES / kind).glob("*.json"))]


HTTP_CAPTURES = [*_captures("homewizard"), *_captures("shelly")]


def test_every_capture_has_an_expectation_and_a_source() -> None:
    names = {capture.name for capture in HTTP_CAPTURES}
    assert names == set(HTTP)
    for kind in ("homewizard", "shelly", "modbus"):
        sources = (CAPTURES / kind / "SOURCES.md").read_text(encoding="utf-8")
        for capture in _captures(kind):
            assert f"{capture.name}.json" in sources, capture.name
            assert capture.source in sources, capture.name


def _answers(capture: Capture) -> dict[str, Any]:
    """The capture's answers, with `Shelly.GetStatus` where the device would have it.

    A Pro 3EM answers `Shelly.GetStatus` with every component's status under its key
    (`em1:1` is what `EM1.GetStatus?id=1` answers); captures split per method are put back
    together that way.
    """
    answers = dict(capture.answers)
    status: dict[str, Any] = {}
    for path, body in capture.answers.items():
        for method, key in (("EM1.GetStatus", "em1"), ("EM1Data.GetStatus", "em1data")):
            prefix = f"/rpc/{method}?id="
            if path.startswith(prefix):
                status[f"{key}:{path.removeprefix(prefix)}"] = body
    if status:
        answers.setdefault("/rpc/Shelly.GetStatus", status)
    return answers


def _meter(capture: Capture, session: ClientSession, device: CapturedHttpDevice) -> Any:
    where = {"port": device.port}
    if capture.device == "homewizard_p1_v1":
        return HomeWizardP1V1Meter(session, device.host, **where)
    if capture.device == "homewizard_p1_v2":
        assert device.authority is not None
        context = homewizard_ssl_context(device.authority.ca_pem)
        return HomeWizardP1V2Meter(session, device.host, "token", ssl_context=context, **where)
    if capture.device == "shelly_3em_gen1":
        return Shelly3EmGen1Meter(session, device.host, **where)
    meter = ShellyPro3EmRpcMeter(session, device.host, **where)
    if "/rpc/Shelly.GetDeviceInfo" not in capture.answers:
        # No identification captured: the components captured say the profile.
        channels = any(path.startswith("/rpc/EM1.") for path in capture.answers)
        meter.profile = MONOPHASE if channels else TRIPHASE
    return meter


@pytest.mark.parametrize("capture", HTTP_CAPTURES, ids=lambda capture: capture.name)
async def test_http_driver_reads_a_real_answer(
    capture: Capture, http_session: ClientSession
) -> None:
    expected = HTTP[capture.name]
    tls = "appliance/p1dongle/captured" if capture.device == "homewizard_p1_v2" else None
    async with CapturedHttpDevice(_answers(capture), tls_name=tls) as device:
        meter = _meter(capture, http_session, device)
        if expected.model is not None:
            assert (await meter.identify()).model == expected.model
        if expected.refused is not None:
            with pytest.raises(PowershareDeviceError, match=expected.refused):
                await meter.read()
            return
        if expected.currents is None:
            with pytest.raises(DeviceUnreachableError):  # the capture holds no reading
                await meter.read()
            return
        reading: MeterReading = await meter.read()
    assert reading.currents_a == pytest.approx(expected.currents, abs=1e-3)
    assert all(phase.current_derived is expected.derived for phase in reading.phases)
    assert (reading.average_demand_w, reading.month_peak_w) == expected.demand
    if expected.energy is not None:
        assert (reading.import_energy_kwh, reading.export_energy_kwh) == pytest.approx(
            expected.energy
        )


# --- Modbus ----------------------------------------------------------------------------------


async def test_chint_dtsu666_behind_200_to_1_transformers_reads_primary_values(
    modbus_tcp: ServeModbus,
) -> None:
    # The meter reports on the transformers' secondary side: 0.035 A and -4.4 W on L1 with
    # IrAt = 200 in register 0x0006. Before, that was read as 0.035 A: 200 times too little.
    capture = Capture.load(CAPTURES / "modbus" / "chint_dtsu666_sigen_sensor_scan.json")
    bus = await modbus_tcp({1: CapturedRegisters(capture)})
    reading = await ModbusMeter(bus, MODBUS_METER_MAPS["chint_dtsu666"], unit_id=1).read()
    assert [phase.power_w for phase in reading.phases] == pytest.approx([-880.0, -1120.0, -1020.0])
    # 7.0, 8.6 and 7.8 A flow, but an export counts as far as its active power carries it.
    assert reading.currents_a == pytest.approx((-880 / 227.6, -1120 / 226.5, -1020 / 226.0))
    assert reading.total_power_w == pytest.approx(-3020.0)
    assert (reading.import_energy_kwh, reading.export_energy_kwh) == pytest.approx((7.0, 5.8))


async def test_inepro_pro380_reads_a_live_snapshot(modbus_tcp: ServeModbus) -> None:
    capture = Capture.load(CAPTURES / "modbus" / "inepro_pro380_device_snapshot.json")
    bus = await modbus_tcp({1: CapturedRegisters(capture)})
    reading = await ModbusMeter(bus, MODBUS_METER_MAPS["inepro_pro380"], unit_id=1).read()
    assert [phase.voltage_v for phase in reading.phases] == pytest.approx([234.3, 233.4, 234.4])
    assert [phase.power_w for phase in reading.phases] == pytest.approx([900.0, -232.0, -492.0])
    # L2 and L3 export with -1.62 A and -2.15 A, more than their active power carries.
    assert reading.currents_a == pytest.approx((4.05, -232 / 233.4, -492 / 234.4), abs=1e-3)
    assert (reading.import_energy_kwh, reading.export_energy_kwh) == pytest.approx(
        (15062.03, 20257.91), abs=0.01
    )


@pytest.mark.parametrize(
    ("name", "values"),
    [
        # SmartEVSE's log of an SDM630 charging a car (currents, powers, total, import only).
        (
            "eastron_sdm630_smartevse_ev_meter",
            {
                "current": (15.4657, 15.3009, 15.5002),
                "power": (3749.443, 3683.237, 3727.013),
                "total_power": 11155.122,
                "import_energy": 2314.0869,
            },
        ),
        # sdm_modbus' decoded SDM120 (voltage, current, power, both energies).
        (
            "eastron_sdm120_sdm_modbus_json",
            {"voltage": (235.1,), "current": (1.617,), "power": (170.5,)},
        ),
    ],
)
def test_a_partial_capture_decodes_where_the_map_reads(name: str, values: dict[str, Any]) -> None:
    # These captures hold some of the registers a reading needs: each field they hold is
    # decoded with the model's map and must give what the source printed.
    capture = Capture.load(CAPTURES / "modbus" / f"{name}.json")
    meter_map = MODBUS_METER_MAPS[capture.device]
    registers = capture.registers

    def decoded(field: Any) -> float:
        return read_field(field, registers, not_available_marker=False)

    for kind in ("voltage", "current", "power"):
        if kind in values:
            got = [decoded(getattr(fields, kind)) for fields in meter_map.phases]
            assert got == pytest.approx(values[kind], abs=1e-3)
    for kind in ("total_power", "import_energy"):
        if kind in values:
            assert decoded(getattr(meter_map, kind)) == pytest.approx(values[kind], abs=1e-3)


def test_modbus_captures_are_all_tested() -> None:
    tested = {
        "chint_dtsu666_sigen_sensor_scan",
        "inepro_pro380_device_snapshot",
        "eastron_sdm630_smartevse_ev_meter",
        "eastron_sdm120_sdm_modbus_json",
    }
    assert {capture.name for capture in _captures("modbus")} == tested
