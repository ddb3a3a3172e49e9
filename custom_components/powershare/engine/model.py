"""The site model and the types going in and out of one balancing cycle.

Everything here is plain, immutable data: the configuration of a site (a tree of groups with
fuses and metering points, chargers hanging in the groups), what one cycle observes (a
`Snapshot`) and what the engine decides (a `Decision`). Currents are in amps, powers in
watts, times in seconds on any clock that only moves forward (the engine only looks at
differences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

PHASE_COUNT = 3
ABSOLUTE_MAX_CURRENT = 32
"""TeltoCharge (and IEC 61851 type 2 chargers in general) accept at most 32 A."""


class Phase(IntEnum):
    """A phase, of the site or of a charger (the same three names on both sides)."""

    L1 = 0
    L2 = 1
    L3 = 2


PHASES: tuple[Phase, Phase, Phase] = (Phase.L1, Phase.L2, Phase.L3)


class PhaseRotation(StrEnum):
    """How a charger's L1, L2, L3 land on the site's phases ("RST" wiring in seed 003).

    The value lists the site phase of charger L1, L2, L3 in that order: `L2L3L1` means charger
    L1 is on site L2, charger L2 on site L3 and charger L3 on site L1.
    """

    L1L2L3 = "L1L2L3"
    L1L3L2 = "L1L3L2"
    L2L1L3 = "L2L1L3"
    L2L3L1 = "L2L3L1"
    L3L1L2 = "L3L1L2"
    L3L2L1 = "L3L2L1"

    def site_phase(self, charger_phase: Phase) -> Phase:
        """Return the site phase that the charger's `charger_phase` is wired to."""
        return _SITE_PHASES[self][charger_phase]

    def charger_phase(self, site_phase: Phase) -> Phase:
        """Return the charger phase wired to the site's `site_phase`."""
        return Phase(_SITE_PHASES[self].index(site_phase))


_SITE_PHASES: dict[PhaseRotation, tuple[Phase, Phase, Phase]] = {
    rotation: (
        Phase(int(rotation.value[1]) - 1),
        Phase(int(rotation.value[3]) - 1),
        Phase(int(rotation.value[5]) - 1),
    )
    for rotation in PhaseRotation
}


class Wiring(IntEnum):
    """How many phases are wired to the charger."""

    ONE_PHASE = 1
    THREE_PHASE = 3


class ChargingMode(StrEnum):
    """What a charger is asked to do.

    - off: never charge.
    - fast: as much as the fuses allow, up to the charger's request.
    - solar: only from solar surplus (export at the root metering point), with start and stop
      delays so clouds do not toggle the car.
    - min_solar: always at least the minimum current, plus whatever surplus there is.
    """

    OFF = "off"
    FAST = "fast"
    SOLAR = "solar"
    MIN_SOLAR = "min_solar"


