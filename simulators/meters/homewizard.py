"""HomeWizard P1 meter emulators: API v1 (HTTP) and API v2 (HTTPS, token, pairing button).

v1 serves unsigned currents (`active_current_l1_a`), v2 signed ones (`current_l1_a`), as
`protocols.md` describes; power is signed in both. Keys exist only for the phases the state
has, as on a single-phase meter.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .http_base import HttpMeterEmulator
from .tls import TestCertificateAuthority

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable

    from .state import MeterState

PAIRING_WINDOW_S: Final = 30.0


class HomeWizardV1Emulator(HttpMeterEmulator):
    """P1 meter with the local API v1 enabled: `/api` and `/api/v1/data`."""

    def __init__(self, state: MeterState | None = None, *, serial: str = "3c39e7aabbcc") -> None:
        super().__init__(state)
        self.serial = serial
        self.local_api_enabled = True
        self.omitted_keys: set[str] = set()
        """Keys left out of `/api/v1/data`, like a meter that does not report them."""
        self.extra: dict[str, Any] = {}
        """Keys added to `/api/v1/data` (a Belgian meter's `active_power_average_w`, ...)."""

    def add_routes(self, app: web.Application) -> None:
        """Register `/api` and `/api/v1/data`."""
        app.router.add_get("/api", self._device)
        app.router.add_get("/api/v1/data", self._data)

    async def _device(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "product_name": "P1 meter",
                "product_type": "HWE-P1",
                "serial": self.serial,
                "firmware_version": "5.18",
                "api_version": "v1",
            }
        )

    async def _data(self, _request: web.Request) -> web.Response:
        if not self.local_api_enabled:
            return web.json_response({"error": "api disabled"}, status=403)
        body: dict[str, Any] = {
            "wifi_ssid": "emulated",
            "wifi_strength": 100,
            "smr_version": 50,
            "meter_model": "Emulated DSMR 5",
            "active_tariff": 1,
            "total_power_import_kwh": round(self.state.import_energy_kwh, 3),
            "total_power_export_kwh": round(self.state.export_energy_kwh, 3),
            "active_power_w": round(self.state.total_power_w, 1),
        }
        for number, phase in enumerate(self.state.phases, start=1):
            body[f"active_power_l{number}_w"] = round(phase.power_w, 1)
            body[f"active_voltage_l{number}_v"] = round(phase.voltage_v, 1)
            body[f"active_current_l{number}_a"] = round(abs(phase.current_a), 3)
        body.update(self.extra)
        return web.json_response(
            {key: value for key, value in body.items() if key not in self.omitted_keys}
        )


class HomeWizardV2Emulator(HttpMeterEmulator):
    """P1 meter with API v2: HTTPS with a certificate from a run-time test CA, tokens.

    `POST /api/user` answers 403 until `press_button()`, then creates tokens for 30 s.
    Requests to `/api` and `/api/measurement` need `Authorization: Bearer <token>`; the
    headers of each request are kept in `last_headers`.
    """

    def __init__(
        self,
        state: MeterState | None = None,
        *,
        serial: str = "5c2fafabcdef",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(state)
        self.serial = serial
        self.device_name = f"appliance/p1dongle/{serial}"
        self.authority = TestCertificateAuthority.generate(self.device_name)
        self.tokens: dict[str, str] = {}
        """Token -> user name."""
        self.last_headers: dict[str, str] = {}
        self._clock = clock
        self._window_until = float("-inf")

    @property
    def ca_pem(self) -> str:
        """The test CA a client must trust (stands in for the HomeWizard CA)."""
        return self.authority.ca_pem

    def server_ssl_context(self) -> ssl.SSLContext:
        """Serve HTTPS with the device certificate."""
        return self.authority.server_context()

    def press_button(self) -> None:
        """Open the 30 s window in which `POST /api/user` creates a token."""
        self._window_until = self._clock() + PAIRING_WINDOW_S

    def add_routes(self, app: web.Application) -> None:
        """Register the v2 routes."""
        app.router.add_post("/api/user", self._create_user)
        app.router.add_get("/api", self._device)
        app.router.add_get("/api/measurement", self._measurement)

    async def _create_user(self, request: web.Request) -> web.Response:
        self.last_headers = dict(request.headers)
        try:
            body = await request.json()
        except ValueError:
            body = None
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.startswith("local/"):
            return web.json_response({"error": "request:json-invalid"}, status=400)
        if self._clock() > self._window_until:
            return web.json_response({"error": "user:creation-not-enabled"}, status=403)
        token = secrets.token_hex(16).upper()
        self.tokens[token] = name
        return web.json_response({"token": token, "name": name})

    def _authorized(self, request: web.Request) -> bool:
        self.last_headers = dict(request.headers)
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[len("Bearer ") :] in self.tokens

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.json_response({"error": "user:unauthorized"}, status=401)

    async def _device(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response(
            {
                "product_name": "P1 meter",
                "product_type": "HWE-P1",
                "serial": self.serial,
                "firmware_version": "6.0200",
                "api_version": "2.0.0",
            }
        )

    async def _measurement(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unauthorized()
        body: dict[str, Any] = {
            "protocol_version": 50,
            "meter_model": "Emulated DSMR 5",
            "tariff": 1,
            "energy_import_kwh": round(self.state.import_energy_kwh, 3),
            "energy_export_kwh": round(self.state.export_energy_kwh, 3),
            "power_w": round(self.state.total_power_w, 1),
        }
        for number, phase in enumerate(self.state.phases, start=1):
            body[f"power_l{number}_w"] = round(phase.power_w, 1)
            body[f"voltage_l{number}_v"] = round(phase.voltage_v, 1)
            body[f"current_l{number}_a"] = round(phase.current_a, 3)
        return web.json_response(body)
