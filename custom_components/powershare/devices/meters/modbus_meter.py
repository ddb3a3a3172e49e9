"""The one generic Modbus meter driver: reads any `ModbusMeterMap` in the fewest block reads."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

from custom_components.powershare.devices.errors import ImplausibleValueError, ModbusExceptionError
from custom_components.powershare.devices.modbus import RegisterType

from .reading import WALL_CLOCK, Clock, MeterInfo, MeterReading, build_phase, build_reading
from .registers import RegisterField, decode_ascii, read_field

MAX_CURRENT_RATIO: Final = 9999
"""The largest current transformer ratio a meter accepts (the Chint DTSU666's range)."""

if TYPE_CHECKING:
    from custom_components.powershare.devices.modbus import ModbusBus

    from .modbus_models import ModbusMeterMap


class ModbusMeter:
    """A meter on a Modbus bus (TCP or RTU), described by its register map.

    One `read()` sends `len(meter_map.blocks)` requests (1 or 2 for every model in the table)
    on the shared bus, and the first one also reads the current transformers' ratio where
    the map has one; any transport failure surfaces as the bus' typed errors.
    """

    def __init__(
        self,
        bus: ModbusBus,
        meter_map: ModbusMeterMap,
        *,
        unit_id: int | None = None,
        phases: int | None = None,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        """Create a driver; `phases` (1-3) limits a 3-phase meter wired to fewer phases."""
        self.bus: Final = bus
        self.meter_map: Final = meter_map
        self.unit_id: Final = meter_map.default_unit_id if unit_id is None else unit_id
        available = len(meter_map.phases)
        count = available if phases is None else phases
        if not 1 <= count <= available:
            raise ValueError(f"{meter_map.model} measures 1-{available} phases, not {count}")
        self._phase_count = count
        self._clock = clock
        self._blocks = meter_map.blocks
        self._ratio: float | None = None

    @property
    def requests_per_read(self) -> int:
        """How many Modbus requests one `read()` sends."""
        return len(self._blocks)

    async def _current_ratio(self) -> float:
        """Return the current transformers' ratio the values are multiplied by (read once)."""
        address = self.meter_map.current_ratio_register
        if address is None:
            return 1.0
        if self._ratio is None:
            (word,) = await self.bus.read_registers(
                self.unit_id, address, 1, function=RegisterType.HOLDING
            )
            if not 1 <= word <= MAX_CURRENT_RATIO:
                raise ImplausibleValueError(
                    f"current transformer ratio (register {address}) is {word}, "
                    f"not 1-{MAX_CURRENT_RATIO}"
                )
            self._ratio = float(word)
        return self._ratio

    async def read(self) -> MeterReading:
        """Read every value of one cycle and return a checked, signed reading."""
        ratio = await self._current_ratio()
        measured_at = self._clock()
        registers: dict[int, int] = {}
        for block in self._blocks:
            values = await self.bus.read_registers(
                self.unit_id, block.address, block.count, function=self.meter_map.function
            )
            registers.update(zip(range(block.address, block.end), values, strict=True))

        def value(field: RegisterField) -> float:
            return read_field(
                field, registers, not_available_marker=self.meter_map.not_available_marker
            )

        def optional(field: RegisterField | None) -> float | None:
            return None if field is None else value(field)

        def primary(field: RegisterField | None) -> float | None:
            found = optional(field)
            return None if found is None else found * ratio

        phases = [
            build_phase(
                index,
                voltage_v=optional(fields.voltage),
                current_a=value(fields.current) * ratio,
                power_w=value(fields.power) * ratio,
                max_current_a=self.meter_map.max_current_a,
            )
            for index, fields in enumerate(self.meter_map.phases[: self._phase_count])
        ]
        total = (
            primary(self.meter_map.total_power)
            if self._phase_count == len(self.meter_map.phases)
            else None
        )
        return build_reading(
            phases,
            total_power_w=total,
            import_energy_kwh=primary(self.meter_map.import_energy),
            export_energy_kwh=primary(self.meter_map.export_energy),
            measured_at=measured_at,
        )

    async def identify(self) -> MeterInfo:
        """Check that the meter answers with plausible values and return its identification.

        The serial number or MAC address is read where the map says the model offers one; a
        meter that refuses those registers is still identified, without them.
        """
        await self.read()
        meter_map = self.meter_map
        serial: str | None = None
        mac: str | None = None
        field = meter_map.serial_number
        if field is not None:
            with contextlib.suppress(ModbusExceptionError, ImplausibleValueError):
                words = await self._read_identity(field.address, field.count)
                registers = dict(zip(range(field.address, field.end), words, strict=True))
                serial = str(int(read_field(field, registers, not_available_marker=True)))
        if meter_map.mac_ascii is not None:
            with contextlib.suppress(ModbusExceptionError):
                words = await self._read_identity(
                    meter_map.mac_ascii.address, meter_map.mac_ascii.count
                )
                mac = decode_ascii(words) or None
        return MeterInfo(
            manufacturer=meter_map.manufacturer, model=meter_map.model, serial=serial, mac=mac
        )

    async def _read_identity(self, address: int, count: int) -> list[int]:
        return await self.bus.read_registers(
            self.unit_id, address, count, function=self.meter_map.identity_function
        )
