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
STARTUP_TIMEOUT_S: Final = 180.0
ENTITY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
HTTP_TIMEOUT_S: Final = 30.0
PHASES: Final = ("l1", "l2", "l3")
GROUP_FIGURES: Final = ("meter", "available", "requested", "allocated")
CHARGER_SENSORS: Final = ("status", "allocated_current", "balancing_reason", "power")


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
