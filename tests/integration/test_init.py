"""Home Assistant loads Powershare from a clean state."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component

from custom_components.powershare.const import DOMAIN, ENTRY_KINDS


async def test_integration_is_found_in_this_repository(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.name == "Powershare"
    assert not integration.is_built_in
    assert "testing_config" not in str(integration.file_path)


async def test_setup_from_clean_state(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert DOMAIN in hass.config.components


async def test_config_flow_offers_the_three_kinds(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == list(ENTRY_KINDS)
    for kind in ENTRY_KINDS:
        flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        chosen = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"next_step_id": kind}
        )
        assert chosen["type"] is FlowResultType.ABORT
        assert chosen["reason"] == "not_available_yet"
