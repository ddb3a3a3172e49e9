"""Modbus meters as data: one register map per model.

Adding a Modbus meter = one entry in `MODBUS_METER_MAPS` and one test. Facts come from
`protocols.md`: [C] seen in working public code (mbmd, evcc), [D] vendor documentation,
[U] unconfirmed (kept easy to correct: every value is a constant in this table).
"""

from __future__ import annotations

from dataclasses import dataclass

from custom_components.powershare.devices.modbus import MAX_READ_REGISTERS, RegisterType

from .reading import ANY_METER_MAX_CURRENT_A
from .registers import Encoding, RegisterBlock, RegisterField, plan_blocks


@dataclass(frozen=True, slots=True)
class PhaseFields:
    """Where one phase's values live; voltage may be missing on some models."""

    voltage: RegisterField | None
    current: RegisterField
    power: RegisterField


@dataclass(frozen=True, slots=True)
class SerialDefaults:
    """Factory serial settings, offered as defaults in the config flow."""

    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1


@dataclass(frozen=True, slots=True)
class ModbusMeterMap:
    """The register map of one meter model."""

    key: str
    manufacturer: str
    model: str
    function: RegisterType
    phases: tuple[PhaseFields, ...]
    total_power: RegisterField | None
    """None: the total is the sum of the phases."""
    import_energy: RegisterField | None
    export_energy: RegisterField | None
    not_available_marker: bool = False
    """The meter signals "not available" with all ones (ABB) instead of NaN."""
    max_block: int = MAX_READ_REGISTERS
    max_gap: int | None = None
    """Largest unmapped gap one read may span (None: any), for meters that refuse gaps."""
    default_unit_id: int = 1
    serial: SerialDefaults = SerialDefaults()
    serial_number: RegisterField | None = None
    """A numeric serial number, read once by `identify()`; None: the model offers none."""
    mac_ascii: RegisterBlock | None = None
    """The MAC address as ASCII text (two characters per register), read by `identify()`."""
    identity_function: RegisterType = RegisterType.HOLDING
    """The function that reads `serial_number` and `mac_ascii`."""
    max_current_a: float = ANY_METER_MAX_CURRENT_A
    """The most the model measures per phase (a direct meter's rating, the largest current
    transformer it takes); more is garbage. Models sold with any current transformer keep
    the generic bound."""
    current_ratio_register: int | None = None
    """A holding register (one unsigned word) with the ratio of the current transformers set
    in the meter, for models that report currents, powers and energies on the transformers'
    secondary side: the driver reads it once and multiplies them by it."""

    @property
    def fields(self) -> tuple[RegisterField, ...]:
        """Every field read in one cycle."""
        found: list[RegisterField] = []
        for phase in self.phases:
            found.extend(f for f in (phase.voltage, phase.current, phase.power) if f is not None)
        found.extend(
            f for f in (self.total_power, self.import_energy, self.export_energy) if f is not None
        )
        return tuple(found)

    @property
    def blocks(self) -> tuple[RegisterBlock, ...]:
        """The reads of one cycle (the fewest contiguous blocks)."""
        return plan_blocks(self.fields, max_block=self.max_block, max_gap=self.max_gap)


def _three_phases(
    *,
    voltage: tuple[int, int, int] | None,
    current: tuple[int, int, int],
    power: tuple[int, int, int],
    encoding: Encoding,
    voltage_scale: float = 1.0,
    current_scale: float = 1.0,
    power_scale: float = 1.0,
    voltage_encoding: Encoding | None = None,
    current_encoding: Encoding | None = None,
) -> tuple[PhaseFields, ...]:
    """Three phases laid out the same way (the common case)."""
    return tuple(
        PhaseFields(
            voltage=None
            if voltage is None
            else RegisterField(voltage[i], voltage_encoding or encoding, voltage_scale),
            current=RegisterField(current[i], current_encoding or encoding, current_scale),
            power=RegisterField(power[i], encoding, power_scale),
        )
        for i in range(3)
    )


F32 = Encoding.FLOAT32_ABCD

# Eastron SDM630 v2 / SDM72DM-V2 / SEM [C]: FC4, float32 ABCD, currents unsigned.
_EASTRON_3P = _three_phases(
    voltage=(0x00, 0x02, 0x04), current=(0x06, 0x08, 0x0A), power=(0x0C, 0x0E, 0x10), encoding=F32
)


