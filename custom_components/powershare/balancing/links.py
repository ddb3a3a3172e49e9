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
    from custom_components.powershare.devices.teltocharge import (
        TeltoChargeReading,
        TeltoChargeSettings,
    )

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
    sent: TeltoChargeSettings | None = None
    """The charger's settings as Powershare's last write left them."""
    sent_at: float = float("-inf")
    """When that write began (the driver's clock, which dates the readings)."""
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""

    def remember(self) -> None:
        """Keep the coordinator's latest reading."""
        reading: TeltoChargeReading | None = self.coordinator.data
        if reading is not None and (not self.history or self.history[-1] is not reading):
            self.history.append(reading)

    def settings_now(self, reading: TeltoChargeReading) -> TeltoChargeSettings:
        """Return the charger's settings: the reading's, or what was written after it was taken.

        A cycle that runs before the charger is read again would otherwise write the same
        values a second time; a reading taken after the write is the authority again (what
        the charger's own app changed is re-asserted).
        """
        if self.sent is not None and reading.measured_at < self.sent_at:
            return self.sent
        return reading.settings

    def reading_at(self, moment: float) -> TeltoChargeReading | None:
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
