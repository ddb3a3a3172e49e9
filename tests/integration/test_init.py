"""Home Assistant loads Powershare from a clean state."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component

from custom_components.powershare.const import DOMAIN


async def test_integration_is_found_in_this_repository(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.name == "Powershare"
    assert not integration.is_built_in
    assert "testing_config" not in str(integration.file_path)


async def test_setup_from_clean_state(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert DOMAIN in hass.config.components
