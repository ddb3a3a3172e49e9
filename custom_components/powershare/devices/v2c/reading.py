"""Decoding a V2C Trydan's `/RealTimeData` JSON into a typed, checked reading.

Every value the balancer relies on is checked: a missing key, a value of the wrong type, NaN,
or a value out of its range raises `ImplausibleValueError` instead of becoming a number (a
garbled current read as zero would look like spare capacity). Keys a firmware does not send
(`ID` before 2.x, `VoltageInstallation` before 2.1, the per-phase measurements before 2.5.0)
become None; keys the balancer does not use (`HousePower`, `FVPower`, `LightLED`, ...) are not
decoded, so a change in them cannot break a reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.meters.http_client import optional_number

if TYPE_CHECKING:
    from collections.abc import Mapping

MIN_INTENSITY_A: Final = 6
"""The lowest charging current the Trydan takes (IEC 61851-1; pytrydan and HA check 6-32)."""
MAX_INTENSITY_A: Final = 32
"""The highest charging current the Trydan takes."""
MAX_CHARGE_POWER_W: Final = 25_000.0
"""32 A on three phases at 260 V is 24.96 kW: more is not a charging power."""
MAX_SESSION_ENERGY_KWH: Final = 10_000.0
MAX_PHASE_CURRENT_A: Final = 100.0
"""Bound of `IntensityMeasure_L1..3`, which may come from the installation's meter (see
`V2CReading.currents_a`), not only from the charger's own 32 A circuit."""
MIN_VOLTAGE_V: Final = 80.0
MAX_VOLTAGE_V: Final = 300.0

TRYDAN_KEYS: Final = frozenset(
    {
        "ChargeState",
        "ChargePower",
        "ChargeEnergy",
        "ChargeTime",
        "Intensity",
        "MinIntensity",
        "MaxIntensity",
        "Paused",
        "Locked",
        "Dynamic",
    }
)
"""Keys every published Trydan answer has (firmware 1.6.18 to 2.5.0) and the driver needs."""
PHASE_CURRENT_KEYS: Final = ("IntensityMeasure_L1", "IntensityMeasure_L2", "IntensityMeasure_L3")
PHASE_VOLTAGE_KEYS: Final = ("VoltageMeasure_L1", "VoltageMeasure_L2", "VoltageMeasure_L3")


class ChargeState(IntEnum):
    """`ChargeState` of `/RealTimeData`.

    0-2 are confirmed by every source and every capture. 4-6 (IEC 61851 states F, E and D)
    come from V2C's HTTP documentation as transcribed by others (scabrero/pytrydan and two
    Home Assistant/Homey projects; see the package docstring); 3 is not a LAN code.
    """

    NOT_CONNECTED = 0
    CONNECTED = 1
    CHARGING = 2
    SYSTEM_FAILURE_OR_LEAK = 4
    CONTROL_PILOT_OR_GROUND_FAULT = 5
    VENTILATION_REQUIRED = 6

    @property
    def fault(self) -> bool:
        """Whether the state is a fault in which the charger does not charge."""
        return self >= ChargeState.SYSTEM_FAILURE_OR_LEAK


@dataclass(frozen=True, slots=True)
class V2CIdentity:
    """What identifies a Trydan: for unique ids and the device registry."""

    device_id: str | None
    """`ID` (e.g. "ABC123"); firmware 1.6.x does not send it."""
    firmware: str | None
    """`FirmwareVersion`, e.g. "2.5.0"."""

    @property
    def manufacturer(self) -> str:
        """The maker."""
        return "V2C"

    @property
    def model(self) -> str:
        """The model (the local API does not say which Trydan variant it is)."""
        return "Trydan"


@dataclass(frozen=True, slots=True)
class V2CReading:
    """One checked `/RealTimeData` answer."""

    charge_state: ChargeState
    power_w: float
    """`ChargePower`: what the charger reports the car draws (W)."""
    intensity_a: int
    """`Intensity`: the charging current setpoint (A), not a measurement."""
    min_intensity_a: int
    max_intensity_a: int
    paused: bool
    locked: bool
    dynamic: bool
    """`Dynamic`: the charger's own power control; it fights an external controller."""
    pause_dynamic: bool | None
    """`PauseDynamic`: 1 holds the charger's own modulation while `Dynamic` stays on."""
    currents_a: tuple[float, float, float] | None
    """`IntensityMeasure_L1..3` (firmware >= 2.5.0), None when not sent. Caution: on an
    installation that feeds the Trydan an external meter these were the grid's currents, not
    the car's (evcc-io/evcc#33154); compare with `power_w` before trusting them."""
    voltages_v: tuple[float, float, float] | None
    """`VoltageMeasure_L1..3` (firmware >= 2.5.0), 0 on phases not wired; None when not sent."""
    voltage_v: float | None
    """`VoltageInstallation`: the installation voltage as configured in the charger (V)."""
    session_energy_kwh: float
    """`ChargeEnergy` of the present session (kWh)."""
    charge_time_s: int
    """`ChargeTime` of the present session (s)."""
    firmware: str | None
    device_id: str | None
    measured_at: float
    """When the answer arrived, on the driver's clock."""

    @property
    def connected(self) -> bool:
        """Whether a car is plugged in."""
        return self.charge_state in {
            ChargeState.CONNECTED,
            ChargeState.CHARGING,
            ChargeState.VENTILATION_REQUIRED,
        }

    @property
    def charging(self) -> bool:
        """Whether the car is charging.

        Firmware 2.5.0 keeps `ChargeState` 2 after `Paused` is set (evcc-io/evcc#32013), so a
        paused charger never counts as charging.
        """
        return self.charge_state is ChargeState.CHARGING and not self.paused

    @property
    def identity(self) -> V2CIdentity:
        """The identification carried by this answer."""
        return V2CIdentity(device_id=self.device_id, firmware=self.firmware)


