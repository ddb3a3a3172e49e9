"""The options flows, one per kind of entry: the tunables a homeowner may reasonably change.

Chargers and meters have a poll interval. The root group holds the site's: the margin kept on
every fuse and the engine's delays and fallbacks. Sub-groups have none (they share the root's).
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol
from homeassistant.config_entries import OptionsFlow

from custom_components.powershare.const import (
    CONF_MARGIN,
    CONF_PARENT,
    CONF_POLL_INTERVAL,
    DEFAULT_CHARGER_POLL_INTERVAL,
    DEFAULT_METER_POLL_INTERVAL,
    ENTRY_KIND_CHARGER,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    MAX_CURRENT_LIMIT,
    MIN_CURRENT_LIMIT,
)
from custom_components.powershare.engine.tunables import Tunables

from .fields import number_box, whole_number_errors
from .solar import SOLAR_STEP, SolarForecastSteps
from .tariff import TARIFF_STEP, TariffSteps

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult

OPTIONS_STEP: Final = "init"
OPTIONS_ABORT_NOT_ROOT: Final = "site_settings_on_root"
SITE_STEP: Final = "site"

# The engine tunables a homeowner may reasonably change, in the options of the root group.
GROUP_TUNABLES: Final = (
    "meter_timeout_s",
    "failsafe_current_a",
    "solar_start_delay_s",
    "solar_stop_delay_s",
    "phase_down_delay_s",
    "phase_up_delay_s",
    "max_phase_switches_per_hour",
    "rotation_period_s",
)
DEFAULT_MARGIN_A: Final = 1.0

_TUNABLE_DEFAULTS: Final = {
    field.name: getattr(Tunables(), field.name) for field in fields(Tunables)
}
_SELECTORS: Final = {
    CONF_POLL_INTERVAL: number_box(0.5, 60, step=0.5, unit="s"),
    CONF_MARGIN: number_box(0, 10, step=0.5, unit="A"),
    "meter_timeout_s": number_box(3, 600, unit="s"),
    "failsafe_current_a": number_box(0, MAX_CURRENT_LIMIT, unit="A"),
    "solar_start_delay_s": number_box(0, 3600, unit="s"),
    "solar_stop_delay_s": number_box(0, 3600, unit="s"),
    "phase_down_delay_s": number_box(0, 3600, unit="s"),
    "phase_up_delay_s": number_box(0, 3600, unit="s"),
    "max_phase_switches_per_hour": number_box(0, 60),
    "rotation_period_s": number_box(60, 7200, unit="s"),
}


class _TunablesFlow(OptionsFlow):
    """One form of the kind's tunables; each is stored in its default's type."""

    DEFAULTS: ClassVar[Mapping[str, Any]]
    """Each option of the kind, and its default."""
    STEP: ClassVar[str] = OPTIONS_STEP
    """The form's step."""

    def _errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:  # noqa: ARG002
        """Per-field errors of a submitted form (a poll interval needs no check)."""
        return {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the tunables of this entry's kind."""
        return await self._tunables(user_input)

    async def _tunables(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {**self.DEFAULTS, **self.config_entry.options}
        if user_input is not None:
            values = user_input
            whole = [name for name, default in self.DEFAULTS.items() if isinstance(default, int)]
            errors = whole_number_errors(user_input, whole) or self._errors(user_input)
            if not errors:
                # Keep each tunable's type (whole amps and counts stay integers), and every
                # other option (the user settings the entities store there).
                return self.async_create_entry(
                    data={
                        **self.config_entry.options,
                        **{
                            name: type(default)(user_input[name])
                            for name, default in self.DEFAULTS.items()
                        },
                    }
                )
        schema = vol.Schema(
            {vol.Required(name, default=values[name]): _SELECTORS[name] for name in self.DEFAULTS}
        )
        return self.async_show_form(step_id=self.STEP, data_schema=schema, errors=errors)


class ChargerOptionsFlow(_TunablesFlow):
    """A charger's poll interval."""

    DEFAULTS: ClassVar[Mapping[str, Any]] = {CONF_POLL_INTERVAL: DEFAULT_CHARGER_POLL_INTERVAL}


class MeterOptionsFlow(_TunablesFlow):
    """A meter's poll interval."""

    DEFAULTS: ClassVar[Mapping[str, Any]] = {CONF_POLL_INTERVAL: DEFAULT_METER_POLL_INTERVAL}


class GroupOptionsFlow(TariffSteps, SolarForecastSteps, _TunablesFlow):
    """The site's margin, delays and fallbacks, its energy tariff and solar forecast (root)."""

    DEFAULTS: ClassVar[Mapping[str, Any]] = {
        CONF_MARGIN: DEFAULT_MARGIN_A,
        **{name: _TUNABLE_DEFAULTS[name] for name in GROUP_TUNABLES},
    }
    STEP: ClassVar[str] = SITE_STEP

    async def async_step_init(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Offer the site's tunables and its tariff, or send the user to the root group."""
        if CONF_PARENT in self.config_entry.data:
            return self.async_abort(reason=OPTIONS_ABORT_NOT_ROOT)
        return self.async_show_menu(
            step_id=OPTIONS_STEP, menu_options=[SITE_STEP, TARIFF_STEP, SOLAR_STEP]
        )

    async def async_step_site(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the site's tunables."""
        return await self._tunables(user_input)

    def _errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:
        """Check that the failsafe current pauses (0) or is a current a charger can draw."""
        failsafe = user_input.get("failsafe_current_a", 0)
        if 0 < failsafe < MIN_CURRENT_LIMIT:
            return {"failsafe_current_a": "failsafe_current_invalid"}
        return {}


OPTIONS_FLOWS: Final[Mapping[str, type[OptionsFlow]]] = {
    ENTRY_KIND_CHARGER: ChargerOptionsFlow,
    ENTRY_KIND_METER: MeterOptionsFlow,
    ENTRY_KIND_GROUP: GroupOptionsFlow,
}
"""The options flow of each kind of entry."""
