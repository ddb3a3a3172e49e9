"""The site's supply: three phases with neutral, three lines without, or a single phase.

- 3 x 400 V with neutral (TN, TT): every load is between a phase and the neutral at 230 V, a
  single-phase charger loads one phase, and one amp on one phase is 230 W.
- 3 x 230 V without neutral (IT, or TT without neutral; Belgium, Norway): the voltage is 230 V
  between lines. A single-phase charger is connected between two lines and loads both with
  its current (P = 230 V x I); a three-phase charger loads all three (P = sqrt(3) x 230 V x I).
  One amp summed over the lines is thus between 115 W (loads between two lines) and 133 W
  (balanced three-phase loads).
- A single phase: as the first, with one phase.

The engine works in amps per line (fuses) and in amps at the nominal 230 V (power caps and
the solar budget); `power_amps` and `load_power_amps` convert between them.
"""

from __future__ import annotations

import math
from enum import StrEnum

SQRT3 = math.sqrt(3.0)


class Network(StrEnum):
    """The supply (see the module docstring)."""

    THREE_PHASE_WITH_NEUTRAL = "3x400"
    THREE_LINES_WITHOUT_NEUTRAL = "3x230"
    SINGLE_PHASE = "1x230"

    @property
    def without_neutral(self) -> bool:
        """Whether single-phase loads sit between two lines."""
        return self is Network.THREE_LINES_WITHOUT_NEUTRAL


def power_amps(network: Network, lines: int) -> float:
    """Return the power of one amp of a charger drawing on `lines` lines, in amps at 230 V.

    With neutral, one per phase; without, 1 for a charger between two lines and sqrt(3) for a
    three-phase one.
    """
    if not network.without_neutral:
        return float(lines)
    return SQRT3 if lines >= 3 else 1.0  # noqa: PLR2004  # three lines: a three-phase charger


def load_power_amps(network: Network, line_sum: float) -> float:
    """Return a load's power in amps at 230 V from the sum of its currents over the lines.

    Without neutral the mix of its two-line and three-line loads is unknown: an import counts
    at the most it can be (sum / sqrt(3)), an export at the least (sum / 2), so a power cap is
    never overstated and a surplus never too large.
    """
    if not network.without_neutral:
        return line_sum
    return line_sum / SQRT3 if line_sum > 0 else line_sum / 2.0
