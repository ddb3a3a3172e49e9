"""Charging plans in the balancing cycle: all cars planned together, each charger's slot cap.

Each cycle, after the engine decided, the plan keeper looks at the chargers with a charging
goal (`charging_goals.ChargingGoal`: a departure and a target) and a car. It plans them all
at once (`planner.plan_charging`) over quarter-hour slots from the present one to the last
departure, and plans again when something the plan rests on changes: a goal, a car coming or
going, the slot, the prices ahead, what a car takes (its lowered request), a group's room, or
the energy still needed, by more than `REPLAN_KWH` from what the plan expects by now. Between
plans each charger follows its slot: the plan's mean current as a cap
(`ChargerConfig.plan_limit`), at least the charger's minimum, until the
slot's energy is delivered. The fuses and the peak budget still decide every second.

What a plan assumes: each group leaves the cars what it leaves them now (fuse - margin - the
house's load, averaged over the last quarter-hour or so: `outlook.HouseAverage`) for the
whole horizon, the peak budget's limit less the house's power, and each slot's price from the
tariff: a tariff by time range knows every slot; a price sensor its forecast attributes
(Nordpool, ENTSO-e, Tibber); a slot without a price is priced at the highest price known, so
the plan prefers the slots it knows to be cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from homeassistant.util import dt as dt_util

from custom_components.powershare.charging_goals import ChargingGoal, slot_limit
from custom_components.powershare.const import LOGGER
from custom_components.powershare.engine import Reason
from custom_components.powershare.engine.network import load_power_amps
from custom_components.powershare.planner import Car, Group, PlanRequest, plan_charging
from custom_components.powershare.planner import Phase as PlanPhase
from custom_components.powershare.settings import OPT_PLAN, setting

from .outlook import SLOT_LENGTH, HouseAverage, house_now, room_for
from .plan_types import CarGoal, SitePlan, charger_plans

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from custom_components.powershare.engine import Decision, SiteConfig

    from .links import ChargerLink
    from .outlook import Outlook, SlotsAhead

SLOT: Final = SLOT_LENGTH
SLOT_S: Final = SLOT_LENGTH.total_seconds()
MIN_NEED_KWH: Final = 0.05
"""A car that needs less than this is not planned: it charges as its mode says."""
TAKES_LESS_FOR_S: Final = 900.0
"""How long a car that drew less is planned at what it drew: the engine re-offers more
meanwhile, and a plan that kept it there would cap the re-offer."""
MAX_SLOTS: Final = 4 * 48
"""A plan looks at most two days ahead (day-ahead prices reach the end of tomorrow)."""
REPLAN_KWH: Final = 0.5
"""A car's need that moved this much from what the plan expects is planned again."""
REPLAN_AMPS: Final = 2.0
"""A group's room for the cars that moved this much (on a phase) is planned again."""
SHORTFALL_KWH: Final = 0.1
"""A plan that falls this much short of a car's need raises a repair issue."""


def goal_of(entry: ConfigEntry[Any]) -> ChargingGoal:
    """Return a charger's charging goal (none set when unset or broken)."""
    stored = setting(entry, OPT_PLAN)
    if not isinstance(stored, dict):
        return ChargingGoal()
    try:
        return ChargingGoal.from_dict(stored)
    except ValueError as err:
        LOGGER.warning("The charging goal of %s is not used: %s", entry.title, err)
        return ChargingGoal()


def slot_start(moment: datetime) -> datetime:
    """Return the start of the quarter-hour `moment` is in."""
    stamp = moment.timestamp()
    return dt_util.as_local(dt_util.utc_from_timestamp(stamp - stamp % SLOT_S))


@dataclass
class _Following:
    """A charger's progress through its present slot."""

    slot: datetime
    session_kwh_at_start: float


