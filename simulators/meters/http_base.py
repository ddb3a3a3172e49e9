"""Base of the HTTP meter emulators: an aiohttp server on 127.0.0.1 with fault injection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

from aiohttp import web

from .state import MeterState

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable

LOOPBACK: Final = "127.0.0.1"
GARBAGE_BODY: Final = b"<html>not json{"


@dataclass(slots=True)
class HttpFaults:
    """What an HTTP emulator does wrong, settable from a test at any time."""

    delay: float = 0.0
    """Seconds to wait before answering."""
    drop: bool = False
    """Close the connection without answering."""
    status: int | None = None
    """Answer every request with this HTTP status (e.g. 500) and an error body."""
    garbage: bool = False
    """Answer 200 with a body that is not JSON."""

    def clear(self) -> None:
        """Back to a well-behaved device."""
        self.delay = 0.0
        self.drop = False
        self.status = None
        self.garbage = False


class HttpMeterEmulator:
    """An emulated HTTP meter; subclasses add the device's routes.

    Every request is recorded in `requests` ("METHOD /path"), so tests can count requests per
    reading.
    """

    def __init__(self, state: MeterState | None = None) -> None:
        self.state = state or MeterState()
        self.faults = HttpFaults()
        self.requests: list[str] = []
        self.host: Final = LOOPBACK
        self.port = 0
        self._runner: web.AppRunner | None = None

    def add_routes(self, app: web.Application) -> None:
        """Register the device's routes (overridden by each emulator)."""
        raise NotImplementedError

    def server_ssl_context(self) -> ssl.SSLContext | None:
        """TLS context of the server; None serves plain HTTP."""
        return None

    def count(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for request in self.requests if request.split(" ", 1)[1] == path)

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1 (`port` 0 picks a free port, kept across restarts)."""
        app = web.Application(middlewares=[self._fault_middleware])
        self.add_routes(app)
        runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await runner.setup()
        site = web.TCPSite(
            runner, LOOPBACK, port or self.port, ssl_context=self.server_ssl_context()
        )
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @web.middleware
    async def _fault_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        faults = self.faults
        if faults.delay > 0:
            await asyncio.sleep(faults.delay)
        if faults.drop:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=200)
        if faults.status is not None:
            return web.json_response({"error": "emulated failure"}, status=faults.status)
        if faults.garbage:
            return web.Response(body=GARBAGE_BODY, content_type="application/json")
        return await handler(request)
