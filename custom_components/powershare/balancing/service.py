"""The balancing service: one per Home Assistant instance; it schedules the cycles.

A cycle runs whenever a meter has a fresh reading, and when readings stop, every `CYCLE_FLOOR`
(the floor timer runs one only when none ran for that long: one cycle per reading): it takes
a snapshot (`snapshot`), lets the engine decide, applies the decision (`apply`), raises or
clears repair issues, and tells the entities, which show the same `Decision` object.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from custom_components.powershare.const import CONF_METER, LOGGER
from custom_components.powershare.engine import PHASES, Balancer
from custom_components.powershare.engine.network import load_power_amps
from custom_components.powershare.repairs import RepairTracker
from custom_components.powershare.settings import OPT_SOLAR_FORECAST, setting

from .apply import (
    async_apply_decision,
    async_apply_failsafe,
    async_release,
    held_if_silent,
)
from .auto_lock import AutoLock
from .outlook import Outlook, house_amps
from .peak import PeakKeeper, peak_settings
from .plans import PlanKeeper
from .prices import PriceSource, tariff_of
from .sessions import SessionLog
from .site import build_site, root_group, schedules_moved, three_phase_chargers_below
from .snapshot import take_snapshot
from .unattended import Held, unattended_overloads

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry

    from custom_components.powershare.devices.meters import MeterReading as MeterReadingOfDevice
    from custom_components.powershare.engine import Decision, SiteConfig
    from custom_components.powershare.peak import PeakBudget

    from .links import ChargerLink, MeterLink

CYCLE_FLOOR = timedelta(seconds=2)
FLOOR_CHECK = timedelta(seconds=0.5)
"""How often the floor timer looks whether a cycle ran within `CYCLE_FLOOR`."""
"""A cycle runs at least this often, even when no meter reports (so stale meters are noticed)."""
CYCLE_COOLDOWN_S = 0.25
"""Meter updates closer together than this share one cycle."""


@dataclass
class SiteProblem:
    """Why the site cannot be balanced (shown by the groups and as a repair issue)."""

    message: str


@dataclass
class BalancingService:
    """Runs the engine against the loaded entries and applies its decisions."""

    hass: HomeAssistant
    chargers: dict[str, ChargerLink] = field(default_factory=dict)
    meters: dict[str, MeterLink] = field(default_factory=dict)
    groups: dict[str, ConfigEntry[Any]] = field(default_factory=dict)
    decision: Decision | None = None
    problem: SiteProblem | None = None
    cycles: int = 0
    _site: SiteConfig | None = None
    """The site `_balancer` was built for (both None while the entries form no valid site)."""
    _balancer: Balancer | None = None
    _listeners: list[Callable[[], None]] = field(default_factory=list)
    _debouncer: Debouncer[Any] | None = None
    _cycle_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _timer: CALLBACK_TYPE | None = None
    _stop_listener: CALLBACK_TYPE | None = None
    _released: bool = False
    """Home Assistant stops and the chargers were released: no more cycles."""
    clock: Callable[[], float] = time.time
    _last_cycle: float = float("-inf")
    """When the last cycle started, on the event loop's clock."""
    repairs: RepairTracker = field(init=False)
    peak: PeakKeeper = field(init=False)
    """The capacity tariff's peak budget at the root group."""
    auto_lock: AutoLock = field(default_factory=AutoLock)
    sessions: SessionLog = field(init=False)
    """Charging sessions in progress, each charger's last one, energy and cost totals."""
    prices: PriceSource = field(init=False)
    """The price of a kWh, from the root group's tariff."""
    plans: PlanKeeper = field(init=False)
    """The charging plans of the cars with a departure and a target."""

    def __post_init__(self) -> None:
        """Create the repair tracker and the peak budget."""
        self.repairs = RepairTracker(self.hass)
        self.peak = PeakKeeper(self.hass)
        self.sessions = SessionLog(self.hass)
        self.prices = PriceSource(self.hass)
        self.plans = PlanKeeper(self.hass)

    @property
    def site(self) -> SiteConfig | None:
        """The site configuration in force (None while the entries form no valid site)."""
        return self._site

    # -- entries come and go -------------------------------------------------------------

    @callback
    def add_charger(self, link: ChargerLink) -> None:
        """Balance a newly loaded charger."""
        self.chargers[link.entry.entry_id] = link
        link.remember()
        link.unsubscribe = link.coordinator.async_add_listener(link.remember)
        self._changed()

    @callback
    def add_meter(self, link: MeterLink) -> None:
        """Use a newly loaded meter; each of its readings triggers a cycle."""
        self.meters[link.entry.entry_id] = link
        link.unsubscribe = link.coordinator.async_add_listener(self.async_request_cycle)
        self._changed()

    @callback
    def add_group(self, entry: ConfigEntry[Any]) -> None:
        """Use a newly loaded group."""
        self.groups[entry.entry_id] = entry
        self._changed()

    @callback
    def remove(self, entry_id: str) -> None:
        """Forget an unloaded entry; the site is rebuilt without it."""
        for links in (self.chargers, self.meters):
            link = links.pop(entry_id, None)
            if link is not None and link.unsubscribe is not None:
                link.unsubscribe()
        self.groups.pop(entry_id, None)
        self._changed()

    async def async_remove_charger(self, entry_id: str) -> None:
        """Forget an unloading charger and leave it safe on its own (no cycle in between)."""
        async with self._cycle_lock:
            link = self.chargers.get(entry_id)
            self.remove(entry_id)
            if link is not None:
                await async_release(link)

    async def async_release_all(self, _event: Any = None) -> None:
        """Leave every charger safe on its own: Home Assistant stops.

        A charger without a watchdog would otherwise keep its last limit.
        """
        self._stop_listener = None  # it fired: nothing to remove any more
        async with self._cycle_lock:
            self._released = True  # no cycle after this one undoes it
            for link in list(self.chargers.values()):
                await async_release(link)

    @callback
    def settings_changed(self) -> None:
        """Rebuild the site and run a cycle: a user setting (mode, limit, fuse) changed."""
        self._changed()

    @callback
    def _changed(self) -> None:
        self._rebuild()
        self._ensure_running()
        self.async_request_cycle()

    def _rebuild(self) -> None:
        try:
            site = build_site(self.groups, self.chargers.values(), self.plans.limits)
        except ValueError as err:
            self.problem = SiteProblem(str(err))
            self._site = self._balancer = None
            return
        self.problem = None
        self._site = site
        root = root_group(self.groups)
        self.peak.configure(peak_settings(root))
        self.prices.configure(tariff_of(root))
        # Reconfigured rather than replaced: the balancer's memory (what each car drew, the
        # solar and phase timers) stays valid for whatever the change left in place.
        if self._balancer is None:
            self._balancer = Balancer(site)
        else:
            self._balancer.reconfigure(site)

    # -- listeners (entities) ------------------------------------------------------------

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update` after every cycle; return the function that stops it."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    # -- scheduling cycles ---------------------------------------------------------------

    @callback
    def _ensure_running(self) -> None:
        if self._debouncer is None:
            self._debouncer = Debouncer(
                self.hass,
                LOGGER,
                cooldown=CYCLE_COOLDOWN_S,
                immediate=True,
                function=self.async_run_cycle,
                background=True,
            )
        if self._stop_listener is None:
            self._stop_listener = self.hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_STOP, self.async_release_all
            )
        if self._timer is None:
            self._timer = async_track_time_interval(
                self.hass,
                self._floor,
                FLOOR_CHECK,
                name="Powershare balancing",
                cancel_on_shutdown=True,
            )

    @callback
    def _floor(self, _now: Any) -> None:
        """Run a cycle when no reading brought one for `CYCLE_FLOOR`."""
        if self.hass.loop.time() - self._last_cycle >= CYCLE_FLOOR.total_seconds():
            self.async_request_cycle()

    @callback
    def async_request_cycle(self) -> None:
        """Ask for a cycle soon (coalesced with other requests)."""
        if self._debouncer is not None:
            self.hass.async_create_task(
                self._debouncer.async_call(), "powershare balancing cycle", eager_start=True
            )

    # -- the cycle -----------------------------------------------------------------------

    async def async_run_cycle(self) -> None:
        """Take a snapshot, decide, write the chargers, update the entities.

        Cycles never overlap: the decision of one is written before the next one looks.
        """
        async with self._cycle_lock:
            if self._released:
                return  # Home Assistant stops: the chargers were left at their failsafe
            self._last_cycle = self.hass.loop.time()
            await self._async_run_cycle()

    async def _async_run_cycle(self) -> None:
        self.repairs.site(None if self.problem is None else self.problem.message)
        if self._site is not None and schedules_moved(self._site, self.chargers, self.groups):
            self._rebuild()
        if self._balancer is None:
            self.decision = None
            await async_apply_failsafe(self.chargers.values(), self.clock())
            self._notify()
            return
        site = self._balancer.config
        snapshot = take_snapshot(
            self.hass, self.meters, self.chargers, self.clock(), site.network, site.root.meter_id
        )
        budget = self._peak_budget(self._balancer.config)
        if budget is not None:
            snapshot = replace(
                snapshot, peak_power_w=budget.site_power_w, peak_house_w=budget.house_w
            )
        decision = self._balancer.step(snapshot)
        self.decision = decision
        self.cycles += 1
        await async_apply_decision(decision, self.chargers)
        # A charger the site does not include (its group was removed) must not keep its share.
        await async_apply_failsafe(
            (link for entry_id, link in self.chargers.items() if entry_id not in decision.chargers),
            self.clock(),
        )
        self._track_problems(decision)
        self.auto_lock.check(self.hass, decision, self.chargers)
        moment = dt_util.as_local(dt_util.utc_from_timestamp(decision.now))
        self.sessions.record(decision, self.chargers, self.prices.price(moment))
        self._follow_plans(decision, site)
        self._notify()

    def _follow_plans(self, decision: Decision, site: SiteConfig) -> None:
        """Plan again if needed; a charger entering another slot is balanced at once."""
        session_kwh = {
            entry_id: session.totals.energy_kwh for entry_id, session in self.sessions.open.items()
        }
        limit_w = self.peak.tracker.limit_w if self.peak.budget is not None else None
        outlook = Outlook(  # the plan keeper adds the house's load, as it averages it
            self.prices,
            peak_limit_kw=None if limit_w is None else limit_w / 1000.0,
            solar_entity=setting(root_group(self.groups), OPT_SOLAR_FORECAST),
        )
        if self.plans.update(decision, site, self.chargers, session_kwh, outlook):
            self._rebuild()
            self.async_request_cycle()
        for entry_id, short in self.plans.shortfalls(self.chargers).items():
            self.repairs.plan_short(entry_id, short)

    def _peak_budget(self, site: SiteConfig) -> PeakBudget | None:
        """Feed the peak budget the root meter's reading; return its budget for the engine."""
        root = site.root
        meter = None if root.meter_id is None else self.meters.get(root.meter_id)
        reading = None if meter is None else meter.coordinator.data
        decision = self.decision  # the last cycle's: what the meter's reading goes with
        last = None if decision is None else decision.groups.get(root.id)
        ev_power_w = house_power_w = None
        if last is not None:
            ev_power_w = load_power_amps(site.network, sum(last.usage)) * site.voltage
            # The house's own load, as a plan sees it: the budget remembers its high for
            # minutes, and a car's draw is no house. While a charger has not answered yet or
            # draws out of control (one charging when Home Assistant starts) the house is not
            # told apart: nothing is remembered, and the engine counts that draw in its
            # non-EV load every cycle meanwhile.
            house = sum(house_amps(site.root, last))
            house_power_w = load_power_amps(site.network, house) * site.voltage
        house_known = (
            decision is not None
            and not decision.out_of_control
            and all(link.answering for link in self.chargers.values())
        )
        return self.peak.update(
            reading,
            ev_power_w or 0.0,
            dt_util.now(),
            meter_has_chargers=root.meter_includes_chargers,
            house_power_w=house_power_w,
            house_known=house_known,
        )

    def _track_problems(self, decision: Decision) -> None:
        devices: list[ChargerLink | MeterLink] = [*self.chargers.values(), *self.meters.values()]
        for link in devices:
            self.repairs.device(
                link.entry.entry_id,
                link.entry.title,
                reachable=link.coordinator.last_update_success,
                now=decision.now,
            )
        titles = {link.entry.entry_id: link.entry.title for link in devices}
        for charger in self.chargers.values():
            self.repairs.limit_overwritten(
                charger.entry.entry_id,
                charger.entry.title,
                overwritten=charger.coordinator.charger.overwritten,
            )
        titles.update((entry_id, entry.title) for entry_id, entry in self.groups.items())
        self.repairs.decision(decision, titles)
        self.repairs.peak_by_house(self.peak.house_peak)
        for entry_id, group in self.groups.items():
            meter_id: str | None = group.data.get(CONF_METER)
            removed = (
                meter_id is not None and self.hass.config_entries.async_get_entry(meter_id) is None
            )
            self.repairs.meter_removed(entry_id, group.title, removed=removed)
            self.repairs.meter_phases(entry_id, self._unmeasured_charger(entry_id, meter_id))
        self._track_unattended(decision, titles)

    def _track_unattended(self, decision: Decision, titles: dict[str, str]) -> None:
        """Raise a repair where a stopped Home Assistant could overload a fuse."""
        if self._balancer is None:
            return
        held = {
            entry_id: Held(
                amps=held_if_silent(link.entry, decision.chargers.get(entry_id))[0],
                watchdog=link.coordinator.charger.capabilities.watchdog,
            )
            for entry_id, link in self.chargers.items()
        }
        topology = self._balancer.topology
        overloads = unattended_overloads(topology, held)
        for group in topology.groups:
            found = overloads.get(group.id)
            placeholders = None
            if found is not None:
                placeholders = {
                    "group": titles.get(group.id, group.id),
                    "chargers": ", ".join(titles.get(c, c) for c in found.chargers),
                    "line": f"L{found.line + 1}",
                    "amps": f"{found.amps:.0f}",
                    "fuse": f"{found.fuse:.0f}",
                }
            self.repairs.unattended(group.id, placeholders, decision.now)

    def _unmeasured_charger(self, group_id: str, meter_id: str | None) -> dict[str, str] | None:
        """Name a three-phase charger below a group whose meter measures fewer phases.

        The meter's missing phases are taken to carry nothing (a single-phase connection);
        a three-phase charger below it says the connection has more phases than it measures.
        """
        meter = None if meter_id is None else self.meters.get(meter_id)
        reading: MeterReadingOfDevice | None = None if meter is None else meter.coordinator.data
        if self._site is None or meter is None or reading is None:
            return None
        if len(reading.phases) >= len(PHASES):
            return None
        for charger_id in three_phase_chargers_below(self._site, group_id):
            link = self.chargers.get(charger_id)
            if link is not None:
                return {
                    "meter": meter.entry.title,
                    "group": self.groups[group_id].title,
                    "charger": link.entry.title,
                }
        return None

    # -- shutting down -------------------------------------------------------------------

    @callback
    def async_shutdown(self) -> None:
        """Stop the timer and listeners (the last entry was unloaded)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        if self._stop_listener is not None:
            self._stop_listener()
            self._stop_listener = None
        if self._debouncer is not None:
            self._debouncer.async_shutdown()
            self._debouncer = None
        links: list[ChargerLink | MeterLink] = [*self.chargers.values(), *self.meters.values()]
        for link in links:
            if link.unsubscribe is not None:
                link.unsubscribe()
                link.unsubscribe = None
        self.repairs.clear_all()
