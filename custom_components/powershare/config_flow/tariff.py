"""The root group's energy tariff, in its options: the kind first, then what that kind needs.

A flat price; ranges of the day with their prices ("00:00-07:00=0.12; 07:00-24:00=0.30"), the
same every day or one set per day of the week; or a price sensor of another integration. The
ranges must cover each day from 00:00 to 24:00, and the error names the gap or the overlap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.config_entries import OptionsFlow
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    TextSelector,
    TextSelectorConfig,
)

from custom_components.powershare.settings import OPT_TARIFF, setting
from custom_components.powershare.tariffs import (
    MAX_PRICE,
    WEEKDAYS,
    PriceRange,
    Tariff,
    TariffKind,
    parse_ranges,
    price_per_kwh,
    ranges_text,
)

from .fields import dropdown, number_box

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult

TARIFF_STEP: Final = "tariff"
CONF_TARIFF_KIND: Final = "kind"
CONF_PRICE: Final = "price"
CONF_RANGES: Final = "ranges"
CONF_PRICE_ENTITY: Final = "entity_id"
EXAMPLE_RANGES: Final = "00:00-07:00=0.12; 07:00-23:00=0.30; 23:00-24:00=0.12"


class TariffSteps(OptionsFlow):
    """The tariff steps of the root group's options flow (a base of `GroupOptionsFlow`)."""

    @property
    def _tariff(self) -> Tariff:
        try:
            return Tariff.from_dict(setting(self.config_entry, OPT_TARIFF) or {})
        except ValueError:
            return Tariff()

    def _save(self, tariff: Tariff) -> ConfigFlowResult:
        return self.async_create_entry(
            data={**self.config_entry.options, OPT_TARIFF: tariff.to_dict()}
        )

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the price of a kWh is known."""
        if user_input is not None:
            kind = TariffKind(user_input[CONF_TARIFF_KIND])
            if kind is TariffKind.NONE:
                return self._save(Tariff())
            step: Any = getattr(self, f"async_step_tariff_{kind.value}")
            shown: ConfigFlowResult = await step()
            return shown
        schema = vol.Schema(
            {
                vol.Required(CONF_TARIFF_KIND, default=self._tariff.kind.value): dropdown(
                    [kind.value for kind in TariffKind], translation_key="tariff_kind"
                )
            }
        )
        return self.async_show_form(step_id=TARIFF_STEP, data_schema=schema)

    async def async_step_tariff_flat(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the one price of every kWh."""
        if user_input is not None:
            return self._save(Tariff(TariffKind.FLAT, flat_price=float(user_input[CONF_PRICE])))
        current = self._tariff.flat_price
        schema = vol.Schema(
            {
                vol.Required(CONF_PRICE, default=current if current is not None else 0.30): (
                    number_box(0, MAX_PRICE, step=0.001, unit=self._per_kwh)
                )
            }
        )
        return self.async_show_form(step_id="tariff_flat", data_schema=schema)

    async def async_step_tariff_time_ranges(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the ranges of a day and their prices (the same every day)."""
        errors: dict[str, str] = {}
        problem = ""
        if user_input is not None:
            try:
                ranges = parse_ranges(user_input[CONF_RANGES])
            except ValueError as err:
                errors, problem = {CONF_RANGES: "invalid_ranges"}, str(err)
            else:
                return self._save(Tariff(TariffKind.TIME_RANGES, days=(ranges,) * len(WEEKDAYS)))
        default = user_input[CONF_RANGES] if user_input else self._ranges_of(0)
        return self.async_show_form(
            step_id="tariff_time_ranges",
            data_schema=vol.Schema({vol.Required(CONF_RANGES, default=default): _ranges_box()}),
            errors=errors,
            description_placeholders={"problem": problem, "currency": self._per_kwh},
        )

    async def async_step_tariff_weekly(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the ranges and prices of each day of the week."""
        errors: dict[str, str] = {}
        problems: list[str] = []
        if user_input is not None:
            days: list[tuple[PriceRange, ...]] = []
            for day in WEEKDAYS:
                try:
                    days.append(parse_ranges(user_input[day], day))
                except ValueError as err:
                    errors[day] = "invalid_ranges"
                    problems.append(str(err))
            if not errors:
                return self._save(Tariff(TariffKind.WEEKLY, days=tuple(days)))
        schema = vol.Schema(
            {
                vol.Required(
                    day, default=user_input[day] if user_input else self._ranges_of(index)
                ): _ranges_box()
                for index, day in enumerate(WEEKDAYS)
            }
        )
        return self.async_show_form(
            step_id="tariff_weekly",
            data_schema=schema,
            errors=errors,
            description_placeholders={"problem": "; ".join(problems), "currency": self._per_kwh},
        )

    async def async_step_tariff_price_sensor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the sensor of another integration that gives the price now."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_PRICE_ENTITY]
            error = self._price_sensor_error(entity_id)
            if error is None:
                return self._save(Tariff(TariffKind.PRICE_SENSOR, price_entity=entity_id))
            errors[CONF_PRICE_ENTITY] = error
        current = self._tariff.price_entity
        field = (
            vol.Required(CONF_PRICE_ENTITY, default=current)
            if current
            else vol.Required(CONF_PRICE_ENTITY)
        )
        return self.async_show_form(
            step_id="tariff_price_sensor",
            data_schema=vol.Schema({field: EntitySelector(EntitySelectorConfig(domain="sensor"))}),
            errors=errors,
        )

    def _price_sensor_error(self, entity_id: str) -> str | None:
        """Refuse a sensor that does not exist, or whose unit is not a price per energy."""
        state = self.hass.states.get(entity_id)
        if state is None:
            return "price_sensor_missing"
        try:
            price_per_kwh(1.0, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
        except ValueError:
            return "price_sensor_unit"
        return None

    def _ranges_of(self, day: int) -> str:
        tariff = self._tariff
        return ranges_text(tariff.days[day]) if tariff.days else EXAMPLE_RANGES

    @property
    def _per_kwh(self) -> str:
        return f"{self.hass.config.currency}/kWh"


def _ranges_box() -> TextSelector:
    return TextSelector(TextSelectorConfig(multiline=True))
