"""Powershare's main job on one machine: a real Home Assistant balancing a mixed site.

`python -m simulators.demo` (what `scripts/demo` runs), all on 127.0.0.1:

1. starts the virtual site (`simulators.demo_site`): a Shelly Pro 3EM at a 25 A main fuse
   and three kinds of charger on it, each with a car plugged in: "Driveway", a Teltonika
   TeltoCharge over Modbus TCP (a three-phase car of 16 A); "Garage", a V2C Trydan over its
   HTTP API, wired to site L2 (a single-phase car of 32 A); "Carport", a small HTTP wallbox
   (`simulators.wallbox`, a three-phase car of 16 A) that Powershare reaches only through
   Home Assistant entities. The meter shows a house with steps, a solar curve in compressed
   time and every car's draw; all three cars are on L2, which they share;
2. writes a fresh configuration directory (a minimal `configuration.yaml` with a day-ahead
   price sensor (a `template` sensor: the present hour's price, today's and tomorrow's hourly
   prices in Nordpool's `raw_today`/`raw_tomorrow` attributes), Powershare and the
   demo-only `demo_wallbox` integration (`simulators/demo/demo_wallbox`, which makes the
   wallbox's device and entities: a limit number, current sensors, a switch) linked into
   `custom_components/`, a YAML dashboard) and starts `hass -c <dir>`;
3. onboards a demo user over HTTP, as the browser would (user, core config, analytics,
   integration steps), and takes a token;
4. creates the entries through the real config flows over REST
   (`/api/config/config_entries/flow`): Powershare's meter and root group, the TeltoCharge
   (`tcp`), the Trydan (`v2c`), the `demo_wallbox` entry, then the wallbox as a Powershare
   charger through its entities (`ha_charger`, `ha_charger_entities`, with the device from
   the device registry and the entities from the entity registry); the main group's options
   flow makes the price sensor its energy tariff; then `powershare.set_charging_plan` gives
   the TeltoCharge a goal (15 kWh by a departure 9 to 10 hours ahead), which Powershare plans
   into the cheapest hours before it;
5. generates the dashboard from the entity registry (by config entry and translation key, so
   it stays right when entity names change): the fuse per phase, each charger with what it
   has, the allocations of the three over time, the charging plan and its slots;
6. runs until Ctrl-C, SIGTERM or `--duration`, printing the meter and each charger's current
   every 10 s, then stops Home Assistant and the emulators.

The package: `options` (constants, `DemoOptions`), `config_dir`, `hass` (the process and the
HTTP client), `entries` (the config flows), `dashboard` and `orchestration` (`Demo`, `run`);
the command line is here, and the public names are re-exported here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from simulators.demo_site import DEFAULT_TIME_SCALE

from .config_dir import (
    configuration_yaml,
    day_ahead_template,
    price_sensor_config,
    write_config_dir,
)
from .dashboard import (
    PLAN_ROWS,
    PLAN_SLOTS_TITLE,
    PLAN_TITLE,
    RegisteredEntity,
    build_dashboard,
    registered_entities,
    slots_table,
    wait_for_entities,
)
from .entries import DemoEntries, create_entries, plan_charger, plan_departure, set_demo_plan
from .hass import HassClient, HassProcess, hass_environment, port_is_free
from .options import (
    CHARGER_ROWS,
    CURRENCY,
    DASHBOARD_FILE,
    DASHBOARD_URL,
    DAY_AHEAD_PRICES,
    DEFAULT_CONFIG_DIR,
    DEFAULT_PORT,
    DEMO_PASSWORD,
    DEMO_USER,
    DOMAIN,
    ENTITY_TIMEOUT_S,
    FUSE_A,
    GROUP_FIGURES,
    GROUP_NAME,
    HTTP_TIMEOUT_S,
    INTEGRATION_DIR,
    LOOPBACK,
    MARKER_FILE,
    PEAK_FLOOR_KW,
    PHASES,
    PLAN_DEPARTURE_H,
    PLAN_ENERGY_KWH,
    PRICE_SENSOR,
    PRICE_SENSOR_NAME,
    PRICE_UNIT,
    REPO_ROOT,
    STARTUP_TIMEOUT_S,
    STATUS_PERIOD_S,
    STOP_TIMEOUT_S,
    TIME_ZONE,
    WALLBOX_DOMAIN,
    WALLBOX_INTEGRATION_DIR,
    WALLBOX_ROWS,
    DemoError,
    DemoOptions,
)
from .orchestration import Demo, run

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CHARGER_ROWS",
    "CURRENCY",
    "DASHBOARD_FILE",
    "DASHBOARD_URL",
    "DAY_AHEAD_PRICES",
    "DEFAULT_CONFIG_DIR",
    "DEFAULT_PORT",
    "DEMO_PASSWORD",
    "DEMO_USER",
    "DOMAIN",
    "ENTITY_TIMEOUT_S",
    "FUSE_A",
    "GROUP_FIGURES",
    "GROUP_NAME",
    "HTTP_TIMEOUT_S",
    "INTEGRATION_DIR",
    "LOOPBACK",
    "MARKER_FILE",
    "PEAK_FLOOR_KW",
    "PHASES",
    "PLAN_DEPARTURE_H",
    "PLAN_ENERGY_KWH",
    "PLAN_ROWS",
    "PLAN_SLOTS_TITLE",
    "PLAN_TITLE",
    "PRICE_SENSOR",
    "PRICE_SENSOR_NAME",
    "PRICE_UNIT",
    "REPO_ROOT",
    "STARTUP_TIMEOUT_S",
    "STATUS_PERIOD_S",
    "STOP_TIMEOUT_S",
    "TIME_ZONE",
    "WALLBOX_DOMAIN",
    "WALLBOX_INTEGRATION_DIR",
    "WALLBOX_ROWS",
    "Demo",
    "DemoEntries",
    "DemoError",
    "DemoOptions",
    "HassClient",
    "HassProcess",
    "RegisteredEntity",
    "build_dashboard",
    "configuration_yaml",
    "create_entries",
    "day_ahead_template",
    "hass_environment",
    "main",
    "parse_args",
    "plan_charger",
    "plan_departure",
    "port_is_free",
    "price_sensor_config",
    "registered_entities",
    "run",
    "set_demo_plan",
    "slots_table",
    "wait_for_entities",
    "write_config_dir",
]


def parse_args(argv: Sequence[str] | None = None) -> DemoOptions:
    """Read the command line of `scripts/demo`."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Home Assistant's port")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        help="configuration directory, recreated on every run (default .demo/config)",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds of running"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help="how much faster than real time the house and the sun run (default 20)",
    )
    args = parser.parse_args(argv)
    return DemoOptions(
        port=args.port,
        config_dir=args.config_dir.resolve(),
        duration_s=args.duration,
        time_scale=args.time_scale,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m simulators.demo`."""
    options = parse_args(argv)
    try:
        asyncio.run(run(options))
    except DemoError as err:
        sys.stderr.write(f"demo: {err}\n")
        return 1
    return 0
