"""Every delay and threshold of the engine, with its default and the reason for it.

The root group's options expose the ones a user may reasonably change; the rest are here so
that a reader finds each number once, with why it is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    obey_within_s: float = 10.0
    """A charger told less that still draws more after this long is out of control (see
    `obedience`). IEC 61851-1 gives the car 5 s to follow a lower pilot duty cycle; the
    charger takes a second or two to change the pilot, and readings arrive 1-2 s apart."""
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
