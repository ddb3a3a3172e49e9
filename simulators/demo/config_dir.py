"""The demo's configuration directory: a minimal `configuration.yaml`, the integrations linked.

`custom_components/` links Powershare and the demo-only `demo_wallbox` integration (the
wallbox Powershare drives through its entities). The configuration has the demo's price
sensor: a `template` sensor whose state is the price of the present hour and whose
attributes give today's and tomorrow's hourly prices as Nordpool does (`raw_today`,
`raw_tomorrow`: lists of `{start, end, value}`), which the main fuse's tariff reads and
charging plans follow.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any, Final

import yaml

from .options import (
    CURRENCY,
    DASHBOARD_FILE,
    DASHBOARD_URL,
    DAY_AHEAD_PRICES,
    DOMAIN,
    EXTRA_LOAD_NUMBER,
    EXTRA_LOAD_PHASE,
    INTEGRATION_DIR,
    LOOPBACK,
    MARKER_FILE,
    PRICE_SENSOR_NAME,
    PRICE_UNIT,
    TIME_ZONE,
    WALLBOX_DOMAIN,
    WALLBOX_INTEGRATION_DIR,
    DemoError,
)

if TYPE_CHECKING:
    from pathlib import Path


ONBOARDING_STORE: Final = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
}
"""Home Assistant's onboarding storage (version 4 on 2025.4 and 2026.2): only the owner left."""


def configuration_yaml(port: int) -> str:
    """Return a minimal configuration: no default_config (it pulls in network, Bluetooth)."""
    config: dict[str, Any] = {
        "homeassistant": {
            "name": "Powershare demo",
            "latitude": 52.37,
            "longitude": 4.89,
            "elevation": 0,
            "unit_system": "metric",
            "time_zone": TIME_ZONE,
            "currency": CURRENCY,
            "country": "NL",
        },
        "http": {"server_host": LOOPBACK, "server_port": port},
        "frontend": {},
        "api": {},
        "config": {},
        "history": {},
        "energy": {},  # the Energy dashboard, for Powershare's energy and cost sensors
        # The demo's control: a load the user switches on in the house, to watch Powershare
        # react (the demo follows these two helpers, `orchestration.follow_extra_load`).
        "input_number": {
            EXTRA_LOAD_NUMBER: {
                "name": "Demo: extra house load",
                "min": 0,
                "max": 40,
                "step": 1,
                "unit_of_measurement": "A",
                "icon": "mdi:stove",
            }
        },
        "input_select": {
            EXTRA_LOAD_PHASE: {
                "name": "Demo: phase of the extra load",
                "options": ["L1", "L2", "L3"],
                "initial": "L2",
                "icon": "mdi:sine-wave",
            }
        },
        # The energy tariff: day-ahead prices, with today's and tomorrow's forecast.
        "template": [{"sensor": [price_sensor_config()]}],
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


def day_ahead_template(day: int) -> str:
    """Return the template of a day's hourly prices (`day` 0: today, 1: tomorrow).

    It renders a list (Home Assistant's templates give a list where the text reads as one)
    of `{start, end, value}`, local times as ISO 8601 texts, an hour each from the day's
    midnight to the next (23 or 25 on the days the clocks change, as Nordpool's lists), each
    at `DAY_AHEAD_PRICES` of its local hour; `now()` makes it follow the date (a template
    with `now()` renders again every minute).
    """
    return (
        f"{{%- set prices = {list(DAY_AHEAD_PRICES)} -%}}"
        "{%- set midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)"
        f" + timedelta(days={day}) -%}}"
        "{%- set first = as_timestamp(midnight) -%}"
        "{%- set hours = ((as_timestamp(midnight + timedelta(days=1)) - first) / 3600)"
        " | round | int -%}"
        "{%- set ns = namespace(points=[]) -%}"
        "{%- for hour in range(hours) -%}"
        "{%- set start = (first + hour * 3600) | as_datetime | as_local -%}"
        "{%- set end = (first + hour * 3600 + 3600) | as_datetime | as_local -%}"
        "{%- set ns.points = ns.points + [{'start': start.isoformat(),"
        " 'end': end.isoformat(), 'value': prices[start.hour]}] -%}"
        "{%- endfor -%}"
        "{{ ns.points }}"
    )


def price_sensor_config() -> dict[str, Any]:
    """Return the `template` sensor of the demo's day-ahead prices (see the module)."""
    return {
        "name": PRICE_SENSOR_NAME,
        "unique_id": "powershare_demo_day_ahead_price",
        "unit_of_measurement": PRICE_UNIT,
        "icon": "mdi:cash-clock",
        "state": f"{{{{ {list(DAY_AHEAD_PRICES)}[now().hour] }}}}",
        "attributes": {"raw_today": day_ahead_template(0), "raw_tomorrow": day_ahead_template(1)},
    }


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
    # Onboarding with every step done but the owner's (`HassClient.onboard` creates the owner).
    (config_dir / ".storage").mkdir()
    (config_dir / ".storage" / "onboarding").write_text(json.dumps(ONBOARDING_STORE))
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
