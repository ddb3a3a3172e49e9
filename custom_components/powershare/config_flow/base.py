"""The memory every step of the config flow shares, whichever kind of entry it builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult

    from custom_components.powershare.coordinator import PowershareConfigEntry
    from custom_components.powershare.devices.meters import MeterModel


class PowershareFlowBase(ConfigFlow):
    """The entry being built; the step mixins of each kind extend this class."""

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._model: MeterModel | None = None
        """The meter model being added (None: a charger, or Home Assistant sensors)."""
        self._connection: dict[str, Any] = {}
        """The connection that identified the device (or, before pairing, will)."""
        self._serial_number = 0
        """The charger's, once identified."""
        self._charger_title: str | None = None
        """A charger found another way than by its serial number (its device's name)."""
        self._group: dict[str, Any] = {}
        """The group's data, kept while the root group's site step is asked."""

    @property
    def _reconfiguring(self) -> bool:
        return self.source == SOURCE_RECONFIGURE

    def _save_reconfigured(
        self,
        entry: PowershareConfigEntry,
        *,
        data: Mapping[str, Any] | None = None,
        data_updates: Mapping[str, Any] | None = None,
    ) -> ConfigFlowResult:
        """Store a reconfigure; the settings it sets leave the options.

        An entity stores its setting as an option, over the data; a reconfigure stores data.
        Each setting has one value in force, the last one the user set, whichever way.
        """
        written = dict(data if data is not None else data_updates or {})
        options = {key: value for key, value in entry.options.items() if key not in written}
        if data is not None:
            return self.async_update_reload_and_abort(entry, data=data, options=options)
        return self.async_update_reload_and_abort(entry, data_updates=written, options=options)
