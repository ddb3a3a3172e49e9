"""Modbus meter emulators: any `ModbusMeterMap` served from a `MeterState`.

The emulator encodes values exactly as the model's map says (float32 ABCD/CDAB, integers low
word first, scale factors) and, like the real devices, serves currents unsigned: only the
power carries the sign. Faults (delay, exception codes, garbage registers) come from
`RegisterUnit.faults`; NaN or out-of-range values are set through the state (a NaN in an
integer encoding becomes the model's all-ones "not available" pattern).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.powershare.devices.meters.modbus_models import MODBUS_METER_MAPS
from custom_components.powershare.devices.meters.registers import (
    RegisterField,
    encode,
    encode_ascii,
)
from custom_components.powershare.devices.modbus import RegisterType
from simulators.modbus_server import RegisterUnit

from .state import MeterState

if TYPE_CHECKING:
    from collections.abc import Callable

    from custom_components.powershare.devices.meters.modbus_models import ModbusMeterMap


class ModbusMeterEmulator(RegisterUnit):
    """One emulated Modbus meter (one unit id), serving its model's register map."""

    def __init__(
        self,
        meter_map: ModbusMeterMap,
        state: MeterState | None = None,
        *,
        serial_number: int | None = 12_345_678,
        mac: str = "34987A6789AB",
    ) -> None:
        # Unmapped registers inside a block read as 0, as on the Eastron family.
        super().__init__(default=0)
        self.meter_map = meter_map
        self.state = state or (
            MeterState.single_phase() if len(meter_map.phases) == 1 else MeterState()
        )
        self.serial_number = serial_number
        self.mac = mac
        self.on_read: Callable[[], object] | None = None
        """Called before each read: lets a live site measure what flows at that instant."""
        self.ct_ratio = 1
        """The current transformers' ratio set in a meter that reports secondary values
        (`ModbusMeterMap.current_ratio_register`): it serves currents, powers and energies
        divided by it."""

    @classmethod
    def for_model(cls, key: str, state: MeterState | None = None) -> ModbusMeterEmulator:
        """Create an emulator for a model of `MODBUS_METER_MAPS`."""
        return cls(MODBUS_METER_MAPS[key], state)

    @property
    def read_requests(self) -> int:
        """How many read requests (FC3/FC4) the emulator has answered or refused."""
        return sum(1 for function, _, _ in self.requests if function in (3, 4))

    def before_read(self, function: int, address: int, count: int) -> None:
        """Encode the present state into the register tables."""
        del function, address, count
        if self.on_read is not None:
            self.on_read()
        table = self.holding if self.meter_map.function is RegisterType.HOLDING else self.input
        ratio = 1.0
        if self.meter_map.current_ratio_register is not None:
            self.holding[self.meter_map.current_ratio_register] = self.ct_ratio
            ratio = float(self.ct_ratio)
        for phase, fields in zip(self.state.phases, self.meter_map.phases, strict=False):
            if fields.voltage is not None:
                self._put(table, fields.voltage, phase.voltage_v)
            self._put(table, fields.current, abs(phase.current_a) / ratio)
            self._put(table, fields.power, phase.power_w / ratio)
        if self.meter_map.total_power is not None:
            self._put(table, self.meter_map.total_power, self.state.total_power_w / ratio)
        if self.meter_map.import_energy is not None:
            self._put(table, self.meter_map.import_energy, self.state.import_energy_kwh / ratio)
        if self.meter_map.export_energy is not None:
            self._put(table, self.meter_map.export_energy, self.state.export_energy_kwh / ratio)
        self._put_identity()

    def _put_identity(self) -> None:
        """Encode the serial number and the MAC address where the map has them."""
        identity_table = (
            self.holding if self.meter_map.identity_function is RegisterType.HOLDING else self.input
        )
        serial_field = self.meter_map.serial_number
        if serial_field is not None and self.serial_number is not None:
            self._put(identity_table, serial_field, float(self.serial_number))
        mac_block = self.meter_map.mac_ascii
        if mac_block is not None:
            for offset, word in enumerate(encode_ascii(self.mac, mac_block.count)):
                identity_table[mac_block.address + offset] = word

    @staticmethod
    def _put(table: dict[int, int], field: RegisterField, value: float) -> None:
        for offset, word in enumerate(encode(value / field.scale, field.encoding)):
            table[field.address + offset] = word
