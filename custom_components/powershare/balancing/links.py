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
    from custom_components.powershare.devices.teltocharge import TeltoChargeReading

CHARGER_HISTORY = 8
"""Charger readings kept to line them up with the meter's (several seconds at 1-2 s polls)."""


@dataclass
class ChargerLink:
    """What the service knows of one loaded charger entry."""

    entry: ConfigEntry[Any]
    coordinator: ChargerCoordinator
    history: deque[TeltoChargeReading] = field(
        default_factory=lambda: deque(maxlen=CHARGER_HISTORY)
    )
    last_write: float = float("-inf")
    """When Powershare last wrote to the charger (the service's clock)."""
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""

    def remember(self) -> None:
        """Keep the coordinator's latest reading."""
        reading: TeltoChargeReading | None = self.coordinator.data
        if reading is not None and (not self.history or self.history[-1] is not reading):
            self.history.append(reading)

    def currents_at(self, moment: float) -> tuple[float, float, float]:
        """Return what the charger drew at `moment`: its last reading taken at or before it.

        The meter's figure includes the chargers' draw at the meter's instant; subtracting a
        newer charger reading (after a cut, say) would count the difference as house load.
        """
        for reading in reversed(self.history):
            if reading.measured_at <= moment:
                return reading.currents_a
        return self.history[0].currents_a if self.history else (0.0, 0.0, 0.0)


@dataclass
class MeterLink:
    """What the service knows of one loaded meter entry."""

    entry: ConfigEntry[Any]
    coordinator: MeterCoordinator | SensorMeterCoordinator
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""
