"""Powershare: share a home's or a building's electrical capacity between EV chargers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

__all__ = ["DOMAIN", "async_setup"]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Set up Powershare once per Home Assistant instance.

    Service actions will be registered here (not per entry), so that automations referring to
    them validate even while no entry is loaded.
    """
    LOGGER.debug("Powershare loaded")
    return True
