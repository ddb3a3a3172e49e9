"""The wallbox over HTTP: `GET /state` every second, `POST /limit` and `POST /allowed`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN, POLL_INTERVAL_S, REQUEST_TIMEOUT_S

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)
HTTP_OK = 200

type WallboxConfigEntry = ConfigEntry[WallboxCoordinator]


class WallboxError(Exception):
    """The wallbox did not answer, or not with its state."""


async def async_fetch_state(
    session: aiohttp.ClientSession, url: str, path: str = "/state", value: Any = None
) -> dict[str, Any]:
    """GET `/state`, or POST `{"value": value}` to `path`; return the state it answers."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            if value is None:
                response = await session.get(f"{url}{path}")
            else:
                response = await session.post(f"{url}{path}", json={"value": value})
            async with response:
                answer = await response.json(content_type=None)
                status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise WallboxError(f"{url}{path}: {err or type(err).__name__}") from err
    if status != HTTP_OK or not isinstance(answer, dict) or "limit" not in answer:
        raise WallboxError(f"{url}{path} answered {status}: {answer}")
    return answer


class WallboxCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """The wallbox's latest state (`GET /state`).

    A write is not published by itself: the next poll (within a second) shows it, as with
    most polling integrations. A poll that overlapped a write is dropped (what it read may be
    older than the write), so a value never goes back to what it was before a write.
    """

    config_entry: WallboxConfigEntry

    def __init__(self, hass: HomeAssistant, entry: WallboxConfigEntry) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=POLL_INTERVAL_S),
        )
        self.session = async_get_clientsession(hass)
        self.url = f"http://{entry.data[CONF_HOST]}:{entry.data[CONF_PORT]}"
        self._writes = 0
        self._writing = 0

    @property
    def serial(self) -> str:
        """The wallbox's serial number (the entry's unique id)."""
        return str(self.config_entry.unique_id)

    async def _async_update_data(self) -> dict[str, Any]:
        writes = self._writes
        try:
            state = await async_fetch_state(self.session, self.url)
        except WallboxError as err:
            raise UpdateFailed(str(err)) from err
        if (self._writing or writes != self._writes) and self.data is not None:
            return self.data  # overlapped a write: the next poll tells
        return state

    async def async_write(self, path: str, value: int | bool) -> None:  # noqa: FBT001
        """Write the limit (`/limit`) or the switch (`/allowed`); the next poll shows it."""
        self._writes += 1
        self._writing += 1
        try:
            await async_fetch_state(self.session, self.url, path, value)
        except WallboxError as err:
            raise HomeAssistantError(str(err)) from err
        finally:
            self._writing -= 1
