"""Auto-lock, as in the V2C guide: a charger locks itself after a minute without activity.

Without activity means no car, or a car that does not draw what it is offered (it finished).
Off by default, per charger (`OPT_AUTO_LOCK`). It turns on the same lock as the *Charger
locked* switch, and unlocking is as always: the switch (after which, with still no car, it
locks again a minute later).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from custom_components.powershare.engine import Reason
from custom_components.powershare.settings import OPT_AUTO_LOCK, OPT_CHARGING_LOCKED, setting

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.engine import Decision

    from .links import ChargerLink

AUTO_LOCK_AFTER_S: Final = 60.0
IDLE: Final = frozenset({Reason.NO_CAR, Reason.CAR_NOT_DRAWING})
"""The reasons of a charger without activity: no car, or one that takes nothing."""


class AutoLock:
    """When each charger with auto-lock on went idle (by entry id)."""

    def __init__(self) -> None:
        """Start with every charger active."""
        self.idle_since: dict[str, float] = {}

    def check(
        self, hass: HomeAssistant, decision: Decision, chargers: Mapping[str, ChargerLink]
    ) -> None:
        """Lock the chargers idle for `AUTO_LOCK_AFTER_S` that have auto-lock on."""
        for entry_id, link in chargers.items():
            entry = link.entry
            verdict = decision.chargers.get(entry_id)
            wanted = bool(setting(entry, OPT_AUTO_LOCK, default=False))
            locked = bool(setting(entry, OPT_CHARGING_LOCKED, default=False))
            # A charger that does not answer shows as no car: not a sign of no activity.
            idle = verdict is not None and verdict.reason in IDLE and link.answering
            if not wanted or locked or not idle:
                self.idle_since.pop(entry_id, None)
                continue
            since = self.idle_since.setdefault(entry_id, decision.now)
            if decision.now - since >= AUTO_LOCK_AFTER_S:
                del self.idle_since[entry_id]
                hass.config_entries.async_update_entry(
                    entry, options={**entry.options, OPT_CHARGING_LOCKED: True}
                )
