"""Repair issues a user can act on: raised after a problem lasts, cleared when it is over.

- `device_unreachable`: a charger or meter has not answered for `UNREACHABLE_AFTER`.
- `meter_silent`: a group is on the failsafe share because its metering point is silent.
- `below_minimum`: a group cannot give every connected car its minimum current, so cars take
  turns; the user can raise the fuse (if the installation allows), lower minimum currents, or
  set priorities.
- `meter_removed`: a group still names a meter whose entry was deleted (reconfigure the group).
- `site_problem`: the groups do not form one tree (no root, two roots, a removed parent).
- `meter_phases`: a single-phase meter at a group with a three-phase charger below it: the
  phases the meter does not measure are not protected.
- `charger_out_of_control`: a charger draws more than it was told (its own app, a fault, a car
  that ignores the pilot); its draw is counted as load, but it cannot be stopped from here.
- `meter_implausible`: a meter keeps sending readings that cannot be real (not a number, or
  more export than its group's fuse can carry); they are ignored as if missing.
- `limit_overwritten`: something else keeps changing the limit of a charger driven through
  another integration's entities (its own load balancer, a tariff app); Powershare stopped
  setting it back.
- `peak_by_house`: a window of the capacity tariff went over the limit because the house alone
  imported more (the cars were held back): until the month ends.
- `plan_short`: a charger's plan cannot deliver what its car needs by the departure (said
  when the plan is made, not in the morning).
- `unattended_overload`: if Home Assistant stopped now, chargers without a watchdog would keep
  limits that, with the others' failsafe currents, exceed a group's fuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .engine.model import Reason

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .engine.model import Decision
    from .peak import PeakRecord

UNREACHABLE_AFTER = 300.0
"""Seconds a device may be silent before a repair issue (a reboot or a Wi-Fi hiccup is not)."""
SILENT_METER_AFTER = 60.0
"""Seconds a group may be on its failsafe share before a repair issue."""
BELOW_MINIMUM_AFTER = 900.0
"""Seconds cars must have been taking turns before a repair issue."""
OUT_OF_CONTROL_AFTER = 60.0
"""Seconds a charger may draw more than told before a repair issue (a car that is slow to
follow one cut is not a fault)."""
IMPLAUSIBLE_AFTER = 60.0
"""Seconds of readings that cannot be real before a repair issue (one garbled reply is not)."""
UNATTENDED_AFTER = 120.0
"""Seconds the held currents must exceed a fuse before a repair issue (a start that the next
cycle shares out again is not)."""


@dataclass
class ProblemClock:
    """When each ongoing problem started (keyed by issue id)."""

    since: dict[str, float] = field(default_factory=dict)

    def lasting(self, key: str, *, active: bool, now: float) -> float:
        """Return for how long `key` has been active (0 when it is not)."""
        if not active:
            self.since.pop(key, None)
            return 0.0
        return now - self.since.setdefault(key, now)

    def ongoing(self, prefix: str) -> set[str]:
        """Return the rest of every ongoing problem's key that starts with `prefix`."""
        return {key.removeprefix(prefix) for key in self.since if key.startswith(prefix)}


