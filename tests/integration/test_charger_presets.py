"""Each preset finds its integration's entities as that integration registers them.

Every case registers a config entry of the integration's domain, the device with the
integration's identifiers, and the entities with the unique ids and translation keys its
source gives them (the version in `Preset.checked`), plus an entity of another kind with a
similar id that must not be picked. Then the preset is detected from the device and its
entities found role by role.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.entity_charger import (
    PRESETS,
    ChargerEntities,
    detect_preset,
    find_entities,
)


@dataclass(frozen=True)
class Registered:
    """One entity as the integration registers it, and the role it should play (or None)."""

    kind: str
    unique_id: str
    translation_key: str | None
    role: str | None


@dataclass(frozen=True)
class Case:
    domain: str
    identifiers: tuple[str, str]
    entities: tuple[Registered, ...]


CASES = (
    Case(
        "ocpp",
        ("ocpp", "CP1"),
        (
            Registered("number", "number.ocpp.CP1.maximum_current", None, "limit"),
            Registered("sensor", "ocpp.CP1.current_import.sensor", None, "currents"),
            Registered("sensor", "ocpp.CP1.power_active_import.sensor", None, "power"),
            Registered("sensor", "ocpp.CP1.status_connector.sensor", None, "status"),
            Registered("switch", "switch.ocpp.CP1.charge_control", None, "pause"),
            Registered("sensor", "ocpp.CP1.current_offered.sensor", None, None),
        ),
    ),
    Case(
        "easee",
        ("easee", "EH123456"),
        (
            Registered(
                "sensor", "EH123456_dynamic_charger_limit", "dynamic_charger_limit", "limit"
            ),
            Registered("sensor", "EH123456_current", "current", "currents"),
            Registered("sensor", "EH123456_power", "power", "power"),
            Registered("sensor", "EH123456_status", "easee_status", "status"),
            Registered("switch", "EH123456_is_enabled", "is_enabled", None),
        ),
    ),
    Case(
        "zaptec",
        ("zaptec", "charger-1"),
        (
            Registered("number", "charger-1_charger_max_current", "charger_max_current", "limit"),
            Registered("sensor", "charger-1_current_phase1", "current_phase1", "currents"),
            Registered("sensor", "charger-1_current_phase2", "current_phase2", "currents"),
            Registered("sensor", "charger-1_current_phase3", "current_phase3", "currents"),
            Registered("sensor", "charger-1_total_charge_power", "total_charge_power", "power"),
            Registered(
                "sensor", "charger-1_charger_operation_mode", "charger_operation_mode", "status"
            ),
            Registered(
                "switch", "charger-1_charger_operation_mode", "charger_operation_mode", None
            ),
        ),
    ),
    Case(
        "wallbox",
        ("wallbox", "12345"),
        (
            Registered("number", "max_charging_current-12345", "maximum_charging_current", "limit"),
            Registered("sensor", "charging_power-12345", "charging_power", "power"),
            Registered("sensor", "status_description-12345", "status_description", "status"),
            Registered("switch", "paused-12345", "pause_resume", "pause"),
            Registered("number", "energy_price-12345", "energy_price", None),
        ),
    ),
    Case(
        "goecharger_api2",
        ("goecharger_api2", "012345"),
        (
            Registered("number", "goecharger_api2.goe_012345_amp", "amp", "limit"),
            Registered("sensor", "goecharger_api2.goe_012345_nrg_4", "nrg_4", "currents"),
            Registered("sensor", "goecharger_api2.goe_012345_nrg_5", "nrg_5", "currents"),
            Registered("sensor", "goecharger_api2.goe_012345_nrg_6", "nrg_6", "currents"),
            Registered("sensor", "goecharger_api2.goe_012345_nrg_11", "nrg_11", "power"),
            Registered("sensor", "goecharger_api2.goe_012345_car", "car", "status"),
            Registered("select", "goecharger_api2.goe_012345_frc", "frc", "pause"),
            Registered("select", "goecharger_api2.goe_012345_psm", "psm", "phase"),
            Registered("sensor", "goecharger_api2.goe_012345_car_value", "car_value", None),
        ),
    ),
    Case(
        "peblar",
        ("peblar", "23-45-A4O-MOF"),
        (
            Registered(
                "number", "23-45-A4O-MOF_charge_current_limit", "charge_current_limit", "limit"
            ),
            Registered("sensor", "23-45-A4O-MOF_current_phase_1", "current_phase_1", "currents"),
            Registered("sensor", "23-45-A4O-MOF_current_phase_2", "current_phase_2", "currents"),
            Registered("sensor", "23-45-A4O-MOF_current_phase_3", "current_phase_3", "currents"),
            Registered("sensor", "23-45-A4O-MOF_power_total", None, "power"),
            Registered("sensor", "23-45-A4O-MOF_cp_state", "cp_state", "status"),
            Registered("switch", "23-45-A4O-MOF_charge", "charge", "pause"),
            Registered("switch", "23-45-A4O-MOF_force_single_phase", "force_single_phase", "phase"),
        ),
    ),
    Case(
        "alfen_wallbox",
        ("alfen_wallbox", "garage"),
        (
            Registered("number", "alfen_garage_main_normal_max_current_socket_1", None, "limit"),
            Registered("sensor", "alfen_garage-current_l1_socket_1", None, "currents"),
            Registered("sensor", "alfen_garage-current_l2_socket_1", None, "currents"),
            Registered("sensor", "alfen_garage-current_l3_socket_1", None, "currents"),
            Registered("sensor", "alfen_garage-active_power_total_socket_1", None, "power"),
            Registered("sensor", "alfen_garage-status_socket_1", None, "status"),
            Registered("number", "alfen_garage_max_station_current", None, None),
        ),
    ),
    Case(
        "openevse",
        ("openevse", "entry01"),
        (
            Registered("number", "Charge Rate_entry01", None, "limit"),
            Registered("sensor", "Charging Current_entry01", None, "currents"),
            Registered("sensor", "Current Power Usage (Calculated)_entry01", None, "power"),
            Registered("sensor", "Charging Status_entry01", None, "status"),
            Registered("binary_sensor", "Vehicle Connected_entry01", None, "plug"),
            Registered("select", "OpenEVSE Override State_entry01", None, "pause"),
        ),
    ),
)


def _register(hass: HomeAssistant, case: Case) -> tuple[str, dict[str | None, list[str]]]:
    """Register the case's integration entry, device and entities; return roles -> ids."""
    entry = MockConfigEntry(domain=case.domain)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={case.identifiers}, name="Charger"
    )
    registry = er.async_get(hass)
    roles: dict[str | None, list[str]] = {}
    for registered in case.entities:
        entity = registry.async_get_or_create(
            registered.kind,
            case.domain,
            registered.unique_id,
            config_entry=entry,
            device_id=device.id,
            translation_key=registered.translation_key,
        )
        roles.setdefault(registered.role, []).append(entity.entity_id)
    return device.id, roles