class PlanKeeper:
    """Plans the cars with goals, and gives each charger its slot's cap (see the docstring)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start without a plan."""
        self.hass = hass
        self.plan: SitePlan | None = None
        self._key: tuple[Any, ...] | None = None
        self._connected: dict[str, bool] = {}
        self._following: dict[str, _Following] = {}
        self._ahead: SlotsAhead | None = None
        """The slots ahead the plan in force was made for."""
        self._room: dict[str, tuple[float, ...]] = {}
        """Per group: the room for the cars the plan in force was made with."""
        self._house = HouseAverage()
        self._takes_less: dict[str, tuple[int, float]] = {}
        """Per car of a session: the current it was seen to take when less than offered, and
        when (for `TAKES_LESS_FOR_S`)."""
        self._failed = False
        self.limits: dict[str, int] = {}
        """Per charger with a plan: its cap in the present slot (read by `site.build_site`)."""

    # -- each cycle ----------------------------------------------------------------------

    def update(
        self,
        decision: Decision,
        site: SiteConfig,
        chargers: Mapping[str, ChargerLink],
        session_kwh: Mapping[str, float],
        outlook: Outlook,
    ) -> bool:
        """Plan again if needed, then set each charger's slot cap; True when a cap changed.

        A plan is advice: should making or following it fail, the chargers lose their caps
        (they charge as their modes say, the engine still guards every fuse) and balancing
        goes on; the failure is logged once.
        """
        try:
            changed = self._update(decision, site, chargers, session_kwh, outlook)
        except Exception:  # noqa: BLE001  # anything: the balancing cycle must go on
            if not self._failed:
                LOGGER.exception("Charging plans stopped; the chargers follow their modes")
            self._failed = True
            self.plan, self._key, self._ahead, self._room = None, None, None, {}
            changed, self.limits = bool(self.limits), {}
            return changed
        self._failed = False
        return changed

    def _update(
        self,
        decision: Decision,
        site: SiteConfig,
        chargers: Mapping[str, ChargerLink],
        session_kwh: Mapping[str, float],
        outlook: Outlook,
    ) -> bool:
        now = dt_util.as_local(dt_util.utc_from_timestamp(decision.now))
        self._forget_departed(decision, chargers)
        cars = self._cars(decision, site, chargers, session_kwh, now)
        takes = self._takes(decision, site, cars)  # every cycle: it notes lowered requests
        if cars:
            self._plan_if_moved(decision, site, cars, takes, outlook, now)
        else:
            self._house.clear()
            self.plan, self._key, self._ahead, self._room = None, None, None, {}
        before = dict(self.limits)
        self.limits = self._slot_limits(site, session_kwh, now)
        return before != self.limits

    def _plan_if_moved(
        self,
        decision: Decision,
        site: SiteConfig,
        cars: Sequence[CarGoal],
        takes: Mapping[str, int],
        outlook: Outlook,
        now: datetime,
    ) -> None:
        """Plan again when what the plan in force rests on moved (see the module docstring)."""
        start = slot_start(now)
        house = self._house.update(decision.now, house_now(decision, site))
        root_kw = load_power_amps(site.network, sum(house[site.root.id])) * site.voltage / 1000
        outlook = replace(outlook, house_kw=root_kw if math.isfinite(root_kw) else None)
        ahead = outlook.slots(self.hass, now, start, self._horizon(start, cars))
        key = self._plan_key(start, cars, takes, site)
        room = room_for(site, house)
        moved = key != self._key or ahead.moved_from(self._ahead) or self._room_moved(room)
        if moved or self._need_moved(cars, now):
            # Made once per change, kept when it fails too: a plan that cannot be made is
            # not tried (nor warned about) again every second.
            self.plan = self._make_plan(decision, site, cars, takes, ahead, room)
            self._key, self._ahead, self._room = key, ahead, room
            self._following.clear()  # a new plan counts each slot's energy from now

    def _need_moved(self, cars: Sequence[CarGoal], now: datetime) -> bool:
        """Whether a car needs `REPLAN_KWH` more, or less, than the plan expects by now.

        Every quarter-hour plans again (the key has the slot): within it, a car following
        the plan needs up to that slot's energy less than when the plan was made.
        """
        plan = self.plan
        for entry_id, _, _, needed, _ in cars:
            planned = None if plan is None else plan.chargers.get(entry_id)
            if planned is None:
                continue  # no plan, or a new car: the key says so
            slot = planned.slot_at(now)
            this_slot = 0.0 if slot is None else planned.energy_kwh[slot]
            if not -this_slot - REPLAN_KWH < needed - planned.needed_kwh < REPLAN_KWH:
                return True
        return False

    def _room_moved(self, room: Mapping[str, tuple[float, ...]]) -> bool:
        """Whether a group's room moved by `REPLAN_AMPS` since the plan was made."""
        return any(
            abs(now - then) >= REPLAN_AMPS
            for group_id, amps in room.items()
            for now, then in zip(amps, self._room.get(group_id, (math.inf,) * 3), strict=True)
        )

    def _forget_departed(self, decision: Decision, chargers: Mapping[str, ChargerLink]) -> None:
        """Clear the one-off parts of a goal when its car leaves."""
        for entry_id, link in chargers.items():
            verdict = decision.chargers.get(entry_id)
            if verdict is None or not link.answering:
                continue  # not answering is not a car leaving
            connected = verdict.reason is not Reason.NO_CAR
            was = self._connected.get(entry_id)
            self._connected[entry_id] = connected
            if connected:
                continue
            self._takes_less.pop(entry_id, None)
            if not was:
                continue  # no car before either: nothing left this cycle
            goal = goal_of(link.entry)
            if goal != goal.car_left():
                options = {**link.entry.options, OPT_PLAN: goal.car_left().to_dict()}
                self.hass.config_entries.async_update_entry(link.entry, options=options)

    def _cars(
        self,
        decision: Decision,
        site: SiteConfig,
        chargers: Mapping[str, ChargerLink],
        session_kwh: Mapping[str, float],
        now: datetime,
    ) -> list[CarGoal]:
        """Return the chargers to plan: (id, goal, departure, energy needed, car's charge)."""
        planned = []
        in_site = {charger.id for charger in site.chargers}
        for entry_id, link in chargers.items():
            verdict = decision.chargers.get(entry_id)
            if entry_id not in in_site or verdict is None or verdict.reason is Reason.NO_CAR:
                continue
            goal = goal_of(link.entry)
            departure = goal.next_departure(now)
            soc = self._soc(goal)
            needed = goal.energy_needed(session_kwh=session_kwh.get(entry_id, 0.0), soc=soc)
            if departure is None or needed is None or needed < MIN_NEED_KWH:
                continue
            planned.append(CarGoal(entry_id, goal, departure, needed, soc))
        return planned

    def _takes(
        self, decision: Decision, site: SiteConfig, cars: Sequence[CarGoal]
    ) -> dict[str, int]:
        """Per car, the most it takes: its charger's maximum, or what the car drew when less.

        Only a car's own lowered request counts (the engine's `CAR_DRAWS_LESS`): a cap the
        plan or the fuses set says nothing of the car.
        """
        for entry_id, verdict in decision.chargers.items():  # seen before a goal is set, too
            if verdict.reason is Reason.CAR_DRAWS_LESS:
                self._takes_less[entry_id] = (verdict.requested, decision.now)
        maximum = {charger.id: charger.max_current for charger in site.chargers}
        takes = {}
        for entry_id, *_ in cars:
            seen = self._takes_less.get(entry_id)
            fresh = seen is not None and decision.now - seen[1] < TAKES_LESS_FOR_S
            takes[entry_id] = (
                min(maximum[entry_id], seen[0]) if seen and fresh else maximum[entry_id]
            )
        return takes

    def _soc(self, goal: ChargingGoal) -> float | None:
        if goal.soc_entity is None:
            return None
        state = self.hass.states.get(goal.soc_entity)
        try:
            value = float(state.state) if state is not None else math.nan
        except ValueError:
            return None
        return value if 0.0 <= value <= 100.0 else None  # noqa: PLR2004

    @staticmethod
    def _horizon(start: datetime, cars: Sequence[CarGoal]) -> int:
        if not cars:
            return 0
        last = max(car.departure for car in cars)
        span_s = last.timestamp() - start.timestamp()  # instants: a DST day has 92 or 100 slots
        return max(1, min(MAX_SLOTS, math.ceil(span_s / SLOT_S)))

    @staticmethod
    def _plan_key(
        start: datetime,
        cars: Sequence[CarGoal],
        takes: Mapping[str, int],
        site: SiteConfig,
    ) -> tuple[Any, ...]:
        """Return what the plan rests on: a change of any of it plans again."""
        cars_key = tuple(
            (entry_id, departure, takes[entry_id]) for entry_id, _, departure, _, _ in cars
        )
        # The site's groups, not its chargers: their configuration carries the plan's caps.
        return (start, cars_key, site.groups, site.margin_a)

    def shortfalls(self, chargers: Mapping[str, ChargerLink]) -> dict[str, dict[str, str] | None]:
        """Per charger: what a repair issue says of a plan that misses its target, or None."""
        shortfalls: dict[str, dict[str, str] | None] = {}
        for entry_id, link in chargers.items():
            planned = None if self.plan is None else self.plan.chargers.get(entry_id)
            shortfalls[entry_id] = None
            if planned is not None and planned.shortfall_kwh > SHORTFALL_KWH:
                shortfalls[entry_id] = {
                    "name": link.entry.title,
                    "departure": planned.departure.strftime("%a %H:%M"),
                    "planned": f"{planned.planned_kwh:.1f}",
                    "needed": f"{planned.needed_kwh:.1f}",
                }
        return shortfalls

    # -- making a plan -------------------------------------------------------------------

    def _make_plan(
        self,
        decision: Decision,
        site: SiteConfig,
        cars: Sequence[CarGoal],
        takes: Mapping[str, int],
        ahead: SlotsAhead,
        room: Mapping[str, tuple[float, ...]],
    ) -> SitePlan | None:
        start, price_series = ahead.start, ahead.prices
        slots = len(price_series)
        known = [price for price in price_series if price is not None]
        fill = max(known, default=0.0)
        prices = [fill if price is None else price for price in price_series]
        # The slot in progress has only its rest left: each limit of it shrinks to that share.
        rest = min(1.0, max(0.0, (start.timestamp() + SLOT_S - decision.now) / SLOT_S))

        def series(value: float) -> list[float]:
            return [value * rest] + [value] * (slots - 1)

        groups = []
        for group in site.groups:
            power = None if group.max_power_w is None else series(group.max_power_w / 1000.0)
            groups.append(
                Group(
                    id=group.id,
                    parent_id=group.parent_id,
                    amps_left=[series(amps) for amps in room[group.id]],
                    max_power_kw=power,
                )
            )
        solar = None if ahead.solar_kw is None else [ahead.solar_kw[0] * rest, *ahead.solar_kw[1:]]
        configs = {charger.id: charger for charger in site.chargers}
        request_cars = []
        for entry_id, _, departure, needed, _ in cars:
            request_cars.append(
                Car(
                    id=entry_id,
                    group_id=configs[entry_id].group_id,
                    phases=[PlanPhase(phase) for phase in decision.chargers[entry_id].site_phases],
                    max_current_a=float(takes[entry_id]),
                    energy_kwh=needed,
                    departure_slot=min(
                        slots, max(0, int((departure.timestamp() - start.timestamp()) // SLOT_S))
                    ),
                )
            )
        try:
            request = PlanRequest(
                groups=groups,
                cars=request_cars,
                price=prices,
                solar_kw=solar,
                peak_kw=None if ahead.peak_kw is None else series(ahead.peak_kw),
                voltage=site.voltage,
                slot_s=SLOT_S,
            )
            plan = plan_charging(request)
        except ValueError as err:  # a site the planner cannot take: no plan, free charging
            LOGGER.warning("No charging plan: %s", err)
            return None
        starts = tuple(
            dt_util.as_local(dt_util.utc_from_timestamp(start.timestamp() + SLOT_S * slot))
            for slot in range(slots)
        )
        return SitePlan(
            slot_starts=starts,
            prices=tuple(price_series),
            load_kw=plan.load_kw,
            total_cost=plan.total_cost,
            chargers=charger_plans(plan, cars, starts),
        )

    # -- following it --------------------------------------------------------------------

    def _slot_limits(
        self, site: SiteConfig, session_kwh: Mapping[str, float], now: datetime
    ) -> dict[str, int]:
        if self.plan is None:
            self._following.clear()
            return {}
        minimum = {charger.id: charger.min_current for charger in site.chargers}
        limits: dict[str, int] = {}
        for entry_id, planned in self.plan.chargers.items():
            slot = planned.slot_at(now)
            if slot is None or entry_id not in minimum:
                continue
            energy = session_kwh.get(entry_id, 0.0)
            following = self._following.get(entry_id)
            if following is None or following.slot != planned.slot_starts[slot]:
                following = self._following[entry_id] = _Following(
                    planned.slot_starts[slot], energy
                )
            limits[entry_id] = slot_limit(
                current_a=planned.current_a[slot],
                energy_kwh=planned.energy_kwh[slot],
                delivered_kwh=energy - following.session_kwh_at_start,
                min_current=minimum[entry_id],
            )
        return limits