def _eastron(
    key: str, model: str, *, baudrate: int = 9600, max_current_a: float = ANY_METER_MAX_CURRENT_A
) -> ModbusMeterMap:
    return ModbusMeterMap(
        key=key,
        manufacturer="Eastron",
        model=model,
        function=RegisterType.INPUT,
        phases=_EASTRON_3P,
        total_power=RegisterField(0x34, F32),
        import_energy=RegisterField(0x48, F32),
        export_energy=RegisterField(0x4A, F32),
        # Eastron documents at most 40 parameters (80 registers) per request [U]; the
        # cycle's 0x00-0x4B span is 76 registers, one read.
        max_block=80,
        serial=SerialDefaults(baudrate=baudrate),
        # Serial number: holding register 0xFC00, unsigned 32-bit [U].
        serial_number=RegisterField(0xFC00, Encoding.UINT32_ABCD),
        max_current_a=max_current_a,
    )


_CG_FIELDS = {
    "voltage": (0x00, 0x02, 0x04),
    "current": (0x0C, 0x0E, 0x10),
    "power": (0x12, 0x14, 0x16),
}


def _carlo_gavazzi(
    key: str,
    model: str,
    *,
    import_at: int,
    export_at: int,
    max_current_a: float = ANY_METER_MAX_CURRENT_A,
) -> ModbusMeterMap:
    """Carlo Gavazzi [C]: FC4, INT32 low word first; V /10, A /1000, W /10, kWh /10."""
    i32 = Encoding.INT32_CDAB
    return ModbusMeterMap(
        key=key,
        manufacturer="Carlo Gavazzi",
        model=model,
        function=RegisterType.INPUT,
        phases=_three_phases(
            voltage=_CG_FIELDS["voltage"],
            current=_CG_FIELDS["current"],
            power=_CG_FIELDS["power"],
            encoding=i32,
            voltage_scale=0.1,
            current_scale=0.001,
            power_scale=0.1,
        ),
        total_power=RegisterField(0x28, i32, 0.1),
        import_energy=RegisterField(import_at, i32, 0.1),
        export_energy=RegisterField(export_at, i32, 0.1),
        max_current_a=max_current_a,
    )


SHELLY_PRO_3EM_MAX_CURRENT_A = 400.0
"""The Shelly Pro 3EM takes 120 A or 400 A current transformers."""