@pytest.mark.parametrize("case", CASES, ids=[case.domain for case in CASES])
async def test_each_preset_finds_its_integrations_entities(hass: HomeAssistant, case: Case) -> None:
    device_id, roles = _register(hass, case)
    preset = detect_preset(hass, device_id)
    assert preset is PRESETS[case.domain]
    found = find_entities(hass, preset, device_id)
    currents = roles.get("currents", [])
    expected = ChargerEntities(
        limit=roles["limit"][0],
        # Phases in attributes of one sensor: that sensor for every phase.
        currents=tuple(
            currents * 3 if len(currents) == 1 and len(preset.currents) == 3 else currents
        ),
        power=roles["power"][0],
        status=roles.get("status", [None])[0],
        plug=roles.get("plug", [None])[0],
        pause=roles.get("pause", [None])[0],
        phase=roles.get("phase", [None])[0],
    )
    assert found == expected


async def test_keba_has_no_device_its_entities_are_found_by_integration(
    hass: HomeAssistant,
) -> None:
    # KEBA is set up in YAML: no config entry, no device; one station per Home Assistant.
    registry = er.async_get(hass)
    power = registry.async_get_or_create("sensor", "keba", "keba_wallbox_1234_charging_power")
    limit = registry.async_get_or_create("sensor", "keba", "keba_wallbox_1234_max_current")
    plug = registry.async_get_or_create("binary_sensor", "keba", "keba_wallbox_1234_plug_state")
    registry.async_get_or_create("binary_sensor", "keba", "keba_wallbox_1234_charging_state")
    found = find_entities(hass, PRESETS["keba"], None)
    assert found.limit == limit.entity_id
    assert found.power == power.entity_id
    assert found.currents == (power.entity_id,) * 3  # attributes current_i1..3
    assert found.plug == plug.entity_id


async def test_a_device_of_another_integration_has_no_preset(hass: HomeAssistant) -> None:
    device_id, _ = _register(
        hass, Case("tesla_wall", ("tesla_wall", "1"), (Registered("number", "x", None, None),))
    )
    assert detect_preset(hass, device_id) is None


async def test_no_preset_for_a_device_that_is_not_there(hass: HomeAssistant) -> None:
    assert detect_preset(hass, "no-such-device") is None
