"""The demo's settings: its constants (ports, names, timeouts), `DemoOptions` and `DemoError`."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from simulators.demo_site import DEFAULT_TIME_SCALE

DOMAIN: Final = "powershare"
LOOPBACK: Final = "127.0.0.1"
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
INTEGRATION_DIR: Final = REPO_ROOT / "custom_components" / DOMAIN
WALLBOX_DOMAIN: Final = "demo_wallbox"
WALLBOX_INTEGRATION_DIR: Final = Path(__file__).resolve().parent / WALLBOX_DOMAIN
"""The demo-only integration of the wallbox Powershare drives through entities."""
DEFAULT_CONFIG_DIR: Final = REPO_ROOT / ".demo" / "config"
DEFAULT_PORT: Final = 8123
DEMO_USER: Final = "demo"
DEMO_PASSWORD: Final = "demo-powershare"  # noqa: S105  # the printed demo credentials
DASHBOARD_URL: Final = "powershare-demo"
DASHBOARD_FILE: Final = "powershare-dashboard.yaml"
MARKER_FILE: Final = ".powershare-demo"
"""Marks a configuration directory as the demo's own: only such a directory is wiped."""
TIME_ZONE: Final = "Europe/Amsterdam"
CURRENCY: Final = "EUR"
GROUP_NAME: Final = "Main fuse"
FUSE_A: Final = 25.0
PEAK_FLOOR_KW: Final = 6.0
"""The main fuse's capacity tariff: this month's peak, never under 6 kW."""
EXTRA_LOAD_NUMBER: Final = "demo_extra_load"
EXTRA_LOAD_PHASE: Final = "demo_extra_load_phase"
"""The helpers (input_number, input_select) a user steps the house load with."""
PRICE_SENSOR_NAME: Final = "Day-ahead price"
PRICE_SENSOR: Final = "sensor.day_ahead_price"
"""The demo's energy tariff: a `template` sensor with a day-ahead forecast as Nordpool gives
it (`raw_today`, `raw_tomorrow`), which the main fuse's tariff reads and plans follow."""
PRICE_UNIT: Final = f"{CURRENCY}/kWh"
DAY_AHEAD_PRICES: Final = (
    0.22, 0.19, 0.17, 0.16, 0.16, 0.18,  # 00-06: cheap at night
    0.24, 0.34, 0.38, 0.31, 0.24, 0.18,  # 06-12: dear in the morning, then the sun
    0.14, 0.13, 0.16, 0.22, 0.28, 0.36,  # 12-18: cheap solar hours, dear from 17:00
    0.42, 0.40, 0.34, 0.28, 0.25, 0.23,  # 18-24: the evening peak, then down
)  # fmt: skip
"""The price of each hour of the day (EUR/kWh, all in), the same shape every day."""
PLAN_ENERGY_KWH: Final = 15.0
PLAN_DEPARTURE_H: Final = 9
"""The TeltoCharge's charging goal: 15 kWh by a departure 9 to 10 hours ahead (the full
hour after 9 hours from now), so that the plan waits for the cheap hours before it."""
STARTUP_TIMEOUT_S: Final = 180.0
ENTITY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
HTTP_TIMEOUT_S: Final = 30.0
STATUS_PERIOD_S: Final = 10.0
"""How often the running demo prints the site's state."""
EXTRA_LOAD_POLL_S: Final = 1.0
"""How often the demo reads the extra load the user set in Home Assistant."""
PHASES: Final = ("l1", "l2", "l3")
GROUP_FIGURES: Final = ("meter", "available", "requested", "allocated")
CHARGER_ROWS: Final = (
    "status",
    "car_connected",
    "charging",
    "allocated_current",
    "balancing_reason",
    "power",
    "if_home_assistant_stops",
    "charging_enabled",
    "session_cost",
)
"""A charger card's rows by translation key, where the charger has them (a TeltoCharge has a
status and a power sensor, the others do not)."""
WALLBOX_ROWS: Final = (
    ("charge_limit", "Wallbox limit (its number)"),
    ("charging_allowed", "Wallbox allows charging (its switch)"),
    ("current_l1", "Wallbox current L1"),
    ("current_l2", "Wallbox current L2"),
    ("current_l3", "Wallbox current L3"),
)
"""The wallbox integration's own entities, shown on its charger's card."""


class DemoError(Exception):
    """The demo could not be set up (Home Assistant refused a step, or did not start)."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `scripts/demo` was asked for."""

    port: int = DEFAULT_PORT
    config_dir: Path = DEFAULT_CONFIG_DIR
    duration_s: float | None = None
    """Stop by itself after this many seconds of running (None: until Ctrl-C)."""
    time_scale: float = DEFAULT_TIME_SCALE
    username: str = DEMO_USER
    password: str = DEMO_PASSWORD
    hass: Path = field(default_factory=lambda: Path(sys.executable).parent / "hass")

    @property
    def url(self) -> str:
        """Where Home Assistant answers."""
        return f"http://{LOOPBACK}:{self.port}"
