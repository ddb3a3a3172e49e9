"""Times in a scenario file: seconds, durations ("1h30m") and clock times ("18:00")."""

from __future__ import annotations

import math
import re

from .model import ScenarioError

_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$"
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?$")


def parse_time(value: object, where: str) -> float:
    """Return the seconds a scenario time stands for.

    A number is seconds; a duration is "90s", "5m", "1h30m" or "1d"; a clock time "18:00" or
    "07:30:15" counts from the scenario's day at 00:00. Every time counts from that midnight:
    a run begins there, or at its `site.start`.
    """
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a time, got {value!r}")
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise ScenarioError(f"{where}: a time must be a finite number >= 0, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        clock = _CLOCK.match(text)
        if clock:
            hours, minutes, seconds = clock.groups()
            return int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds or 0)
        duration = _DURATION.match(text)
        if duration and text:
            days, hours, minutes, seconds = (float(part or 0) for part in duration.groups())
            return days * 86400 + hours * 3600 + minutes * 60 + seconds
    raise ScenarioError(
        f"{where}: expected a time (seconds, '90s', '5m', '2h', '1h30m' or '18:00'), got {value!r}"
    )


def format_clock(seconds: float) -> str:
    """Return `seconds` as H:MM:SS (hours may pass 24)."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