@dataclass
class RepairTracker:
    """Turns what each cycle saw into repair issues."""

    hass: HomeAssistant
    clock: ProblemClock = field(default_factory=ProblemClock)
    raised: set[str] = field(default_factory=set)

    def device(self, entry_id: str, title: str, *, reachable: bool, now: float) -> None:
        """Track a device's reachability."""
        issue_id = f"device_unreachable_{entry_id}"
        lasting = self.clock.lasting(issue_id, active=not reachable, now=now)
        self._set(
            issue_id, "device_unreachable", {"name": title}, raise_it=lasting >= UNREACHABLE_AFTER
        )

    def meter_removed(self, group_id: str, name: str, *, removed: bool) -> None:
        """Track a group whose metering point's entry no longer exists."""
        issue_id = f"meter_removed_{group_id}"
        self._set(issue_id, "meter_removed", {"name": name}, raise_it=removed)

    def meter_phases(self, group_id: str, names: dict[str, str] | None) -> None:
        """Track a group whose meter measures fewer phases than a charger below it uses."""
        issue_id = f"meter_phases_{group_id}"
        self._set(issue_id, "meter_phases", names or {}, raise_it=names is not None)

    def limit_overwritten(self, entry_id: str, title: str, *, overwritten: bool) -> None:
        """Track a charger whose limit something else keeps changing."""
        issue_id = f"limit_overwritten_{entry_id}"
        self._set(issue_id, "limit_overwritten", {"name": title}, raise_it=overwritten)

    def plan_short(self, entry_id: str, placeholders: dict[str, str] | None) -> None:
        """Track a charger whose plan cannot meet its target by the departure."""
        issue_id = f"plan_short_{entry_id}"
        self._set(issue_id, "plan_short", placeholders or {}, raise_it=placeholders is not None)

    def unattended(self, group_id: str, placeholders: dict[str, str] | None, now: float) -> None:
        """Track a group a stopped Home Assistant could overload (`balancing.unattended`)."""
        issue_id = f"unattended_overload_{group_id}"
        lasting = self.clock.lasting(issue_id, active=placeholders is not None, now=now)
        self._set(
            issue_id,
            "unattended_overload",
            placeholders or {},
            raise_it=placeholders is not None and lasting >= UNATTENDED_AFTER,
        )

    def peak_by_house(self, window: PeakRecord | None) -> None:
        """Tell the user this month's peak was set by the house, not the cars (or clear it)."""
        placeholders = {}
        if window is not None:
            start = dt_util.as_local(dt_util.utc_from_timestamp(window.start))
            placeholders = {
                "average": f"{window.average_w / 1000:.2f}",
                "start": start.strftime("%Y-%m-%d %H:%M"),
            }
        self._set("peak_by_house", "peak_by_house", placeholders, raise_it=window is not None)

    def site(self, problem: str | None) -> None:
        """Track whether the site can be balanced at all."""
        self._set(
            "site_problem", "site_problem", {"problem": problem or ""}, raise_it=problem is not None
        )

    def decision(self, decision: Decision, titles: dict[str, str]) -> None:
        """Track the problems one decision shows (`titles`: entry titles by entry id)."""
        now = decision.now
        self._lasting_problems(
            "charger_out_of_control", decision.out_of_control, titles, now, OUT_OF_CONTROL_AFTER
        )
        self._lasting_problems(
            "meter_implausible", decision.implausible_meters, titles, now, IMPLAUSIBLE_AFTER
        )
        # Groups whose fuse keeps a car below its minimum (paused for others, or alone).
        starved = {
            charger.limit_group
            for charger in decision.chargers.values()
            if charger.reason in (Reason.PAUSED_FOR_OTHERS, Reason.BELOW_MIN)
            and not charger.by_peak_budget  # the user chose the budget: no fuse is short
        }
        for group_id, figures in decision.groups.items():
            name = titles.get(group_id, group_id)
            silent = f"meter_silent_{group_id}"
            lasting = self.clock.lasting(silent, active=figures.meter_stale, now=now)
            self._set(
                silent, "meter_silent", {"name": name}, raise_it=lasting >= SILENT_METER_AFTER
            )
            below = f"below_minimum_{group_id}"
            paused = group_id in starved
            lasting = self.clock.lasting(below, active=paused, now=now)
            self._set(
                below, "below_minimum", {"name": name}, raise_it=lasting >= BELOW_MINIMUM_AFTER
            )

    def _lasting_problems(
        self, key: str, entry_ids: tuple[str, ...], titles: dict[str, str], now: float, after: float
    ) -> None:
        """Raise `key` for each entry that has had the problem for `after`; clear the rest."""
        having = set(entry_ids)
        for entry_id in having | self.clock.ongoing(f"{key}_"):
            issue_id = f"{key}_{entry_id}"
            lasting = self.clock.lasting(issue_id, active=entry_id in having, now=now)
            name = titles.get(entry_id, entry_id)
            self._set(issue_id, key, {"name": name}, raise_it=lasting >= after)

    def clear_all(self) -> None:
        """Remove every issue this tracker raised (the integration is unloaded)."""
        for issue_id in list(self.raised):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self.raised.clear()
        self.clock.since.clear()

    def _set(
        self, issue_id: str, key: str, placeholders: dict[str, str], *, raise_it: bool
    ) -> None:
        if raise_it and issue_id not in self.raised:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING
                if key in ("below_minimum", "peak_by_house", "plan_short")
                else ir.IssueSeverity.ERROR,
                translation_key=key,
                translation_placeholders=placeholders,
            )
            self.raised.add(issue_id)
        elif not raise_it and issue_id in self.raised:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            self.raised.discard(issue_id)
