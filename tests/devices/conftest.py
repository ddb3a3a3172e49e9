"""Fixtures shared by the device tests: a free loopback TCP port, a pseudo-terminal pair, and
the aiohttp session the HTTP drivers get."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest
from aiohttp import ClientSession

from simulators.modbus_server import PtyPair, free_tcp_port, open_pty_pair, socat_available

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture(autouse=True)
def loopback_sockets_allowed(request: pytest.FixtureRequest) -> None:
    """Let the tests open sockets where Home Assistant's test plugin blocks them.

    The plugin (pytest-socket) provides `socket_enabled`; the newest-pymodbus environment
    may run these tests without it, and then nothing is blocked.
    """
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")


@pytest.fixture
def tcp_port() -> int:
    """A TCP port on 127.0.0.1 that was free when the test started."""
    return free_tcp_port()


@pytest.fixture
async def pty_pair() -> AsyncIterator[PtyPair]:
    """Two linked pseudo-terminals made by socat: serve on one, connect a client to the other."""
    if not socat_available():
        pytest.skip("socat is not installed (Debian package socat): RTU over a pty needs it")
    async with open_pty_pair() as pair:
        yield pair


@pytest.fixture
async def http_session() -> AsyncIterator[ClientSession]:
    """The aiohttp session the HTTP drivers get injected."""
    async with ClientSession() as session:
        yield session
