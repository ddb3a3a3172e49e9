"""Powershare: share a home's or a building's electrical capacity between EV chargers.

Architecture: imports point one way. A module imports only from the layers listed before its
own (or from within its own package), never from a later one, type-only imports included;
`tests/integration/test_import_graph.py` checks it:

1. `engine/` (the balancing engine), `devices/` (drivers, shared Modbus buses), `peak/` (the
   capacity tariff's peak budget) and `planner/` (charging plans for all cars together, on
   numpy): free of Home Assistant, and none imports another nor anything else of the
   integration.
2. `const`, `schedule`, `profiles`: names and keys; charging schedules and profiles (pure).
3. `settings`: a charger's user settings (`OPT_*`, `setting()`); `repairs`: repair issues;
   `tariffs`: what a kWh costs (pure, on the profiles' day ranges); `charging_goals`: a
   charger's departure and target (pure).
3a. `solar_forecast`: a solar forecast sensor's periods (pure, read as `tariffs` reads prices).
3b. `entity_charger`: chargers driven through another integration's entities (presets).
4. `connection`: opens a device's driver on the instance's shared bus registry.
5. `coordinator`: one DataUpdateCoordinator per device entry.
6. `balancing/`: the balancing service (`site`, `snapshot`, `apply`, `service`).
7. `hub`: the instance's balancing service and buses.
8. `entity`: entity base classes; `charger_sensors`: a charger's sensors by kind of charger;
   `peak_sensors`: the root group's capacity-tariff sensors.
8b. `session_sensors`: sessions, energy and costs (per charger, and the site's at the root);
   `plan_entities`: the charging plan's entities.
9. the platforms, `services`, `diagnostics`, `config_flow`.
9b. `plan_services`: the charging plan's actions.
10. this module: sets up the entries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import Platform
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv

from .balancing import ChargerLink, MeterLink
from .connection import async_open_charger, async_open_meter
from .const import (
    CHARGER_TELTOCHARGE,
    CONF_CHARGER_TYPE,
    CONF_KIND,
    CONF_MODEL,
    CONF_NETWORK,
    CONF_PARENT,
    CONF_PEAK_FLOOR,
    CONF_PEAK_MODE,
    CONF_PEAK_WINDOW,
    CONF_POLL_INTERVAL,
    DOMAIN,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    ENTRY_MINOR_VERSION,
    LOGGER,
    METER_MODEL_HA_SENSORS,
)
from .coordinator import (
    ChargerCoordinator,
    ChargerRuntimeData,
    GroupRuntimeData,
    MeterCoordinator,
    MeterRuntimeData,
    PowershareConfigEntry,
    SensorMeterCoordinator,
    SensorMeterEntities,
)
from .devices.errors import PowershareDeviceError
from .engine import Network
from .entity_charger import EntityCharger
from .hub import async_get_hub
from .peak import DEFAULT_FLOOR_W, WINDOW_MINUTES, PeakMode
from .plan_services import async_setup_plan_services
from .services import async_setup_services
from .settings import LIVE_SETTINGS, in_force

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType


__all__ = [
    "DOMAIN",
    "async_migrate_entry",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
]

PLATFORMS_BY_KIND: dict[str, list[Platform]] = {
    ENTRY_KIND_CHARGER: [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.DATETIME,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
        Platform.TIME,
    ],
    ENTRY_KIND_METER: [Platform.SENSOR],
    ENTRY_KIND_GROUP: [Platform.NUMBER, Platform.SELECT, Platform.SENSOR],
}


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
"""Set up through the UI only: a `powershare:` YAML key is reported, not read."""


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Set up Powershare once per Home Assistant instance (the hub and its services)."""
    async_get_hub(hass)
    async_setup_services(hass)
    async_setup_plan_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PowershareConfigEntry) -> bool:
    """Set up a charger, meter or group entry and hand it to the balancing service."""
    hub = async_get_hub(hass)
    kind: str = entry.data[CONF_KIND]
    if kind == ENTRY_KIND_CHARGER:
        charger = entry.runtime_data = await _async_setup_charger(hass, entry)
        hub.balancing.add_charger(ChargerLink(entry, charger.coordinator))
    elif kind == ENTRY_KIND_METER:
        meter = entry.runtime_data = await _async_setup_meter(hass, entry)
        hub.balancing.add_meter(MeterLink(entry, meter.coordinator))
    else:
        entry.runtime_data = GroupRuntimeData(applied_settings=in_force(entry))
        await hub.balancing.peak.async_load()  # this month's peak, from before a restart
        await hub.balancing.sessions.async_load()  # sessions and totals, from before a restart
        hub.balancing.add_group(entry)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS_BY_KIND[kind])
    return True


