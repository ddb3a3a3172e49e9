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

from .network import Network
from .tunables import Tunables

if TYPE_CHECKING:
    from collections.abc import Mapping

PHASE_COUNT = 3
ABSOLUTE_MAX_CURRENT = 32
VOLTAGE_BAND = 0.10
"""A measured voltage further than this from nominal is not used (EN 50160: 230 V +-10 %)."""
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
    response_s: float = 0.0
    """How long this charger takes for a new current to show in its readings, when that is
    longer than the site's `obey_within_s` (a cloud service that polls; 0: no longer)."""
    profile_power_w: float | None = None
    """The charging profile's slot in force: a cap on the charger's power (amps times the
    phases it uses, at nominal voltage); None: no profile."""
    plan_limit: int | None = None
    """The charging plan's cap for the present slot (whole amps; 0: not in this slot; None:
    no plan). A cap like `schedule_limit`: the plan chooses when, the fuses still decide."""
    min_write_interval_s: float = 0.0
    """Its increases wait this long after its last change, when that is longer than the site's
    `increase_delay_s` (a rate-limited cloud service; 0: no longer). Decreases never wait."""

    @property
    def label(self) -> str:
        """Return the name shown to users."""
        return self.name or self.id

    def follow_s(self, tunables: Tunables) -> float:
        """Return how long this charger has to follow a new current (`obey_within_s` or more)."""
        return max(tunables.obey_within_s, self.response_s)

    def settle_s(self, tunables: Tunables) -> float:
        """Return how long after a change its draw still shows the old current."""
        return max(tunables.increase_delay_s, self.response_s)

    def increase_wait_s(self, tunables: Tunables) -> float:
        """Return how long its increases wait after its last change."""
        return max(tunables.increase_delay_s, self.min_write_interval_s)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The whole site: groups (exactly one root), chargers, and site-wide settings."""

    groups: tuple[GroupConfig, ...]
    chargers: tuple[ChargerConfig, ...]
    margin_a: float = 1.0
    """Kept free on every fuse and phase, for meter error and the reaction time."""
    voltage: float = 230.0
    """Nominal voltage of a single-phase load (phase to neutral, or line to line without
    neutral) used to turn powers into currents."""
    network: Network = Network.THREE_PHASE_WITH_NEUTRAL
    """The supply: with neutral, without (single-phase chargers between two lines), or a
    single phase (`network`)."""
    solar_reserve_w: float = 0.0
    """Surplus kept for the house (for instance a home battery) before solar charging."""
    import_allowance_w: float = 0.0
    """Grid import solar charging may use on top of the surplus."""
    peak_budget: bool = False
    """A capacity tariff's peak budget limits the whole site's import: each snapshot gives the
    average power the site may still import for the rest of its window
    (`Snapshot.peak_power_w`, made by `peak.PeakTracker`)."""
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
        if charger.profile_power_w is not None and charger.profile_power_w < 0:
            raise ValueError(f"charger {charger.id}: a profile's power cannot be negative")
    if config.voltage <= 0 or config.margin_a < 0:
        raise ValueError("voltage must be positive and the margin not negative")
    if config.network is Network.SINGLE_PHASE:
        for charger in config.chargers:
            if charger.wiring is not Wiring.ONE_PHASE:
                raise ValueError(f"charger {charger.id}: three-phase on a single-phase network")


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
        if group.max_power_w is not None and group.max_power_w < 0:
            raise ValueError(f"group {group.id}: max power cannot be negative")
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
    `measured_at`: the integration gives the charger's last reading taken at or before the
    newest meter reading (`Snapshot.measured_at`, the instant the meters' figures describe);
    None means at that instant (simulations). A reading older than the meters' may miss a car
    still ramping up (`ramps.ramp_allowances`).
    `car_phases` are the charger phases the car draws on, when the charger knows; None lets the
    engine find out from the currents. `max_current` is the charger's own limit (cable,
    connector, DIP switches), None when unknown.
    """

    connected: bool
    charging: bool = False
    currents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    car_phases: frozenset[Phase] | None = None
    max_current: int | None = None
    measured_at: float | None = None
    unresponsive: bool = False
    """Nothing known: a charger without a watchdog that does not answer may keep drawing its
    last limit. Its draw is taken as its maximum current on every phase it is wired to, counted
    as load nobody controls, until it answers (`obedience`)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one cycle sees: meters by meter id, chargers by charger id, and the time."""

    now: float
    meters: Mapping[str, MeterReading]
    chargers: Mapping[str, ChargerState]
    peak_power_w: float | None = None
    """With a peak budget (`SiteConfig.peak_budget`): the power the whole site may import, on
    average, for the rest of the window; the chargers get it less the non-EV load at the root.
    None: no budget this cycle (the fuses alone limit)."""
    peak_house_w: float | None = None
    """With a peak budget: the house's load to plan it with (its recent high, in watts); the
    budget goes to the chargers less the larger of this and the root's non-EV load."""
    voltage_v: float | None = None
    """The voltage of a single-phase load as the root meter measures it now (None: not
    measured). A group's maximum power and a charging profile's slot are turned into currents
    at it when it is within 10 % of `SiteConfig.voltage` (EN 50160's band), else at nominal."""

    def power_voltage(self, nominal: float) -> float:
        """Return the voltage to turn a power cap into currents: measured if plausible."""
        measured = self.voltage_v
        if measured is None or abs(measured - nominal) > VOLTAGE_BAND * nominal:
            return nominal
        return measured

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
    PROFILE_LIMIT = "profile_limit"
    """The charging profile's slot in force (`ChargerConfig.profile_power_w`)."""
    PLAN_LIMIT = "plan_limit"
    """The charging plan's slot in force (`ChargerConfig.plan_limit`)."""
    BELOW_MIN = "below_min"
    """Even alone, the limiting group (limit_group / limit_phase) cannot give the minimum."""
    CAR_DRAWS_LESS = "car_draws_less"
    CAR_NOT_DRAWING = "car_not_drawing"
    GROUP_FUSE = "group_fuse"
    GROUP_POWER = "group_power"
    PEAK_BUDGET = "peak_budget"
    """The capacity tariff's peak budget at the grid connection (`SiteConfig.peak_budget`)."""
    SOLAR_SURPLUS = "solar_surplus"
    WAITING_FOR_SURPLUS = "waiting_for_surplus"
    SOLAR_HOLDING_MIN = "solar_holding_min"
    PAUSED_FOR_OTHERS = "paused_for_others"
    FAILSAFE_METER_STALE = "failsafe_meter_stale"
    PACED = "paced"
    OUT_OF_CONTROL = "out_of_control"
    """It draws more than it was told: all its draw counts as load until it obeys."""
    UNRESPONSIVE = "unresponsive"
    """It does not answer and has no watchdog: its maximum counts as load until it answers."""


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
    by_peak_budget: bool = False
    """The limit behind the reason is the peak budget (PEAK_BUDGET, and a pause or a minimum
    it cannot give): a capacity tariff's choice, not a fuse too small."""


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
    implausible_meters: tuple[str, ...] = ()
    """Meters whose latest reading is not believed (NaN, infinite, an impossible export)."""
    out_of_control: tuple[str, ...] = ()
    """Chargers drawing more than they were told, counted as load until they obey."""

    @property
    def commands(self) -> tuple[ChargerDecision, ...]:
        """Return the decisions that must be written to a charger."""
        return tuple(decision for decision in self.chargers.values() if decision.changed)
