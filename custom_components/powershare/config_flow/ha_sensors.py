"""A meter made of another integration's sensors: per-phase currents, or powers and voltages.

One sensor (L1) makes a single-phase meter, three make a three-phase one. The meter is known
by its first sensor; each sensor must exist and report a unit Powershare can convert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig, TextSelector
from homeassistant.util import slugify
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    ElectricPotentialConverter,
    EnergyConverter,
    PowerConverter,
)

from custom_components.powershare.const import (
    CONF_AVERAGE_DEMAND_ENTITY,
    CONF_CONNECTION,
    CONF_CURRENT_ENTITIES,
    CONF_EXPORT_ENERGY_ENTITY,
    CONF_IMPORT_ENERGY_ENTITY,
    CONF_KIND,
    CONF_METER_ID,
    CONF_MODEL,
    CONF_MONTH_PEAK_ENTITY,
    CONF_NAME,
    CONF_POWER_ENTITIES,
    CONF_VOLTAGE_ENTITIES,
    CONNECTION_HA_SENSORS,
    ENTRY_KIND_METER,
    METER_MODEL_HA_SENSORS,
)
from custom_components.powershare.engine.model import PHASE_COUNT

from .base import PowershareFlowBase

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult
    from homeassistant.core import HomeAssistant

# Form fields, one per phase; the entry stores each kind as one list (const.py).
PHASES: Final = ("l1", "l2", "l3")
CURRENT_FIELDS: Final = tuple(f"current_{phase}" for phase in PHASES)
POWER_FIELDS: Final = tuple(f"power_{phase}" for phase in PHASES)
VOLTAGE_FIELDS: Final = tuple(f"voltage_{phase}" for phase in PHASES)

EXTRA_FIELDS: Final = (
    (CONF_IMPORT_ENERGY_ENTITY, EnergyConverter),
    (CONF_EXPORT_ENERGY_ENTITY, EnergyConverter),
    (CONF_AVERAGE_DEMAND_ENTITY, PowerConverter),
    (CONF_MONTH_PEAK_ENTITY, PowerConverter),
)
"""Optional sensors for the capacity tariff's energy so far (stored as they are named)."""

_DEVICE_CLASSES: Final[dict[type[BaseUnitConverter], str]] = {
    ElectricCurrentConverter: "current",
    PowerConverter: "power",
    ElectricPotentialConverter: "voltage",
    EnergyConverter: "energy",
}

type _Checks = list[tuple[str, type[BaseUnitConverter]]]
"""Each field of a form, and the converter its sensor's unit must suit."""


