"""Meter drivers: one reading type, Modbus meters as data, HTTP meters (Shelly, HomeWizard).

Every driver offers `await identify() -> MeterInfo`, `await read() -> MeterReading` and
`requests_per_read`; errors are the typed errors of `devices.errors` (plus
`MeterAuthenticationError`, `PairingButtonNotPressedError` and `UnsupportedProfileError` for
the HTTP meters).
"""

from __future__ import annotations

from typing import Protocol

from .homewizard import (
    HomeWizardP1V1Meter,
    HomeWizardP1V2Meter,
    PairingButtonNotPressedError,
    async_homewizard_ssl_context,
    homewizard_ssl_context,
    request_token,
    wait_for_token,
)
from .http_client import MeterAuthenticationError
from .modbus_meter import ModbusMeter
from .modbus_models import MODBUS_METER_MAPS, ModbusMeterMap
from .reading import WALL_CLOCK, Clock, MeterInfo, MeterReading, PhaseReading
from .registry import METER_MODELS, MeterModel, MeterTransport
from .shelly import Shelly3EmGen1Meter, ShellyPro3EmRpcMeter, UnsupportedProfileError


class Meter(Protocol):
    """What every meter driver offers."""

    @property
    def requests_per_read(self) -> int:
        """How many requests one `read()` sends."""
        ...

    async def identify(self) -> MeterInfo:
        """Check the device answers plausibly and return its identification."""
        ...

    async def read(self) -> MeterReading:
        """Read one signed, checked reading."""
        ...


__all__ = [
    "METER_MODELS",
    "MODBUS_METER_MAPS",
    "WALL_CLOCK",
    "Clock",
    "HomeWizardP1V1Meter",
    "HomeWizardP1V2Meter",
    "Meter",
    "MeterAuthenticationError",
    "MeterInfo",
    "MeterModel",
    "MeterReading",
    "MeterTransport",
    "ModbusMeter",
    "ModbusMeterMap",
    "PairingButtonNotPressedError",
    "PhaseReading",
    "Shelly3EmGen1Meter",
    "ShellyPro3EmRpcMeter",
    "UnsupportedProfileError",
    "async_homewizard_ssl_context",
    "homewizard_ssl_context",
    "request_token",
    "wait_for_token",
]
