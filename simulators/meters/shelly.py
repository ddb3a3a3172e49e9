"""Shelly emulators: Pro 3EM (gen 2 HTTP RPC with digest auth) and 3EM (gen 1 REST, basic auth).

Both serve currents unsigned and power signed, as the devices do.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import TYPE_CHECKING, Any, Final

from aiohttp import BasicAuth, web

from .http_base import HttpMeterEmulator

if TYPE_CHECKING:
    from .state import MeterState

WH_PER_KWH: Final = 1000.0
_PREFIXES: Final = ("a", "b", "c")
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


class ShellyPro3EmRpcEmulator(HttpMeterEmulator):
    """Shelly Pro 3EM: `/rpc/Shelly.GetDeviceInfo`, `/rpc/EM.GetStatus`, `/rpc/EMData.GetStatus`.

    In the `monophase` profile the three channels are `EM1` components (`Shelly.GetStatus`
    holds them as `em1:0-2` and `em1data:0-2`), the state's phases in order, and `EM.GetStatus`
    answers HTTP 500, as the device does. `errors` (device errors such as
    `power_meter_failure`) and `phase_errors` (per phase, such as `out_of_range:current`) are
    served as the device flags them.

    With `password` set, every request needs HTTP digest authentication (SHA-256, user
    `admin`, realm = device id), as on a device with authentication enabled.
    """

    def __init__(
        self,
        state: MeterState | None = None,
        *,
        mac: str = "34987A6789AB",
        password: str | None = None,
        profile: str = "triphase",
    ) -> None:
        super().__init__(state)
        self.mac = mac
        self.password = password
        self.profile = profile
        self.errors: list[str] = []
        self.phase_errors: dict[int, list[str]] = {}
        self.device_id = f"shellypro3em-{mac.lower()}"
        self._nonce = secrets.token_hex(8)

    def add_routes(self, app: web.Application) -> None:
        """Register the RPC methods."""
        app.router.add_get("/rpc/Shelly.GetDeviceInfo", self._device_info)
        app.router.add_get("/rpc/Shelly.GetStatus", self._status)
        app.router.add_get("/rpc/EM.GetStatus", self._em_status)
        app.router.add_get("/rpc/EMData.GetStatus", self._emdata_status)

    def renew_nonce(self) -> None:
        """Make the nonce a client cached stale (the device does so periodically)."""
        self._nonce = secrets.token_hex(8)

    def _authorized(self, request: web.Request) -> bool:
        if self.password is None:
            return True
        header = request.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        params = {k: q or b for k, q, b in _AUTH_PARAM.findall(header[len("Digest ") :])}
        if params.get("nonce") != self._nonce or params.get("realm") != self.device_id:
            return False
        # Written out independently of the driver (RFC 7616, qop=auth, SHA-256).
        ha1 = hashlib.sha256(f"admin:{self.device_id}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.sha256(f"{request.method}:{params.get('uri', '')}".encode()).hexdigest()
        expected = hashlib.sha256(
            f"{ha1}:{self._nonce}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}".encode()
        ).hexdigest()
        return params.get("uri") == request.path_qs and params.get("response") == expected

    def _answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if not self._authorized(request):
            challenge = (
                f'Digest qop="auth", realm="{self.device_id}", nonce="{self._nonce}", '
                "algorithm=SHA-256"
            )
            return web.json_response(
                {"code": 401, "message": "unauthorized"},
                status=401,
                headers={"WWW-Authenticate": challenge},
            )
        return web.json_response(body)

    async def _device_info(self, request: web.Request) -> web.Response:
        return self._answer(
            request,
            {
                "name": None,
                "id": self.device_id,
                "mac": self.mac,
                "slot": 0,
                "model": "SPEM-003CEBEU",
                "gen": 2,
                "fw_id": "20241011-114455/1.4.4-g6d2a586",
                "ver": "1.4.4",
                "app": "Pro3EM",
                "auth_en": self.password is not None,
                "auth_domain": self.device_id if self.password else None,
                "profile": self.profile,
            },
        )

    async def _status(self, request: web.Request) -> web.Response:
        if self.profile != "monophase":
            return self._answer(request, {"em:0": self._em_body(), "emdata:0": self._emdata_body()})
        body: dict[str, Any] = {}
        for index, phase in enumerate(self.state.phases):
            body[f"em1:{index}"] = {
                "id": index,
                "current": round(abs(phase.current_a), 3),
                "voltage": round(phase.voltage_v, 1),
                "act_power": round(phase.power_w, 1),
                "aprt_power": round(abs(phase.voltage_v * phase.current_a), 1),
                "pf": phase.power_factor,
                "freq": 50.0,
                "calibration": "factory",
                **({"errors": self.phase_errors[index]} if index in self.phase_errors else {}),
            }
            count = len(self.state.phases)
            body[f"em1data:{index}"] = {
                "id": index,
                "total_act_energy": self.state.import_energy_kwh * WH_PER_KWH / count,
                "total_act_ret_energy": self.state.export_energy_kwh * WH_PER_KWH / count,
            }
        return self._answer(request, body)

    async def _em_status(self, request: web.Request) -> web.Response:
        if self.profile == "monophase":
            return web.json_response(
                {"code": -114, "message": "Method EM.GetStatus failed: No handler!"}, status=500
            )
        return self._answer(request, self._em_body())

    def _em_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": 0}
        for prefix, phase in zip(_PREFIXES, self.state.phases, strict=False):
            body[f"{prefix}_current"] = round(abs(phase.current_a), 3)
            body[f"{prefix}_voltage"] = round(phase.voltage_v, 1)
            body[f"{prefix}_act_power"] = round(phase.power_w, 1)
            body[f"{prefix}_aprt_power"] = round(abs(phase.voltage_v * phase.current_a), 1)
            body[f"{prefix}_pf"] = phase.power_factor
            body[f"{prefix}_freq"] = 50.0
        body["n_current"] = None
        body["total_current"] = round(sum(abs(p.current_a) for p in self.state.phases), 3)
        body["total_act_power"] = round(self.state.total_power_w, 1)
        body["user_calibrated_phase"] = []
        for index, flags in self.phase_errors.items():
            body[f"{_PREFIXES[index]}_errors"] = flags
        if self.errors:
            body["errors"] = self.errors
        return body

    async def _emdata_status(self, request: web.Request) -> web.Response:
        return self._answer(request, self._emdata_body())

    def _emdata_body(self) -> dict[str, Any]:
        count = len(self.state.phases)
        body: dict[str, Any] = {"id": 0}
        for prefix in _PREFIXES[:count]:
            body[f"{prefix}_total_act_energy"] = self.state.import_energy_kwh * WH_PER_KWH / count
            body[f"{prefix}_total_act_ret_energy"] = (
                self.state.export_energy_kwh * WH_PER_KWH / count
            )
        body["total_act"] = self.state.import_energy_kwh * WH_PER_KWH
        body["total_act_ret"] = self.state.export_energy_kwh * WH_PER_KWH
        return body


class Shelly3EmGen1Emulator(HttpMeterEmulator):
    """Shelly 3EM (gen 1): `/shelly` and `/status` with optional basic auth."""

    def __init__(
        self,
        state: MeterState | None = None,
        *,
        mac: str = "C45BBE6A1F20",
        username: str = "admin",
        password: str | None = None,
    ) -> None:
        super().__init__(state)
        self.mac = mac
        self.username = username
        self.password = password
        self.valid = [True] * len(self.state.phases)
        """Per-phase `is_valid` flags the device reports."""

    def add_routes(self, app: web.Application) -> None:
        """Register `/shelly` and `/status`."""
        app.router.add_get("/shelly", self._shelly)
        app.router.add_get("/status", self._status)

    def _authorized(self, request: web.Request) -> bool:
        if self.password is None:
            return True
        header = request.headers.get("Authorization")
        if header is None:
            return False
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return False
        return (auth.login, auth.password) == (self.username, self.password)

    async def _shelly(self, _request: web.Request) -> web.Response:
        # `/shelly` is readable without credentials on gen 1 devices.
        return web.json_response(
            {
                "type": "SHEM-3",
                "mac": self.mac,
                "auth": self.password is not None,
                "fw": "20230913-114244/v1.14.0-gcb84623",
                "num_outputs": 1,
                "num_meters": 0,
                "num_emeters": 3,
            }
        )

    async def _status(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(
                status=401,
                text="401 Unauthorized",
                headers={"WWW-Authenticate": 'Basic realm="SHEM-3"'},
            )
        count = len(self.state.phases)
        emeters = [
            {
                "power": round(phase.power_w, 2),
                "pf": phase.power_factor,
                "current": round(abs(phase.current_a), 2),
                "voltage": round(phase.voltage_v, 2),
                "is_valid": self.valid[index],
                "total": round(self.state.import_energy_kwh * WH_PER_KWH / count, 1),
                "total_returned": round(self.state.export_energy_kwh * WH_PER_KWH / count, 1),
            }
            for index, phase in enumerate(self.state.phases)
        ]
        return web.json_response(
            {
                "mac": self.mac,
                "emeters": emeters,
                "total_power": round(self.state.total_power_w, 2),
                "fs_mounted": True,
            }
        )
