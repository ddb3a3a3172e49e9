"""What the balancing service holds of each loaded charger and meter entry."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import CALLBACK_TYPE

    from custom_components.powershare.coordinator import (
        ChargerCoordinator,
        MeterCoordinator,
        SensorMeterCoordinator,
    )
    from custom_components.powershare.devices.charger import ChargerReading

CHARGER_HISTORY = 8
"""Charger readings kept to line them up with the meter's (several seconds at 1-2 s polls)."""


@dataclass
class ChargerLink:
    """What the service knows of one loaded charger entry."""

    entry: ConfigEntry[Any]
    coordinator: ChargerCoordinator
    history: deque[ChargerReading] = field(default_factory=lambda: deque(maxlen=CHARGER_HISTORY))
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""

    def remember(self) -> None:
        """Keep the coordinator's latest reading."""
        reading: ChargerReading | None = self.coordinator.data
        if reading is not None and (not self.history or self.history[-1] is not reading):
            self.history.append(reading)

    @property
    def answering(self) -> bool:
        """Whether the charger answered its last poll (else nothing is known of it now)."""
        return self.coordinator.data is not None and self.coordinator.last_update_success

    def reading_at(self, moment: float) -> ChargerReading | None:
        """Return the reading that tells what the charger drew at `moment`.

        Its last reading taken at or before `moment` (the oldest kept when all are newer).
        The meter's figure includes the chargers' draw at the meter's instant; subtracting a
        newer charger reading (after a cut, say) would count the difference as house load.
        """
        for reading in reversed(self.history):
            if reading.measured_at <= moment:
                return reading
        return self.history[0] if self.history else None


@dataclass
class MeterLink:
    """What the service knows of one loaded meter entry."""

    entry: ConfigEntry[Any]
    coordinator: MeterCoordinator | SensorMeterCoordinator
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""
