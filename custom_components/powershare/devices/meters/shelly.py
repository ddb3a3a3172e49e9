"""Shelly energy meters over HTTP: Pro 3EM (gen 2 RPC) and 3EM (gen 1 REST).

Both report per-phase currents unsigned and active power signed (negative = export), so the
current takes the sign of the power.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from custom_components.powershare.devices.errors import ImplausibleValueError

from .http_client import (
    DEFAULT_HTTP_TIMEOUT,
    DigestAuth,
    MeterAuthenticationError,
    basic_auth_header,
    json_object,
    number,
    optional_number,
    send,
    text,
)
from .modbus_models import SHELLY_PRO_3EM_MAX_CURRENT_A
from .reading import WALL_CLOCK, Clock, MeterInfo, MeterReading, build_phase, build_reading

SHELLY_3EM_MAX_CURRENT_A: Final = 120.0
"""The Shelly 3EM (gen 1) comes with 120 A current transformers."""

if TYPE_CHECKING:
    import aiohttp

    from .http_client import HttpAnswer

SHELLY_USERNAME: Final = "admin"
"""Shelly gen 2+ devices authenticate the fixed user `admin`."""
WH_PER_KWH: Final = 1000.0
_PHASE_PREFIXES: Final = ("a", "b", "c")


def _base_url(host: str, port: int) -> URL:
    return URL.build(scheme="http", host=host, port=port)


class ShellyPro3EmRpcMeter:
    """Shelly Pro 3EM over its HTTP RPC API; two requests per reading.

    `EM.GetStatus` gives the instant values, `EMData.GetStatus` the energy counters (Wh).
    With a password the device's digest authentication (SHA-256) is answered.
    """

    requests_per_read: Final = 2

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        port: int = 80,
        password: str | None = None,
        em_id: int = 0,
        request_timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self._session = session
        self._base = _base_url(host, port)
        self._auth = DigestAuth(SHELLY_USERNAME, password) if password else None
        self._em_id = em_id
        self._timeout = request_timeout
        self._clock = clock

    async def _rpc(self, method: str, **params: int) -> dict[str, Any]:
        url = (self._base / "rpc" / method).with_query(params)
        uri = url.raw_path_qs
        answer = await self._get(url, uri)
        # First request, or the nonce went stale: take the new challenge and retry once.
        if (
            answer.status == HTTPStatus.UNAUTHORIZED
            and self._auth is not None
            and self._auth.accept_challenge(answer.headers.get("WWW-Authenticate"))
        ):
            answer = await self._get(url, uri)
        if answer.status == HTTPStatus.UNAUTHORIZED and self._auth is None:
            raise MeterAuthenticationError(f"{method}: the Shelly needs a password")
        return json_object(answer, f"Shelly {method}")

    async def _get(self, url: URL, uri: str) -> HttpAnswer:
        headers: dict[str, str] = {}
        if self._auth is not None and (header := self._auth.header("GET", uri)) is not None:
            headers["Authorization"] = header
        return await send(self._session, "GET", url, request_timeout=self._timeout, headers=headers)

    async def identify(self) -> MeterInfo:
        """Read `Shelly.GetDeviceInfo`: model, MAC (the unique id) and firmware."""
        info = await self._rpc("Shelly.GetDeviceInfo")
        return MeterInfo(
            manufacturer="Shelly",
            model=text(info, "model") or "Pro 3EM",
            mac=text(info, "mac"),
            firmware=text(info, "ver") or text(info, "fw_id"),
        )

    async def read(self) -> MeterReading:
        """Read the three phases and the energy counters."""
        measured_at = self._clock()
        status = await self._rpc("EM.GetStatus", id=self._em_id)
        energy = await self._rpc("EMData.GetStatus", id=self._em_id)
        phases = [
            build_phase(
                index,
                voltage_v=number(status, f"{prefix}_voltage"),
                current_a=number(status, f"{prefix}_current"),
                power_w=number(status, f"{prefix}_act_power"),
                max_current_a=SHELLY_PRO_3EM_MAX_CURRENT_A,
            )
            for index, prefix in enumerate(_PHASE_PREFIXES)
        ]
        imported = optional_number(energy, "total_act")
        exported = optional_number(energy, "total_act_ret")
        return build_reading(
            phases,
            total_power_w=optional_number(status, "total_act_power"),
            import_energy_kwh=None if imported is None else imported / WH_PER_KWH,
            export_energy_kwh=None if exported is None else exported / WH_PER_KWH,
            measured_at=measured_at,
        )


class Shelly3EmGen1Meter:
    """Shelly 3EM (gen 1) over its REST API (`/status`); one request per reading."""

    requests_per_read: Final = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        port: int = 80,
        username: str | None = None,
        password: str | None = None,
        request_timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self._session = session
        self._base = _base_url(host, port)
        self._headers = (
            {"Authorization": basic_auth_header(username or SHELLY_USERNAME, password)}
            if password
            else {}
        )
        self._timeout = request_timeout
        self._clock = clock

    async def _get(self, path: str) -> dict[str, Any]:
        answer = await send(
            self._session,
            "GET",
            self._base / path,
            request_timeout=self._timeout,
            headers=self._headers,
        )
        return json_object(answer, f"Shelly /{path}")

    async def identify(self) -> MeterInfo:
        """Read `/shelly`: device type, MAC (the unique id) and firmware."""
        info = await self._get("shelly")
        return MeterInfo(
            manufacturer="Shelly",
            model=text(info, "type") or "3EM",
            mac=text(info, "mac"),
            firmware=text(info, "fw"),
        )

    async def read(self) -> MeterReading:
        """Read the three `emeters` of `/status`."""
        measured_at = self._clock()
        status = await self._get("status")
        emeters = status.get("emeters")
        if not isinstance(emeters, list) or not emeters:
            raise ImplausibleValueError("Shelly /status: no 'emeters' list")
        phases = []
        imported = exported = 0.0
        for index, emeter in enumerate(emeters):
            _require_valid(index, emeter)
            phases.append(
                build_phase(
                    index,
                    voltage_v=number(emeter, "voltage"),
                    current_a=number(emeter, "current"),
                    power_w=number(emeter, "power"),
                    max_current_a=SHELLY_3EM_MAX_CURRENT_A,
                )
            )
            imported += number(emeter, "total")
            exported += number(emeter, "total_returned")
        return build_reading(
            phases,
            total_power_w=None,
            import_energy_kwh=imported / WH_PER_KWH,
            export_energy_kwh=exported / WH_PER_KWH,
            measured_at=measured_at,
        )


def _require_valid(index: int, emeter: object) -> None:
    """Gen 1 flags a phase whose measurement it does not trust with `is_valid: false`."""
    if not isinstance(emeter, dict):
        raise ImplausibleValueError(f"Shelly emeter {index} is not an object")
    if emeter.get("is_valid") is False:
        raise ImplausibleValueError(f"Shelly reports L{index + 1} as not valid")
