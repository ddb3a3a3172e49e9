"""The root group's solar forecast for charging plans, in its options (optional).

A sensor of a forecast integration whose attributes list the periods ahead (Solcast's
`detailedForecast`, Open-Meteo Solar Forecast's `watts`; `solar_forecast.py`); the plans
count on the surplus it foresees. Left empty, plans count on no sun.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.config_entries import OptionsFlow
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig

from custom_components.powershare.settings import OPT_SOLAR_FORECAST, setting
from custom_components.powershare.solar_forecast import solar_from_attributes

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult

SOLAR_STEP: Final = "solar_forecast"
CONF_SOLAR_ENTITY: Final = "entity_id"


class SolarForecastSteps(OptionsFlow):
    """The solar forecast step of the root group's options flow (a base of its flow)."""

    async def async_step_solar_forecast(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the forecast sensor (empty: none); refuse one without periods ahead."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input.get(CONF_SOLAR_ENTITY) or None
            state = None if entity_id is None else self.hass.states.get(entity_id)
            if entity_id is not None and state is None:
                errors[CONF_SOLAR_ENTITY] = "solar_forecast_missing"
            elif state is not None and not solar_from_attributes(state.attributes):
                errors[CONF_SOLAR_ENTITY] = "solar_forecast_unreadable"
            else:
                options = {**self.config_entry.options, OPT_SOLAR_FORECAST: entity_id}
                return self.async_create_entry(data=options)
        current = setting(self.config_entry, OPT_SOLAR_FORECAST)
        field = (
            vol.Optional(CONF_SOLAR_ENTITY, description={"suggested_value": current})
            if current
            else vol.Optional(CONF_SOLAR_ENTITY)
        )
        return self.async_show_form(
            step_id=SOLAR_STEP,
            data_schema=vol.Schema({field: EntitySelector(EntitySelectorConfig(domain="sensor"))}),
            errors=errors,
        )
