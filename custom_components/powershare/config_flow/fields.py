"""What the forms of every kind are built from: selectors and pickers of existing entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from custom_components.powershare.const import CONF_KIND, DOMAIN

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant


def number_box(
    minimum: float,
    maximum: float | None = None,
    *,
    step: float = 1,
    unit: str | None = None,
) -> NumberSelector:
    """Ask for a number in a box: amperes, addresses and delays are typed, not slid to."""
    config = NumberSelectorConfig(min=minimum, step=step, mode=NumberSelectorMode.BOX)
    if maximum is not None:
        config["max"] = maximum
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def whole_number_errors(user_input: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    """Refuse a fraction in a field of whole numbers (amps, ports, unit ids, counts).

    Stored as an integer, 6.5 A would become 6 without a word: the form says so instead.
    """
    return {
        field: "whole_number"
        for field in fields
        if field in user_input and float(user_input[field]) != int(float(user_input[field]))
    }


def dropdown(
    options: list[SelectOptionDict] | list[str],
    *,
    custom_value: bool = False,
    translation_key: str | None = None,
) -> SelectSelector:
    """Offer a drop-down list of choices (optionally taking a value of the user's own)."""
    config = SelectSelectorConfig(
        options=options, mode=SelectSelectorMode.DROPDOWN, custom_value=custom_value
    )
    if translation_key is not None:
        config["translation_key"] = translation_key
    return SelectSelector(config)


def host_text() -> TextSelector:
    """Ask for a host name or address, without the browser's autocomplete (unrelated hosts)."""
    return TextSelector(TextSelectorConfig(autocomplete="off"))


def password_text() -> TextSelector:
    """Ask for a password, hidden as it is typed."""
    return TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def entries_of_kind(hass: HomeAssistant, kind: str) -> list[ConfigEntry]:
    """Return the Powershare entries of one kind."""
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_KIND) == kind
    ]


def entry_choices(entries: list[ConfigEntry]) -> list[SelectOptionDict]:
    """Offer entries by title, to be stored by entry id."""
    return [SelectOptionDict(value=entry.entry_id, label=entry.title) for entry in entries]