MODBUS_METER_MAPS: dict[str, ModbusMeterMap] = {
    meter.key: meter
    for meter in (
        # SDM630: the same map serves the 100 A direct meter and the MCT (any transformer).
        _eastron("eastron_sdm630", "SDM630"),
        _eastron("eastron_sdm72dm_v2", "SDM72DM-V2", max_current_a=100.0),  # direct, 100 A
        # SEM series: same offsets as the SDM family [U].
        _eastron("eastron_sem", "SEM"),
        ModbusMeterMap(
            key="eastron_sdm120",
            manufacturer="Eastron",
            model="SDM120",
            function=RegisterType.INPUT,
            phases=(
                PhaseFields(
                    voltage=RegisterField(0x00, F32),
                    current=RegisterField(0x06, F32),
                    power=RegisterField(0x0C, F32),
                ),
            ),
            total_power=None,  # single phase: the phase power is the total
            import_energy=RegisterField(0x48, F32),
            export_energy=RegisterField(0x4A, F32),
            max_block=80,
            serial=SerialDefaults(baudrate=2400),
            serial_number=RegisterField(0xFC00, Encoding.UINT32_ABCD),  # [U]
            max_current_a=45.0,  # direct, 45 A
        ),
        # Shelly Pro 3EM over Modbus TCP [D+C]: FC4, float32 CDAB; PDU = 3xxxx - 30000.
        # Energy counters are in Wh. Unit id 1 is undocumented [U].
        ModbusMeterMap(
            key="shelly_pro_3em_modbus",
            manufacturer="Shelly",
            model="Pro 3EM",
            function=RegisterType.INPUT,
            phases=_three_phases(
                voltage=(1020, 1040, 1060),
                current=(1022, 1042, 1062),
                power=(1024, 1044, 1064),
                encoding=Encoding.FLOAT32_CDAB,
            ),
            total_power=RegisterField(1013, Encoding.FLOAT32_CDAB),
            import_energy=RegisterField(1162, Encoding.FLOAT32_CDAB, 0.001),
            export_energy=RegisterField(1164, Encoding.FLOAT32_CDAB, 0.001),
            # Device info [D]: 30000 MAC as 12 ASCII characters (30006 model, 30016 name).
            mac_ascii=RegisterBlock(0, 6),
            identity_function=RegisterType.INPUT,
            max_current_a=SHELLY_PRO_3EM_MAX_CURRENT_A,
        ),
        # Carlo Gavazzi EM24: V/I/P [C]; energy kWh(+) 0x42, kWh(-) 0x5C from mbmd [C, U].
        _carlo_gavazzi("carlo_gavazzi_em24", "EM24", import_at=0x42, export_at=0x5C),
        # EM330/EM340/ET330/ET340: energy 0x34 / 0x4E [C].
        _carlo_gavazzi(
            "carlo_gavazzi_em340", "EM340", import_at=0x34, export_at=0x4E, max_current_a=65.0
        ),  # direct, 65 A
        _carlo_gavazzi("carlo_gavazzi_et340", "ET340", import_at=0x34, export_at=0x4E),
        # Siemens PAC2200 [C]: FC4, float32 ABCD; energy 801/809 float64 in Wh [C mbmd].
        # PAC3200 is believed to share the map [U].
        ModbusMeterMap(
            key="siemens_pac2200",
            manufacturer="Siemens",
            model="PAC2200",
            function=RegisterType.INPUT,
            phases=_three_phases(
                voltage=(1, 3, 5), current=(13, 15, 17), power=(25, 27, 29), encoding=F32
            ),
            total_power=RegisterField(65, F32),
            import_energy=RegisterField(801, Encoding.FLOAT64_ABCD, 0.001),
            export_energy=RegisterField(809, Encoding.FLOAT64_ABCD, 0.001),
        ),
        # ABB A43/A44/B23/B24 [C]: FC3, big-endian integers; all ones = not available.
        # V u32 /10, I u32 /100, P s32 /100 W; energy u64 /100 kWh at 0x5000 / 0x5004 [C mbmd].
        ModbusMeterMap(
            key="abb_b23",
            manufacturer="ABB",
            model="B23/B24",
            function=RegisterType.HOLDING,
            phases=_three_phases(
                voltage=(0x5B00, 0x5B02, 0x5B04),
                current=(0x5B0C, 0x5B0E, 0x5B10),
                power=(0x5B16, 0x5B18, 0x5B1A),
                encoding=Encoding.INT32_ABCD,
                voltage_encoding=Encoding.UINT32_ABCD,
                current_encoding=Encoding.UINT32_ABCD,
                voltage_scale=0.1,
                current_scale=0.01,
                power_scale=0.01,
            ),
            total_power=RegisterField(0x5B14, Encoding.INT32_ABCD, 0.01),
            import_energy=RegisterField(0x5000, Encoding.UINT64_ABCD, 0.01),
            export_energy=RegisterField(0x5004, Encoding.UINT64_ABCD, 0.01),
            not_available_marker=True,
            # Serial number: 0x8900, u32 [U].
            serial_number=RegisterField(0x8900, Encoding.UINT32_ABCD),
        ),
        # Inepro PRO380-Mod [C]: FC3, float32 ABCD; powers in kW; energy kWh 0x600C / 0x6018.
        ModbusMeterMap(
            key="inepro_pro380",
            manufacturer="Inepro",
            model="PRO380-Mod",
            function=RegisterType.HOLDING,
            phases=_three_phases(
                voltage=(0x5002, 0x5004, 0x5006),
                current=(0x500C, 0x500E, 0x5010),
                power=(0x5014, 0x5016, 0x5018),
                encoding=F32,
                power_scale=1000.0,
            ),
            total_power=RegisterField(0x5012, F32, 1000.0),
            import_energy=RegisterField(0x600C, F32),
            export_energy=RegisterField(0x6018, F32),
            max_current_a=100.0,  # direct, 100 A (the CT model is another product)
        ),
        # Chint DTSU666 [C]: FC3, float32 ABCD; V x0.1 (phase voltages 0x2006..; 0x2000.. are
        # line-to-line), I x0.001, P x0.1 W; energy kWh 0x101E / 0x1028 [C mbmd]. Currents,
        # powers and energies are CT-secondary values, x IrAt (0x0006): a real meter set to
        # 200:1 read 0.035 A where 7 A flowed (tests/devices/meters/captures/modbus).
        ModbusMeterMap(
            key="chint_dtsu666",
            manufacturer="Chint",
            model="DTSU666",
            function=RegisterType.HOLDING,
            phases=_three_phases(
                voltage=(0x2006, 0x2008, 0x200A),
                current=(0x200C, 0x200E, 0x2010),
                power=(0x2014, 0x2016, 0x2018),
                encoding=F32,
                voltage_scale=0.1,
                current_scale=0.001,
                power_scale=0.1,
            ),
            total_power=RegisterField(0x2012, F32, 0.1),
            import_energy=RegisterField(0x101E, F32),
            export_energy=RegisterField(0x1028, F32),
            current_ratio_register=0x0006,
        ),
        # Entes MPR-1x network analysers (MPR-15S-22 ...); that TeltoCharge's "Entes ES models"
        # are these is an assumption [U]. FC3, holding registers. Measurement block [D: Entes'
        # MPR-2X and MPR-3/4 register tables, whose rows 0-161 are the same; C: the OpenEMS
        # MPR-15S-22 driver, citing the MPR-1X table, reads the same]: voltages uint32 in V/10
        # at 0/2/4, currents uint32 in mA at 14/16/18, powers float32 in W at 26/28/30, total
        # (P1+P2+P3, signed) float32 at 38. An earlier OpenEMS draft read the voltages x10,
        # hence "scales disputed"; the tables say /10. Word order: the tables do not say, high
        # word first assumed [U]. One read 0-39 spans the L4 rows (6, 20, 32) a 3-phase model
        # lacks: the tables give "read holding registers 0, count 162" [D], untested [U].
        # Energy: consumed (import) L1-L3 at 216, delivered (export) at 236, uint64 in Wh [C:
        # OpenEMS MPR-15S-22 pull request, never merged; U]. Whether the values include the
        # CT/VT ratios [U]. Serial 9600 8N1, unit 1 [U]; no serial-number register known.
        ModbusMeterMap(
            key="entes_mpr1x",
            manufacturer="Entes",
            model="MPR-1x",
            function=RegisterType.HOLDING,
            phases=_three_phases(
                voltage=(0, 2, 4),
                current=(14, 16, 18),
                power=(26, 28, 30),
                encoding=F32,
                voltage_encoding=Encoding.UINT32_ABCD,
                current_encoding=Encoding.UINT32_ABCD,
                voltage_scale=0.1,
                current_scale=0.001,
            ),
            total_power=RegisterField(38, F32),
            import_energy=RegisterField(216, Encoding.UINT64_ABCD, 0.001),
            export_energy=RegisterField(236, Encoding.UINT64_ABCD, 0.001),
        ),
        # Acrel ADW300 (three-phase, RS485 or wireless, with Acrel's current transformers)
        # [D: ADW300 manual V1.3 section 6.2; C: evcc template acrel-adw300]. FC3 (FC16 writes)
        # [D]. Voltages u16 x0.1 V at 20/21/22, currents u16 x0.01 A at 26/27/28 [D+C]; powers
        # int32 high word first at 30/32/34, total 36, in kW with 3 decimals = W [D+C: evcc
        # reads them as int32 W]. Energy u32 x0.01 kWh: forward (import) 62, reverse (export)
        # 64 [D+C]. Whether the values include the CT ratio set in register 15 [U]. Serial:
        # the manual lists 1200-9600 baud without a factory value (evcc proposes 1200); 9600
        # 8N1, unit 1 here [U]. No serial-number register in the manual.
        ModbusMeterMap(
            key="acrel_adw300",
            manufacturer="Acrel",
            model="ADW300",
            function=RegisterType.HOLDING,
            phases=_three_phases(
                voltage=(20, 21, 22),
                current=(26, 27, 28),
                power=(30, 32, 34),
                encoding=Encoding.INT32_ABCD,
                voltage_encoding=Encoding.UINT16,
                current_encoding=Encoding.UINT16,
                voltage_scale=0.1,
                current_scale=0.01,
            ),
            total_power=RegisterField(36, Encoding.INT32_ABCD),
            import_energy=RegisterField(62, Encoding.UINT32_ABCD, 0.01),
            export_energy=RegisterField(64, Encoding.UINT32_ABCD, 0.01),
        ),
    )
}