class PhasePolicy(StrEnum):
    """Which phases a three-phase charger that can switch phases should use."""

    AUTO = "auto"
    ONE = "one"
    THREE = "three"


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """A node of the site's tree: a fuse (per phase), optionally a power cap and a meter.

    `parent_id` is None for the root (the main fuse). `meter_id` names the metering point that
    measures everything below this group. `meter_includes_chargers` says whether the chargers
    below are behind that meter (meter at the group's fuse, the usual case) or not (meter on the
    house circuit only: the "alternative installation").
    """

    id: str
    fuse: tuple[float, float, float]
    parent_id: str | None = None
    max_power_w: float | None = None
    meter_id: str | None = None
    meter_includes_chargers: bool = True
    name: str = ""

    @property
    def label(self) -> str:
        """Return the name shown to users."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class ChargerConfig:
    """One charger (one connector) in a group, with its user settings.

    Currents are whole amps, as the TeltoCharge takes them. `user_limit` and `schedule_limit`
    are extra caps (None = no cap; 0 = do not charge now).
    """

    id: str
    group_id: str
    rotation: PhaseRotation = PhaseRotation.L1L2L3
    wiring: Wiring = Wiring.THREE_PHASE
    min_current: int = 6
    max_current: int = 32
    priority: int = 0
    mode: ChargingMode = ChargingMode.FAST
    phase_policy: PhasePolicy = PhasePolicy.AUTO
    can_switch_phases: bool = False
    user_limit: int | None = None
    schedule_limit: int | None = None
    name: str = ""

    @property
    def label(self) -> str:
        """Return the name shown to users."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Tunables:
    """Every delay and threshold of the engine, with its default and why (times in seconds)."""

    meter_timeout_s: float = 15.0
    """A metering point silent longer than this is stale. Meters answer every 1-2 s (HomeWizard
    10 s at worst); SmartEVSE stops after 11 s, evcc blocks increases after 60 s."""
    failsafe_current_a: int = 6
    """Static share per charger below a stale meter (0 = pause them). Same number as the
    TeltoCharge watchdog failsafe (register 20, default 6 A): one figure for both failures."""
    load_hold_s: float = 5.0
    """The non-EV load estimate is the highest of this window: meter and charger readings are
    taken at slightly different instants, so a charger ramping up would otherwise look like the
    house load dropping."""
    increase_delay_s: float = 10.0
    """An increase waits this long after the charger's own last change and after any decrease
    on the site: cars ramp within ~5 s and the meter must show the new state before we give
    more. Decreases are never delayed."""
    drawless_threshold_a: float = 2.0
    """A car drawing this much less than offered (on its busiest phase) 'draws less'."""
    drawless_margin_a: float = 2.0
    """A car that draws less is offered what it draws plus this margin (so it can show it
    wants more)."""
    drawless_settle_s: float = 120.0
    """How long a car must draw less before its request is lowered ("after a few minutes",
    seed 003); also how long after a command before measurements are trusted."""
    idle_current_a: float = 1.0
    """Below this a phase (or a car) counts as not drawing at all."""
    reoffer_interval_s: float = 900.0
    """A car with a lowered request is offered its full share again after this long (the first
    time; see `reoffer_backoff`). A full car cannot say when it wants current again (the
    pilot signal has no "I am ready now" while it is paused), so the engine has to ask."""
    reoffer_backoff: float = 2.0
    """Each re-offer the car declines multiplies the wait before the next one by this (1 =
    a fixed interval). A full car otherwise restarts its charger every 15 minutes all night
    (23 starts overnight in the reference home, most of the building's commands): doubling
    asks after 15, 30, 60, 120 minutes, then every `reoffer_max_interval_s`. The wait starts
    over when the car draws more again."""
    reoffer_max_interval_s: float = 7200.0
    """The longest wait between two re-offers. A car that charges on its own timer (common
    for cheap night tariffs) waits at most this long for its current once its timer fires;
    two hours keeps that bounded while a full car costs about five starts a night."""
    reoffer_check_s: float = 45.0
    """How long a re-offered car has to start drawing, counted once its charger had
    `increase_delay_s` to follow (so about a minute after the command). Cars draw within
    5-30 s of the pilot allowing it (wake-up, contactor, ramp); one that does not has declined
    and goes back to its lowered request at once, instead of holding a share for the whole
    `drawless_settle_s`."""
    reoffer_rise_a: float = 1.0
    """A car drawing this much more than when its request was lowered gets its full share back
    at once (so keep `drawless_margin_a` above it: the margin is the room to show it)."""
    phase_down_delay_s: float = 180.0
    """3p -> 1p after three phases could not give the minimum for this long (evcc: 3 min)."""
    phase_up_delay_s: float = 300.0
    """1p -> 3p after three phases could give minimum + `phase_up_threshold_a` this long."""
    phase_down_threshold_a: float = 0.0
    """3p -> 1p when the three-phase share is below min - this."""
    phase_up_threshold_a: float = 1.0
    """1p -> 3p when the three-phase share would be at least min + this (hysteresis)."""
    phase_switch_settle_s: float = 60.0
    """After a switch, no other switch and no draw-less detection for this long (evcc: 60 s)."""
    max_phase_switches_per_hour: int = 4
    """Contactors and cars do not like many switches; a hard cap per charger."""
    solar_start_delay_s: float = 60.0
    """Surplus must carry the minimum this long before a solar charge starts (evcc: 1 min)."""
    solar_stop_delay_s: float = 300.0
    """A solar charge holds its minimum through a deficit this long before it stops
    (evcc 3 min, SmartEVSE 10 min)."""
    rotation_period_s: float = 900.0
    """When not every car can have its minimum, paused and charging cars swap this often."""

    def __post_init__(self) -> None:
        """Reject negative figures, which would make the engine's timers meaningless."""
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 0:
                raise ValueError(f"tunable {name} must not be negative")
        if self.reoffer_backoff < 1:
            raise ValueError("tunable reoffer_backoff must be at least 1")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The whole site: groups (exactly one root), chargers, and site-wide settings."""

    groups: tuple[GroupConfig, ...]
    chargers: tuple[ChargerConfig, ...]
    margin_a: float = 1.0
    """Kept free on every fuse and phase, for meter error and the reaction time."""
    voltage: float = 230.0
    """Nominal phase-to-neutral voltage used to turn powers into currents."""
    solar_reserve_w: float = 0.0
    """Surplus kept for the house (for instance a home battery) before solar charging."""
    import_allowance_w: float = 0.0
    """Grid import solar charging may use on top of the surplus."""
    tunables: Tunables = field(default_factory=Tunables)

    def __post_init__(self) -> None:
        """Check the tree and the chargers; raise ValueError with a clear message."""
        _validate(self)

    @property
    def root(self) -> GroupConfig:
        """Return the root group (the main fuse)."""
        return next(group for group in self.groups if group.parent_id is None)


def _validate(config: SiteConfig) -> None:
    _validate_groups(config.groups)
    group_ids = {group.id for group in config.groups}
    charger_ids = [charger.id for charger in config.chargers]
    if len(set(charger_ids)) != len(charger_ids):
        raise ValueError("charger ids must be unique")
    for charger in config.chargers:
        if charger.group_id not in group_ids:
            raise ValueError(f"charger {charger.id}: unknown group {charger.group_id}")
        if not 0 < charger.min_current <= charger.max_current <= ABSOLUTE_MAX_CURRENT:
            raise ValueError(
                f"charger {charger.id}: need 0 < min <= max <= {ABSOLUTE_MAX_CURRENT} A"
            )
    if config.voltage <= 0 or config.margin_a < 0:
        raise ValueError("voltage must be positive and the margin not negative")


def _validate_groups(groups: tuple[GroupConfig, ...]) -> None:
    parents = {group.id: group.parent_id for group in groups}
    if len(parents) != len(groups):
        raise ValueError("group ids must be unique")
    if sum(group.parent_id is None for group in groups) != 1:
        raise ValueError("a site needs exactly one root group (without parent)")
    for group in groups:
        if group.parent_id is not None and group.parent_id not in parents:
            raise ValueError(f"group {group.id}: unknown parent {group.parent_id}")
        if len(group.fuse) != PHASE_COUNT or any(amps <= 0 for amps in group.fuse):
            raise ValueError(f"group {group.id}: a fuse needs three positive currents")
        if group.max_power_w is not None and group.max_power_w <= 0:
            raise ValueError(f"group {group.id}: max power must be positive")
        seen = {group.id}
        parent = group.parent_id
        while parent is not None:
            if parent in seen:
                raise ValueError(f"group {group.id}: the groups form a cycle")
            seen.add(parent)
            parent = parents[parent]
    meter_ids = [group.meter_id for group in groups if group.meter_id is not None]
    if len(set(meter_ids)) != len(meter_ids):
        raise ValueError("a metering point can measure only one group")


# --- one cycle's input ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What a metering point measured: signed current per SITE phase (+ import, - export)."""

    currents: tuple[float, float, float]
    timestamp: float


