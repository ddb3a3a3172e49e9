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
GROUP_NAME: Final = "Main fuse"
FUSE_A: Final = 25.0
PEAK_FLOOR_KW: Final = 6.0
EXTRA_LOAD_NUMBER: Final = "demo_extra_load"
EXTRA_LOAD_PHASE: Final = "demo_extra_load_phase"
"""The helpers (input_number, input_select) a user steps the house load with."""
DEMO_TARIFF: Final = "00:00-07:00=0.12; 07:00-23:00=0.30; 23:00-24:00=0.12"
"""The demo site's energy tariff: prices by time of day (cheap nights)."""
"""The main fuse's capacity tariff: this month's peak, never under 6 kW."""
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
