"""Talking to a device before its entry exists: identify a charger or a meter, pair a HomeWizard.

Every probe raises `ProbeError` when it fails, carrying the form error the failure becomes (as
the homewizard integration's `RecoverableError` does), so a step is a short try/except. Which
field of its form shows which error is the step's business: `ProbeError.form_errors`.

Devices are opened through `connection`, on the shared Modbus buses (one per port), so a flow
and the running entries never hold two connections to one serial port.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING, Any, Final

from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from custom_components.powershare.connection import async_open_charger, async_open_meter
from custom_components.powershare.const import CONF_MODEL, LOGGER
from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    InvalidCommandError,
    PowershareDeviceError,
    UnitNotAnsweringError,
)
from custom_components.powershare.devices.meters import (
    MeterAuthenticationError,
    PairingButtonNotPressedError,
    UnsupportedProfileError,
    async_homewizard_ssl_context,
    request_token,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.devices.meters import MeterInfo, MeterModel

PAIRING_ATTEMPTS: Final = 3
"""`POST /api/user` tries per submit of the pairing step: the user may press the button just
after submitting."""
PAIRING_RETRY_INTERVAL_S: Final = 1.0

# The form error each device error becomes; any other device error means "something answered,
# but not the expected device", which each probe names for its kind of device.
_ERROR_KEYS: Final[dict[type[PowershareDeviceError], str]] = {
    UnitNotAnsweringError: "unit_not_answering",
    DeviceUnreachableError: "cannot_connect",
    DeviceTimeoutError: "timeout",
    MeterAuthenticationError: "invalid_auth",
    PairingButtonNotPressedError: "button_not_pressed",
    InvalidCommandError: "line_settings_conflict",
    UnsupportedProfileError: "unsupported_profile",
}


class ProbeError(Exception):
    """A probe failed; `error` is the key of the form error to show (see en.json)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error

    def form_errors(self, error_fields: Mapping[str, str]) -> dict[str, str]:
        """Put the error on the form field it concerns (`error_fields`), else on the form."""
        return {error_fields.get(self.error, "base"): self.error}


@contextlib.contextmanager
def _form_error(wrong_device: str) -> Iterator[None]:
    """Turn what the body raises into a `ProbeError`."""
    try:
        yield
    except PowershareDeviceError as err:
        LOGGER.debug("Identification failed: %s", err)
        mro = type(err).__mro__
        error = next((_ERROR_KEYS[cls] for cls in mro if cls in _ERROR_KEYS), wrong_device)
        raise ProbeError(error) from err
    except Exception as err:
        # A bug must not leave the user with a broken form: an error, and the form again.
        LOGGER.exception("Unexpected error while identifying a device")
        raise ProbeError("unknown") from err


async def async_identify_charger(hass: HomeAssistant, connection: Mapping[str, Any]) -> int:
    """Return the serial number of the TeltoCharge at `connection`."""
    with _form_error(wrong_device="not_a_teltocharge"):
        charger = await async_open_charger(hass, connection)
        try:
            identity = await charger.control.identify()
            return int(identity.unique_id)
        finally:
            await charger.close()


async def async_identify_v2c(hass: HomeAssistant, connection: Mapping[str, Any]) -> str:
    """Return the unique id (device id, or host) of the V2C Trydan at `connection`."""
    with _form_error(wrong_device="not_a_v2c"):
        charger = await async_open_charger(hass, connection)
        return (await charger.control.identify()).unique_id


async def async_identify_meter(
    hass: HomeAssistant, connection: Mapping[str, Any], model: MeterModel
) -> MeterInfo:
    """Return the identification of the meter of `model` at `connection` (Modbus or HTTP)."""
    with _form_error(wrong_device="wrong_meter"):
        meter = await async_open_meter(hass, {**connection, CONF_MODEL: model.key})
        try:
            return await meter.driver.identify()
        finally:
            await meter.close()


async def async_request_homewizard_token(hass: HomeAssistant, host: str, port: int) -> str:
    """Ask a HomeWizard P1 (API v2) for a token, which it grants once its button is pressed."""
    name = f"powershare#{(await instance_id.async_get(hass))[:6]}"
    with _form_error(wrong_device="wrong_meter"):
        request = functools.partial(
            request_token,
            async_get_clientsession(hass),
            host,
            name=name,
            ssl_context=await async_homewizard_ssl_context(),
            port=port,
        )
        for _ in range(PAIRING_ATTEMPTS - 1):
            with contextlib.suppress(PairingButtonNotPressedError):
                return await request()
            await asyncio.sleep(PAIRING_RETRY_INTERVAL_S)
        return await request()
