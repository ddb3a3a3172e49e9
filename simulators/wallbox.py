"""A tiny HTTP wallbox for the demo: a current limit, a switch that allows charging, a car.

It stands for a charger Powershare cannot talk to itself, only through the entities another
integration makes of it: the demo's `demo_wallbox` integration (`simulators/demo/demo_wallbox`)
polls `GET /state` and writes `POST /limit` (`{"value": amps}`, 0-32) and `POST /allowed`
(`{"value": true|false}`). The car follows a new limit, or a change of the switch, after
`follow_s` (a real car takes up to 5 s, IEC 61851-1), draws at most `car_max_current_a` on its
`phases`, and nothing below 6 A. Time comes from an injected clock.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from simulators.meters.http_base import HttpMeterEmulator

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_LIMIT_A: Final = 32
MIN_CAR_CURRENT_A: Final = 6.0
"""A pilot signal below this means "do not charge" to a car (IEC 61851-1)."""


@dataclass(slots=True)
class WallboxState:
    """The wallbox's settings and the car behind it; a test changes any field at any time."""

    clock: Callable[[], float] = time.monotonic
    serial: str = "WB-0001"
    limit_a: int = 16
    allowed: bool = True
    plugged_in: bool = True
    phases: int = 3
    """1 or 3: the phases the car draws on (the wallbox's L1, or all three)."""
    car_max_current_a: float = 16.0
    follow_s: float = 2.0
    _steps: list[tuple[float, float]] = field(default_factory=list)
    """(time it takes effect, what the car is offered) in order: what the car follows."""

    def _offered(self) -> float:
        return float(self.limit_a) if self.allowed else 0.0

    def _changed(self) -> None:
        self._steps.append((self.clock() + self.follow_s, self._offered()))

    def set_limit(self, amps: int) -> None:
        """Change the limit (0-32 A); the car follows after `follow_s`."""
        if not 0 <= amps <= MAX_LIMIT_A:
            raise ValueError(f"limit {amps} A is outside 0-{MAX_LIMIT_A} A")
        self.followed_a()  # the car keeps what it follows until the delay is over
        self.limit_a = amps
        self._changed()

    def set_allowed(self, allowed: bool) -> None:  # noqa: FBT001
        """Allow charging or not; the car follows after `follow_s`."""
        self.followed_a()
        self.allowed = allowed
        self._changed()

    def followed_a(self) -> float:
        """Return what the car is offered by now (the latest change older than `follow_s`)."""
        now = self.clock()
        followed = self._offered() if not self._steps else self._steps[0][1]
        for since, amps in self._steps:
            if since <= now:
                followed = amps
        self._steps = [(now, followed), *(step for step in self._steps if step[0] > now)]
        return followed

    def car_current_a(self) -> float:
        """Return what the car draws on each of its phases now."""
        if not self.plugged_in:
            return 0.0
        amps = min(self.followed_a(), self.car_max_current_a)
        return amps if amps >= MIN_CAR_CURRENT_A else 0.0

    def update(self) -> None:
        """Nothing to integrate: the draw is computed from the clock when it is asked."""

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """The current drawn on the wallbox's L1, L2, L3 now."""
        amps = self.car_current_a()
        on = [amps if phase < self.phases else 0.0 for phase in range(3)]
        return (on[0], on[1], on[2])

    def as_json(self) -> dict[str, Any]:
        """Return what `GET /state` answers."""
        return {
            "serial": self.serial,
            "limit": self.limit_a,
            "max_limit": MAX_LIMIT_A,
            "allowed": self.allowed,
            "plugged_in": self.plugged_in,
            "currents": list(self.currents_a),
        }


class WallboxEmulator(HttpMeterEmulator):
    """The wallbox over HTTP on 127.0.0.1 (`wallbox`, a `WallboxState`).

    The base class's `state` (a meter state) is not used; its faults (`faults`) apply.
    """

    def __init__(self, wallbox: WallboxState | None = None) -> None:
        super().__init__()
        self.wallbox = wallbox or WallboxState()
        self.writes: list[tuple[str, Any]] = []
        """Writes applied, in order: ("limit", amps) or ("allowed", flag)."""

    def add_routes(self, app: web.Application) -> None:
        """Register `GET /state`, `POST /limit` and `POST /allowed`."""
        app.router.add_get("/state", self._state)
        app.router.add_post("/limit", self._limit)
        app.router.add_post("/allowed", self._allowed)

    async def _state(self, _request: web.Request) -> web.Response:
        return web.json_response(self.wallbox.as_json())

    async def _value(self, request: web.Request) -> Any:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return None
        return body.get("value") if isinstance(body, dict) else None

    async def _limit(self, request: web.Request) -> web.Response:
        value = await self._value(request)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return web.json_response({"error": "value: whole amps expected"}, status=400)
        try:
            self.wallbox.set_limit(int(value))
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        self.writes.append(("limit", int(value)))
        return web.json_response(self.wallbox.as_json())

    async def _allowed(self, request: web.Request) -> web.Response:
        value = await self._value(request)
        if not isinstance(value, bool):
            return web.json_response({"error": "value: true or false expected"}, status=400)
        self.wallbox.set_allowed(value)
        self.writes.append(("allowed", value))
        return web.json_response(self.wallbox.as_json())


__all__ = ["MAX_LIMIT_A", "WallboxEmulator", "WallboxState"]
