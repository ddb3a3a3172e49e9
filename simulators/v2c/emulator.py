"""V2C Trydan emulator: `/RealTimeData` and `/write/<Key>=<value>` on 127.0.0.1.

The answer has the whole key set of a real answer of the firmware generation emulated, in the
real order and number format (two decimals on powers, energies and measurements):

- 2.5.0 and later: the evcc-io/evcc#33154 capture (per-phase measurements, ChargeMode, ...);
- 2.x before 2.5.0: Home Assistant's v2c fixture (firmware 2.1.7);
- 1.x: pytrydan's fixtures (firmware 1.6.18: no ID, no VoltageInstallation).

Faults come from `HttpFaults` (delay, dropped connection, HTTP status, garbage body); a value
is falsified by `overrides` (raw JSON text per key, e.g. "NaN" or "99"), a key removed by
`omitted_keys`, and every write answered with something else by `write_answer`. How a real
Trydan answers a write it refuses is not published: the emulator answers `refused_answer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from simulators.meters.http_base import HttpMeterEmulator

from .state import WRITABLE_FLAGS, TrydanState, firmware_tuple

if TYPE_CHECKING:
    from collections.abc import Callable

MIN_INTENSITY_A: Final = 6
MAX_INTENSITY_A: Final = 32
OTHER_SETTINGS: Final = ("Timer", "DynamicPowerMode", "ContractedPower", "ChargeMode")
"""Writable keys the emulator stores without acting on them."""

_KEYS_2_5: Final = [
    "ID",
    "FirmwareVersion",
    "ChargeState",
    "ChargeMode",
    "ReadyState",
    "ChargePower",
    "VoltageInstallation",
    "ChargeEnergy",
    "SlaveError",
    "ChargeTime",
    "GridPower",
    "HousePower",
    "FVPower",
    "BatteryPower",
    "Paused",
    "Locked",
    "Timer",
    "Intensity",
    "IntensityMeasure_L1",
    "IntensityMeasure_L2",
    "IntensityMeasure_L3",
    "VoltageMeasure_L1",
    "VoltageMeasure_L2",
    "VoltageMeasure_L3",
    "Dynamic",
    "MinIntensity",
    "MaxIntensity",
    "PauseDynamic",
    "LightLED",
    "LogoLED",
    "DynamicPowerMode",
    "ContractedPower",
    "SSID",
    "IP",
    "SignalStatus",
]
_KEYS_2: Final = [
    "ID",
    "ChargeState",
    "ReadyState",
    "ChargePower",
    "VoltageInstallation",
    "ChargeEnergy",
    "SlaveError",
    "ChargeTime",
    "HousePower",
    "FVPower",
    "BatteryPower",
    "Paused",
    "Locked",
    "Timer",
    "Intensity",
    "Dynamic",
    "MinIntensity",
    "MaxIntensity",
    "PauseDynamic",
    "LightLED",
    "LogoLED",
    "FirmwareVersion",
    "DynamicPowerMode",
    "ContractedPower",
]
_KEYS_1: Final = [
    "ChargeState",
    "ReadyState",
    "ChargePower",
    "ChargeEnergy",
    "SlaveError",
    "ChargeTime",
    "HousePower",
    "FVPower",
    "BatteryPower",
    "Paused",
    "Locked",
    "Timer",
    "Intensity",
    "Dynamic",
    "MinIntensity",
    "MaxIntensity",
    "PauseDynamic",
    "FirmwareVersion",
    "DynamicPowerMode",
    "ContractedPower",
]


def _decimal(value: float) -> str:
    return f"{value:.2f}"


def _flag(value: bool) -> str:  # noqa: FBT001
    return "1" if value else "0"


class TrydanEmulator(HttpMeterEmulator):
    """An emulated Trydan with a car behind it (`charger`, a `TrydanState`).

    The base class's `state` (a meter state) is not used.
    """

    def __init__(
        self,
        charger: TrydanState | None = None,
        *,
        firmware: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.charger = charger or TrydanState()
        if firmware is not None:
            self.charger.firmware = firmware
        if clock is not None:
            self.charger.clock = clock
        self.settings: dict[str, int] = {
            "Timer": 0,
            "DynamicPowerMode": 2,
            "ContractedPower": 4600,
            "ChargeMode": 0,
        }
        self.overrides: dict[str, str] = {}
        """Raw JSON text served for a key instead of its value (e.g. "NaN", "99", "null")."""
        self.omitted_keys: set[str] = set()
        self.write_answer: str | None = None
        """Answer every write with this body, without applying it (None: behave)."""
        self.refused_answer = "ERROR"
        self.writes: list[tuple[str, int]] = []
        """Writes applied, in order."""

    def add_routes(self, app: web.Application) -> None:
        """Register `/RealTimeData` and `/write/<Key>=<value>`."""
        app.router.add_get("/RealTimeData", self._realtime)
        app.router.add_get("/write/{assignment}", self._write)

    def realtime_body(self) -> str:
        """Return the JSON text `/RealTimeData` answers now."""
        charger = self.charger
        charger.update()
        values = self._values()
        version = firmware_tuple(charger.firmware)
        keys = _KEYS_2_5 if version >= (2, 5, 0) else _KEYS_2 if version >= (2,) else _KEYS_1
        fields = [
            f'"{key}":{self.overrides.get(key, values[key])}'
            for key in keys
            if key not in self.omitted_keys
        ]
        return "{" + ",".join(fields) + "}"

    def _values(self) -> dict[str, str]:
        charger = self.charger
        state = charger.charge_state()
        current = charger.car_current_a()
        used = range(charger.phases)
        values = {
            "ID": f'"{charger.device_id}"',
            "FirmwareVersion": f'"{charger.firmware}"',
            "ChargeState": str(state),
            "ReadyState": "1" if state == 1 else "0",
            "ChargePower": _decimal(charger.power_w()),
            "VoltageInstallation": str(round(charger.voltage_v)),
            "ChargeEnergy": _decimal(charger.energy_kwh),
            "SlaveError": "0",
            "ChargeTime": str(charger.charge_time_s()),
            "GridPower": _decimal(0.0),
            "HousePower": _decimal(0.0),
            "FVPower": _decimal(0.0),
            "BatteryPower": _decimal(0.0),
            "Paused": _flag(charger.paused),
            "Locked": _flag(charger.locked),
            "Intensity": str(charger.intensity_a),
            "Dynamic": _flag(charger.dynamic),
            "MinIntensity": str(charger.min_intensity_a),
            "MaxIntensity": str(charger.max_intensity_a),
            "PauseDynamic": _flag(charger.pause_dynamic),
            "LightLED": "45",
            "LogoLED": "1",
            "SSID": '"emulated"',
            "IP": f'"{self.host}"',
            "SignalStatus": "3",
        }
        values.update({key: str(value) for key, value in self.settings.items()})
        values["ChargeMode"] = "1" if charger.phases == 3 else "0"
        for phase in range(3):
            on = phase in used
            values[f"IntensityMeasure_L{phase + 1}"] = _decimal(current if on else 0.0)
            values[f"VoltageMeasure_L{phase + 1}"] = _decimal(charger.voltage_v if on else 0.0)
        return values

    async def _realtime(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.realtime_body(), content_type="application/json")

    async def _write(self, request: web.Request) -> web.Response:
        if self.write_answer is not None:
            return web.Response(text=self.write_answer)
        key, _, text = request.match_info["assignment"].partition("=")
        try:
            value = int(text)
        except ValueError:
            return web.Response(text=self.refused_answer)
        if not self._apply(key, value):
            return web.Response(text=self.refused_answer)
        self.writes.append((key, value))
        return web.Response(text="OK")

    def _apply(self, key: str, value: int) -> bool:
        """Apply one write; False when the charger would refuse it."""
        charger = self.charger
        charger.update()
        if key == "Intensity":
            if not charger.min_intensity_a <= value <= charger.max_intensity_a:
                return False
            charger.set_intensity(value)
        elif key in {"MinIntensity", "MaxIntensity"}:
            if not MIN_INTENSITY_A <= value <= MAX_INTENSITY_A:
                return False
            setattr(
                charger, "min_intensity_a" if key == "MinIntensity" else "max_intensity_a", value
            )
        elif key in WRITABLE_FLAGS:
            if value not in {0, 1}:
                return False
            self._apply_flag(key, on=value == 1)
        elif key in OTHER_SETTINGS:
            self.settings[key] = value
        else:
            return False
        return True

    def _apply_flag(self, key: str, *, on: bool) -> None:
        charger = self.charger
        if key == "Locked":
            charger.set_locked(on)
        elif key == "Paused":
            charger.paused = on
        elif key == "Dynamic":
            charger.dynamic = on
        else:
            charger.pause_dynamic = on