class HaSensorSteps(PowershareFlowBase):
    """Add a meter of Home Assistant sensors, or change which sensors it reads."""

    async def async_step_ha_sensors(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Pick which kind of sensors of another integration make the meter."""
        return self.async_show_menu(step_id="ha_sensors", menu_options=["ha_currents", "ha_powers"])

    async def async_step_ha_currents(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make a meter of per-phase current sensors of another integration (1 or 3)."""
        return await self._async_ha_sensors("ha_currents", user_input)

    async def async_step_ha_powers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make a meter of signed per-phase power sensors, 1 or 3 (and optional voltages)."""
        return await self._async_ha_sensors("ha_powers", user_input)

    async def _async_ha_sensors(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        currents = step_id == "ha_currents"
        phase_fields = CURRENT_FIELDS if currents else POWER_FIELDS
        checks: _Checks = [
            *(
                [(name, ElectricCurrentConverter) for name in CURRENT_FIELDS]
                if currents
                else [(name, PowerConverter) for name in POWER_FIELDS]
                + [(name, ElectricPotentialConverter) for name in VOLTAGE_FIELDS]
            ),
            *EXTRA_FIELDS,
        ]
        errors: dict[str, str] = {}
        values = self._ha_sensors_defaults()
        if user_input is not None:
            values = user_input
            for name, converter in checks:
                if user_input.get(name) and (
                    error := _entity_error(self.hass, user_input[name], converter)
                ):
                    errors[name] = error
            errors |= _phase_errors(user_input, phase_fields)
            if not errors:
                return await self._async_ha_sensors_done(user_input, currents=currents)
        return self.async_show_form(
            step_id=step_id, data_schema=_schema(values, checks, phase_fields), errors=errors
        )

    def _ha_sensors_defaults(self) -> dict[str, Any]:
        """Form defaults: the entry's sensors when reconfiguring, else only a name."""
        values: dict[str, Any] = {CONF_NAME: "Grid meter"}
        if self._reconfiguring:
            data = self._get_reconfigure_entry().data
            values[CONF_NAME] = data[CONF_NAME]
            for key, names in (
                (CONF_CURRENT_ENTITIES, CURRENT_FIELDS),
                (CONF_POWER_ENTITIES, POWER_FIELDS),
                (CONF_VOLTAGE_ENTITIES, VOLTAGE_FIELDS),
            ):
                values.update(zip(names, data.get(key, ()), strict=False))
            values.update((name, data[name]) for name, _ in EXTRA_FIELDS if data.get(name))
        return values

    async def _async_ha_sensors_done(
        self, user_input: dict[str, Any], *, currents: bool
    ) -> ConfigFlowResult:
        data: dict[str, Any] = {
            CONF_KIND: ENTRY_KIND_METER,
            CONF_MODEL: METER_MODEL_HA_SENSORS,
            CONF_CONNECTION: CONNECTION_HA_SENSORS,
            CONF_NAME: user_input[CONF_NAME],
        }

        def picked(names: tuple[str, ...]) -> list[str]:
            return [user_input[name] for name in names if user_input.get(name)]

        if currents:
            data[CONF_CURRENT_ENTITIES] = picked(CURRENT_FIELDS)
        else:
            data[CONF_POWER_ENTITIES] = picked(POWER_FIELDS)
            if user_input.get(VOLTAGE_FIELDS[0]):
                data[CONF_VOLTAGE_ENTITIES] = picked(VOLTAGE_FIELDS)
        data.update((name, user_input[name]) for name, _ in EXTRA_FIELDS if user_input.get(name))
        first = data.get(CONF_CURRENT_ENTITIES, data.get(CONF_POWER_ENTITIES, []))[0]
        if self._reconfiguring:
            entry = self._get_reconfigure_entry()
            # The meter keeps its id, so the groups that use it keep working.
            data[CONF_METER_ID] = entry.data[CONF_METER_ID]
            return self.async_update_reload_and_abort(entry, data=data)
        data[CONF_METER_ID] = slugify(f"ha_sensors {first}")
        await self.async_set_unique_id(f"meter_{data[CONF_METER_ID]}")
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=user_input[CONF_NAME], data=data)


def _schema(
    values: Mapping[str, Any], checks: _Checks, phase_fields: tuple[str, ...]
) -> vol.Schema:
    schema: dict[vol.Marker, Any] = {
        vol.Required(CONF_NAME, default=values[CONF_NAME]): TextSelector(),
    }
    for name, converter in checks:
        selector = EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=_DEVICE_CLASSES[converter])
        )
        if name == phase_fields[0]:
            schema[vol.Required(name, default=values.get(name, vol.UNDEFINED))] = selector
        else:
            # A suggestion, not a default: a field the user clears must stay empty.
            suggested = {"suggested_value": values.get(name)}
            schema[vol.Optional(name, description=suggested)] = selector
    return vol.Schema(schema)


def _entity_error(
    hass: HomeAssistant, entity_id: str, converter: type[BaseUnitConverter]
) -> str | None:
    """Check that an entity exists and reports a unit the converter understands."""
    state = hass.states.get(entity_id)
    if state is not None:
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    else:
        # An entity without a state (disabled, or its integration not loaded yet) is still known.
        registered = er.async_get(hass).async_get(entity_id)
        if registered is None:
            return "entity_not_found"
        unit = registered.unit_of_measurement
    if unit not in converter.VALID_UNITS:
        return "unit_not_convertible"
    return None


def _phase_errors(user_input: dict[str, Any], phase_fields: tuple[str, ...]) -> dict[str, str]:
    """Check that sensors were given for 1 phase (L1) or 3, and voltages for each or none."""
    errors: dict[str, str] = {}
    # One sensor makes a single-phase meter; L2 without L3 (or the reverse) is a mistake.
    given = [bool(user_input.get(name)) for name in phase_fields]
    phase_count = PHASE_COUNT if any(given[1:]) else 1
    if not all(given[:phase_count]):
        errors[phase_fields[given.index(False)]] = "phase_incomplete"
    voltages = [bool(user_input.get(name)) for name in VOLTAGE_FIELDS]
    wanted = [index < phase_count for index in range(PHASE_COUNT)]
    if any(voltages) and voltages != wanted:
        wrong = next(
            index
            for index, (voltage, want) in enumerate(zip(voltages, wanted, strict=True))
            if voltage != want
        )
        errors[VOLTAGE_FIELDS[wrong]] = "voltage_incomplete"
    return errors
