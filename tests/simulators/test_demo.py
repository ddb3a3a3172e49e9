"""The demo (`scripts/demo`): its real Home Assistant balances the emulated chargers.

The end-to-end test starts the whole demo (emulators, `hass`, onboarding, config flow,
dashboard) on a free port, checks what a user would see and that the chargers' register 15
follows the decisions, then lets `--duration` stop it; it is skipped only where the `hass`
executable is absent. The other tests check the pieces without Home Assistant.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from simulators.demo import (
    DASHBOARD_FILE,
    DOMAIN,
    MARKER_FILE,
    Demo,
    DemoEntries,
    DemoError,
    DemoOptions,
    HassClient,
    RegisteredEntity,
    build_dashboard,
    configuration_yaml,
    parse_args,
    registered_entities,
    run,
    write_config_dir,
)
from simulators.demo_site import DEMO_CHARGERS, DemoSite
from simulators.meters.state import ManualClock
from simulators.modbus_server import free_tcp_port

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HASS = DemoOptions().hass


async def _until(probe: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 30.0) -> Any:
    """Poll the coroutine function `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


def _entity(entities: list[RegisteredEntity], entry: str, key: str) -> str:
    return next(
        e.entity_id for e in entities if e.config_entry_id == entry and e.translation_key == key
    )


def _number(state: dict[str, Any] | None) -> float | None:
    try:
        return None if state is None else float(state["state"])
    except ValueError:
        return None


async def _check_running_demo(demo: Demo, seen: dict[str, Any]) -> None:
    client = demo.client
    entries = demo.entries
    assert client is not None
    assert entries is not None

    # Onboarding: every step done, and the token works.
    assert demo.token
    onboarding = await client.request("GET", "/api/onboarding")
    assert {step["step"]: step["done"] for step in onboarding} == {
        "user": True,
        "core_config": True,
        "analytics": True,
        "integration": True,
    }
    assert (await client.request("GET", "/api/"))["message"] == "API running."
    anonymous = HassClient(client.session, client.url)
    with pytest.raises(Exception, match="401"):
        await anonymous.request("GET", "/api/states")

    # The four entries came from the user flow and are loaded.
    listed = await client.request("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    assert {entry["entry_id"] for entry in listed} == {
        entries.meter,
        entries.group,
        *entries.chargers,
    }
    assert {entry["source"] for entry in listed} == {"user"}
    assert {entry["state"] for entry in listed} == {"loaded"}
    assert sorted(entry["title"] for entry in listed)[-1].startswith("TeltoCharge")

    # The group's Allocated sensors show numbers.
    allocated = [
        _entity(demo.entities, entries.group, f"allocated_{p}") for p in ("l1", "l2", "l3")
    ]

    async def allocated_numbers() -> list[float] | None:
        states = await client.states()
        values = [_number(states.get(entity_id)) for entity_id in allocated]
        return None if None in values else [v for v in values if v is not None]

    seen["allocated"] = await _until(allocated_numbers, "the group's allocated currents")

    # Each charger's register 15 is what Powershare decided for it.
    chargers = list(zip(demo.site.chargers, entries.chargers, strict=True))
    decided = {entry: _entity(demo.entities, entry, "allocated_current") for _, entry in chargers}

    async def registers_follow() -> dict[str, int] | None:
        states = await client.states()
        result: dict[str, int] = {}
        for running, entry in chargers:
            value = _number(states.get(decided[entry]))
            if value is None or round(value) != running.amps_to_use:
                return None
            result[entry] = running.amps_to_use
        return result

    # With the simulated day frozen at 10:00, the Garage (one phase, on site L2) settles.
    garage, garage_entry = chargers[1]
    settled: list[int] = []

    async def garage_settled() -> dict[str, int] | None:
        now = await registers_follow()
        if now is None:
            return None
        settled.append(now[garage_entry])
        return now if len(settled) >= 3 and settled[-1] == settled[-3] >= 12 else None

    # A first reading may catch a car at its charger's own current before Powershare's first
    # write (out of control for that cycle): its first target is lower and the increase after
    # it is paced, so settling can take longer than the other waits on a loaded machine.
    before = await _until(garage_settled, "the Garage's register 15 to settle", timeout_s=60.0)

    # A 20 A step on L2: the Garage's register 15 drops, as its decision says.
    demo.site.extra_load_a[1] = 20.0

    async def dropped() -> dict[str, int] | None:
        after = await registers_follow()
        return after if after and after[garage_entry] < before[garage_entry] else None

    after = await _until(dropped, "the Garage's register 15 to drop")
    seen["before_step"], seen["after_step"] = before, after

    async def car_follows() -> bool:
        return garage.emulator.currents_a[0] <= garage.amps_to_use + 0.01

    await _until(car_follows, "the car to draw no more than register 15")

    # The dashboard names the entities that exist.
    dashboard = yaml.safe_load((demo.options.config_dir / DASHBOARD_FILE).read_text())
    states = await client.states()
    shown = [
        row["entity"] for card in dashboard["views"][0]["cards"] for row in card.get("entities", [])
    ]
    assert set(allocated) | set(decided.values()) <= set(shown)
    assert all(entity_id in states for entity_id in shown)


@pytest.mark.skipif(not HASS.exists(), reason=f"{HASS} is not installed")
@pytest.mark.timeout(150)
async def test_demo_end_to_end(tmp_path: Path, socket_enabled: None) -> None:
    # The house and the sun stand still (10:00 for hours): only the test's step changes loads.
    options = DemoOptions(
        port=free_tcp_port(),
        config_dir=tmp_path / "config",
        duration_s=1.0,
        time_scale=0.001,
    )
    seen: dict[str, Any] = {}

    async def ready(demo: Demo) -> None:
        await _check_running_demo(demo, seen)

    started = time.monotonic()
    await asyncio.wait_for(run(options, ready=ready), 140)
    assert set(seen) == {"allocated", "before_step", "after_step"}
    assert time.monotonic() - started < 140
    # Home Assistant was stopped: nobody answers on the port any more.
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", options.port)


def test_parse_args(tmp_path: Path) -> None:
    options = parse_args(
        ["--port", "18000", "--config-dir", str(tmp_path), "--duration", "5", "--time-scale", "60"]
    )
    assert options.port == 18000
    assert options.config_dir == tmp_path.resolve()
    assert options.duration_s == 5
    assert options.time_scale == 60
    assert options.url == "http://127.0.0.1:18000"


def test_configuration_is_minimal_and_local() -> None:
    config = yaml.safe_load(configuration_yaml(18001))
    assert "default_config" not in config
    assert config["http"] == {"server_host": "127.0.0.1", "server_port": 18001}
    assert {"frontend", "api", "config", "history", "logger"} <= set(config)
    dashboard = config["lovelace"]["dashboards"]["powershare-demo"]
    assert dashboard["mode"] == "yaml"
    assert dashboard["filename"] == DASHBOARD_FILE


def test_config_dir_is_fresh_and_only_ours_is_wiped(tmp_path: Path) -> None:
    target = tmp_path / "config"
    write_config_dir(target, 18002)
    (target / "left-over.db").write_text("old")
    write_config_dir(target, 18002)
    assert not (target / "left-over.db").exists()
    assert (target / MARKER_FILE).exists()
    assert (target / "custom_components" / DOMAIN / "manifest.json").exists()
    foreign = tmp_path / "someone-else"
    foreign.mkdir()
    (foreign / "configuration.yaml").write_text("{}")
    with pytest.raises(DemoError, match="not a Powershare demo directory"):
        write_config_dir(foreign, 18002)
    assert (foreign / "configuration.yaml").read_text() == "{}"


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


def test_garage_charger_lands_on_site_l2() -> None:
    driveway, garage = DEMO_CHARGERS
    assert driveway.site_phases == (0, 1, 2)
    assert garage.site_phases == (1, 2, 0)


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
            for charger_phase, current in enumerate(running.emulator.currents_a):
                cars[running.spec.site_phases[charger_phase]] += current
        expected = [house[i] - solar[i] + cars[i] for i in range(3)]
        assert written == pytest.approx(expected)
        assert [p.current_a for p in site.meter_state.phases] == pytest.approx(expected)
        assert site.simulated_clock() == "10:03"
        assert cars == [16.0, 32.0, 16.0]  # register 15 at its default, 16 A
        assert house == pytest.approx((1.5 + 2000 / 230, 1.0, 1.2 + 4.0))  # the kettle is on
        assert solar[0] > 5.0  # a sunny 10:00
        assert all(running.port > 0 for running in site.chargers)
        assert site.meter_port > 0
    finally:
        await site.stop()


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
