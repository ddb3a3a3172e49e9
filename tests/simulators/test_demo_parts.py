"""The demo's parts, each alone: the dashboard, the mixed site and its meter, the Home
Assistant process's environment, the demo wallbox integration, a busy port."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from simulators.demo import (
    DOMAIN,
    REPO_ROOT,
    WALLBOX_DOMAIN,
    WALLBOX_INTEGRATION_DIR,
    WALLBOX_ROWS,
    Demo,
    DemoEntries,
    DemoError,
    DemoOptions,
    build_dashboard,
    hass_environment,
    registered_entities,
)
from simulators.demo.entries import WALLBOX_ALLOWED, WALLBOX_CURRENTS, WALLBOX_LIMIT
from simulators.demo.hass import port_is_free
from simulators.demo_site import (
    DEMO_CHARGERS,
    HA_WALLBOX,
    TELTOCHARGE,
    V2C_TRYDAN,
    DemoSite,
    RunningCharger,
    build_emulator,
)
from simulators.meters.state import ManualClock
from simulators.v2c import TrydanEmulator
from simulators.wallbox import WallboxEmulator

if TYPE_CHECKING:
    pass

HASS = DemoOptions().hass


def test_dashboard_follows_the_registry() -> None:
    site = DemoSite()
    site.chargers = []  # only the specs matter here
    registry = [
        {
            "entity_id": "sensor.fuse_x",
            "config_entry_id": "g",
            "platform": DOMAIN,
            "translation_key": "allocated_l1",
        },
        {
            "entity_id": "sensor.other",
            "config_entry_id": "g",
            "platform": "shelly",
            "translation_key": "allocated_l2",
        },
        {
            "entity_id": "sensor.hidden",
            "config_entry_id": "g",
            "platform": DOMAIN,
            "translation_key": "meter_l1",
            "disabled_by": "user",
        },
        {
            "entity_id": "sensor.meter_p",
            "config_entry_id": "m",
            "platform": DOMAIN,
            "translation_key": "power",
        },
    ]
    entities = registered_entities(registry)
    assert [e.entity_id for e in entities] == ["sensor.fuse_x", "sensor.meter_p"]
    dashboard = build_dashboard(entities, DemoEntries(meter="m", group="g", chargers=()), site)
    cards = dashboard["views"][0]["cards"]
    assert cards[0]["entities"] == [{"entity": "sensor.fuse_x", "name": "Allocated"}]
    assert cards[1]["entities"] == []
    meter_card = next(card for card in cards if "Shelly" in card.get("title", ""))
    assert meter_card["entities"] == [{"entity": "sensor.meter_p", "name": "Power"}]


def test_a_mixed_site_shares_l2() -> None:
    driveway, garage, carport = DEMO_CHARGERS
    assert [spec.kind for spec in DEMO_CHARGERS] == [TELTOCHARGE, V2C_TRYDAN, HA_WALLBOX]
    assert driveway.site_phases == (0, 1, 2)
    assert (garage.wiring, garage.car_phases, garage.site_phases[0]) == (1, 1, 1)  # on L2
    assert carport.wiring == carport.car_phases == 3
    assert carport.site_phases == (0, 1, 2)


def test_dashboard_shows_each_kind_of_charger() -> None:
    site = DemoSite()
    site.chargers = [
        RunningCharger(spec, build_emulator(spec, site.clock)) for spec in DEMO_CHARGERS
    ]
    rows = {
        "t": ["status", "allocated_current", "power", "charging_mode"],
        "v": ["car_connected", "allocated_current", "if_home_assistant_stops", "max_current"],
        "w": ["charging", "allocated_current", "balancing_reason", "charging_enabled"],
    }
    registry = [
        {
            "entity_id": f"x.{entry}_{key}",
            "config_entry_id": entry,
            "platform": DOMAIN,
            "translation_key": key,
        }
        for entry, keys in rows.items()
        for key in keys
    ]
    registry += [
        {
            "entity_id": f"x.wallbox_{key}",
            "config_entry_id": "wb",
            "platform": WALLBOX_DOMAIN,
            "translation_key": key,
        }
        for key, _ in WALLBOX_ROWS
    ]
    registry[0]["entity_id"] = "sensor.t_status"
    registry[3]["entity_id"] = "select.t_charging_mode"
    registry[7]["entity_id"] = "number.v_max_current"
    entries = DemoEntries(meter="m", group="g", chargers=("t", "v", "w"), wallbox="wb")
    cards = build_dashboard(registered_entities(registry), entries, site)["views"][0]["cards"]
    by_title = {card.get("title", ""): card for card in cards}
    history = by_title["Allocated current per charger"]["entities"]
    assert history == [
        {"entity": "x.t_allocated_current", "name": "Driveway"},
        {"entity": "x.v_allocated_current", "name": "Garage"},
        {"entity": "x.w_allocated_current", "name": "Carport"},
    ]
    chargers = [
        card
        for title, card in by_title.items()
        if title.split(":")[0] in {"Driveway", "Garage", "Carport"}
    ]
    assert [card["title"] for card in chargers] == [
        "Driveway: Teltonika TeltoCharge, Modbus TCP (3-phase on L1 L2 L3, 16 A)",
        "Garage: V2C Trydan, HTTP (1-phase on L2, 32 A)",
        "Carport: wallbox through Home Assistant entities (3-phase on L1 L2 L3, 16 A)",
    ]
    shown = [[row["entity"] for row in card["entities"]] for card in chargers]
    assert shown[0] == [
        "sensor.t_status",
        "x.t_allocated_current",
        "x.t_power",
        "select.t_charging_mode",
    ]
    assert shown[1] == [
        "x.v_car_connected",
        "x.v_allocated_current",
        "x.v_if_home_assistant_stops",
        "number.v_max_current",
    ]
    assert shown[2] == [
        "x.w_charging",
        "x.w_allocated_current",
        "x.w_balancing_reason",
        "x.w_charging_enabled",
        *(f"x.wallbox_{key}" for key, _ in WALLBOX_ROWS),
    ]


async def test_site_meter_is_house_minus_solar_plus_cars(socket_enabled: None) -> None:
    clock = ManualClock()
    site = DemoSite(clock=clock)
    await site.start()
    try:
        clock.advance(3.0 * 60 / site.time_scale)  # three simulated minutes; cars ramped up
        site.extra_load_a[2] = 4.0
        written = site.step()
        house, solar = site.house_a(), site.solar_a()
        cars = [0.0, 0.0, 0.0]
        for running in site.chargers:
            for phase, current in enumerate(running.site_currents_a()):
                cars[phase] += current
        expected = [house[i] - solar[i] + cars[i] for i in range(3)]
        assert written == pytest.approx(expected)
        assert [p.current_a for p in site.meter_state.phases] == pytest.approx(expected)
        assert site.simulated_clock() == "10:03"
        # Every charger at its starting 16 A: the Garage's car on L2 only.
        assert [running.offered_a for running in site.chargers] == [16, 16, 16]
        assert cars == [32.0, 48.0, 32.0]
        assert house == pytest.approx((1.5 + 2000 / 230, 1.0, 1.2 + 4.0))  # the kettle is on
        assert solar[0] > 5.0  # a sunny 10:00
        assert all(running.port > 0 for running in site.chargers)
        assert site.meter_port > 0
        line = site.status_line()
        assert line.startswith("10:03 main fuse ")
        assert "Garage set 16 A, draws 0.0/16.0/0.0" in line
    finally:
        await site.stop()


async def test_the_trydan_and_the_wallbox_count_in_the_meter(socket_enabled: None) -> None:
    clock = ManualClock()
    site = DemoSite(clock=clock)
    await site.start()
    try:
        _, garage, carport = site.chargers
        assert isinstance(garage.emulator, TrydanEmulator)
        assert isinstance(carport.emulator, WallboxEmulator)

        def cars() -> list[float]:
            totals = [0.0, 0.0, 0.0]
            for running in site.chargers:
                for phase, current in enumerate(running.site_currents_a()):
                    totals[phase] += current
            return totals

        def meter_minus_house() -> list[float]:
            written = site.step()
            house, solar = site.house_a(), site.solar_a()
            return [written[i] - house[i] + solar[i] for i in range(3)]

        clock.advance(10.0)  # the TeltoCharge's car ramps up
        assert meter_minus_house() == pytest.approx([32.0, 48.0, 32.0])
        garage.emulator.charger.set_intensity(10)
        carport.emulator.wallbox.set_limit(8)
        assert meter_minus_house() == pytest.approx([32.0, 48.0, 32.0])  # not followed yet
        clock.advance(2.5)
        assert meter_minus_house() == pytest.approx([16.0 + 8.0, 16.0 + 10.0 + 8.0, 16.0 + 8.0])
        assert cars() == pytest.approx(meter_minus_house())
        garage.emulator.charger.paused = True
        carport.emulator.wallbox.set_allowed(False)
        clock.advance(2.5)
        assert garage.offered_a == carport.offered_a == 0
        assert garage.currents_a == carport.currents_a == (0.0, 0.0, 0.0)
    finally:
        await site.stop()


def test_hass_runs_without_the_repository_on_its_path() -> None:
    other = str(Path("/somewhere/else"))
    environ = {"PYTHONPATH": os.pathsep.join([str(REPO_ROOT), other]), "HOME": "/root"}
    assert hass_environment(environ) == {"PYTHONPATH": other, "HOME": "/root"}
    assert hass_environment({"PYTHONPATH": str(REPO_ROOT)}) == {}


def test_the_wallbox_integration_names_what_the_demo_looks_for() -> None:
    integration = WALLBOX_INTEGRATION_DIR
    strings = json.loads((integration / "translations" / "en.json").read_text())["entity"]
    assert set(strings["number"]) == {WALLBOX_LIMIT}
    assert set(strings["sensor"]) == set(WALLBOX_CURRENTS)
    assert set(strings["switch"]) == {WALLBOX_ALLOWED}
    assert {key for key, _ in WALLBOX_ROWS} == {WALLBOX_LIMIT, *WALLBOX_CURRENTS, WALLBOX_ALLOWED}
    const = (integration / "const.py").read_text()
    assert f'DOMAIN: Final = "{WALLBOX_DOMAIN}"' in const
    assert f'LIMIT_KEY: Final = "{WALLBOX_LIMIT}"' in const
    assert f'ALLOWED_KEY: Final = "{WALLBOX_ALLOWED}"' in const
    assert f"CURRENT_KEYS: Final = {WALLBOX_CURRENTS!r}".replace("'", '"') in const


async def test_a_busy_port_is_refused_before_anything_starts(
    tmp_path: Path, socket_enabled: None
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = DemoOptions(port=port, config_dir=tmp_path / "config", hass=Path(sys.executable))
        with pytest.raises(DemoError, match=f"port {port} is in use"):
            async with Demo(options):
                pass
    assert not (tmp_path / "config").exists()


def test_a_port_left_in_time_wait_is_free_again(socket_enabled: None) -> None:
    """Ctrl-C, then a new demo at once: the old connections' TIME_WAIT must not block it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end waits in TIME_WAIT
            client.recv(1)
    assert port_is_free(port)
