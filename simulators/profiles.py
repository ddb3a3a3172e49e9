"""Currents over time, per site phase: the non-EV loads and solar production of a virtual site.

A `Profile` gives a current per site phase at a time: `PhaseProfile` (held between points, or
linear between them), `SumProfile` (several added together, e.g. a house's appliances),
`switched` (an appliance on during given periods) and `solar_day` (a clear-sky solar curve).
`simulators.site` reads them for each group; the scenario files describe them in YAML.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

type Currents = tuple[float, float, float]
ZERO: Currents = (0.0, 0.0, 0.0)


class Profile(Protocol):
    """Anything that gives a current per site phase at a time."""

    def at(self, time: float) -> Currents:
        """Return the currents at `time`."""
        ...


@dataclass(frozen=True, slots=True)
class PhaseProfile:
    """Current per site phase over time: held between points, or linear between them."""

    points: tuple[tuple[float, Currents], ...]
    interpolate: bool = False
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Require at least one point and increasing times."""
        if not self.points:
            raise ValueError("a profile needs at least one point")
        times = [time for time, _ in self.points]
        if any(later <= earlier for earlier, later in itertools.pairwise(times)):
            raise ValueError("the times of a profile must increase")
        # A frozen dataclass sets its derived fields through object.__setattr__.
        object.__setattr__(self, "_times", tuple(times))

    @classmethod
    def constant(cls, currents: Currents) -> PhaseProfile:
        """Return a profile that never changes."""
        return cls(((0.0, currents),))

    def at(self, time: float) -> Currents:
        """Return the currents at `time`."""
        index = bisect.bisect_right(self._times, time) - 1
        if index < 0:
            return self.points[0][1]
        start, values = self.points[index]
        if not self.interpolate or index + 1 >= len(self.points):
            return values
        end, following = self.points[index + 1]
        weight = (time - start) / (end - start)
        return (
            values[0] + (following[0] - values[0]) * weight,
            values[1] + (following[1] - values[1]) * weight,
            values[2] + (following[2] - values[2]) * weight,
        )


@dataclass(frozen=True, slots=True)
class SumProfile:
    """Several profiles added together (a house: standby + heat pump + oven + ...)."""

    parts: tuple[Profile, ...]

    def at(self, time: float) -> Currents:
        """Return the sum of the parts at `time`."""
        total = [0.0, 0.0, 0.0]
        for part in self.parts:
            _add(total, part.at(time))
        return (total[0], total[1], total[2])


def switched(currents: Currents, periods: Iterable[tuple[float, float]]) -> PhaseProfile:
    """Return an appliance drawing `currents` during the (start, end) periods, else nothing."""
    points: list[tuple[float, Currents]] = [(0.0, ZERO)]
    for start, end in sorted(periods):
        if end <= start:
            raise ValueError(f"a period must end after it starts ({start} s, {end} s)")
        if start < points[-1][0]:
            raise ValueError(f"periods overlap at {start} s")
        if start == points[-1][0]:
            points[-1] = (start, currents)
        else:
            points.append((start, currents))
        points.append((end, ZERO))
    return PhaseProfile(tuple(points))


def solar_day(
    peak_a: float,
    sunrise: float,
    sunset: float,
    *,
    clouds: Iterable[tuple[float, float, float]] = (),
    step: float = 300.0,
) -> PhaseProfile:
    """Return a clear-sky solar curve (sine from sunrise to sunset), amps per phase.

    `peak_a` is the production per phase at solar noon; `clouds` are (start, end, factor)
    periods in which production is multiplied by factor.
    """
    if sunset <= sunrise:
        raise ValueError("sunset must come after sunrise")
    shades = tuple(clouds)
    points: list[tuple[float, Currents]] = [(0.0, ZERO)]
    time = sunrise
    while time <= sunset:
        amps = peak_a * math.sin(math.pi * (time - sunrise) / (sunset - sunrise))
        for start, end, factor in shades:
            if start <= time < end:
                amps *= factor
        amps = max(amps, 0.0)
        points.append((time, (amps, amps, amps)))
        time += step
    if points[-1][0] < sunset:
        points.append((sunset, ZERO))
    else:  # sin(pi) is 1e-16, not 0: the night must be dark
        points[-1] = (sunset, ZERO)
    return PhaseProfile(tuple(points), interpolate=True)


def _add(row: list[float], values: Currents) -> None:
    row[0] += values[0]
    row[1] += values[1]
    row[2] += values[2]
