"""The demo's configuration directory: a minimal `configuration.yaml`, the integrations linked.

`custom_components/` links Powershare and the demo-only `demo_wallbox` integration (the
wallbox Powershare drives through its entities).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import yaml

from .options import (
    DASHBOARD_FILE,
    DASHBOARD_URL,
    DOMAIN,
    INTEGRATION_DIR,
    LOOPBACK,
    MARKER_FILE,
    WALLBOX_DOMAIN,
    WALLBOX_INTEGRATION_DIR,
    DemoError,
)

if TYPE_CHECKING:
    from pathlib import Path


def configuration_yaml(port: int) -> str:
    """Return a minimal configuration: no default_config (it pulls in network, Bluetooth)."""
    config: dict[str, Any] = {
        "homeassistant": {
            "name": "Powershare demo",
            "latitude": 52.37,
            "longitude": 4.89,
            "elevation": 0,
            "unit_system": "metric",
            "time_zone": "Europe/Amsterdam",
            "currency": "EUR",
            "country": "NL",
        },
        "http": {"server_host": LOOPBACK, "server_port": port},
        "frontend": {},
        "api": {},
        "config": {},
        "history": {},
        "recorder": {"purge_keep_days": 1},
        "lovelace": {
            "dashboards": {
                DASHBOARD_URL: {
                    "mode": "yaml",
                    "title": "Powershare",
                    "icon": "mdi:ev-station",
                    "show_in_sidebar": True,
                    "filename": DASHBOARD_FILE,
                }
            }
        },
        "logger": {
            "default": "warning",
            "logs": {f"custom_components.{DOMAIN}": "info"},
        },
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_config_dir(config_dir: Path, port: int) -> None:
    """Create a fresh configuration directory (wiping only an earlier demo's)."""
    if config_dir.exists():
        if not (config_dir / MARKER_FILE).exists() and any(config_dir.iterdir()):
            raise DemoError(
                f"{config_dir} is not empty and not a Powershare demo directory: "
                "choose another --config-dir"
            )
        shutil.rmtree(config_dir)
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / MARKER_FILE).write_text("Created by scripts/demo; wiped by its next run.\n")
    (config_dir / "configuration.yaml").write_text(configuration_yaml(port))
    (config_dir / "custom_components" / DOMAIN).symlink_to(INTEGRATION_DIR)
    (config_dir / "custom_components" / WALLBOX_DOMAIN).symlink_to(WALLBOX_INTEGRATION_DIR)
    placeholder = {
        "title": "Powershare",
        "views": [
            {
                "title": "Setting up",
                "cards": [{"type": "markdown", "content": "The demo is still setting up."}],
            }
        ],
    }
    (config_dir / DASHBOARD_FILE).write_text(yaml.safe_dump(placeholder, sort_keys=False))
