"""Fixtures for the Home Assistant layer's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.const import MAJOR_VERSION as HA_MAJOR_VERSION
from homeassistant.const import MINOR_VERSION as HA_MINOR_VERSION
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.powershare import PLATFORMS_BY_KIND
from custom_components.powershare.const import (
    CONF_CONNECTION,
    CONF_FUSE,
    CONF_GROUP,
    CONF_KIND,
    CONF_MAX_CURRENT,
    CONF_METER,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_MIN_CURRENT,
    CONF_MODEL,
    CONF_NAME,
    CONF_ROTATION,
    CONF_UNIT_ID,
    CONF_WIRING,
    CONNECTION_TCP,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
)
from simulators.live_site import LiveCharger, LiveSite
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.modbus_server import EmulatorServer, free_tcp_port
from simulators.teltocharge import TeltoChargeEmulator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components in every test here."""


from emulated_site import FUSE_A, Site  # noqa: E402  # this folder's helper module


class VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshots, one folder per tested release.

    Registry entries gain fields between releases; each environment checks its own file.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """Return snapshots/ha-<major>.<minor> beside the test file."""
        release = f"ha-{HA_MAJOR_VERSION}.{HA_MINOR_VERSION}"
        return str(Path(test_location.filepath).parent / "snapshots" / release)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialize registry entries and states as Home Assistant core's snapshots do."""
    return snapshot.use_extension(VersionedSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Enable the entities that are disabled by default (as Home Assistant core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform] | None:
    """The platforms to load (None: all); snapshot tests parametrize this."""
    return None


@pytest.fixture
def meter_model() -> str:
    """The model of the meter at the main fuse; a test may parametrize this."""
    return "eastron_sdm630"


@pytest.fixture
async def site(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    socket_enabled: Any,
    platforms: list[Platform] | None,
    meter_model: str,
) -> AsyncIterator[Site]:
    """Start a TeltoCharge and a meter (an Eastron SDM630) at the main fuse, set up Powershare."""
    # A frozen clock stops the event loop's timers: a request whose answer is late (a loaded
    # machine) then waits for ever, and the suite hangs.
    assert "freezer" not in request.fixturenames, "live emulator sockets need a running clock"
    only = contextlib.nullcontext()
    if platforms is not None:
        # Each kind keeps only its own platforms, as in production.
        only = patch.dict(
            "custom_components.powershare.PLATFORMS_BY_KIND",
            {
                kind: [platform for platform in own if platform in platforms]
                for kind, own in PLATFORMS_BY_KIND.items()
            },
        )
    charger = TeltoChargeEmulator(serial=4242, amps_to_use=6)
    meter = ModbusMeterEmulator.for_model(meter_model)
    live = LiveSite(meter=meter.state, chargers=[LiveCharger(charger)], house_a=[10.0, 10.0, 10.0])
    live.sync()
    live.measure_on_read(meter)
    servers = [EmulatorServer({1: charger}), EmulatorServer({1: meter})]
    ports = [free_tcp_port(), free_tcp_port()]
    for server, port in zip(servers, ports, strict=True):
        await server.start_tcp(port)

    meter_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main meter",
        entry_id="meter_entry_id",
        unique_id="meter_12345678",
        data={
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: meter_model,
            CONF_CONNECTION: CONNECTION_TCP,
            "host": "127.0.0.1",
            "port": ports[1],
            CONF_UNIT_ID: 1,
        },
    )
    meter_entry.add_to_hass(hass)
    group_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        entry_id="group_entry_id",
        unique_id="group_main_fuse",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Main fuse",
            CONF_FUSE: [FUSE_A, FUSE_A, FUSE_A],
            CONF_METER: meter_entry.entry_id,
            CONF_METER_INCLUDES_CHARGERS: True,
        },
        # Tunables a user can set in the options flow: no pacing of increases, and a meter
        # silent for more than 1 s is stale, so the tests run in real time without waiting.
        options={"increase_delay_s": 0.0, "meter_timeout_s": 1.0},
    )
    group_entry.add_to_hass(hass)
    charger_entry = MockConfigEntry(
        domain=DOMAIN,
        title="TeltoCharge 4242",
        entry_id="charger_entry_id",
        unique_id="teltocharge_4242",
        data={
            CONF_KIND: ENTRY_KIND_CHARGER,
            CONF_CONNECTION: CONNECTION_TCP,
            "host": "127.0.0.1",
            "port": ports[0],
            CONF_UNIT_ID: 1,
            CONF_ROTATION: "L1L2L3",
            CONF_WIRING: 3,
            CONF_MIN_CURRENT: 6,
            CONF_MAX_CURRENT: 16,
            CONF_GROUP: group_entry.entry_id,
        },
    )
    charger_entry.add_to_hass(hass)
    # Setting up the integration sets up all its entries.
    with only:
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
    yield Site(charger, meter, live, servers, group_entry, meter_entry, charger_entry, hass)
    for entry in (charger_entry, group_entry, meter_entry):
        if hass.config_entries.async_get_entry(entry.entry_id) is not None:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    for server in servers:
        await server.stop()
