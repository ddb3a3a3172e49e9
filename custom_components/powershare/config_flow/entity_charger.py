"""The steps that add a charger driven through another integration's entities.

`ha_charger`: pick the charger's device (and a preset, or let Powershare detect it from the
integration that made the device). `ha_charger_entities`: the entities found for each role,
for the user to check or pick (a number for the limit; phase current sensors or a power
sensor; optionally status, pause and phase-switch entities). Each is checked: the right kind,
a unit Powershare can convert, and known to Home Assistant. Then the wiring step every charger
has (`charger_settings`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
)
from homeassistant.util.unit_conversion import ElectricCurrentConverter, PowerConverter

from custom_components.powershare.const import (
    CHARGER_HA_ENTITIES,
    CONF_CHARGER_TYPE,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_PRESET,
)
from custom_components.powershare.entity_charger import (
    CUSTOM,
    PRESETS,
    ChargerEntities,
    Preset,
    detect_preset,
    find_entities,
)

from .base import PowershareFlowBase
from .fields import dropdown

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult
    from homeassistant.core import HomeAssistant

AUTO = "auto"
NO_DEVICE_PRESET = "keba"
"""The integration whose chargers have no device (set up in YAML)."""
CURRENTS = ("current_l1", "current_l2", "current_l3")
ROLE_KINDS: dict[str, list[str]] = {
    "limit": ["number"],
    **{role: ["sensor"] for role in CURRENTS},
    "power": ["sensor"],
    "status": ["sensor", "binary_sensor"],
    "pause": ["switch", "select"],
    "phase": ["switch", "select", "number"],
}


def _entity_error(hass: HomeAssistant, entity_id: str, unit: Any) -> str | None:
    """Check that Home Assistant knows an entity, and its unit (`unit`: a converter).

    Its kind the form's selector checks already.
    """
    state = hass.states.get(entity_id)
    registered = er.async_get(hass).async_get(entity_id)
    if state is None:
        return "entity_disabled" if registered is not None else "entity_not_found"
    if unit is None:
        return None
    found = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    return None if found in unit.VALID_UNITS else "unit_not_convertible"


class EntityChargerSteps(PowershareFlowBase):
    """Add a charger that another integration already brings into Home Assistant."""

    _preset: Preset = CUSTOM
    _device_id: str | None = None

    if TYPE_CHECKING:

        async def async_step_charger_settings(
            self, user_input: dict[str, Any] | None = None
        ) -> ConfigFlowResult:
            """Ask how the charger is wired, as for every charger (`charger.ChargerSteps`)."""

    async def async_step_ha_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the charger's device, and its integration's preset (detected by default)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device_id: str | None = user_input.get(CONF_DEVICE_ID) or None
            chosen = user_input[CONF_PRESET]
            preset = PRESETS.get(chosen)
            if chosen == AUTO:
                preset = detect_preset(self.hass, device_id) if device_id else None
            if chosen == CUSTOM.key or (chosen == AUTO and device_id and preset is None):
                preset = CUSTOM
            # Without a device only KEBA (which has none) and entities picked by hand: another
            # preset would search every entity of its integration and could mix two chargers.
            if preset is None or (
                device_id is None and preset.key not in (CUSTOM.key, NO_DEVICE_PRESET)
            ):
                errors[CONF_DEVICE_ID] = "device_required"
            else:
                self._preset, self._device_id = preset, device_id
                return await self.async_step_ha_charger_entities()
        defaults = self._stored() if self._reconfiguring else {}
        schema = vol.Schema(
            {
                vol.Optional(
                    CONF_DEVICE_ID, description={"suggested_value": defaults.get(CONF_DEVICE_ID)}
                ): DeviceSelector(DeviceSelectorConfig()),
                vol.Required(CONF_PRESET, default=defaults.get(CONF_PRESET, AUTO)): dropdown(
                    [AUTO, *PRESETS, CUSTOM.key], translation_key="charger_preset"
                ),
            }
        )
        return self.async_show_form(step_id="ha_charger", data_schema=schema, errors=errors)

    def _stored(self) -> dict[str, Any]:
        return dict(self._get_reconfigure_entry().data)

    async def async_step_ha_charger_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check or pick the entity of each role."""
        preset = self._preset
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._entities_errors(user_input)
            if not errors:
                return await self._entities_chosen(user_input)
            values = user_input
        else:
            values = self._found_values()
        fields: dict[Any, Any] = {}
        for role, kinds in self._role_kinds().items():
            suggested = {"suggested_value": values.get(role)}
            required = role == "limit" and preset.limit_service is None
            key = (
                vol.Required(role, description=suggested)
                if required
                else vol.Optional(role, description=suggested)
            )
            fields[key] = EntitySelector(EntitySelectorConfig(domain=kinds))
        schema = vol.Schema(fields)
        return self.async_show_form(
            step_id="ha_charger_entities",
            data_schema=schema,
            errors=errors,
            description_placeholders={"preset": preset.name, "notes": preset.notes or "-"},
        )

    def _role_kinds(self) -> dict[str, list[str]]:
        kinds = dict(ROLE_KINDS)
        if self._preset.limit_service is not None:
            kinds["limit"] = ["sensor", "number"]  # only read back: a service sets it
        return kinds

    def _found_values(self) -> dict[str, Any]:
        if self._reconfiguring and self._stored().get(CONF_PRESET) == self._preset.key:
            entities = ChargerEntities.from_data(self._stored().get(CONF_ENTITIES) or {})
        elif self._preset is CUSTOM:
            entities = ChargerEntities()
        else:
            entities = find_entities(self.hass, self._preset, self._device_id)
        values: dict[str, Any] = {
            "limit": entities.limit,
            "power": entities.power,
            "status": entities.status or entities.plug,
            "pause": entities.pause,
            "phase": entities.phase,
        }
        values.update(zip(CURRENTS, entities.currents, strict=False))
        return values

    def _entities_errors(self, user_input: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        preset = self._preset
        for role in self._role_kinds():
            entity_id = user_input.get(role)
            if not entity_id:
                continue
            unit: Any = None
            if role in CURRENTS:
                unit = ElectricCurrentConverter
                match = dict(zip(CURRENTS, preset.currents, strict=False)).get(role)
                if match is not None and match.unit is not None:
                    unit = None  # the preset knows the unit of the attribute it reads
            elif role == "power":
                unit = PowerConverter
            if error := _entity_error(self.hass, entity_id, unit):
                errors[role] = error
        given = [bool(user_input.get(role)) for role in CURRENTS]
        if given[1] != given[2] or (any(given) and not given[0]):
            errors[CURRENTS[given.index(False)]] = "phase_incomplete"
        if not any(given) and not user_input.get("power"):
            errors["base"] = "no_usage"
        if preset.limit_service is None and not user_input.get("limit"):
            errors["limit"] = "limit_required"
        return errors

    async def _entities_chosen(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        status = user_input.get("status")
        plug = status if status and status.startswith("binary_sensor.") else None
        entities = ChargerEntities(
            limit=user_input.get("limit"),
            currents=tuple(user_input[role] for role in CURRENTS if user_input.get(role)),
            power=user_input.get("power"),
            status=None if plug else status,
            plug=plug,
            pause=user_input.get("pause"),
            phase=user_input.get("phase"),
        )
        anchor = self._device_id or entities.limit or entities.power
        await self.async_set_unique_id(f"ha_charger_{anchor}", raise_on_progress=False)
        if self._reconfiguring:
            self._abort_if_unique_id_mismatch()
        else:
            self._abort_if_unique_id_configured()
        self._connection = {
            CONF_CHARGER_TYPE: CHARGER_HA_ENTITIES,
            CONF_DEVICE_ID: self._device_id,
            CONF_PRESET: self._preset.key,
            CONF_ENTITIES: entities.as_data(),
        }
        device = dr.async_get(self.hass).async_get(self._device_id or "")
        self._charger_title = (
            (device.name_by_user or device.name) if device else None
        ) or self._preset.name
        return await self.async_step_charger_settings()
