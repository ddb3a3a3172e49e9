"""Servers that answer with what real devices answered, where they answered it.

The captures under `tests/devices/meters/captures/` (one JSON file per capture, with its source
in the folder's SOURCES.md) hold the bodies real meters sent, by request path. These servers
replay them on loopback, so the drivers meet real answers instead of only our own emulators
(which agree with the drivers by construction):

- `CapturedHttpDevice` serves each body at its path (the query string included where the
  capture has one, `/rpc/EM1.GetStatus?id=1`), over TLS with a test CA for HomeWizard API v2;
  an answer recorded as `{"status": 500, "body": {...}}` is served with that status; a path
  the capture lacks answers 404, as a device does for a method it does not have.
- `CapturedRegisters` serves the register blocks of a Modbus capture; registers outside them
  answer "illegal data address".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulators.modbus_server import RegisterUnit
from simulators.modbus_server.units import READ_HOLDING

from .http_base import HttpMeterEmulator
from .tls import TestCertificateAuthority

if TYPE_CHECKING:
    import ssl
    from pathlib import Path

_ERROR_KEYS = frozenset({"status", "body"})


@dataclass(frozen=True, slots=True)
class Capture:
    """One capture file."""

    name: str
    """The file name without `.json`."""
    device: str
    """The driver (`homewizard_p1_v1`, `shelly_pro_3em_http`, ...) or Modbus model key."""
    title: str
    source: str
    body: dict[str, Any]
    """The whole file."""

    @classmethod
    def load(cls, path: Path) -> Capture:
        """Read a capture file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        device = data.get("driver") or data["model"]
        return cls(path.stem, device, data["title"], data["source"], data)

    @property
    def registers(self) -> dict[int, int]:
        """The register words by address (Modbus captures)."""
        return {
            int(start) + offset: int(word)
            for start, words in self.body["blocks"].items()
            for offset, word in enumerate(words)
        }

    @property
    def answers(self) -> dict[str, Any]:
        """The HTTP answers by path (HTTP captures)."""
        answers: dict[str, Any] = self.body.get("answers", {})
        return answers


class CapturedHttpDevice(HttpMeterEmulator):
    """Serves one capture's HTTP answers (see the module docstring)."""

    def __init__(self, answers: dict[str, Any], *, tls_name: str | None = None) -> None:
        super().__init__()
        self.answers = answers
        self.authority = None if tls_name is None else TestCertificateAuthority.generate(tls_name)

    def server_ssl_context(self) -> ssl.SSLContext | None:
        """HTTPS with a test CA when a TLS name was given (HomeWizard API v2)."""
        return None if self.authority is None else self.authority.server_context()

    def add_routes(self, app: web.Application) -> None:
        """Answer every GET from the capture."""
        app.router.add_get("/{path:.*}", self._serve)

    async def _serve(self, request: web.Request) -> web.Response:
        body = self.answers.get(request.path_qs, self.answers.get(request.path))
        if body is None:
            return web.json_response({"code": 404, "message": "not in the capture"}, status=404)
        if isinstance(body, dict) and set(body) == _ERROR_KEYS:
            return web.json_response(body["body"], status=int(body["status"]))
        return web.json_response(body)


class CapturedRegisters(RegisterUnit):
    """Serves one Modbus capture's register blocks (see the module docstring)."""

    def __init__(self, capture: Capture) -> None:
        table = capture.registers
        if int(capture.body["function"]) == READ_HOLDING:
            super().__init__(holding=table)
        else:
            super().__init__(input_registers=table)
