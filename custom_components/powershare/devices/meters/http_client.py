"""What every HTTP meter driver shares: one request with typed errors, JSON checks, digest auth.

The aiohttp session is injected (Home Assistant's shared session, or a test's); the drivers
never create one. Every failure becomes a `PowershareDeviceError` subclass.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import aiohttp

from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
    PowershareDeviceError,
    UnsupportedDeviceError,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

    from yarl import URL

DEFAULT_HTTP_TIMEOUT = 2.0
"""Seconds one HTTP request may take (a balancing cycle is about 1 s)."""


class MeterAuthenticationError(PowershareDeviceError):
    """The meter refused the credentials or the token (HTTP 401); ask the user again."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A complete HTTP answer, read while the connection was open."""

    status: int
    headers: Mapping[str, str]
    body: bytes


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    request_timeout: float,
    headers: Mapping[str, str] | None = None,
    json_body: object = None,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> HttpAnswer:
    """Send one request and read the whole answer; transport failures become typed errors."""
    options: dict[str, Any] = {"timeout": aiohttp.ClientTimeout(total=request_timeout)}
    if headers:
        options["headers"] = dict(headers)
    if json_body is not None:
        options["json"] = json_body
    if ssl_context is not None:
        options["ssl"] = ssl_context
    if server_hostname is not None:
        options["server_hostname"] = server_hostname
    try:
        async with session.request(method, url, **options) as response:
            body = await response.read()
            return HttpAnswer(response.status, dict(response.headers), body)
    except TimeoutError as err:
        raise DeviceTimeoutError(f"{url.host}: no answer within {request_timeout} s") from err
    except aiohttp.ClientConnectorCertificateError as err:
        raise UnsupportedDeviceError(
            f"{url.host}: its TLS certificate is not signed by the expected authority ({err})"
        ) from err
    except (aiohttp.ClientError, OSError) as err:
        raise DeviceUnreachableError(f"{url.host}: {err or type(err).__name__}") from err


def json_object(answer: HttpAnswer, what: str) -> dict[str, Any]:
    """Return the answer's JSON object, or raise a typed error for a bad status or body."""
    if answer.status == HTTPStatus.UNAUTHORIZED:
        raise MeterAuthenticationError(f"{what}: the device refused the credentials (401)")
    if answer.status != HTTPStatus.OK:
        raise DeviceUnreachableError(f"{what}: the device answered HTTP {answer.status}")
    try:
        data = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ImplausibleValueError(f"{what}: the answer is not JSON") from err
    if not isinstance(data, dict):
        raise ImplausibleValueError(f"{what}: the answer is not a JSON object")
    return data


def number(data: Mapping[str, Any], key: str) -> float:
    """Return a numeric field; missing, non-numeric, NaN or infinite values are bad readings."""
    value = optional_number(data, key)
    if value is None:
        raise ImplausibleValueError(f"the answer lacks {key!r}")
    return value


def optional_number(data: Mapping[str, Any], key: str) -> float | None:
    """Return a numeric field, None when absent or null; anything else not a number is bad."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImplausibleValueError(f"{key!r} is not a number: {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ImplausibleValueError(f"{key!r} is {result}, not a measurement")
    return result


def basic_auth_header(username: str, password: str) -> str:
    """Return the value of an `Authorization` header for HTTP basic authentication."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {credentials}"


def text(data: Mapping[str, Any], key: str) -> str | None:
    """Return a string field, None when absent or not a string."""
    value = data.get(key)
    return value if isinstance(value, str) and value else None


_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


class DigestAuth:
    """HTTP digest authentication (RFC 7616, SHA-256 or MD5) as Shelly gen 2+ devices use it.

    The challenge is kept and its nonce reused with an increasing count, so a polling cycle
    costs no extra round trip; a stale nonce costs one retry.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._challenge: dict[str, str] | None = None
        self._count = 0

    def accept_challenge(self, header: str | None) -> bool:
        """Store a `WWW-Authenticate: Digest ...` challenge; False if it is not one."""
        if not header or not header.lower().startswith("digest "):
            return False
        params = {
            name.lower(): quoted or bare
            for name, quoted, bare in _CHALLENGE_PARAM.findall(header[len("digest ") :])
        }
        if "nonce" not in params or "realm" not in params:
            return False
        self._challenge = params
        self._count = 0
        return True

    def header(self, method: str, uri: str) -> str | None:
        """Return the Authorization header for a request, None before any challenge."""
        if self._challenge is None:
            return None
        challenge = self._challenge
        algorithm = challenge.get("algorithm", "MD5").upper()
        self._count += 1
        count = f"{self._count:08x}"
        cnonce = secrets.token_hex(8)
        response = digest_response(
            algorithm=algorithm,
            username=self.username,
            password=self._password,
            realm=challenge["realm"],
            nonce=challenge["nonce"],
            method=method,
            uri=uri,
            count=count,
            cnonce=cnonce,
        )
        return (
            f'Digest username="{self.username}", realm="{challenge["realm"]}", '
            f'nonce="{challenge["nonce"]}", uri="{uri}", algorithm={algorithm}, '
            f'response="{response}", qop=auth, nc={count}, cnonce="{cnonce}"'
        )


def digest_response(
    *,
    algorithm: str,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    count: str,
    cnonce: str,
) -> str:
    """Compute the `response` of a digest authorization with qop=auth."""

    def digest(value: str) -> str:
        if algorithm == "SHA-256":
            return hashlib.sha256(value.encode()).hexdigest()
        return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()

    ha1 = digest(f"{username}:{realm}:{password}")
    ha2 = digest(f"{method}:{uri}")
    return digest(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
