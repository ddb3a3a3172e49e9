"""The meter models the config flow lists: key -> display name and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .modbus_models import MODBUS_METER_MAPS


class MeterTransport(StrEnum):
    """How Powershare talks to a meter model."""

    MODBUS = "modbus"
    """Modbus RTU on a serial port, or Modbus TCP (the device itself or an RS485 gateway)."""
    MODBUS_TCP = "modbus_tcp"
    """Modbus TCP only (a network device with a built-in Modbus server)."""
    HTTP = "http"
    """The device's HTTP API through Home Assistant's aiohttp session."""


@dataclass(frozen=True, slots=True)
class MeterModel:
    """One entry of the list the config flow offers."""

    key: str
    name: str
    transport: MeterTransport
    needs_password: bool = False
    """An optional password (Shelly with authentication enabled)."""
    needs_pairing: bool = False
    """A token obtained by pressing the device's button (HomeWizard API v2)."""
    manufacturer: str = ""
    """Who makes it (the device's manufacturer in Home Assistant)."""


SHELLY_PRO_3EM_HTTP: Final = "shelly_pro_3em_http"
SHELLY_3EM_GEN1: Final = "shelly_3em_gen1"
HOMEWIZARD_P1_V1: Final = "homewizard_p1_v1"
HOMEWIZARD_P1_V2: Final = "homewizard_p1_v2"

_TCP_ONLY: Final = frozenset({"shelly_pro_3em_modbus"})

METER_MODELS: Final[dict[str, MeterModel]] = {
    **{
        key: MeterModel(
            key=key,
            name=f"{meter.manufacturer} {meter.model} (Modbus)",
            transport=MeterTransport.MODBUS_TCP if key in _TCP_ONLY else MeterTransport.MODBUS,
            manufacturer=meter.manufacturer,
        )
        for key, meter in MODBUS_METER_MAPS.items()
    },
    SHELLY_PRO_3EM_HTTP: MeterModel(
        SHELLY_PRO_3EM_HTTP,
        "Shelly Pro 3EM (HTTP RPC)",
        MeterTransport.HTTP,
        needs_password=True,
        manufacturer="Shelly",
    ),
    SHELLY_3EM_GEN1: MeterModel(
        SHELLY_3EM_GEN1,
        "Shelly 3EM gen 1 (HTTP)",
        MeterTransport.HTTP,
        needs_password=True,
        manufacturer="Shelly",
    ),
    HOMEWIZARD_P1_V1: MeterModel(
        HOMEWIZARD_P1_V1,
        "HomeWizard P1 meter (local API v1)",
        MeterTransport.HTTP,
        manufacturer="HomeWizard",
    ),
    HOMEWIZARD_P1_V2: MeterModel(
        HOMEWIZARD_P1_V2,
        "HomeWizard P1 meter (API v2, HTTPS)",
        MeterTransport.HTTP,
        needs_pairing=True,
        manufacturer="HomeWizard",
    ),
}
