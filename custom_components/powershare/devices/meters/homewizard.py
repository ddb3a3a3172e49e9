"""HomeWizard P1 meter over its local HTTP API: v1 (plain HTTP) and v2 (HTTPS with a token).

API v2 answers only over TLS with a certificate signed by the HomeWizard CA (shipped in
`homewizard_ca.py`) and only to requests carrying a token. A token is created by
`POST /api/user`, which answers 403 until the user presses the device's button and then, for
30 s, 200 with the token: `wait_for_token` polls through that window.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from custom_components.powershare.devices.errors import (
    ImplausibleValueError,
    PowershareDeviceError,
)

from .homewizard_ca import HOMEWIZARD_CA_PEM
from .http_client import (
    DEFAULT_HTTP_TIMEOUT,
    json_object,
    optional_number,
    send,
    text,
)
from .reading import (
    WALL_CLOCK,
    Clock,
    MeterInfo,
    MeterReading,
    PhaseReading,
    build_phase,
    build_reading,
    current_from_power,
)

if TYPE_CHECKING:
    import aiohttp

PAIRING_WINDOW_S: Final = 30.0
"""How long the device accepts `POST /api/user` after its button is pressed."""
API_V2_HEADERS: Final = {"X-Api-Version": "2"}
_PHASES: Final = (1, 2, 3)


class PairingButtonNotPressedError(PowershareDeviceError):
    """The P1 meter refuses to create a token (403): its button has not been pressed."""


def homewizard_ssl_context(
    ca_pem: str = HOMEWIZARD_CA_PEM, *, verify_hostname: bool = False
) -> ssl.SSLContext:
    """Build a TLS context that trusts only the HomeWizard CA (or a test CA).

    The device certificate names the device (`appliance/p1dongle/<serial>`) in its common name,
    not its IP address: verify the name only when it is known, by passing it to the meter as
    `device_name`. The chain is always verified. Loading certificates counts as blocking I/O
    for Home Assistant: call this in an executor (`async_homewizard_ssl_context`).
    """
    context = ssl.create_default_context(cadata=ca_pem)
    # The HomeWizard root is an X.509 v1 certificate, which Python 3.13's strict mode rejects.
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if verify_hostname:
        context.hostname_checks_common_name = True
    else:
        context.check_hostname = False
    return context


async def async_homewizard_ssl_context(
    ca_pem: str = HOMEWIZARD_CA_PEM, *, verify_hostname: bool = False
) -> ssl.SSLContext:
    """Build `homewizard_ssl_context` in the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None, lambda: homewizard_ssl_context(ca_pem, verify_hostname=verify_hostname)
    )


@dataclass(frozen=True, slots=True)
class _DataKeys:
    """Where one API version puts the figures (`{}` is the phase or the tariff number)."""

    power: str
    voltage: str
    current: str
    total_power: str
    import_energy: str
    export_energy: str
    import_tariff: str
    export_tariff: str
    average_demand: str
    month_peak: str


_V1_KEYS: Final = _DataKeys(
    power="active_power_l{}_w",
    voltage="active_voltage_l{}_v",
    current="active_current_l{}_a",
    total_power="active_power_w",
    import_energy="total_power_import_kwh",
    export_energy="total_power_export_kwh",
    import_tariff="total_power_import_t{}_kwh",
    export_tariff="total_power_export_t{}_kwh",
    average_demand="active_power_average_w",
    month_peak="montly_power_peak_w",  # sic, in API v1
)
_V2_KEYS: Final = _DataKeys(
    power="power_l{}_w",
    voltage="voltage_l{}_v",
    current="current_l{}_a",
    total_power="power_w",
    import_energy="energy_import_kwh",
    export_energy="energy_export_kwh",
    import_tariff="energy_import_t{}_kwh",
    export_tariff="energy_export_t{}_kwh",
    average_demand="average_power_15m_w",
    month_peak="monthly_power_peak_w",
)
_TARIFFS: Final = (1, 2, 3, 4)


def _meter_info(info: dict[str, Any]) -> MeterInfo:
    """Identification from `/api` (the same in both API versions)."""
    return MeterInfo(
        manufacturer="HomeWizard",
        model=text(info, "product_type") or "P1 meter",
        serial=text(info, "serial"),
        firmware=text(info, "firmware_version"),
    )


def _reading(data: dict[str, Any], keys: _DataKeys, measured_at: float) -> MeterReading:
    """Build the signed reading from one API version's measurement object.

    HomeWizard documents every data point as optional, and real meters use that: phases
    without current or voltage, single-phase meters without (or with null) L2 and L3, energy
    only per tariff.
    """
    reading = build_reading(
        _phases_from(data, keys),
        total_power_w=optional_number(data, keys.total_power),
        import_energy_kwh=_energy(data, keys.import_energy, keys.import_tariff),
        export_energy_kwh=_energy(data, keys.export_energy, keys.export_tariff),
        measured_at=measured_at,
    )
    return replace(
        reading,
        average_demand_w=_demand(data, keys.average_demand),
        month_peak_w=_demand(data, keys.month_peak),
    )


def _demand(data: dict[str, Any], key: str) -> float | None:
    """Return a Belgian meter's capacity-tariff figure; leave out one that makes no sense.

    Only the peak budget uses them, and only to count more energy than it measured itself: a
    wrong one must not fail the reading the fuses depend on.
    """
    try:
        value = optional_number(data, key)
    except ImplausibleValueError:
        return None
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _energy(data: dict[str, Any], total_key: str, tariff_key: str) -> float | None:
    """Return the all-tariff total, or the sum of the tariffs when only they are sent."""
    total = optional_number(data, total_key)
    if total is not None:
        return total
    tariffs = [optional_number(data, tariff_key.format(number)) for number in _TARIFFS]
    sent = [value for value in tariffs if value is not None]
    return sum(sent) if sent else None


