"""A meter that refuses Powershare's password or token: reauthentication, not a dead entry.

Real setups against the emulated meters (no patched setup): the coordinator's 401 becomes
`ConfigEntryAuthFailed`, Home Assistant starts the reauth flow, and the flow takes a Shelly's
new password or pairs a HomeWizard P1 again for a new token.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare import connection
from custom_components.powershare.config_flow import probe
from custom_components.powershare.const import (
    CONF_CONNECTION,
    CONF_KIND,
    CONF_METER_ID,
    CONF_MODEL,
    CONNECTION_HTTP,
    DOMAIN,
    ENTRY_KIND_METER,
    ENTRY_MINOR_VERSION,
)
from custom_components.powershare.devices.meters import async_homewizard_ssl_context
from simulators.meters.homewizard import HomeWizardV2Emulator
from simulators.meters.shelly import ShellyPro3EmRpcEmulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

LOOPBACK = "127.0.0.1"
SHELLY_ID = "34987a6789ab"
HOMEWIZARD_ID = "5c2fafabcdef"  # the emulated P1 v2's serial
OLD = "old-s3cret"  # the Shelly's password when the entry was made
NEW = "new-s3cret"  # set in the Shelly app since


def _meter_entry(hass: HomeAssistant, model: str, port: int, **credentials: str) -> MockConfigEntry:
    meter_id = SHELLY_ID if model.startswith("shelly") else HOMEWIZARD_ID
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Meter",
        version=1,
        minor_version=ENTRY_MINOR_VERSION,
        unique_id=f"meter_{meter_id}",
        data={
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: model,
            CONF_CONNECTION: CONNECTION_HTTP,
            CONF_HOST: LOOPBACK,
            CONF_PORT: port,
            CONF_METER_ID: meter_id,
            **credentials,
        },
    )
    entry.add_to_hass(hass)
    return entry


def _reauth_flow(hass: HomeAssistant) -> dict[str, Any]:
    flows = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(flows) == 1, flows
    return dict(flows[0])


async def test_a_shelly_whose_password_changed_asks_for_the_new_one(hass: HomeAssistant) -> None:
    async with ShellyPro3EmRpcEmulator(password=OLD) as shelly:
        entry = _meter_entry(hass, "shelly_pro_3em_http", shelly.port, password=OLD)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED

        shelly.password = NEW  # changed in the Shelly app
        await entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        flow = _reauth_flow(hass)
        assert flow["step_id"] == "reauth_confirm"

        result: Any = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_PASSWORD: "wrong"}
        )
        assert result["errors"] == {CONF_PASSWORD: "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_PASSWORD: NEW}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert entry.data[CONF_PASSWORD] == NEW
        assert entry.state is ConfigEntryState.LOADED  # reloaded with it
        assert entry.runtime_data.coordinator.last_update_success


async def test_a_wrong_password_at_start_asks_at_once(hass: HomeAssistant) -> None:
    async with ShellyPro3EmRpcEmulator(password=NEW) as shelly:
        entry = _meter_entry(hass, "shelly_pro_3em_http", shelly.port, password=OLD)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR  # not retried in a loop
        assert _reauth_flow(hass)["step_id"] == "reauth_confirm"


async def test_reauth_refuses_another_meter(hass: HomeAssistant) -> None:
    other_mac = "AABBCCDDEEFF"  # another Shelly at the address the entry knows
    async with ShellyPro3EmRpcEmulator(password=NEW, mac=other_mac) as other:
        entry = _meter_entry(hass, "shelly_pro_3em_http", other.port, password=OLD)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        flow = _reauth_flow(hass)
        result: Any = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_PASSWORD: NEW}
        )
        assert result.get("errors") is None, result.get("errors")
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "unique_id_mismatch"
        assert entry.data[CONF_PASSWORD] == OLD


@pytest.fixture(autouse=True)
def quick_pairing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry the token request at once (a real user takes seconds to press the button)."""
    monkeypatch.setattr(probe, "PAIRING_RETRY_INTERVAL_S", 0.01)


@pytest.fixture
async def homewizard_v2(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HomeWizardV2Emulator]:
    """A P1 meter on API v2; Powershare trusts the emulator's test CA instead of HomeWizard's."""
    async with HomeWizardV2Emulator() as p1:
        trust_test_ca = functools.partial(async_homewizard_ssl_context, p1.ca_pem)
        monkeypatch.setattr(probe, "async_homewizard_ssl_context", trust_test_ca)
        monkeypatch.setattr(connection, "async_homewizard_ssl_context", trust_test_ca)
        yield p1


async def test_a_homewizard_whose_token_was_revoked_pairs_again(
    hass: HomeAssistant, homewizard_v2: HomeWizardV2Emulator
) -> None:
    token = "0123456789ABCDEF0123456789ABCDEF"  # noqa: S105  # granted at pairing
    homewizard_v2.tokens[token] = "local/powershare#abcdef"
    entry = _meter_entry(hass, "homewizard_p1_v2", homewizard_v2.port, token=token)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    homewizard_v2.tokens.clear()  # the user removed Powershare in the HomeWizard app
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    flow = _reauth_flow(hass)
    assert flow["step_id"] == "reauth_confirm"

    # Submitted before the button is pressed: the meter hands out nothing, the form says so.
    result: Any = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["errors"] == {"base": "button_not_pressed"}
    homewizard_v2.press_button()
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] in homewizard_v2.tokens
    assert entry.data[CONF_TOKEN] != token
    assert entry.state is ConfigEntryState.LOADED