async def _async_setup_charger(
    hass: HomeAssistant, entry: PowershareConfigEntry
) -> ChargerRuntimeData:
    charger = await async_open_charger(hass, entry.data)
    try:
        identity = await charger.control.identify()
    except PowershareDeviceError as err:
        await charger.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_not_ready",
            translation_placeholders={"error": str(err)},
        ) from err
    coordinator = ChargerCoordinator(hass, entry, charger.control)
    entry.async_on_unload(charger.close)
    if isinstance(charger.control, EntityCharger):
        # Read whenever one of its entities changes, not only at each poll; and load even when
        # they are unavailable now: without a watchdog, its maximum must count until it answers.
        entry.async_on_unload(coordinator.async_follow(charger.control.entities.all))
        await coordinator.async_refresh()
    else:
        await coordinator.async_config_entry_first_refresh()
    return ChargerRuntimeData(
        coordinator=coordinator, identity=identity, applied_settings=in_force(entry)
    )


async def _async_setup_meter(hass: HomeAssistant, entry: PowershareConfigEntry) -> MeterRuntimeData:
    if entry.data[CONF_MODEL] == METER_MODEL_HA_SENSORS:
        sensor_coordinator = SensorMeterCoordinator(
            hass, entry, SensorMeterEntities.from_data(dict(entry.data))
        )
        entry.async_on_unload(sensor_coordinator.async_start())
        await sensor_coordinator.async_refresh()
        return MeterRuntimeData(coordinator=sensor_coordinator, applied_settings=in_force(entry))
    meter = await async_open_meter(hass, entry.data)
    entry.async_on_unload(meter.close)
    coordinator = MeterCoordinator(hass, entry, meter)
    await coordinator.async_config_entry_first_refresh()
    return MeterRuntimeData(coordinator=coordinator, applied_settings=in_force(entry))


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Bring an entry stored by an older version up to date (its settings are the user's).

    1.1 -> 1.2: the root group stores the site's network; one made before it was asked is on
    3 x 400 V with neutral, what Powershare took every site to be. 1.2 -> 1.3: a charger entry
    stores the kind of charger it drives; every older one drives a TeltoCharge. 1.3 -> 1.4: the
    root group stores its capacity tariff, off (as before) with the default floor and a
    quarter-hour window (a meter of Home Assistant sensors may also name energy and demand
    sensors for it, and a group its contracted power; older ones have none, which needs
    nothing). Refuses a newer
    version (a downgrade) rather than guess at it.
    """
    if entry.version > 1:
        return False
    if entry.minor_version < ENTRY_MINOR_VERSION:
        data = dict(entry.data)
        kind = data.get(CONF_KIND)
        if kind == ENTRY_KIND_GROUP and not data.get(CONF_PARENT):
            data.setdefault(CONF_NETWORK, Network.THREE_PHASE_WITH_NEUTRAL.value)
            # 1.4: the capacity tariff, off until the user turns it on.
            data.setdefault(CONF_PEAK_MODE, PeakMode.OFF.value)
            data.setdefault(CONF_PEAK_FLOOR, DEFAULT_FLOOR_W / 1000)
            data.setdefault(CONF_PEAK_WINDOW, WINDOW_MINUTES[0])
        if kind == ENTRY_KIND_CHARGER:
            data.setdefault(CONF_CHARGER_TYPE, CHARGER_TELTOCHARGE)
        hass.config_entries.async_update_entry(entry, data=data, minor_version=ENTRY_MINOR_VERSION)
        LOGGER.debug("Migrated %s to version 1.%s", entry.title, ENTRY_MINOR_VERSION)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PowershareConfigEntry) -> bool:
    """Unload an entry; each charger is left at its failsafe current.

    By its own watchdog, or, without one, by a last write (`ChargerControl.release`).
    """
    kind: str = entry.data[CONF_KIND]
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS_BY_KIND[kind])
    if unloaded:
        hub = async_get_hub(hass)
        if kind == ENTRY_KIND_CHARGER:
            await hub.balancing.async_remove_charger(entry.entry_id)
        else:
            hub.balancing.remove(entry.entry_id)
        if not hass.config_entries.async_loaded_entries(DOMAIN):
            hub.async_shutdown()
    return unloaded


async def _async_entry_updated(hass: HomeAssistant, entry: PowershareConfigEntry) -> None:
    """Apply what changed: settings at once (`LIVE_SETTINGS`), anything else by reloading.

    Nothing happens when nothing changed (an options form saved as it was).
    """
    current = in_force(entry)
    applied = entry.runtime_data.applied_settings
    changed = {
        key for key in current.keys() | applied.keys() if current.get(key) != applied.get(key)
    }
    if not changed:
        return
    entry.runtime_data.applied_settings = current
    if changed <= LIVE_SETTINGS:
        runtime = entry.runtime_data
        if CONF_POLL_INTERVAL in changed and isinstance(
            runtime, ChargerRuntimeData | MeterRuntimeData
        ):
            coordinator = runtime.coordinator
            if coordinator.update_interval is not None:  # sensor meters are not polled
                coordinator.update_interval = timedelta(seconds=float(current[CONF_POLL_INTERVAL]))
        async_get_hub(hass).balancing.settings_changed()
        return
    LOGGER.debug("Reloading %s: %s changed", entry.title, sorted(changed))
    hass.config_entries.async_schedule_reload(entry.entry_id)
