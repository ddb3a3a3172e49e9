"""The engine's `SiteConfig`, built from the loaded group and charger entries.

Built again whenever an entry comes or goes, a user setting changes, or a charging schedule
opens or closes (the schedule's limit is part of the charger's configuration).
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from custom_components.powershare.const import (
    CONF_CAN_SWITCH_PHASES,
    CONF_FUSE,
    CONF_GROUP,
    CONF_IMPORT_ALLOWANCE,
    CONF_MARGIN,
    CONF_MAX_CURRENT,
    CONF_MAX_POWER,
    CONF_METER,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_MIN_CURRENT,
    CONF_NETWORK,
    CONF_PARENT,
    CONF_PRIORITY,
    CONF_ROTATION,
    CONF_SOLAR_RESERVE,
    CONF_WIRING,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
)
from custom_components.powershare.engine import (
    ChargerConfig,
    ChargingMode,
    GroupConfig,
    Network,
    PhasePolicy,
    PhaseRotation,
    SiteConfig,
    Tunables,
    Wiring,
)
from custom_components.powershare.peak import PeakMode
from custom_components.powershare.profiles import ChargingProfile
from custom_components.powershare.schedule import ChargingTimer, schedule_limit
from custom_components.powershare.settings import (
    OPT_CHARGING_LOCKED,
    OPT_MODE,
    OPT_PHASE_POLICY,
    OPT_PROFILE,
    OPT_SCHEDULE,
    OPT_USER_LIMIT,
    setting,
)

from .peak import peak_settings

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from homeassistant.config_entries import ConfigEntry

    from .links import ChargerLink


def build_site(
    groups: Mapping[str, ConfigEntry[Any]],
    chargers: Iterable[ChargerLink],
    plan_limits: Mapping[str, int] | None = None,
) -> SiteConfig:
    """Return the site the loaded entries describe, with the charging plans' slot caps.

    Raises ValueError, with a message for the user, when they do not form one tree; chargers
    whose group is not loaded are left out (the service holds them at their failsafe current).
    """
    if not groups:
        raise ValueError("no group: add a group (a fuse) for the chargers")
    group_configs = tuple(_group_config(entry) for entry in groups.values())
    known = {group.id for group in group_configs}
    for group in group_configs:
        if group.parent_id is not None and group.parent_id not in known:
            raise ValueError(f"group {group.label}: its parent group was removed")
    limits = plan_limits or {}
    charger_configs = tuple(
        _charger_config(link, limits.get(link.entry.entry_id))
        for link in chargers
        if setting(link.entry, CONF_GROUP) in known
    )
    root = root_group(groups)
    # The root's options hold the tunables among its other settings: keep only theirs.
    tunable_names = {item.name for item in fields(Tunables)}
    tunables = Tunables(
        **{name: value for name, value in root.options.items() if name in tunable_names}
    )
    return SiteConfig(
        groups=group_configs,
        chargers=charger_configs,
        margin_a=float(root.options.get(CONF_MARGIN, 1.0)),
        solar_reserve_w=float(setting(root, CONF_SOLAR_RESERVE, 0.0) or 0.0),
        import_allowance_w=float(setting(root, CONF_IMPORT_ALLOWANCE, 0.0) or 0.0),
        network=Network(setting(root, CONF_NETWORK, Network.THREE_PHASE_WITH_NEUTRAL.value)),
        peak_budget=peak_settings(root).mode is not PeakMode.OFF,
        tunables=tunables,
    )


def root_group(groups: Mapping[str, ConfigEntry[Any]]) -> ConfigEntry[Any]:
    """Return the root group (the main fuse); ValueError unless there is exactly one."""
    roots = [entry for entry in groups.values() if not entry.data.get(CONF_PARENT)]
    if len(roots) != 1:
        raise ValueError("the site needs exactly one root group (a group without parent)")
    return roots[0]


def schedules_moved(
    site: SiteConfig, chargers: Mapping[str, ChargerLink], groups: Mapping[str, ConfigEntry[Any]]
) -> bool:
    """Whether a schedule opened or closed, or a profile's slot changed, since `site`."""
    built = {charger.id: charger for charger in site.chargers}
    for entry_id, link in chargers.items():
        charger = built.get(entry_id)
        if charger is not None and (
            schedule_limit_now(link.entry) != charger.schedule_limit
            or profile_power_now(link.entry) != charger.profile_power_w
        ):
            return True
    built_groups = {group.id: group for group in site.groups}
    return any(
        _group_power(entry) != built_groups[entry_id].max_power_w
        for entry_id, entry in groups.items()
        if entry_id in built_groups
    )


