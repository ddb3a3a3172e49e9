"""The memory every step of the config flow shares, whichever kind of entry it builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow

if TYPE_CHECKING:
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
        self._group: dict[str, Any] = {}
        """The group's data, kept while the root group's site step is asked."""

    @property
    def _reconfiguring(self) -> bool:
        return self.source == SOURCE_RECONFIGURE
