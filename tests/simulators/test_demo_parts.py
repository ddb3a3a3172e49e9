"""The demo's parts, each alone: the dashboard, the mixed site and its meter, the Home
Assistant process's environment, the demo wallbox integration, a busy port; the day-ahead
price sensor, the charging plan's cards and goal (with Home Assistant's `hass` fixture where
a template renders)."""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import pytest
import yaml
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.powershare.tariffs import forecast_from_attributes
from simulators.demo import (
    DAY_AHEAD_PRICES,
    DOMAIN,
    PLAN_ENERGY_KWH,
    PLAN_SLOTS_TITLE,
    PLAN_TITLE,
    PRICE_SENSOR,
    PRICE_SENSOR_NAME,
    PRICE_UNIT,
    REPO_ROOT,
    TIME_ZONE,
    WALLBOX_DOMAIN,
    WALLBOX_INTEGRATION_DIR,
    WALLBOX_ROWS,
    Demo,
    DemoEntries,
    DemoError,
    DemoOptions,
    HassClient,
    build_dashboard,
    configuration_yaml,
    hass_environment,
    plan_departure,
    registered_entities,
    set_demo_plan,
    slots_table,
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
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

HASS = DemoOptions().hass
AMSTERDAM = ZoneInfo(TIME_ZONE)


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
    # No TeltoCharge, no charging plan to show.
    assert not [card for card in cards if card.get("title") in (PLAN_TITLE, PLAN_SLOTS_TITLE)]


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


# -- the day-ahead price sensor and the charging plan -----------------------------------------


# The template's minute timer (it renders `now()`) outlives the test's Home Assistant.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_the_price_sensor_announces_today_and_tomorrow(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The configuration's template sensor: the hour's price, two days of Nordpool's lists."""
    await hass.config.async_set_time_zone(TIME_ZONE)
    freezer.move_to(datetime(2025, 6, 2, 23, 59, 0, tzinfo=AMSTERDAM))
    config = yaml.safe_load(configuration_yaml(18003))
    (block,) = config["template"]
    (sensor,) = block["sensor"]
    assert sensor["name"] == PRICE_SENSOR_NAME
    assert sensor["unit_of_measurement"] == PRICE_UNIT
    assert set(sensor["attributes"]) == {"raw_today", "raw_tomorrow"}
    assert await async_setup_component(hass, "template", {"template": config["template"]})
    await hass.async_block_till_done()

    def check(day: datetime) -> None:
        state = hass.states.get(PRICE_SENSOR)
        assert state is not None
        assert float(state.state) == DAY_AHEAD_PRICES[dt_util.now().hour]
        for offset, key in enumerate(("raw_today", "raw_tomorrow")):
            points = state.attributes[key]
            assert isinstance(points, list)
            assert len(points) == 24
            assert [point["value"] for point in points] == list(DAY_AHEAD_PRICES)
            first = datetime.fromisoformat(points[0]["start"])
            assert first == day + timedelta(days=offset)
            assert first.utcoffset() == timedelta(hours=2)  # local time (summer in Amsterdam)
            assert all(a["end"] == b["start"] for a, b in pairwise(points))
            assert datetime.fromisoformat(points[-1]["end"]) == day + timedelta(days=offset + 1)
        # Powershare's reader of price sensors' forecasts takes all 48 hours.
        forecast = forecast_from_attributes(state.attributes, PRICE_UNIT, day)
        assert len(forecast) == 48
        assert forecast[0].start == day.timestamp()
        assert [point.price for point in forecast] == list(DAY_AHEAD_PRICES) * 2

    check(datetime(2025, 6, 2, tzinfo=AMSTERDAM))
    # After midnight, today is the next day (the template follows `now()`).
    freezer.move_to(datetime(2025, 6, 3, 0, 1, 0, tzinfo=AMSTERDAM))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    check(datetime(2025, 6, 3, tzinfo=AMSTERDAM))


@pytest.mark.parametrize("expected_lingering_timers", [True])
@pytest.mark.parametrize(
    ("eve", "hours"),
    [
        (datetime(2025, 3, 29, 23, 59, tzinfo=AMSTERDAM), [0, 1, *range(3, 24)]),  # no 02:00
        (datetime(2025, 10, 25, 23, 59, tzinfo=AMSTERDAM), [0, 1, 2, 2, *range(3, 24)]),  # twice
    ],
)
async def test_the_price_sensor_has_every_hour_when_the_clocks_change(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, eve: datetime, hours: list[int]
) -> None:
    """23 or 25 hours, as Nordpool's lists: Powershare's forecast has no gap and no overlap.

    Summer time starts (02:00 is 03:00) or ends (02:00 comes twice) the day after `eve`.
    """
    await hass.config.async_set_time_zone(TIME_ZONE)
    freezer.move_to(eve)
    config = yaml.safe_load(configuration_yaml(18004))
    assert await async_setup_component(hass, "template", {"template": config["template"]})
    await hass.async_block_till_done()
    state = hass.states.get(PRICE_SENSOR)
    assert state is not None
    tomorrow = state.attributes["raw_tomorrow"]
    assert [datetime.fromisoformat(point["start"]).hour for point in tomorrow] == hours
    assert [point["value"] for point in tomorrow] == [DAY_AHEAD_PRICES[hour] for hour in hours]
    midnight = datetime(eve.year, eve.month, eve.day, tzinfo=AMSTERDAM)
    forecast = forecast_from_attributes(state.attributes, PRICE_UNIT, midnight)
    assert len(forecast) == 24 + len(hours)
    assert all(point.end - point.start == 3600 for point in forecast)
    assert all(a.end == b.start for a, b in pairwise(forecast))
    assert forecast[-1].end == (midnight + timedelta(days=2)).timestamp()


def test_the_prices_have_a_realistic_shape() -> None:
    """Cheap at night (01-06) and in the solar hours, dear in the morning and the evening."""
    prices = DAY_AHEAD_PRICES
    assert len(prices) == 24
    night, solar = prices[1:6], prices[11:15]
    morning, evening = prices[7:9], prices[17:21]
    assert max(night + solar) < min(prices) + 0.1
    assert max(night + solar) < min(morning + evening)
    assert all(0.05 < price < 0.6 for price in prices)


async def test_the_slots_table_lists_the_planned_slots(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone(TIME_ZONE)
    load = "sensor.main_fuse_planned_load"
    content = slots_table(load)
    empty = Template(content, hass).async_render(parse_result=False)
    assert empty == "No charging plan: a car with a departure and a target gets one."
    hass.states.async_set(
        load,
        "0.0",
        {
            "total_cost": 1.5,
            "slots": [
                {"start": "2025-06-03T01:00:00+02:00", "load_kw": 0.0, "price": 0.19},
                {"start": "2025-06-03T01:15:00+02:00", "load_kw": 11.04, "price": 0.16},
                {"start": "2025-06-03T01:30:00+02:00", "load_kw": 0.01, "price": 0.16},
                {"start": "2025-06-03T01:45:00+02:00", "load_kw": 5.5, "price": None},
            ],
        },
    )
    shown = Template(content, hass).async_render(parse_result=False)
    assert shown.splitlines() == [
        "**4.1 kWh in 2 quarter-hours, total cost 1.50 EUR**",
        "",
        "| Start | &emsp;kW | &emsp;EUR/kWh |",
        "|:--|--:|--:|",
        "| Tue 01:15 | &emsp;11.0 | &emsp;0.160 |",
        "| Tue 01:45 | &emsp;5.5 | &emsp;- |",
    ]


def _plan_registry() -> list[dict[str, Any]]:
    keys = {
        "t": ["allocated_current", "departure", "charging_plan", "planned_energy", "planned_cost"],
        "v": ["allocated_current", "charging_plan"],
        "g": ["energy_price", "planned_load"],
    }
    return [
        {
            "entity_id": f"x.{entry}_{key}",
            "config_entry_id": entry,
            "platform": DOMAIN,
            "translation_key": key,
        }
        for entry, entry_keys in keys.items()
        for key in entry_keys
    ]


def test_dashboard_shows_the_charging_plan() -> None:
    site = DemoSite()
    site.chargers = [
        RunningCharger(spec, build_emulator(spec, site.clock)) for spec in DEMO_CHARGERS
    ]
    entries = DemoEntries(meter="m", group="g", chargers=("t", "v", "w"))
    cards = build_dashboard(registered_entities(_plan_registry()), entries, site)["views"][0][
        "cards"
    ]
    titles = [card.get("title") for card in cards]
    # After the tariff and costs: the TeltoCharge's (Driveway's) plan, then its slots.
    plan_at = titles.index(PLAN_TITLE)
    assert titles[plan_at - 1] == "Main fuse: tariff and costs"
    assert titles[plan_at + 1] == PLAN_SLOTS_TITLE
    plan, table = cards[plan_at], cards[plan_at + 1]
    assert plan["type"] == "entities"
    assert plan["entities"] == [
        {"type": "section", "label": "Driveway (TeltoCharge)"},
        {"entity": "x.t_departure", "name": "Departure"},
        {"entity": "x.t_charging_plan", "name": "Starts charging"},
        {"entity": "x.t_planned_energy", "name": "Planned energy by departure"},
        {"entity": "x.t_planned_cost", "name": "Planned cost"},
        {"type": "section", "label": "Main fuse: all cars"},
        {"entity": "x.g_planned_load", "name": "Planned load now"},
        {"entity": PRICE_SENSOR, "name": "Day-ahead price now"},
    ]
    assert table == {
        "type": "markdown",
        "title": PLAN_SLOTS_TITLE,
        "content": slots_table("x.g_planned_load"),
    }
    # Only Home Assistant's own cards.
    assert {card["type"] for card in cards} <= {"entities", "history-graph", "markdown"}


@pytest.mark.parametrize(
    ("now", "departure"),
    [
        ("2025-06-02T10:20:00+02:00", "2025-06-02T20:00:00+02:00"),
        ("2025-06-02T10:00:00+02:00", "2025-06-02T19:00:00+02:00"),
        ("2025-06-02T20:59:59+00:00", "2025-06-03T08:00:00+02:00"),  # UTC in, local out
        ("2025-10-25T20:30:00+02:00", "2025-10-26T05:00:00+01:00"),  # over the clock change
    ],
)
def test_the_departure_is_a_full_hour_9_to_10_hours_ahead(now: str, departure: str) -> None:
    moment = datetime.fromisoformat(now)
    leave = plan_departure(moment)
    assert leave == datetime.fromisoformat(departure)
    assert leave.tzinfo == AMSTERDAM
    assert timedelta(hours=9) <= leave - moment < timedelta(hours=10)


class _RecordingClient:
    """What `set_demo_plan` asks of Home Assistant, answered without one."""

    def __init__(self, devices: list[dict[str, Any]]) -> None:
        self.devices = devices
        self.calls: list[tuple[str, str, Any]] = []

    async def ws_command(self, command: str, **_fields: Any) -> Any:
        assert command == "config/device_registry/list"
        return self.devices

    async def request(self, method: str, path: str, payload: Any = None) -> Any:
        self.calls.append((method, path, payload))
        return []


async def test_the_teltocharge_gets_its_goal_through_the_service() -> None:
    site = DemoSite()
    site.chargers = [
        RunningCharger(spec, build_emulator(spec, site.clock)) for spec in DEMO_CHARGERS
    ]
    entries = DemoEntries(meter="m", group="g", chargers=("t", "v", "w"))
    client = _RecordingClient(
        [
            {"id": "dev-v", "config_entries": ["v"]},
            {"id": "dev-t", "config_entries": ["t"]},
        ]
    )
    now = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
    departure = await set_demo_plan(cast("HassClient", client), entries, site, now=now)
    assert departure == datetime(2025, 6, 2, 20, 0, tzinfo=AMSTERDAM)
    assert client.calls == [
        (
            "POST",
            f"/api/services/{DOMAIN}/set_charging_plan",
            {
                "device_id": "dev-t",
                "departure": "2025-06-02T20:00:00+02:00",
                "energy": PLAN_ENERGY_KWH,
            },
        )
    ]
    # A site without a TeltoCharge has no plan; a TeltoCharge without a device is an error.
    assert (
        await set_demo_plan(cast("HassClient", client), DemoEntries("m", "g", ()), DemoSite())
        is None
    )
    with pytest.raises(DemoError, match="no device"):
        await set_demo_plan(cast("HassClient", _RecordingClient([])), entries, site, now=now)