def schedule_limit_now(entry: ConfigEntry[Any]) -> int | None:
    """Return the charger's schedule limit at this moment (None without a schedule)."""
    timers = tuple(ChargingTimer.from_dict(raw) for raw in setting(entry, OPT_SCHEDULE) or ())
    return schedule_limit(timers, dt_util.now())


def profile_power_now(entry: ConfigEntry[Any]) -> float | None:
    """Return the power of the charging profile's slot in force (None without a profile)."""
    stored = setting(entry, OPT_PROFILE)
    if not stored:
        return None
    return ChargingProfile.from_dict(stored).power_at(dt_util.now())


def _group_power(entry: ConfigEntry[Any]) -> float | None:
    """Return a group's power cap: its maximum power, or its profile's slot if lower."""
    max_power = setting(entry, CONF_MAX_POWER)
    caps = [float(max_power)] if max_power else []
    profile = profile_power_now(entry)
    if profile is not None:
        caps.append(profile)
    return min(caps) if caps else None


def three_phase_chargers_below(site: SiteConfig, group_id: str) -> Iterator[str]:
    """Yield the three-phase chargers in `group_id`'s subtree, in the site's order."""
    parents = {group.id: group.parent_id for group in site.groups}
    return (
        charger.id
        for charger in site.chargers
        if charger.wiring is Wiring.THREE_PHASE and group_id in _chain(parents, charger.group_id)
    )


def _chain(parents: Mapping[str, str | None], group_id: str) -> list[str]:
    """Return `group_id` and its ancestors up to the root."""
    chain: list[str] = []
    ancestor: str | None = group_id
    while ancestor is not None:
        chain.append(ancestor)
        ancestor = parents.get(ancestor)
    return chain


def _group_config(entry: ConfigEntry[Any]) -> GroupConfig:
    fuse = setting(entry, CONF_FUSE)
    # The config flow stores one fuse per phase; the group's Fuse number, one for all three.
    fuse_a = (float(fuse),) * 3 if isinstance(fuse, (int, float)) else tuple(map(float, fuse))
    return GroupConfig(
        id=entry.entry_id,
        fuse=(fuse_a[0], fuse_a[1], fuse_a[2]),
        parent_id=entry.data.get(CONF_PARENT) or None,
        max_power_w=_group_power(entry),
        meter_id=entry.data.get(CONF_METER) or None,
        meter_includes_chargers=bool(entry.data.get(CONF_METER_INCLUDES_CHARGERS, True)),
        name=entry.title,
    )


def _charger_config(link: ChargerLink, plan_limit: int | None) -> ChargerConfig:
    entry = link.entry
    reading = link.coordinator.data
    # The charging lock is a mode the user cannot override from the mode select.
    locked = bool(setting(entry, OPT_CHARGING_LOCKED, default=False))
    mode = ChargingMode.OFF if locked else ChargingMode(setting(entry, OPT_MODE, "fast"))
    user_limit = setting(entry, OPT_USER_LIMIT)
    limit_by_schedule = schedule_limit_now(entry)
    capabilities = link.coordinator.charger.capabilities
    # Unless the user said otherwise, what the charger reports it can do.
    can_switch = bool(
        setting(entry, CONF_CAN_SWITCH_PHASES, reading.phase_change_possible if reading else False)
    )
    return ChargerConfig(
        id=entry.entry_id,
        group_id=setting(entry, CONF_GROUP),
        rotation=PhaseRotation(setting(entry, CONF_ROTATION, PhaseRotation.L1L2L3.value)),
        wiring=Wiring(int(setting(entry, CONF_WIRING, 3))),
        min_current=int(setting(entry, CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT)),
        max_current=int(setting(entry, CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)),
        priority=int(setting(entry, CONF_PRIORITY, 0)),
        mode=mode,
        phase_policy=PhasePolicy(setting(entry, OPT_PHASE_POLICY, PhasePolicy.AUTO.value)),
        can_switch_phases=can_switch,
        user_limit=None if user_limit is None else int(user_limit),
        schedule_limit=None if limit_by_schedule is None else int(limit_by_schedule),
        profile_power_w=profile_power_now(entry),
        plan_limit=plan_limit,
        name=entry.title,
        # What the kind of charger declares: how slowly it follows, how often it may be told.
        response_s=capabilities.response_s,
        min_write_interval_s=capabilities.min_write_interval_s,
    )
