"""A charger's user settings: the keys the entities and services change, and how to read them.

They live in the entry's options (changed by the entities and service actions, applied without a
reload); `setting` reads one, falling back to what the config flow stored in the entry's data.
Kept apart from the balancing service so that the entities and services that write a setting
do not depend on the service that reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .const import (
    CHARGER_TELTOCHARGE,
    CONF_CHARGER_TYPE,
    CONF_FUSE,
    CONF_MARGIN,
    CONF_MAX_CURRENT,
    CONF_MIN_CURRENT,
    CONF_PEAK_LIMIT,
    CONF_PEAK_MODE,
    CONF_POLL_INTERVAL,
    CONF_PRIORITY,
    CONF_WIRING,
)
from .engine.tunables import Tunables

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

DEFAULT_FAILSAFE_CURRENT: Final = 6

OPT_MODE: Final = "mode"
OPT_PHASE_POLICY: Final = "phase_policy"
OPT_USER_LIMIT: Final = "user_limit"
OPT_SCHEDULE: Final = "schedule"  # a list of ChargingTimer.to_dict()
OPT_FAILSAFE_CURRENT: Final = "failsafe_current"
OPT_CHARGING_LOCKED: Final = "charging_locked"
OPT_AUTO_LOCK: Final = "auto_lock"  # lock after a minute without activity (off by default)
OPT_PROFILE: Final = "profile"  # a charger's or group's profiles.ChargingProfile.to_dict()
OPT_TARIFF: Final = "tariff"  # the root group's tariffs.Tariff.to_dict()
OPT_PLAN: Final = "plan"  # a charger's charging_goals.ChargingGoal.to_dict()
OPT_SOLAR_FORECAST: Final = "solar_forecast"  # the root group's solar forecast sensor

USER_SETTINGS: Final = frozenset(
    {
        OPT_MODE,
        OPT_PHASE_POLICY,
        OPT_USER_LIMIT,
        OPT_SCHEDULE,
        OPT_FAILSAFE_CURRENT,
        OPT_CHARGING_LOCKED,
        OPT_AUTO_LOCK,
        OPT_PROFILE,
        OPT_PLAN,
        CONF_MIN_CURRENT,
        CONF_MAX_CURRENT,
        CONF_PRIORITY,
        CONF_FUSE,
    }
)
"""Options whose change is applied by the balancing service at once; any other reloads."""

SITE_SETTINGS: Final = frozenset(
    {
        CONF_MARGIN,
        CONF_PEAK_MODE,
        CONF_PEAK_LIMIT,
        OPT_TARIFF,
        OPT_SOLAR_FORECAST,
        *Tunables.__dataclass_fields__,
    }
)
"""The root group's options (margin, the capacity tariff's mode and limit, the energy tariff,
engine tunables):
applied at once, keeping the engine's memory (sessions, rotation turns, learned car phases,
timers) and the month's peak."""

LIVE_SETTINGS: Final = USER_SETTINGS | SITE_SETTINGS | {CONF_POLL_INTERVAL}
"""Every option applied without reloading the entry (a poll interval goes to its coordinator)."""


def setting(entry: ConfigEntry[Any], key: str, default: Any = None) -> Any:
    """Return a setting: the options override what the config flow stored in data."""
    if key in entry.options:
        return entry.options[key]
    return entry.data.get(key, default)


def switches_phases(entry: ConfigEntry[Any], *, phase_switching: bool) -> bool:
    """Whether the charger can be told one or three phases: wired on three, a kind that can."""
    return int(setting(entry, CONF_WIRING, 3)) == 3 and phase_switching  # noqa: PLR2004


def charger_type(entry: ConfigEntry[Any]) -> str:
    """Return the kind of charger a charger entry drives (`const.CHARGER_*`)."""
    return str(entry.data.get(CONF_CHARGER_TYPE, CHARGER_TELTOCHARGE))


def in_force(entry: ConfigEntry[Any]) -> dict[str, Any]:
    """Return everything an entry is configured with: its data, overridden by its options."""
    return {**entry.data, **entry.options}