def check_trydan(data: Mapping[str, Any]) -> None:
    """Raise `UnsupportedDeviceError` unless the object has the keys of a Trydan's answer."""
    missing = sorted(TRYDAN_KEYS - data.keys())
    if missing:
        raise UnsupportedDeviceError(
            f"the answer is not a V2C Trydan's /RealTimeData: it lacks {', '.join(missing)}"
        )


def decode_identity(data: Mapping[str, Any]) -> V2CIdentity:
    """Identify a Trydan from its `/RealTimeData` object."""
    check_trydan(data)
    return V2CIdentity(device_id=_text(data, "ID"), firmware=_text(data, "FirmwareVersion"))


def decode_reading(data: Mapping[str, Any], measured_at: float) -> V2CReading:
    """Decode and check one `/RealTimeData` object."""
    state = _integer(data, "ChargeState", 0, 6)
    try:
        charge_state = ChargeState(state)
    except ValueError:
        raise ImplausibleValueError(f"'ChargeState' {state} is not a known state") from None
    min_intensity = _integer(data, "MinIntensity", MIN_INTENSITY_A, MAX_INTENSITY_A)
    max_intensity = _integer(data, "MaxIntensity", MIN_INTENSITY_A, MAX_INTENSITY_A)
    if min_intensity > max_intensity:
        raise ImplausibleValueError(
            f"'MinIntensity' {min_intensity} A is above 'MaxIntensity' {max_intensity} A"
        )
    pause_dynamic = _flag(data, "PauseDynamic") if "PauseDynamic" in data else None
    voltage = _optional(data, "VoltageInstallation", MIN_VOLTAGE_V, MAX_VOLTAGE_V)
    return V2CReading(
        charge_state=charge_state,
        power_w=_required(data, "ChargePower", 0.0, MAX_CHARGE_POWER_W),
        # 0 is let through: whether the charger's own modes lower it below 6 A is unknown.
        intensity_a=_integer(data, "Intensity", 0, MAX_INTENSITY_A),
        min_intensity_a=min_intensity,
        max_intensity_a=max_intensity,
        paused=_flag(data, "Paused"),
        locked=_flag(data, "Locked"),
        dynamic=_flag(data, "Dynamic"),
        pause_dynamic=pause_dynamic,
        currents_a=_triple(data, PHASE_CURRENT_KEYS, -MAX_PHASE_CURRENT_A, MAX_PHASE_CURRENT_A),
        voltages_v=_triple(data, PHASE_VOLTAGE_KEYS, 0.0, MAX_VOLTAGE_V),
        voltage_v=voltage,
        session_energy_kwh=_required(data, "ChargeEnergy", 0.0, MAX_SESSION_ENERGY_KWH),
        charge_time_s=_integer(data, "ChargeTime", 0, 2**31 - 1),
        firmware=_text(data, "FirmwareVersion"),
        device_id=_text(data, "ID"),
        measured_at=measured_at,
    )


def _optional(data: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    """Return a finite number within [low, high]; None when the key is absent or null."""
    result = optional_number(data, key)
    if result is None:
        return None
    if not low <= result <= high:
        raise ImplausibleValueError(f"{key!r} {result:g} is outside {low:g}..{high:g}")
    return result


def _required(data: Mapping[str, Any], key: str, low: float, high: float) -> float:
    """Return a finite number within [low, high]; absent or null is garbage."""
    value = _optional(data, key, low, high)
    if value is None:
        raise ImplausibleValueError(f"the answer lacks {key!r}")
    return value


def _integer(data: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = _required(data, key, low, high)
    if not value.is_integer():
        raise ImplausibleValueError(f"{key!r} {value:g} is not a whole number")
    return int(value)


def _flag(data: Mapping[str, Any], key: str) -> bool:
    """Return a 0/1 switch; any other value is garbage."""
    return _integer(data, key, 0, 1) == 1


def _triple(
    data: Mapping[str, Any], keys: tuple[str, str, str], low: float, high: float
) -> tuple[float, float, float] | None:
    """Return the three per-phase values, None when none is sent; some without the rest raise."""
    present = [key for key in keys if key in data]
    if not present:
        return None
    if len(present) != len(keys):
        missing = ", ".join(key for key in keys if key not in data)
        raise ImplausibleValueError(f"the answer has {present[0]!r} but lacks {missing}")
    first, second, third = (_required(data, key, low, high) for key in keys)
    return (first, second, third)


def _text(data: Mapping[str, Any], key: str) -> str | None:
    """Return a non-empty string field, None when absent; a non-string is garbage."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ImplausibleValueError(f"{key!r} is not text: {value!r}")
    return value
