"""The balancing service: one per Home Assistant instance.

It turns the loaded entries into the engine's `SiteConfig`, runs `Balancer.step` whenever a
meter has a fresh reading (and every `CYCLE_FLOOR` at least), writes each charger's decision
through its driver (only registers that differ from what the charger reports, so what the
charger's own app changed is re-asserted), and hands the same `Decision` to the entities, so a
dashboard shows exactly what was decided.

On unload nothing more is written: each TeltoCharge's watchdog (register 19, on by default)
then limits it to its failsafe current (register 20) once Powershare stops talking to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CAN_SWITCH_PHASES,
    CONF_FUSE,
    CONF_GROUP,
    CONF_IMPORT_ALLOWANCE,
    CONF_MARGIN,
    CONF_MAX_CURRENT,
    CONF_MAX_POWER,
    CONF_METER,
    CONF_METER_INCLUDES_CHARGERS,
    CONF_MIN_CURRENT,
    CONF_PARENT,
    CONF_PRIORITY,
    CONF_ROTATION,
    CONF_SOLAR_RESERVE,
    CONF_WIRING,
    DEFAULT_MAX_CURRENT,
    DEFAULT_MIN_CURRENT,
    LOGGER,
)
from .coordinator import SensorMeterCoordinator, SensorMeterError, read_sensor_meter
from .devices.errors import PowershareDeviceError
from .devices.teltocharge import PhaseSelection
from .engine.balancer import Balancer
from .engine.model import (
    PHASES,
    ChargerConfig,
    ChargerState,
    ChargingMode,
    Decision,
    GroupConfig,
    MeterReading,
    Phase,
    PhasePolicy,
    PhaseRotation,
    SiteConfig,
    Snapshot,
    Tunables,
    Wiring,
)
from .repairs import RepairTracker
from .schedule import ChargingTimer, schedule_limit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from homeassistant.config_entries import ConfigEntry

    from .coordinator import ChargerCoordinator, MeterCoordinator
    from .devices.meters import MeterReading as MeterReadingOfDevice
    from .devices.teltocharge import TeltoChargeReading

CYCLE_FLOOR = timedelta(seconds=2)
"""A cycle runs at least this often, even when no meter reports (so stale meters are noticed)."""
CYCLE_COOLDOWN_S = 0.25
"""Meter updates closer together than this share one cycle."""
WATCHDOG_TIMEOUT_S = 30
"""Register 19: the charger falls back to its failsafe current after this much silence (30 s is
the charger's own default)."""
WATCHDOG_FEED_S = 10.0
"""At least one write this often: the register map does not say whether reads count as the
"valid communication" that feeds the watchdog, so a write (registers 19-20, unchanged values)
keeps it fed either way, for one request per charger every 10 s."""
DEFAULT_FAILSAFE_CURRENT = 6

# Per-charger user settings, stored in the charger entry's options (changed by the entities).
OPT_MODE = "mode"
OPT_PHASE_POLICY = "phase_policy"
OPT_USER_LIMIT = "user_limit"
OPT_SCHEDULE = "schedule"  # a list of ChargingTimer.to_dict()
OPT_FAILSAFE_CURRENT = "failsafe_current"
OPT_CHARGING_LOCKED = "charging_locked"
USER_SETTINGS = frozenset(
    {
        OPT_MODE,
        OPT_PHASE_POLICY,
        OPT_USER_LIMIT,
        OPT_SCHEDULE,
        OPT_FAILSAFE_CURRENT,
        OPT_CHARGING_LOCKED,
        CONF_MIN_CURRENT,
        CONF_MAX_CURRENT,
        CONF_PRIORITY,
        CONF_FUSE,
    }
)

_SELECTION_BY_PHASES: dict[tuple[Phase, ...], PhaseSelection] = {
    (Phase.L1,): PhaseSelection.L1,
    (Phase.L2,): PhaseSelection.L2,
    (Phase.L3,): PhaseSelection.L3,
    (Phase.L1, Phase.L2): PhaseSelection.L1_L2,
    (Phase.L1, Phase.L3): PhaseSelection.L1_L3,
    (Phase.L2, Phase.L3): PhaseSelection.L2_L3,
    PHASES: PhaseSelection.THREE_PHASE,
}


def setting(entry: ConfigEntry[Any], key: str, default: Any = None) -> Any:
    """Return a setting: the options override what the config flow stored in data."""
    if key in entry.options:
        return entry.options[key]
    return entry.data.get(key, default)


CHARGER_HISTORY = 8
"""Charger readings kept to line them up with the meter's (several seconds at 1-2 s polls)."""


@dataclass
class ChargerLink:
    """What the service knows of one loaded charger entry."""

    entry: ConfigEntry[Any]
    coordinator: ChargerCoordinator
    history: deque[TeltoChargeReading] = field(
        default_factory=lambda: deque(maxlen=CHARGER_HISTORY)
    )
    last_write: float = float("-inf")
    """When Powershare last wrote to the charger (the service's clock)."""
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""

    def remember(self) -> None:
        """Keep the coordinator's latest reading."""
        reading: TeltoChargeReading | None = self.coordinator.data
        if reading is not None and (not self.history or self.history[-1] is not reading):
            self.history.append(reading)

    def currents_at(self, moment: float) -> tuple[float, float, float]:
        """Return what the charger drew at `moment`: its last reading taken at or before it.

        The meter's figure includes the chargers' draw at the meter's instant; subtracting a
        newer charger reading (after a cut, say) would count the difference as house load.
        """
        for reading in reversed(self.history):
            if reading.measured_at <= moment:
                return reading.currents_a
        return self.history[0].currents_a if self.history else (0.0, 0.0, 0.0)


@dataclass
class MeterLink:
    """What the service knows of one loaded meter entry."""

    entry: ConfigEntry[Any]
    coordinator: MeterCoordinator | SensorMeterCoordinator
    unsubscribe: CALLBACK_TYPE | None = None
    """Stops following the coordinator (set by the service while the link is in use)."""


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
    _balancer: Balancer | None = None
    _listeners: list[Callable[[], None]] = field(default_factory=list)
    _debouncer: Debouncer[Any] | None = None
    _cycle_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _timer: CALLBACK_TYPE | None = None
    clock: Callable[[], float] = time.time
    repairs: RepairTracker = field(init=False)

    def __post_init__(self) -> None:
        """Create the repair tracker."""
        self.repairs = RepairTracker(self.hass)

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

    @callback
    def settings_changed(self) -> None:
        """Rebuild the site and run a cycle: a user setting (mode, limit, fuse) changed."""
        self._changed()

    @callback
    def _changed(self) -> None:
        self._rebuild()
        self._ensure_running()
        self.async_request_cycle()

    # -- listeners (entities) ------------------------------------------------------------

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update` after every cycle; return the function that stops it."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    # -- the cycle -----------------------------------------------------------------------

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
        if self._timer is None:
            self._timer = async_track_time_interval(
                self.hass,
                self._floor,
                CYCLE_FLOOR,
                name="Powershare balancing",
                cancel_on_shutdown=True,
            )

    @callback
    def _floor(self, _now: Any) -> None:
        self.async_request_cycle()

    @callback
    def async_request_cycle(self) -> None:
        """Ask for a cycle soon (coalesced with other requests)."""
        if self._debouncer is not None:
            self.hass.async_create_task(
                self._debouncer.async_call(), "powershare balancing cycle", eager_start=True
            )

    async def async_run_cycle(self) -> None:
        """Take a snapshot, decide, write the chargers, update the entities.

        Cycles never overlap: the decision of one is written before the next one looks.
        """
        async with self._cycle_lock:
            await self._async_run_cycle()

    async def _async_run_cycle(self) -> None:
        self.repairs.site(None if self.problem is None else self.problem.message)
        if self._balancer is not None and self._schedules_moved():
            self._rebuild()
        if self._balancer is None:
            self.decision = None
            await self._apply_failsafe(self.chargers.values())
            self._notify()
            return
        snapshot = self._snapshot()
        decision = self._balancer.step(snapshot)
        self.decision = decision
        self.cycles += 1
        await self._apply(decision)
        self._track_problems(decision)
        self._notify()

    def _schedules_moved(self) -> bool:
        """Whether a charging schedule opened or closed since the site was built."""
        assert self._balancer is not None  # noqa: S101  # checked by the caller
        built = {charger.id: charger.schedule_limit for charger in self._balancer.config.chargers}
        return any(
            schedule_limit_now(link.entry) != built[entry_id]
            for entry_id, link in self.chargers.items()
            if entry_id in built
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
        titles = {entry_id: entry.title for entry_id, entry in self.groups.items()}
        self.repairs.decision(decision, titles)
        for entry_id, group in self.groups.items():
            meter_id: str | None = group.data.get(CONF_METER)
            removed = (
                meter_id is not None and self.hass.config_entries.async_get_entry(meter_id) is None
            )
            self.repairs.meter_removed(entry_id, group.title, removed=removed)
            self.repairs.meter_phases(entry_id, self._unmeasured_charger(entry_id, meter_id))

    def _unmeasured_charger(self, group_id: str, meter_id: str | None) -> dict[str, str] | None:
        """Name a three-phase charger below a group whose meter measures fewer phases.

        The meter's missing phases are taken to carry nothing (a single-phase connection);
        a three-phase charger below it says the connection has more phases than it measures.
        """
        meter = None if meter_id is None else self.meters.get(meter_id)
        reading: MeterReadingOfDevice | None = None if meter is None else meter.coordinator.data
        if self._balancer is None or meter is None or reading is None:
            return None
        if len(reading.phases) >= len(PHASES):
            return None
        topology = self._balancer.topology
        group = topology.group_index.get(group_id)
        if group is None:
            return None
        for index in topology.subtree_chargers[group]:
            charger = topology.chargers[index]
            link = self.chargers.get(charger.id)
            if charger.wiring is Wiring.THREE_PHASE and link is not None:
                return {
                    "meter": meter.entry.title,
                    "group": self.groups[group_id].title,
                    "charger": link.entry.title,
                }
        return None

    def _snapshot(self) -> Snapshot:
        meters: dict[str, MeterReading] = {}
        for entry_id, meter in self.meters.items():
            reading: MeterReadingOfDevice | None = meter.coordinator.data
            if isinstance(meter.coordinator, SensorMeterCoordinator):
                # Re-read: a sensor that reports an unchanged value fires no state change,
                # but its last_reported moves, and that is what keeps the meter fresh.
                with contextlib.suppress(SensorMeterError):
                    reading = read_sensor_meter(self.hass, meter.coordinator.entities)
            if reading is None:
                continue
            currents = [phase.current_a for phase in reading.phases][:3]
            currents += [0.0] * (3 - len(currents))
            meters[entry_id] = MeterReading(
                currents=(currents[0], currents[1], currents[2]),
                timestamp=reading.measured_at,
            )
        # Line the chargers' currents up with the newest meter reading (see currents_at).
        moment = max((reading.timestamp for reading in meters.values()), default=self.clock())
        chargers: dict[str, ChargerState] = {}
        for entry_id, charger in self.chargers.items():
            data = charger.coordinator.data
            if data is None or not charger.coordinator.last_update_success:
                # Unreachable: its draw (at most its failsafe current) shows in the meter as
                # non-EV load, which is the safe way to count it.
                chargers[entry_id] = ChargerState(connected=False)
                continue
            chargers[entry_id] = ChargerState(
                connected=data.ev_connected,
                charging=data.charging,
                currents=charger.currents_at(moment),
                max_current=data.amp_limit_a or None,
            )
        return Snapshot(now=self.clock(), meters=meters, chargers=chargers)

    async def _apply(self, decision: Decision) -> None:
        for entry_id, charger_decision in decision.chargers.items():
            link = self.chargers.get(entry_id)
            reading: TeltoChargeReading | None = None if link is None else link.coordinator.data
            if link is None or reading is None:
                continue
            phases: PhaseSelection | None = None
            if reading.phase_change_possible and len(charger_decision.charger_phases) in (1, 3):
                phases = _SELECTION_BY_PHASES[tuple(sorted(charger_decision.charger_phases))]
            await self._write(link, reading, charger_decision.target_current, phases, decision.now)
        # A charger the site does not include (its group was removed) must not keep its share.
        await self._apply_failsafe(
            link for entry_id, link in self.chargers.items() if entry_id not in decision.chargers
        )

    async def _apply_failsafe(self, chargers: Iterable[ChargerLink]) -> None:
        """Hold chargers at their failsafe current: never a stale share (no valid site)."""
        now = self.clock()
        for link in chargers:
            reading: TeltoChargeReading | None = link.coordinator.data
            if reading is not None:
                await self._write(link, reading, None, None, now)

    async def _write(
        self,
        link: ChargerLink,
        reading: TeltoChargeReading,
        amps: int | None,
        phases: PhaseSelection | None,
        now: float,
    ) -> None:
        """Write what differs from what the charger reports, and feed its watchdog.

        `amps` None means the charger's failsafe current.
        """
        driver = link.coordinator.charger.driver
        failsafe = int(setting(link.entry, OPT_FAILSAFE_CURRENT, DEFAULT_FAILSAFE_CURRENT))
        try:
            written = await driver.apply(
                reading.settings,
                amps=failsafe if amps is None else amps,
                phases=phases,
                watchdog_timeout_s=WATCHDOG_TIMEOUT_S,
                failsafe_current_a=failsafe,
            )
            if not written and now - link.last_write >= WATCHDOG_FEED_S:
                await driver.configure_watchdog(WATCHDOG_TIMEOUT_S, failsafe)
                written = 1
        except PowershareDeviceError as err:
            # The coordinator reports the device as unavailable; the next cycle retries.
            LOGGER.debug("Writing %s failed: %s", link.entry.title, err)
            return
        if written:
            link.last_write = now
            await link.coordinator.async_request_refresh()

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    # -- building the site ---------------------------------------------------------------

    def _rebuild(self) -> None:
        try:
            config = self._site_config()
        except ValueError as err:
            self.problem = SiteProblem(str(err))
            self._balancer = None
            return
        self.problem = None
        if self._balancer is None:
            self._balancer = Balancer(config)
        else:
            self._balancer.reconfigure(config)

    def _site_config(self) -> SiteConfig:
        if not self.groups:
            raise ValueError("no group: add a group (a fuse) for the chargers")
        groups = tuple(_group_config(entry) for entry in self.groups.values())
        known = {group.id for group in groups}
        for group in groups:
            if group.parent_id is not None and group.parent_id not in known:
                raise ValueError(f"group {group.label}: its parent group was removed")
        chargers = tuple(
            _charger_config(link)
            for link in self.chargers.values()
            if setting(link.entry, CONF_GROUP) in known
        )
        roots = [entry for entry in self.groups.values() if not entry.data.get(CONF_PARENT)]
        if len(roots) != 1:
            raise ValueError("the site needs exactly one root group (a group without parent)")
        root = roots[0]
        tunable_names = {item.name for item in fields(Tunables)}
        tunables = Tunables(
            **{name: value for name, value in root.options.items() if name in tunable_names}
        )
        return SiteConfig(
            groups=groups,
            chargers=chargers,
            margin_a=float(root.options.get(CONF_MARGIN, 1.0)),
            solar_reserve_w=float(setting(root, CONF_SOLAR_RESERVE, 0.0) or 0.0),
            import_allowance_w=float(setting(root, CONF_IMPORT_ALLOWANCE, 0.0) or 0.0),
            tunables=tunables,
        )

    # -- shutting down -------------------------------------------------------------------

    @callback
    def async_shutdown(self) -> None:
        """Stop the timer and listeners (the last entry was unloaded)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        if self._debouncer is not None:
            self._debouncer.async_shutdown()
            self._debouncer = None
        links: list[ChargerLink | MeterLink] = [*self.chargers.values(), *self.meters.values()]
        for link in links:
            if link.unsubscribe is not None:
                link.unsubscribe()
                link.unsubscribe = None
        self.repairs.clear_all()


def schedule_limit_now(entry: ConfigEntry[Any]) -> int | None:
    """Return the charger's schedule limit at this moment (None without a schedule)."""
    timers = tuple(ChargingTimer.from_dict(raw) for raw in setting(entry, OPT_SCHEDULE) or ())
    return schedule_limit(timers, dt_util.now())


def _group_config(entry: ConfigEntry[Any]) -> GroupConfig:
    fuse = setting(entry, CONF_FUSE)
    fuse_a = (float(fuse),) * 3 if isinstance(fuse, (int, float)) else tuple(map(float, fuse))
    max_power = setting(entry, CONF_MAX_POWER)
    return GroupConfig(
        id=entry.entry_id,
        fuse=(fuse_a[0], fuse_a[1], fuse_a[2]),
        parent_id=entry.data.get(CONF_PARENT) or None,
        max_power_w=float(max_power) if max_power else None,
        meter_id=entry.data.get(CONF_METER) or None,
        meter_includes_chargers=bool(entry.data.get(CONF_METER_INCLUDES_CHARGERS, True)),
        name=entry.title,
    )


def _charger_config(link: ChargerLink) -> ChargerConfig:
    entry = link.entry
    reading = link.coordinator.data
    locked = bool(setting(entry, OPT_CHARGING_LOCKED, default=False))
    mode = ChargingMode.OFF if locked else ChargingMode(setting(entry, OPT_MODE, "fast"))
    user_limit = setting(entry, OPT_USER_LIMIT)
    schedule_limit = schedule_limit_now(entry)
    can_switch = bool(
        setting(entry, CONF_CAN_SWITCH_PHASES, reading.phase_change_possible if reading else False)
    )
    return ChargerConfig(
        id=entry.entry_id,
        group_id=setting(entry, CONF_GROUP),
        rotation=PhaseRotation(setting(entry, CONF_ROTATION, PhaseRotation.L1L2L3.value)),
        wiring=Wiring(int(setting(entry, CONF_WIRING, 3))),
        min_current=int(setting(entry, CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT)),
        max_current=int(setting(entry, CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)),
        priority=int(setting(entry, CONF_PRIORITY, 0)),
        mode=mode,
        phase_policy=PhasePolicy(setting(entry, OPT_PHASE_POLICY, PhasePolicy.AUTO.value)),
        can_switch_phases=can_switch,
        user_limit=None if user_limit is None else int(user_limit),
        schedule_limit=None if schedule_limit is None else int(schedule_limit),
        name=entry.title,
    )
