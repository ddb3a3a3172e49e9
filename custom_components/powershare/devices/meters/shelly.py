"""Shelly energy meters over HTTP: Pro 3EM (gen 2 RPC, both profiles) and 3EM (gen 1 REST).

Both report per-phase currents unsigned and active power signed (negative = export), so the
current takes the sign of the power.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    UnsupportedDeviceError,
)

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
from .reading import (
    MIN_PLAUSIBLE_VOLTAGE_V,
    WALL_CLOCK,
    Clock,
    MeterInfo,
    MeterReading,
    PhaseReading,
    build_phase,
    build_reading,
)

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


TRIPHASE: Final = "triphase"
MONOPHASE: Final = "monophase"
"""The Pro 3EM's profiles: one three-phase meter (`EM`), or three independent channels
(`EM1`), which Powershare reads as L1, L2 and L3 (the channels' order)."""
METER_FAILURE: Final = "power_meter_failure"
"""A device error that makes every value of the answer meaningless."""
OUT_OF_RANGE: Final = "out_of_range:"
"""Per-phase (per-channel) flags of a measurement beyond the meter's range."""
OUT_OF_RANGE_VOLTAGE: Final = "out_of_range:voltage"


class UnsupportedProfileError(UnsupportedDeviceError):
    """The Pro 3EM runs a profile Powershare does not read."""


class ShellyPro3EmRpcMeter:
    """Shelly Pro 3EM over its HTTP RPC API.

    Three-phase profile: `EM.GetStatus` gives the instant values, `EMData.GetStatus` the energy
    counters (Wh), two requests per reading. Single-phase (monophase) profile: one
    `Shelly.GetStatus` holds the three channels (`em1:N`) and their counters (`em1data:N`).
    The profile is read from `Shelly.GetDeviceInfo` by `identify` (or the first reading).
    With a password the device's digest authentication (SHA-256) is answered.

    A reading the device flags is not used: `power_meter_failure`, or a phase (channel) whose
    current or power is `out_of_range`. A phase flagged only for its voltage while it has
    none to speak of is a phase not connected (a single-phase house: the unused phases read
    about 0.1 V), and its figures are read as they are.
    """

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
        self.profile: str | None = None
        """TRIPHASE or MONOPHASE once known."""

    @property
    def requests_per_read(self) -> int:
        """Two in the three-phase profile, one in the single-phase one."""
        return 1 if self.profile == MONOPHASE else 2

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
        """Read `Shelly.GetDeviceInfo`: model, MAC (the unique id), firmware and profile.

        Raises `UnsupportedProfileError` for a profile Powershare cannot read.
        """
        info = await self._rpc("Shelly.GetDeviceInfo")
        profile = text(info, "profile") or TRIPHASE  # firmware without profiles: three-phase
        if profile not in (TRIPHASE, MONOPHASE):
            raise UnsupportedProfileError(
                f"the Shelly runs the {profile!r} profile; Powershare reads the "
                f"{TRIPHASE!r} and {MONOPHASE!r} profiles of the Pro 3EM"
            )
        self.profile = profile
        return MeterInfo(
            manufacturer="Shelly",
            model=text(info, "model") or "Pro 3EM",
            mac=text(info, "mac"),
            firmware=text(info, "ver") or text(info, "fw_id"),
        )

    async def read(self) -> MeterReading:
        """Read the three phases (or channels) and the energy counters."""
        if self.profile is None:
            await self.identify()
        measured_at = self._clock()
        if self.profile == MONOPHASE:
            return _channels_reading(await self._rpc("Shelly.GetStatus"), measured_at)
        status = await self._rpc("EM.GetStatus", id=self._em_id)
        energy = await self._rpc("EMData.GetStatus", id=self._em_id)
        _require_no_failure(status, "EM")
        phases = [
            _flagged_phase(
                index,
                status.get(f"{prefix}_errors"),
                voltage_v=number(status, f"{prefix}_voltage"),
                current_a=number(status, f"{prefix}_current"),
                power_w=number(status, f"{prefix}_act_power"),
            )
            for index, prefix in enumerate(_PHASE_PREFIXES)
        ]
        return _reading(
            phases,
            total_power_w=optional_number(status, "total_act_power"),
            imported_wh=optional_number(energy, "total_act"),
            exported_wh=optional_number(energy, "total_act_ret"),
            measured_at=measured_at,
        )


def _channels_reading(status: dict[str, Any], measured_at: float) -> MeterReading:
    """Read the single-phase profile's three channels (`em1:0-2`) as L1, L2 and L3."""
    phases = []
    imported = exported = 0.0
    for index in range(3):
        channel = status.get(f"em1:{index}")
        counters = status.get(f"em1data:{index}")
        if not isinstance(channel, dict) or not isinstance(counters, dict):
            raise ImplausibleValueError(f"Shelly.GetStatus: no channel em1:{index}")
        _require_no_failure(channel, f"channel {index}")
        phases.append(
            _flagged_phase(
                index,
                channel.get("errors"),
                voltage_v=number(channel, "voltage"),
                current_a=number(channel, "current"),
                power_w=number(channel, "act_power"),
            )
        )
        imported += number(counters, "total_act_energy")
        exported += number(counters, "total_act_ret_energy")
    return _reading(phases, imported_wh=imported, exported_wh=exported, measured_at=measured_at)


def _reading(
    phases: list[PhaseReading],
    *,
    total_power_w: float | None = None,
    imported_wh: float | None,
    exported_wh: float | None,
    measured_at: float,
) -> MeterReading:
    """Assemble a reading from Shelly's energy counters, which count Wh."""
    return build_reading(
        phases,
        total_power_w=total_power_w,
        import_energy_kwh=None if imported_wh is None else imported_wh / WH_PER_KWH,
        export_energy_kwh=None if exported_wh is None else exported_wh / WH_PER_KWH,
        measured_at=measured_at,
    )


def _require_no_failure(status: dict[str, Any], what: str) -> None:
    """Refuse an answer whose device errors say the meter itself failed."""
    errors = status.get("errors")
    if isinstance(errors, list) and METER_FAILURE in errors:
        raise ImplausibleValueError(f"Shelly {what} reports {METER_FAILURE}")


def _flagged_phase(
    index: int, flags: object, *, voltage_v: float, current_a: float, power_w: float
) -> PhaseReading:
    """Build one phase, refusing it when the device flags its current or power out of range.

    A flag on the voltage alone of a phase without voltage (below `MIN_PLAUSIBLE_VOLTAGE_V`)
    is a phase not connected: its figures stand.
    """
    if isinstance(flags, list):
        out_of_range = [flag for flag in flags if str(flag).startswith(OUT_OF_RANGE)]
        unconnected = voltage_v < MIN_PLAUSIBLE_VOLTAGE_V and out_of_range == [OUT_OF_RANGE_VOLTAGE]
        if out_of_range and not unconnected:
            raise ImplausibleValueError(
                f"Shelly flags L{index + 1}: {', '.join(map(str, out_of_range))}"
            )
    return build_phase(
        index,
        voltage_v=voltage_v,
        current_a=current_a,
        power_w=power_w,
        max_current_a=SHELLY_PRO_3EM_MAX_CURRENT_A,
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
        return _reading(phases, imported_wh=imported, exported_wh=exported, measured_at=measured_at)


def _require_valid(index: int, emeter: object) -> None:
    """Gen 1 flags a phase whose measurement it does not trust with `is_valid: false`."""
    if not isinstance(emeter, dict):
        raise ImplausibleValueError(f"Shelly emeter {index} is not an object")
    if emeter.get("is_valid") is False:
        raise ImplausibleValueError(f"Shelly reports L{index + 1} as not valid")
