"""The demo wallbox integration's names: its domain, its settings and its entities' keys."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "demo_wallbox"
CONF_NAME: Final = "name"
DEFAULT_NAME: Final = "Wallbox"
POLL_INTERVAL_S: Final = 1.0
REQUEST_TIMEOUT_S: Final = 5.0

LIMIT_KEY: Final = "charge_limit"
CURRENT_KEYS: Final = ("current_l1", "current_l2", "current_l3")
ALLOWED_KEY: Final = "charging_allowed"
