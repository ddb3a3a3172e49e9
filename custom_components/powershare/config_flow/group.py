"""The group steps: `group` (a fuse, its meter, its parent) and `group_site` (the root's).

Groups form a tree: one root (the main fuse, without a parent) and sub-groups under it. The
checks keep it a tree: one root, no loops, a meter measures one group, a name names one group.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.helpers.selector import BooleanSelector, TextSelector
from homeassistant.util import slugify

from custom_components.powershare.balancing.peak import connection_kw
from custom_components.powershare.const import (
    CONF_CONTRACTED_POWER,
    CONF_FUSE,
    CONF_IMPORT_ALLOWANCE,
    CONF_KIND,
    CONF_MAX_POWER,
    CONF_METER,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_NAME,
    CONF_NETWORK,
    CONF_PARENT,
    CONF_PEAK_FLOOR,
    CONF_PEAK_LIMIT,
    CONF_PEAK_MODE,
    CONF_PEAK_WINDOW,
    CONF_SOLAR_RESERVE,
    CONF_SUPPLY,
    DOMAIN,
    ENTRY_KIND_GROUP,
    ENTRY_KIND_METER,
    MAX_FUSE,
    MIN_FUSE,
    SUPPLY_SINGLE_PHASE,
    SUPPLY_THREE_PHASE,
)
from custom_components.powershare.engine import Network
from custom_components.powershare.peak import (
    DEFAULT_FLOOR_W,
    MIN_LIMIT_W,
    WINDOW_MINUTES,
    PeakMode,
)
from custom_components.powershare.settings import in_force

from .base import PowershareFlowBase
from .fields import dropdown, entries_of_kind, entry_choices, number_box

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult

# Form fields for the fuses of L2 and L3; the entry stores all three as one list.
FUSE_L2: Final = "fuse_l2"
FUSE_L3: Final = "fuse_l3"


class GroupSteps(PowershareFlowBase):
    """Add a group, or change its settings."""

    async def async_step_group(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a group: a fuse and the chargers behind it, optionally under a parent group."""
        this = self._get_reconfigure_entry() if self._reconfiguring else None
        groups = [
            entry for entry in entries_of_kind(self.hass, ENTRY_KIND_GROUP) if entry is not this
        ]
        errors: dict[str, str] = {}
        values: Mapping[str, Any] = {CONF_METER_INCLUDES_CHARGERS: True}
        if this is not None:
            current = in_force(this)
            fuse = current[CONF_FUSE]
            values = {**current, CONF_FUSE: fuse[0], FUSE_L2: fuse[1], FUSE_L3: fuse[2]}
            if current.get(CONF_CONTRACTED_POWER) is not None:
                # Its fuse comes from the contracted power: that is what is asked again.
                values = {**values, FUSE_L2: None, FUSE_L3: None}
        if user_input is not None:
            values = user_input
            errors = self._group_errors(user_input, this, groups)
            if not errors:
                self._group = _group_data(user_input, this)
                if CONF_CONTRACTED_POWER in self._group:
                    return await self.async_step_group_contracted()
                return await self._async_group_next()
        meters = entries_of_kind(self.hass, ENTRY_KIND_METER)
        return self.async_show_form(
            step_id="group",
            data_schema=_group_schema(values, meters, groups, named=this is None),
            errors=errors,
        )

    async def async_step_group_contracted(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the current a contracted power allows, for the user to confirm."""
        if user_input is not None:
            return await self._async_group_next()
        amps = self._group[CONF_FUSE][0]
        supply = self._group[CONF_SUPPLY]
        return self.async_show_form(
            step_id="group_contracted",
            data_schema=vol.Schema({}),
            description_placeholders={
                "kw": f"{self._group[CONF_CONTRACTED_POWER]:g}",
                "amps": f"{amps:.1f}",
                "formula": "kW x 1000 / 230"
                if supply == SUPPLY_SINGLE_PHASE
                else "kW x 1000 / (sqrt(3) x 400 x 0.95)",
            },
        )

    async def _async_group_next(self) -> ConfigFlowResult:
        """Ask the root for the site's settings next; any other group is done."""
        if CONF_PARENT not in self._group:
            return await self.async_step_group_site()
        return await self._async_group_done()

    def _group_errors(
        self, user_input: Mapping[str, Any], this: ConfigEntry | None, groups: list[ConfigEntry]
    ) -> dict[str, str]:
        """Check a group's settings against the rules of a site; return per-field errors."""
        errors: dict[str, str] = {}
        if this is None:
            text = str(user_input[CONF_NAME])
            name = slugify(text.strip())
            if not any(char.isalnum() for char in text):  # no title; no id ("" or "unknown")
                errors[CONF_NAME] = "name_required"
            elif self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, f"group_{name}"):
                errors[CONF_NAME] = "name_in_use"
        errors |= _fuse_errors(user_input)
        meter = user_input.get(CONF_METER)
        if meter and any(group.data.get(CONF_METER) == meter for group in groups):
            errors[CONF_METER] = "meter_in_use"
        parent = user_input.get(CONF_PARENT)
        if not parent:
            if any(CONF_PARENT not in group.data for group in groups):
                errors[CONF_PARENT] = "root_exists"
        elif this is not None and _is_ancestor(this.entry_id, parent, groups):
            errors[CONF_PARENT] = "parent_cycle"
        return errors

    async def async_step_group_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Site-wide settings, asked on the root group (the main fuse) only.

        The network, solar charging, and the capacity tariff (a peak budget at the grid
        connection, which needs the root group's meter).
        """
        errors: dict[str, str] = {}
        # What is in force: the tariff's select and number store their choice as options.
        values: Mapping[str, Any] = (
            in_force(self._get_reconfigure_entry()) if self._reconfiguring else {}
        )
        network = values.get(CONF_NETWORK, Network.THREE_PHASE_WITH_NEUTRAL.value)
        most_kw = connection_kw(self._group[CONF_FUSE], Network(network))
        if user_input is not None:
            values = user_input
            most_kw = connection_kw(self._group[CONF_FUSE], Network(user_input[CONF_NETWORK]))
            errors = self._peak_errors(user_input, most_kw)
            if not errors:
                self._group[CONF_NETWORK] = str(user_input[CONF_NETWORK])
                self._group[CONF_SOLAR_RESERVE] = float(user_input[CONF_SOLAR_RESERVE])
                self._group[CONF_IMPORT_ALLOWANCE] = float(user_input[CONF_IMPORT_ALLOWANCE])
                self._group[CONF_PEAK_MODE] = str(user_input[CONF_PEAK_MODE])
                self._group[CONF_PEAK_FLOOR] = float(user_input[CONF_PEAK_FLOOR])
                self._group[CONF_PEAK_WINDOW] = int(user_input[CONF_PEAK_WINDOW])
                if user_input.get(CONF_PEAK_LIMIT) is not None:
                    self._group[CONF_PEAK_LIMIT] = float(user_input[CONF_PEAK_LIMIT])
                return await self._async_group_done()
        return self.async_show_form(
            step_id="group_site",
            data_schema=_site_schema(values),
            errors=errors,
            description_placeholders={"most_kw": f"{most_kw:.1f}"},
        )

    def _peak_errors(self, user_input: Mapping[str, Any], most_kw: float) -> dict[str, str]:
        """Check the capacity tariff: limits a connection can carry, a meter to count with."""
        errors: dict[str, str] = {}
        for key in (CONF_PEAK_LIMIT, CONF_PEAK_FLOOR):
            value = user_input.get(key)
            if value is not None and not MIN_LIMIT_W / 1000 <= float(value) <= most_kw:
                errors[key] = "peak_limit_out_of_range"
        mode = PeakMode(user_input[CONF_PEAK_MODE])
        if mode is PeakMode.FIXED and user_input.get(CONF_PEAK_LIMIT) is None:
            errors.setdefault(CONF_PEAK_LIMIT, "peak_limit_required")
        if mode is not PeakMode.OFF and not self._group.get(CONF_METER):
            errors[CONF_PEAK_MODE] = "peak_needs_meter"
        return errors

    async def _async_group_done(self) -> ConfigFlowResult:
        data = self._group
        if self._reconfiguring:
            return self._save_reconfigured(self._get_reconfigure_entry(), data=data)
        await self.async_set_unique_id(f"group_{slugify(data[CONF_NAME])}")
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=data[CONF_NAME], data=data)


def _group_schema(
    values: Mapping[str, Any],
    meters: list[ConfigEntry],
    groups: list[ConfigEntry],
    *,
    named: bool,
) -> vol.Schema:
    """Build the group form; a group keeps its name (and so its unique id) once created."""
    schema: dict[vol.Marker, Any] = {}
    if named:
        schema[vol.Required(CONF_NAME, default=values.get(CONF_NAME, vol.UNDEFINED))] = (
            TextSelector()
        )
    amps = number_box(0, step=0.1, unit="A")
    # A fuse, or a contracted power the fuse is derived from: one of the two.
    suggested = values.get(CONF_FUSE) if values.get(CONF_CONTRACTED_POWER) is None else None
    schema[vol.Optional(CONF_FUSE, description={"suggested_value": suggested})] = amps
    for name in (FUSE_L2, FUSE_L3, CONF_MAX_POWER, CONF_CONTRACTED_POWER):
        selector = {
            CONF_MAX_POWER: number_box(1, unit="W"),
            CONF_CONTRACTED_POWER: number_box(0, step=0.1, unit="kW"),
        }.get(name, amps)
        schema[vol.Optional(name, description={"suggested_value": values.get(name)})] = selector
    schema[vol.Required(CONF_SUPPLY, default=values.get(CONF_SUPPLY, SUPPLY_THREE_PHASE))] = (
        dropdown([SUPPLY_THREE_PHASE, SUPPLY_SINGLE_PHASE], translation_key=CONF_SUPPLY)
    )
    if meters:
        schema[
            vol.Optional(CONF_METER, description={"suggested_value": values.get(CONF_METER)})
        ] = dropdown(entry_choices(meters))
    schema[
        vol.Required(CONF_METER_INCLUDES_CHARGERS, default=values[CONF_METER_INCLUDES_CHARGERS])
    ] = BooleanSelector()
    if groups:
        schema[
            vol.Optional(CONF_PARENT, description={"suggested_value": values.get(CONF_PARENT)})
        ] = dropdown(entry_choices(groups))
    return vol.Schema(schema)


def _group_data(user_input: Mapping[str, Any], this: ConfigEntry | None) -> dict[str, Any]:
    """Build a group's entry data: the same fuse on every phase unless L2 and L3 are given.

    A contracted power gives the fuse (the V2C guide's formulas, `contracted_amps`) and is
    kept with its supply, so reconfiguring shows it again.
    """
    data: dict[str, Any] = {
        CONF_KIND: ENTRY_KIND_GROUP,
        CONF_NAME: this.data[CONF_NAME] if this is not None else str(user_input[CONF_NAME]).strip(),
        CONF_METER_INCLUDES_CHARGERS: user_input[CONF_METER_INCLUDES_CHARGERS],
    }
    contracted = user_input.get(CONF_CONTRACTED_POWER)
    if contracted is not None:
        supply = user_input.get(CONF_SUPPLY, SUPPLY_THREE_PHASE)
        amps = round(contracted_amps(float(contracted), supply), 1)
        data[CONF_FUSE] = [amps, amps, amps]
        data[CONF_CONTRACTED_POWER] = float(contracted)
        data[CONF_SUPPLY] = supply
    else:
        fuse = float(user_input[CONF_FUSE])
        data[CONF_FUSE] = [
            fuse,
            float(user_input.get(FUSE_L2, fuse)),
            float(user_input.get(FUSE_L3, fuse)),
        ]
    for key in (CONF_MAX_POWER, CONF_METER, CONF_PARENT):
        if user_input.get(key):
            data[key] = user_input[key]
    return data


def _is_ancestor(entry_id: str, parent: str, groups: list[ConfigEntry]) -> bool:
    """Whether `entry_id` is `parent` or above it: making it `parent`'s child closes a loop."""
    parents = {group.entry_id: group.data.get(CONF_PARENT) for group in groups}
    node: str | None = parent
    seen: set[str] = set()
    # `seen` ends the walk should the stored groups already hold a loop.
    while node is not None and node not in seen:
        if node == entry_id:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def _site_schema(values: Mapping[str, Any]) -> vol.Schema:
    """Build the root group's site form from the values in force (or the user's)."""
    watts = number_box(0, unit="W")
    # No minimum in the box: a limit under 1 kW gets this form's own error, which says why.
    kilowatts = number_box(0, step=0.1, unit="kW")
    network = values.get(CONF_NETWORK, Network.THREE_PHASE_WITH_NEUTRAL.value)
    window = str(values.get(CONF_PEAK_WINDOW, WINDOW_MINUTES[0]))
    return vol.Schema(
        {
            vol.Required(CONF_NETWORK, default=network): dropdown(
                [item.value for item in Network], translation_key=CONF_NETWORK
            ),
            vol.Required(CONF_SOLAR_RESERVE, default=values.get(CONF_SOLAR_RESERVE, 0)): watts,
            vol.Required(
                CONF_IMPORT_ALLOWANCE, default=values.get(CONF_IMPORT_ALLOWANCE, 0)
            ): watts,
            vol.Required(
                CONF_PEAK_MODE, default=values.get(CONF_PEAK_MODE, PeakMode.OFF.value)
            ): dropdown([mode.value for mode in PeakMode], translation_key=CONF_PEAK_MODE),
            vol.Optional(
                CONF_PEAK_LIMIT, description={"suggested_value": values.get(CONF_PEAK_LIMIT)}
            ): kilowatts,
            vol.Required(
                CONF_PEAK_FLOOR, default=values.get(CONF_PEAK_FLOOR, DEFAULT_FLOOR_W / 1000)
            ): kilowatts,
            vol.Required(CONF_PEAK_WINDOW, default=window): dropdown(
                [str(minutes) for minutes in WINDOW_MINUTES], translation_key=CONF_PEAK_WINDOW
            ),
        }
    )


def contracted_amps(kw: float, supply: str | None) -> float:
    """Return the current per phase a contracted power allows (the V2C guide's formulas).

    Single-phase: kW x 1000 / 230; three-phase: kW x 1000 / (sqrt(3) x 400 x 0.95).
    """
    if supply == SUPPLY_SINGLE_PHASE:
        return kw * 1000.0 / 230.0
    return kw * 1000.0 / (math.sqrt(3) * 400.0 * 0.95)


def _fuse_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check the fuse (per phase) or the contracted power it is derived from."""
    errors: dict[str, str] = {}
    for name in (CONF_FUSE, FUSE_L2, FUSE_L3):
        value = user_input.get(name)
        if value is not None and not MIN_FUSE <= value <= MAX_FUSE:
            errors[name] = "fuse_out_of_range"
    contracted = user_input.get(CONF_CONTRACTED_POWER)
    if (user_input.get(CONF_FUSE) is None) == (contracted is None):
        errors[CONF_FUSE] = "fuse_or_contracted_power"
    elif contracted is not None:
        amps = contracted_amps(float(contracted), user_input.get(CONF_SUPPLY))
        if not MIN_FUSE <= amps <= MAX_FUSE:
            errors[CONF_CONTRACTED_POWER] = "contracted_power_out_of_range"
    if (user_input.get(FUSE_L2) is None) != (user_input.get(FUSE_L3) is None):
        missing = FUSE_L2 if user_input.get(FUSE_L2) is None else FUSE_L3
        errors[missing] = "fuse_incomplete"
    return errors