def _phases_from(data: dict[str, Any], keys: _DataKeys) -> list[PhaseReading]:
    """Build the phases the meter reports: those with a power or a current (L1 first).

    A phase without a current has it derived from its power (`current_from_power`: not from
    the voltage, which may be missing, or 0 V on a network without neutral). A single-phase
    meter may leave its one phase's power to the total.
    """
    phases: list[PhaseReading] = []
    for number in _PHASES:
        power = optional_number(data, keys.power.format(number))
        voltage = optional_number(data, keys.voltage.format(number))
        current = optional_number(data, keys.current.format(number))
        if power is None and current is None:
            break
        if power is None:
            single_phase = optional_number(data, keys.current.format(2)) is None
            power = (
                optional_number(data, keys.total_power) if number == 1 and single_phase else None
            )
            if power is None:
                raise ImplausibleValueError(f"L{number} reports a current but no power")
        derived = current is None
        phases.append(
            build_phase(
                number - 1,
                voltage_v=voltage,
                current_a=current_from_power(power) if current is None else current,
                power_w=power,
                current_derived=derived,
            )
        )
    if not phases:
        raise ImplausibleValueError("the meter reports no phase")
    return phases


class HomeWizardP1V1Meter:
    """HomeWizard P1 meter over API v1 (`/api`, `/api/v1/data`); one request per reading.

    The user must enable "Local API" in the HomeWizard app. Poll no faster than every 0.5 s.
    """

    requests_per_read: Final = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        port: int = 80,
        request_timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self._session = session
        self._base = URL.build(scheme="http", host=host, port=port)
        self._timeout = request_timeout
        self._clock = clock

    async def _get(self, path: str) -> dict[str, Any]:
        answer = await send(
            self._session, "GET", self._base.with_path(path), request_timeout=self._timeout
        )
        if answer.status == HTTPStatus.FORBIDDEN:
            raise PowershareDeviceError(
                "HomeWizard: the local API is disabled; enable it in the HomeWizard app"
            )
        return json_object(answer, f"HomeWizard {path}")

    async def identify(self) -> MeterInfo:
        """Read `/api`: product type, serial (the unique id) and firmware."""
        return _meter_info(await self._get("/api"))

    async def read(self) -> MeterReading:
        """Read `/api/v1/data`."""
        measured_at = self._clock()
        data = await self._get("/api/v1/data")
        return _reading(data, _V1_KEYS, measured_at)


class HomeWizardP1V2Meter:
    """HomeWizard P1 meter over API v2 (HTTPS, token); one request per reading.

    `ssl_context` should come from `async_homewizard_ssl_context` (built once, off the event
    loop); `device_name` (`appliance/p1dongle/<serial>`) turns on host name verification.
    """

    requests_per_read: Final = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        token: str,
        *,
        ssl_context: ssl.SSLContext,
        port: int = 443,
        device_name: str | None = None,
        request_timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self._session = session
        self._base = URL.build(scheme="https", host=host, port=port)
        self._token = token
        self._ssl = ssl_context
        self._device_name = device_name
        self._timeout = request_timeout
        self._clock = clock

    async def _get(self, path: str) -> dict[str, Any]:
        answer = await send(
            self._session,
            "GET",
            self._base.with_path(path),
            request_timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._token}", **API_V2_HEADERS},
            ssl_context=self._ssl,
            server_hostname=self._device_name,
        )
        return json_object(answer, f"HomeWizard {path}")

    async def identify(self) -> MeterInfo:
        """Read `/api`: product type, serial (the unique id) and firmware."""
        return _meter_info(await self._get("/api"))

    async def read(self) -> MeterReading:
        """Read `/api/measurement`."""
        measured_at = self._clock()
        data = await self._get("/api/measurement")
        return _reading(data, _V2_KEYS, measured_at)


async def request_token(
    session: aiohttp.ClientSession,
    host: str,
    *,
    name: str,
    ssl_context: ssl.SSLContext,
    port: int = 443,
    device_name: str | None = None,
    request_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> str:
    """Ask the P1 meter for a token once (`POST /api/user`).

    Raises `PairingButtonNotPressedError` while the button has not been pressed (403).
    """
    answer = await send(
        session,
        "POST",
        URL.build(scheme="https", host=host, port=port, path="/api/user"),
        request_timeout=request_timeout,
        headers=API_V2_HEADERS,
        json_body={"name": f"local/{name}"},
        ssl_context=ssl_context,
        server_hostname=device_name,
    )
    if answer.status == HTTPStatus.FORBIDDEN:
        raise PairingButtonNotPressedError("press the button on the P1 meter, then try again")
    token = text(json_object(answer, "HomeWizard /api/user"), "token")
    if token is None:
        raise ImplausibleValueError("HomeWizard /api/user: the answer has no token")
    return token


async def wait_for_token(
    session: aiohttp.ClientSession,
    host: str,
    *,
    name: str,
    ssl_context: ssl.SSLContext,
    port: int = 443,
    device_name: str | None = None,
    window: float = PAIRING_WINDOW_S,
    interval: float = 1.0,
    request_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> str:
    """Poll `POST /api/user` for up to `window` seconds while the user presses the button."""
    deadline = time.monotonic() + window
    while True:
        try:
            return await request_token(
                session,
                host,
                name=name,
                ssl_context=ssl_context,
                port=port,
                device_name=device_name,
                request_timeout=request_timeout,
            )
        except PairingButtonNotPressedError:
            if time.monotonic() + interval > deadline:
                raise
        await asyncio.sleep(interval)