@dataclass(frozen=True, slots=True)
class ChargerState:
    """What a charger reports.

    `currents` are per CHARGER phase (the engine maps them through the rotation), as drawn at
    the newest meter reading's timestamp (`Snapshot.measured_at`), which is the instant the
    meters' figures describe: the integration lines the charger readings up with it.
    `car_phases` are the charger phases the car draws on, when the charger knows; None lets the
    engine find out from the currents. `max_current` is the charger's own limit (cable,
    connector, DIP switches), None when unknown.
    """

    connected: bool
    charging: bool = False
    currents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    car_phases: frozenset[Phase] | None = None
    max_current: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one cycle sees: meters by meter id, chargers by charger id, and the time."""

    now: float
    meters: Mapping[str, MeterReading]
    chargers: Mapping[str, ChargerState]

    @property
    def measured_at(self) -> float:
        """The instant the chargers' currents describe: the newest meter reading's, or now."""
        return max((meter.timestamp for meter in self.meters.values()), default=self.now)


# --- one cycle's output --------------------------------------------------------------------


class Reason(StrEnum):
    """Why a charger got what it got (translation keys for the user-facing text)."""

    NO_CAR = "no_car"
    MODE_OFF = "mode_off"
    AT_REQUEST = "at_request"
    CHARGER_LIMIT = "charger_limit"
    USER_LIMIT = "user_limit"
    SCHEDULE_LIMIT = "schedule_limit"
    BELOW_MIN = "below_min"
    """Even alone, the limiting group (limit_group / limit_phase) cannot give the minimum."""
    CAR_DRAWS_LESS = "car_draws_less"
    CAR_NOT_DRAWING = "car_not_drawing"
    GROUP_FUSE = "group_fuse"
    GROUP_POWER = "group_power"
    SOLAR_SURPLUS = "solar_surplus"
    WAITING_FOR_SURPLUS = "waiting_for_surplus"
    SOLAR_HOLDING_MIN = "solar_holding_min"
    PAUSED_FOR_OTHERS = "paused_for_others"
    FAILSAFE_METER_STALE = "failsafe_meter_stale"
    PACED = "paced"


class Action(StrEnum):
    """What changes at the charger this cycle."""

    NONE = "none"
    START = "start"
    STOP = "stop"
    ADJUST = "adjust"


@dataclass(frozen=True, slots=True)
class ChargerDecision:
    """The engine's verdict for one charger.

    `target_current` is 0 or a whole number in [min, max]. `site_phases` are the site phases it
    may draw on (one for a one-phase charge); `charger_phases` the same phases on the charger's
    side, which is what the TeltoCharge phase register takes. `changed` is True when something
    must be written to the charger.
    """

    charger_id: str
    target_current: int
    site_phases: tuple[Phase, ...]
    charger_phases: tuple[Phase, ...]
    action: Action
    changed: bool
    reason: Reason
    detail: str
    requested: int
    share: float
    """The continuous (before rounding and pacing) fair share; a diagnostic."""
    limit_group: str | None = None
    """The group whose fuse or power cap limits this charger (GROUP_FUSE, GROUP_POWER,
    BELOW_MIN, and PAUSED_FOR_OTHERS when a group is the bottleneck), for placeholders in
    translated reasons and for repairs."""
    limit_phase: Phase | None = None
    """The site phase of that fuse (GROUP_FUSE)."""


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """Per site phase: the words of seed 003 (None for Meter when there is no fresh reading).

    - meter: what the group's metering point measures (+ import, - export).
    - available: what is left for the chargers below: fuse - margin - non-EV load.
    - requested: what the chargers below want.
    - allocated: what the engine gives them.
    - usage: what they draw.
    """

    group_id: str
    meter: tuple[float, float, float] | None
    non_ev_load: tuple[float, float, float]
    available: tuple[float, float, float]
    requested: tuple[float, float, float]
    allocated: tuple[float, float, float]
    usage: tuple[float, float, float]
    meter_stale: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of one cycle: per charger and per group, plus site-wide facts."""

    now: float
    chargers: Mapping[str, ChargerDecision]
    groups: Mapping[str, GroupFigures]
    stale_meters: tuple[str, ...]
    surplus_w: float | None
    """Export at the root metering point with the chargers' own draw taken out, in watts
    (negative when the house imports); None without a fresh root meter."""

    @property
    def commands(self) -> tuple[ChargerDecision, ...]:
        """Return the decisions that must be written to a charger."""
        return tuple(decision for decision in self.chargers.values() if decision.changed)
