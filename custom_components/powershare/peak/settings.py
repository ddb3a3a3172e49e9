"""What the user sets for a capacity tariff, and the clock-aligned windows it is billed over."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from datetime import datetime

MIN_LIMIT_W: Final = 1000.0
"""A limit under 1 kW would stop the cars for a fridge: refused."""
DEFAULT_FLOOR_W: Final = 2500.0
"""The Flemish minimum billed peak: a month's peak under it costs the same."""
WINDOW_MINUTES: Final = (15, 60)
"""Flanders bills quarter-hours; Sweden and Norway hours."""


class PeakMode(StrEnum):
    """How the peak limit is chosen.

    - off: no budget (the fuses and a group's max power alone limit).
    - fixed: a limit the user sets, in watts.
    - month_peak: stay under this month's highest window so far, but never under the floor
      (so the first days of a month do not lock the peak at almost nothing).
    """

    OFF = "off"
    FIXED = "fixed"
    MONTH_PEAK = "month_peak"


@dataclass(frozen=True, slots=True)
class PeakSettings:
    """A site's capacity tariff settings."""

    mode: PeakMode = PeakMode.OFF
    limit_w: float | None = None
    """The fixed limit (mode fixed)."""
    floor_w: float = DEFAULT_FLOOR_W
    """The lowest limit of mode month_peak."""
    window_min: int = 15

    def __post_init__(self) -> None:
        """Refuse settings no capacity tariff has (ValueError with a clear message)."""
        if self.window_min not in WINDOW_MINUTES:
            raise ValueError(f"the window must be one of {WINDOW_MINUTES} minutes")
        if self.floor_w < MIN_LIMIT_W:
            raise ValueError(f"the floor must be at least {MIN_LIMIT_W:.0f} W")
        if self.mode is PeakMode.FIXED and (self.limit_w is None or self.limit_w < MIN_LIMIT_W):
            raise ValueError(f"a fixed limit must be at least {MIN_LIMIT_W:.0f} W")

    @property
    def window_s(self) -> float:
        """The window's length in seconds."""
        return self.window_min * 60.0

    def limit_in_force(self, month_peak_w: float | None) -> float | None:
        """Return the limit this window's average must stay under (None: mode off)."""
        if self.mode is PeakMode.FIXED:
            return self.limit_w
        if self.mode is PeakMode.MONTH_PEAK:
            return max(self.floor_w, month_peak_w or 0.0)
        return None


def window_start(moment: datetime, window_s: float) -> float:
    """Return the start (Unix seconds) of the clock-aligned window holding `moment`.

    Aligned to the local clock (`moment` must carry its time zone): every zone's offset is a
    whole number of quarter-hours, and an hourly window in a zone half an hour off UTC starts
    at the local full hour, as the meter there counts it.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("the moment needs a time zone")
    epoch = moment.timestamp()
    local = epoch + offset.total_seconds()
    return epoch - (local % window_s)


def month_of(moment: datetime) -> str:
    """Return the billing month of a local moment, as YYYY-MM."""
    return f"{moment.year:04d}-{moment.month:02d}"
