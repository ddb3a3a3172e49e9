"""The capacity tariff: a peak budget at the grid connection (Home Assistant-free).

`PeakSettings` holds what the user chose (off, a fixed limit, or this month's peak with a
floor; a 15- or 60-minute window); `PeakTracker` follows the windows and the month's peak and
gives each cycle's `PeakBudget`, whose `site_power_w` the balancer takes as one more power
limit at the root (`engine.Snapshot.peak_power_w`).
"""

from .settings import (
    DEFAULT_FLOOR_W,
    MIN_LIMIT_W,
    WINDOW_MINUTES,
    PeakMode,
    PeakSettings,
    month_of,
    window_start,
)
from .tracker import (
    AIM,
    LAST_MINUTE_S,
    RISE_EVERY_S,
    PeakBudget,
    PeakRecord,
    PeakSample,
    PeakTracker,
)

__all__ = [
    "AIM",
    "DEFAULT_FLOOR_W",
    "LAST_MINUTE_S",
    "MIN_LIMIT_W",
    "RISE_EVERY_S",
    "WINDOW_MINUTES",
    "PeakBudget",
    "PeakMode",
    "PeakRecord",
    "PeakSample",
    "PeakSettings",
    "PeakTracker",
    "month_of",
    "window_start",
]
