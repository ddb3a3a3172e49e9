"""The site's network in Home Assistant: stored on the root group, migrated, and used."""

from __future__ import annotations

import pytest
from emulated_site import FUSE_A, Site
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.balancing.snapshot import _with_unmeasured_line
from custom_components.powershare.const import (
    CHARGER_TELTOCHARGE,
    CONF_CHARGER_TYPE,
    CONF_FUSE,
    CONF_KIND,
    CONF_NAME,
    CONF_NETWORK,
    CONF_PARENT,
    DOMAIN,
    ENTRY_KIND_GROUP,
    ENTRY_MINOR_VERSION,
)
from custom_components.powershare.devices.meters import MeterReading, PhaseReading
from custom_components.powershare.engine import Network
from custom_components.powershare.hub import async_get_hub


async def test_groups_stored_before_the_network_was_asked_are_migrated(
    hass: HomeAssistant,
) -> None:
    # Entries of version 1.1 (before the network): the root gets 3 x 400 V with neutral, what
    # every site was taken to be; a sub-group stores no network.
    root = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        data={CONF_KIND: ENTRY_KIND_GROUP, CONF_NAME: "Main fuse", CONF_FUSE: [25.0] * 3},
        version=1,
        minor_version=1,
    )
    root.add_to_hass(hass)
    child = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        data={
            CONF_KIND: ENTRY_KIND_GROUP,
            CONF_NAME: "Garage",
            CONF_FUSE: [16.0] * 3,
            CONF_PARENT: root.entry_id,
        },
        version=1,
        minor_version=1,
    )
    child.add_to_hass(hass)
    assert await hass.config_entries.async_setup(root.entry_id)
    await hass.async_block_till_done()
    assert root.state is ConfigEntryState.LOADED
    assert child.state is ConfigEntryState.LOADED
    assert (root.version, root.minor_version) == (1, ENTRY_MINOR_VERSION)
    assert root.data[CONF_NETWORK] == "3x400"
    assert child.minor_version == ENTRY_MINOR_VERSION
    assert CONF_NETWORK not in child.data
    site = async_get_hub(hass).balancing.site
    assert site is not None
    assert site.network is Network.THREE_PHASE_WITH_NEUTRAL


async def test_a_newer_entry_is_not_downgraded(hass: HomeAssistant) -> None:
    newer = MockConfigEntry(
        domain=DOMAIN,
        title="Main fuse",
        data={CONF_KIND: ENTRY_KIND_GROUP, CONF_NAME: "Main fuse", CONF_FUSE: [25.0] * 3},
        version=2,
    )
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)
    assert newer.state is ConfigEntryState.MIGRATION_ERROR


async def test_a_meter_without_neutral_has_its_unmeasured_line_counted(
    hass: HomeAssistant, site: Site
) -> None:
    # A two-element meter on 3 x 230 V reports L2 at 0 V and 0 A; L2 carries what returns
    # from L1 and L3. With a neutral, the same reading is an outage on L2: nothing flows.
    service = async_get_hub(hass).balancing
    site.live.house_a = [8.0, 0.0, 5.0]
    site.meter.state.set_voltages(230.0, 0.0, 230.0)
    await site.cycle()
    decision = service.decision
    assert decision is not None
    meter = decision.groups[site.group_entry.entry_id].meter
    assert meter is not None
    assert meter[1] == 0.0  # with a neutral: an outage on L2, nothing flows there

    hass.config_entries.async_update_entry(
        site.group_entry, data={**site.group_entry.data, CONF_NETWORK: "3x230"}
    )
    await hass.async_block_till_done()  # the root group reloads with the new network
    assert service.site is not None
    assert service.site.network is Network.THREE_LINES_WITHOUT_NEUTRAL
    await site.cycle()
    decision = service.decision
    assert decision is not None
    figures = decision.groups[site.group_entry.entry_id]
    assert figures.meter is not None
    assert figures.meter[1] == pytest.approx(13.0, abs=0.2)  # 8 + 5 A, at most
    house = figures.non_ev_load
    assert house[1] >= 13.0 - 0.2
    charger = decision.chargers[site.charger_entry.entry_id]
    assert charger.target_current <= FUSE_A - 1.0 - house[1]


def _reading(*phases: tuple[float | None, float]) -> MeterReading:
    return MeterReading(
        phases=tuple(PhaseReading(voltage_v=v, current_a=a, power_w=230.0 * a) for v, a in phases),
        total_power_w=0.0,
        import_energy_kwh=None,
        export_energy_kwh=None,
        measured_at=0.0,
    )


def test_every_line_a_meter_without_neutral_does_not_measure_is_counted() -> None:
    # A line at 0 V, a line without voltage at exactly 0 A, lines the reading lacks: each is
    # taken to carry what the measured lines carry, at most.
    at_zero_volts = _reading((230.0, 8.0), (0.0, 0.0), (230.0, -5.0))
    assert _with_unmeasured_line(at_zero_volts, [8.0, 0.0, -5.0]) == [8.0, 13.0, -5.0]
    no_voltages = _reading((None, 8.0), (None, 0.0), (None, 5.0))
    assert _with_unmeasured_line(no_voltages, [8.0, 0.0, 5.0]) == [8.0, 13.0, 5.0]
    single = _reading((230.0, 6.0))
    assert _with_unmeasured_line(single, [6.0, 0.0, 0.0]) == [6.0, 6.0, 6.0]
    measured = _reading((230.0, 8.0), (230.0, 0.0), (230.0, 5.0))
    assert _with_unmeasured_line(measured, [8.0, 0.0, 5.0]) == [8.0, 0.0, 5.0]


async def test_chargers_stored_before_the_kind_of_charger_are_teltocharges(site: Site) -> None:
    # The site's charger entry has the shape of version 1.2 and before: no kind of charger.
    # Migrated, it drives a TeltoCharge (the only kind there was) and is balanced as before.
    entry = site.charger_entry
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == ENTRY_MINOR_VERSION
    assert entry.data[CONF_CHARGER_TYPE] == CHARGER_TELTOCHARGE
    await site.cycle()
    decision = async_get_hub(site.hass).balancing.decision
    assert decision is not None
    assert entry.entry_id in decision.chargers
