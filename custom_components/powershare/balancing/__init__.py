"""The balancing service: one per Home Assistant instance, it runs the engine on the entries.

It turns the loaded entries into the engine's `SiteConfig` (`site`), runs `Balancer.step` on a
`Snapshot` of every meter and charger (`snapshot`) whenever a meter has a fresh reading,
writes each charger's decision through its driver and feeds its watchdog (`apply`), and hands
the same `Decision` to the entities, so a dashboard shows exactly what was decided (`service`).
`links` holds what the service keeps of each loaded charger and meter.
"""

from .apply import held_if_silent
from .links import ChargerLink, MeterLink
from .service import BalancingService, SiteProblem

__all__ = [
    "BalancingService",
    "ChargerLink",
    "MeterLink",
    "SiteProblem",
    "held_if_silent",
]
