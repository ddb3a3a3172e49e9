"""What flows on a site's lines when a charger draws: the physics the simulations share.

Each charger phase flows on the site line its rotation puts it on. Without a neutral (3 x 230 V)
a draw on one charger phase (a single-phase charger's, or a one-phase car's) returns through
the charger's neutral terminal, wired to the line of its L2 (of its L3 for a draw on L2): it
flows on two lines, and the charger measures only the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.powershare.engine import PHASES, Phase

if TYPE_CHECKING:
    from custom_components.powershare.engine import Network, PhaseRotation

type Triple = tuple[float, float, float]


def line_currents(network: Network, rotation: PhaseRotation, draw: Triple) -> Triple:
    """Return the current on each site line when a charger draws `draw` (per charger phase)."""
    site = [0.0, 0.0, 0.0]
    for phase in PHASES:
        site[rotation.site_phase(phase)] += draw[phase]
    drawing = [phase for phase in PHASES if draw[phase] > 0]
    if network.without_neutral and len(drawing) == 1:
        (phase,) = drawing
        neutral_terminal = Phase.L3 if phase is Phase.L2 else Phase.L2
        site[rotation.site_phase(neutral_terminal)] += draw[phase]
    return (site[0], site[1], site[2])
