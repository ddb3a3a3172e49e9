"""Constants shared by Powershare's Home Assistant modules.

The keys below are the stored shape of the config entries: renaming one breaks existing
installations (bump the config entry version and migrate instead).
"""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "powershare"
LOGGER: Final = logging.getLogger(__package__)

# The kinds of config entry Powershare creates: one per charger, per meter and per group.
# entry.data[CONF_KIND] tells which one an entry is.
CONF_KIND: Final = "kind"
ENTRY_KIND_CHARGER: Final = "charger"
ENTRY_KIND_METER: Final = "meter"
ENTRY_KIND_GROUP: Final = "group"
ENTRY_KINDS: Final = (ENTRY_KIND_CHARGER, ENTRY_KIND_METER, ENTRY_KIND_GROUP)

# --- connections (charger and Modbus meter entries) ------------------------------------------
CONF_CONNECTION: Final = "connection"
CONNECTION_TCP: Final = "tcp"
CONNECTION_SERIAL: Final = "serial"
CONNECTION_HTTP: Final = "http"
CONNECTION_HA_SENSORS: Final = "ha_sensors"
# CONF_HOST, CONF_PORT, CONF_PASSWORD, CONF_TOKEN come from homeassistant.const.
CONF_SERIAL_PORT: Final = "serial_port"
CONF_BAUDRATE: Final = "baudrate"
CONF_PARITY: Final = "parity"
CONF_STOPBITS: Final = "stopbits"
CONF_UNIT_ID: Final = "unit_id"
DEFAULT_MODBUS_PORT: Final = 502
DEFAULT_BAUDRATE: Final = 9600
DEFAULT_UNIT_ID: Final = 1
BAUDRATES: Final = (2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES: Final = ("N", "E", "O")
STOPBITS: Final = (1, 2)

# --- charger entries ---------------------------------------------------------------------------
CONF_SERIAL_NUMBER: Final = "serial_number"
CONF_ROTATION: Final = "rotation"  # an engine.model.PhaseRotation value
CONF_WIRING: Final = "wiring"  # 1 or 3
CONF_MIN_CURRENT: Final = "min_current"
CONF_MAX_CURRENT: Final = "max_current"
CONF_GROUP: Final = "group"  # the config entry id of the group the charger belongs to
CONF_PRIORITY: Final = "priority"
MAX_PRIORITY: Final = 10
"""Priorities run from 0 (the default) to 10; a higher one is served first."""
CONF_CAN_SWITCH_PHASES: Final = "can_switch_phases"
DEFAULT_MIN_CURRENT: Final = 6
DEFAULT_MAX_CURRENT: Final = 16
MIN_CURRENT_LIMIT: Final = 6
MAX_CURRENT_LIMIT: Final = 32
# Which kind of charger an entry drives (entries of version 1.2 and before are all TeltoCharges).
CONF_CHARGER_TYPE: Final = "charger_type"
CHARGER_TELTOCHARGE: Final = "teltocharge"
CHARGER_HA_ENTITIES: Final = "ha_entities"
CHARGER_V2C_TRYDAN: Final = "v2c_trydan"
# A charger driven through another integration's entities: its device, preset and entities.
CONF_DEVICE_ID: Final = "device_id"
CONF_PRESET: Final = "preset"  # a key of entity_charger.PRESETS, or "custom"
CONF_ENTITIES: Final = "entities"  # entity_charger.ChargerEntities.as_data()

# --- meter entries -----------------------------------------------------------------------------
CONF_MODEL: Final = "model"  # a key of devices.meters.METER_MODELS, or METER_MODEL_HA_SENSORS
METER_MODEL_HA_SENSORS: Final = "ha_sensors"
CONF_METER_ID: Final = "meter_id"  # serial or MAC, the unique id's source
# Home Assistant sensors as a meter: per phase either a current entity, or power and voltage.
CONF_CURRENT_ENTITIES: Final = "current_entities"  # list of three entity ids (L1, L2, L3)
CONF_POWER_ENTITIES: Final = "power_entities"  # list of three entity ids (signed W)
CONF_VOLTAGE_ENTITIES: Final = "voltage_entities"  # list of three entity ids (optional)
# Optional, for the capacity tariff's energy so far: counters and a Belgian meter's own figures.
CONF_IMPORT_ENERGY_ENTITY: Final = "import_energy_entity"  # kWh (or Wh, MWh), increasing
CONF_EXPORT_ENERGY_ENTITY: Final = "export_energy_entity"
CONF_AVERAGE_DEMAND_ENTITY: Final = "average_demand_entity"  # DSMR current_average_demand
CONF_MONTH_PEAK_ENTITY: Final = "month_peak_entity"  # DSMR maximum_demand_current_month

# --- group entries -----------------------------------------------------------------------------
CONF_NAME: Final = "name"
CONF_FUSE: Final = "fuse"  # list of three currents in A (L1, L2, L3)
CONF_MAX_POWER: Final = "max_power_w"
CONF_CONTRACTED_POWER: Final = "contracted_power_kw"  # optional: the fuse derived from it
CONF_SUPPLY: Final = "supply"  # of a contracted power: SUPPLY_SINGLE_PHASE or _THREE_PHASE
SUPPLY_SINGLE_PHASE: Final = "single_phase"
SUPPLY_THREE_PHASE: Final = "three_phase"
CONF_METER: Final = "meter"  # the config entry id of the group's metering point
CONF_METER_INCLUDES_CHARGERS: Final = "meter_includes_chargers"
CONF_PARENT: Final = "parent"  # the config entry id of the parent group; absent on the root
CONF_SOLAR_RESERVE: Final = "solar_reserve_w"  # root only
CONF_IMPORT_ALLOWANCE: Final = "import_allowance_w"  # root only
CONF_PEAK_MODE: Final = "peak_mode"  # root only: peak.PeakMode's value
CONF_PEAK_LIMIT: Final = "peak_limit_kw"  # root only: the fixed limit (mode fixed)
CONF_PEAK_FLOOR: Final = "peak_floor_kw"  # root only: the lowest limit (mode month_peak)
CONF_PEAK_WINDOW: Final = "peak_window_min"  # root only: 15 or 60
ENTRY_MINOR_VERSION: Final = 4
"""The config entries' minor version (`async_migrate_entry`): 2 added the root group's network,
3 the kind of charger a charger entry drives, 4 the root group's capacity tariff."""
CONF_NETWORK: Final = "network"  # root only: engine.Network's value ("3x400", "3x230", "1x230")
MIN_FUSE: Final = 6
MAX_FUSE: Final = 4000

# --- options (tunables) ------------------------------------------------------------------------
CONF_POLL_INTERVAL: Final = "poll_interval_s"
DEFAULT_METER_POLL_INTERVAL: Final = 1.0
DEFAULT_CHARGER_POLL_INTERVAL: Final = 2.0
CONF_MARGIN: Final = "margin_a"  # root group option
