"""`V2CTrydan`: one Trydan over its local HTTP API (plain HTTP, no authentication).

Reads are `GET /RealTimeData`; writes are `GET /write/<Key>=<int>`, answered with the body `OK`.
Any other write answer raises: the charger did not take the setting.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from custom_components.powershare.devices.errors import (
    DeviceUnreachableError,
    ImplausibleValueError,
    InvalidCommandError,
    PowershareDeviceError,
    UnsupportedDeviceError,
)
from custom_components.powershare.devices.meters.http_client import HttpAnswer, json_object, send

from .reading import (
    MAX_INTENSITY_A,
    MIN_INTENSITY_A,
    V2CIdentity,
    V2CReading,
    decode_identity,
    decode_reading,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp

DEFAULT_TIMEOUT_S: Final = 5.0
REALTIME_PATH: Final = "/RealTimeData"
WRITE_OK: Final = "OK"


class V2CWriteRefusedError(PowershareDeviceError):
    """The charger answered a write with something other than `OK`."""


class V2CTrydan:
    """A V2C Trydan on the local network.

    The driver keeps the Min/MaxIntensity of the latest answer to check `set_intensity`
    against; before any answer it reads once. The charger's own dynamic power control
    (`Dynamic`) must be off, or `PauseDynamic` on, while Powershare sets the current, or
    the two controllers fight over `Intensity`.
    """

    requests_per_read: Final = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
        port: int = 80,
    ) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._timeout = timeout
        self._clock = clock
        self._base = URL.build(scheme="http", host=host, port=port)
        self.last_reading: V2CReading | None = None

    async def identify(self) -> V2CIdentity:
        """Read the device id and firmware; `UnsupportedDeviceError` if it is not a Trydan."""
        answer = await self._get(REALTIME_PATH)
        if answer.status == HTTPStatus.NOT_FOUND:
            raise UnsupportedDeviceError(f"{self.host}: no /RealTimeData (HTTP 404): not a Trydan")
        try:
            data = self._json_object(answer)
        except ImplausibleValueError as err:
            raise UnsupportedDeviceError(f"{self.host}: {err}: not a Trydan") from err
        return decode_identity(data)

    async def read(self) -> V2CReading:
        """Read `/RealTimeData` once and decode it (one request)."""
        answer = await self._get(REALTIME_PATH)
        data = self._json_object(answer)
        reading = decode_reading(data, self._clock())
        self.last_reading = reading
        return reading

    async def set_intensity(self, amps: int) -> None:
        """Set the charging current setpoint (`Intensity`).

        Refused with `InvalidCommandError` (a `ValueError`) when not a whole number of amps
        within 6-32 A and within the charger's MinIntensity-MaxIntensity.
        """
        if isinstance(amps, bool) or not isinstance(amps, int):
            raise InvalidCommandError(f"Intensity must be a whole number of amps, not {amps!r}")
        if not MIN_INTENSITY_A <= amps <= MAX_INTENSITY_A:
            raise InvalidCommandError(
                f"Intensity {amps} A is outside {MIN_INTENSITY_A}-{MAX_INTENSITY_A} A"
            )
        limits = self.last_reading or await self.read()
        if not limits.min_intensity_a <= amps <= limits.max_intensity_a:
            raise InvalidCommandError(
                f"Intensity {amps} A is outside the charger's MinIntensity-MaxIntensity "
                f"{limits.min_intensity_a}-{limits.max_intensity_a} A"
            )
        await self.write("Intensity", amps)

    async def set_paused(self, paused: bool) -> None:  # noqa: FBT001  # the driver API
        """Pause (`Paused=1`) or resume (`Paused=0`) charging."""
        await self.write("Paused", int(paused))

    async def set_locked(self, locked: bool) -> None:  # noqa: FBT001  # the driver API
        """Lock (`Locked=1`, the charger refuses to charge) or unlock it.

        Locking resets the session's ChargeEnergy and ChargeTime (evcc-io/evcc#32013).
        """
        await self.write("Locked", int(locked))

    async def set_dynamic(self, dynamic: bool) -> None:  # noqa: FBT001  # the driver API
        """Switch the charger's own dynamic power control (`Dynamic`) on or off."""
        await self.write("Dynamic", int(dynamic))

    async def set_pause_dynamic(self, paused: bool) -> None:  # noqa: FBT001  # the driver API
        """Hold (`PauseDynamic=1`) or resume the charger's own dynamic modulation."""
        await self.write("PauseDynamic", int(paused))

    async def write(self, key: str, value: int) -> None:
        """Send `GET /write/<key>=<value>`; anything but HTTP 200 with `OK` raises."""
        if not key.isalnum():
            raise InvalidCommandError(f"{key!r} is not a Trydan keyword")
        answer = await self._get(f"/write/{key}={int(value)}")
        if answer.status != HTTPStatus.OK:
            raise DeviceUnreachableError(
                f"{self.host}: write {key}={value} answered HTTP {answer.status}"
            )
        text = answer.body.decode("utf-8", errors="replace").strip()
        if text != WRITE_OK:
            raise V2CWriteRefusedError(
                f"{self.host}: write {key}={value} was answered {text[:40]!r}, not 'OK'"
            )

    async def _get(self, path: str) -> HttpAnswer:
        return await send(
            self._session,
            "GET",
            self._base.with_path(path, encoded=True),
            request_timeout=self._timeout,
        )

    def _json_object(self, answer: HttpAnswer) -> dict[str, Any]:
        return json_object(answer, f"{self.host}: /RealTimeData")
