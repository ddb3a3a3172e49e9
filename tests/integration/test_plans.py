"""Charging plans in Home Assistant: a departure, a target, a real price sensor's forecast.

The price comes from a sensor of Home Assistant's own `template` integration whose
attributes announce today's prices as Nordpool does (`raw_today`: start, end, value). The
site is the emulated TeltoCharge (16 A, three phases) and meter of `emulated_site`; the
service's and the charger's clocks are moved by hand (`Clocks`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from emulated_site import Clocks
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.powershare.balancing.plan_types import CarGoal, ChargerPlan, SitePlan
from custom_components.powershare.balancing.plans import PlanKeeper, slot_start
from custom_components.powershare.charging_goals import ChargingGoal
from custom_components.powershare.const import DOMAIN
from custom_components.powershare.hub import async_get_hub
from custom_components.powershare.settings import OPT_PLAN, OPT_TARIFF
from simulators.teltocharge import EmulatedCar

if TYPE_CHECKING:
    from emulated_site import Site
    from homeassistant.core import HomeAssistant

PRICE = "sensor.day_ahead_price"
PLAN = "sensor.teltocharge_4242_charging_plan"
REASON = "sensor.teltocharge_4242_balancing_reason"
CHEAP, DEAR = 0.10, 0.40
CHEAP_FROM, CHEAP_UNTIL = timedelta(hours=2), timedelta(hours=4)


def _now(clocks: Clocks) -> datetime:
    return dt_util.as_local(dt_util.utc_from_timestamp(clocks.wall))


def _clocks(hass: HomeAssistant, site: Site) -> Clocks:
    """Hand-moved clocks, a minute into the next quarter-hour: a test's cycles stay in it."""
    clocks = Clocks(hass, site)
    clocks.wall = (slot_start(_now(clocks)) + timedelta(minutes=16)).timestamp()
    return clocks


async def _price_sensor(hass: HomeAssistant, start: datetime) -> None:
    """A template sensor with Nordpool's forecast: dear, cheap from +2 h to +4 h, dear."""
    points = []
    for hour in range(-1, 24):
        begin = start + timedelta(hours=hour)
        cheap = CHEAP_FROM <= begin - start < CHEAP_UNTIL
        points.append(
            {
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=1)).isoformat(),
                "value": CHEAP if cheap else DEAR,
            }
        )
    config = {
        "template": [
            {
                "sensor": [
                    {
                        "name": "Day-ahead price",
                        "unit_of_measurement": "EUR/kWh",
                        "state": f"{DEAR}",
                        "attributes": {"raw_today": f"{{{{ {json.dumps(points)} }}}}"},
                    }
                ]
            }
        ]
    }
    assert await async_setup_component(hass, "template", config)
    await hass.async_block_till_done()
    state = hass.states.get(PRICE)
    assert state is not None
    assert len(state.attributes["raw_today"]) == 25  # a list, as Nordpool's


async def _plan_site(hass: HomeAssistant, site: Site) -> Clocks:
    clocks = _clocks(hass, site)
    start = slot_start(_now(clocks))
    await _price_sensor(hass, start)
    root = site.group_entry
    tariff = {"kind": "price_sensor", "entity_id": PRICE}
    hass.config_entries.async_update_entry(root, options={**root.options, OPT_TARIFF: tariff})
    await hass.async_block_till_done()
    await site.charge_a_16_a_car()
    return clocks


def _device_id(hass: HomeAssistant, site: Site) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, "teltocharge_4242")})
    if device is None:  # the charger's device is named by its serial
        devices = dr.async_entries_for_config_entry(dr.async_get(hass), site.charger_entry.entry_id)
        device = devices[0]
    return device.id


async def _set_plan(hass: HomeAssistant, site: Site, **fields: Any) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_charging_plan",
        {"device_id": _device_id(hass, site), **fields},
        blocking=True,
    )
    await hass.async_block_till_done()


def _allocated(site: Site) -> int:
    decision = async_get_hub(site.hass).balancing.decision
    assert decision is not None
    return decision.chargers[site.charger_entry.entry_id].target_current


async def test_a_car_waits_for_the_cheap_hours_and_charges_in_them(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = await _plan_site(hass, site)
    assert _allocated(site) >= 6  # no goal: it charges at once
    departure = _now(clocks) + timedelta(hours=8)
    await _set_plan(hass, site, departure=departure.isoformat(), energy=10)
    await clocks.cycles(2)

    start = slot_start(_now(clocks))
    plan = hass.states.get(PLAN)
    assert plan is not None
    # 10 kWh at 3 x 16 A (11 kW) fit in the two cheap hours: it starts when they start.
    assert dt_util.parse_datetime(plan.state) == start + CHEAP_FROM
    assert plan.attributes["needed_kwh"] == pytest.approx(10.0, abs=0.3)
    assert plan.attributes["shortfall_kwh"] == 0
    assert plan.attributes["expected_cost"] == pytest.approx(10.0 * CHEAP, rel=0.05)
    slots = plan.attributes["slots"]
    assert all(
        start + CHEAP_FROM <= dt_util.parse_datetime(slot["start"]) < start + CHEAP_UNTIL
        for slot in slots
    )
    assert sum(slot["energy_kwh"] for slot in slots) == pytest.approx(10.0, abs=0.3)
    assert _allocated(site) == 0
    reason = hass.states.get(REASON)
    assert reason is not None
    assert reason.state == "plan_limit"
    load = hass.states.get("sensor.main_fuse_planned_load")
    assert load is not None
    assert float(load.state) == 0.0
    assert [slot["price"] for slot in load.attributes["slots"][:9]] == [DEAR] * 8 + [CHEAP]

    # Into the cheap hours: the plan's slot lets it charge, at its full 16 A.
    clocks.wall = (start + CHEAP_FROM + timedelta(minutes=1)).timestamp()
    await clocks.cycles(3)
    assert _allocated(site) >= 15  # its 16 A (the plan's cap), less what the fuse leaves
    load = hass.states.get("sensor.main_fuse_planned_load")
    assert load is not None
    assert float(load.state) > 5.0


async def test_a_target_that_cannot_be_met_is_said_at_once(hass: HomeAssistant, site: Site) -> None:
    clocks = await _plan_site(hass, site)
    departure = _now(clocks) + timedelta(hours=3)
    await _set_plan(hass, site, departure=departure.isoformat(), energy=60)
    await clocks.cycles(4)  # the readings settle: the plan sees the house as it is
    plan = hass.states.get(PLAN)
    assert plan is not None
    # 16 A on three phases for under 3 hours: some 30 kWh, not 60; it charges at once.
    # (Less when the plan was made while the emulated meter still caught up with a change:
    # the engine then sees less room, and so does the plan.)
    assert 20.0 < plan.attributes["planned_kwh"] < 33.2
    assert plan.attributes["shortfall_kwh"] > 25.0
    assert _allocated(site) >= 6  # every slot counts: it charges at once
    issue_id = f"plan_short_{site.charger_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    energy = hass.states.get("sensor.teltocharge_4242_planned_energy_by_departure")
    assert energy is not None
    assert float(energy.state) == pytest.approx(plan.attributes["planned_kwh"], abs=0.01)

    # A later departure makes it possible: the issue goes.
    await _set_plan(hass, site, departure=(departure + timedelta(hours=6)).isoformat())
    await clocks.cycles(1)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_the_entities_set_the_goal_and_a_leaving_car_clears_it(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = await _plan_site(hass, site)
    departure = (_now(clocks) + timedelta(hours=10)).replace(second=0, microsecond=0)
    await hass.services.async_call(
        "datetime",
        "set_value",
        {"entity_id": "datetime.teltocharge_4242_departure", "datetime": departure.isoformat()},
        blocking=True,
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.teltocharge_4242_energy_to_add", "value": 12.5},
        blocking=True,
    )
    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": "time.teltocharge_4242_daily_departure", "time": "07:15:00"},
        blocking=True,
    )
    await hass.async_block_till_done()
    stored = site.charger_entry.options[OPT_PLAN]
    assert dt_util.parse_datetime(stored["departure"]) == departure
    assert stored["energy_kwh"] == 12.5
    assert set(stored["daily"].values()) == {"07:15"}
    assert len(stored["daily"]) == 7
    energy = hass.states.get("number.teltocharge_4242_energy_to_add")
    assert energy is not None
    assert float(energy.state) == 12.5
    await clocks.cycles(1)
    assert hass.states.get(PLAN) is not None
    assert async_get_hub(hass).balancing.plans.plan is not None

    site.charger.unplug()
    await clocks.cycles(2)
    stored = site.charger_entry.options[OPT_PLAN]
    assert stored["departure"] is None
    assert stored["energy_kwh"] is None
    assert len(stored["daily"]) == 7  # the daily departure stays for the next time
    assert async_get_hub(hass).balancing.plans.plan is None
    assert _allocated(site) == 0


async def test_a_goal_that_cannot_be_planned_is_refused_with_its_reason(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = await _plan_site(hass, site)
    with pytest.raises(ServiceValidationError, match="state-of-charge sensor"):
        await _set_plan(hass, site, target_charge=80)
    past = _now(clocks) - timedelta(hours=1)
    with pytest.raises(ServiceValidationError, match="not in the future"):
        await _set_plan(hass, site, departure=past.isoformat())
    assert OPT_PLAN not in site.charger_entry.options  # nothing stored by either

    # With the car's sensor and capacity, a charge target plans the charge missing.
    hass.states.async_set("sensor.car_battery", "40", {"unit_of_measurement": "%"})
    await _set_plan(
        hass,
        site,
        departure=(_now(clocks) + timedelta(hours=8)).isoformat(),
        target_charge=80,
        soc_entity="sensor.car_battery",
        battery_capacity=50,
    )
    await clocks.cycles(1)
    plan = hass.states.get(PLAN)
    assert plan is not None
    # 40 % of 50 kWh through 90 % charging efficiency.
    assert plan.attributes["needed_kwh"] == pytest.approx(20.0 / 0.9, abs=0.01)
    charge = hass.states.get("sensor.teltocharge_4242_expected_charge_at_departure")
    assert charge is not None
    assert float(charge.state) == pytest.approx(80.0, abs=0.5)

    await hass.services.async_call(
        DOMAIN, "clear_charging_plan", {"device_id": _device_id(hass, site)}, blocking=True
    )
    await clocks.cycles(3)  # a start, then its full current
    stored = site.charger_entry.options[OPT_PLAN]
    assert stored["soc_entity"] == "sensor.car_battery"  # the car's description stays
    assert stored["target_soc"] is None
    assert async_get_hub(hass).balancing.plans.plan is None
    assert _allocated(site) >= 6  # charging again (from its minimum, up as the car follows)
    reason = hass.states.get(REASON)
    assert reason is not None
    assert reason.state != "plan_limit"


async def _solcast_sensor(hass: HomeAssistant, start: datetime) -> None:
    """A template sensor with Solcast's `detailedForecast`: 30 kW from +1 h to +3 h.

    So much that the surplus fills the car even while its start is still counted as the
    house's load (what a plan made then sees).
    """
    periods = [
        {
            "period_start": (start + timedelta(minutes=30 * half)).isoformat(),
            "pv_estimate": 30.0 if 2 <= half < 6 else 0.0,
        }
        for half in range(-2, 48)
    ]
    config = {
        "template": [
            {
                "sensor": [
                    {
                        "name": "Solar forecast today",
                        "unit_of_measurement": "kWh",
                        "state": "30",
                        "attributes": {"detailedForecast": f"{{{{ {json.dumps(periods)} }}}}"},
                    }
                ]
            }
        ]
    }
    assert await async_setup_component(hass, "template", config)
    await hass.async_block_till_done()


async def test_a_solar_forecast_draws_the_plan_to_the_sunny_hours(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = _clocks(hass, site)
    start = slot_start(_now(clocks))
    await _solcast_sensor(hass, start)
    hass.states.async_set("sensor.no_forecast", "3", {"unit_of_measurement": "kWh"})
    root = site.group_entry
    flat = {"kind": "flat", "price": 0.30}
    hass.config_entries.async_update_entry(root, options={**root.options, OPT_TARIFF: flat})

    # The root group's options: the forecast sensor is checked before it is kept.
    result: Any = await hass.config_entries.options.async_init(root.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "solar_forecast"}
    )
    for entity_id, error in (
        ("sensor.nowhere", "solar_forecast_missing"),
        ("sensor.no_forecast", "solar_forecast_unreadable"),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"entity_id": entity_id}
        )
        assert result["errors"] == {"entity_id": error}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"entity_id": "sensor.solar_forecast_today"}
    )
    await hass.async_block_till_done()
    assert root.options["solar_forecast"] == "sensor.solar_forecast_today"
    assert root.options[OPT_TARIFF] == flat  # the other options stay

    await site.charge_a_16_a_car()
    await _set_plan(
        hass, site, departure=(_now(clocks) + timedelta(hours=8)).isoformat(), energy=10
    )
    # A plan made while the car still draws sees the house's load as the readings show it
    # then; the next ones, the car paused and the readings settled, the house's own.
    await clocks.cycles(4)
    plan = hass.states.get(PLAN)
    assert plan is not None
    # At one price all day, the sun's hours cost nothing: the car waits for them.
    assert dt_util.parse_datetime(plan.state) == start + timedelta(hours=1), plan.attributes
    for slot in plan.attributes["slots"]:
        assert start + timedelta(hours=1) <= dt_util.parse_datetime(slot["start"])
        assert dt_util.parse_datetime(slot["start"]) < start + timedelta(hours=3)
    assert plan.attributes["expected_cost"] < 0.30  # nearly all of it from the surplus
    assert _allocated(site) == 0

    # Without the forecast the same plan charges at once (the earliest, at one price).
    result = await hass.config_entries.options.async_init(root.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "solar_forecast"}
    )
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert root.options["solar_forecast"] is None
    await clocks.cycles(2)
    plan = hass.states.get(PLAN)
    assert plan is not None
    assert dt_util.parse_datetime(plan.state) == start


async def test_a_plan_reads_what_it_can_and_plans_nothing_from_nonsense(
    hass: HomeAssistant, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    clocks = _clocks(hass, site)
    keeper = async_get_hub(hass).balancing.plans
    charger = site.charger_entry
    # A stored goal that is not one (an old or hand-edited entry): no plan, a warning.
    hass.config_entries.async_update_entry(charger, options={**charger.options, OPT_PLAN: []})
    hass.config_entries.async_update_entry(
        charger, options={**charger.options, OPT_PLAN: {"departure": 7}}
    )
    await site.charge_a_16_a_car()
    await clocks.cycles(1)
    assert keeper.plan is None
    assert "charging goal of TeltoCharge 4242 is not used" in caplog.text

    # A price sensor without a forecast: its price now, the same for the slots ahead.
    hass.states.async_set("sensor.spot", "0.25", {"unit_of_measurement": "EUR/kWh"})
    root = site.group_entry
    tariff = {"kind": "price_sensor", "entity_id": "sensor.spot"}
    hass.config_entries.async_update_entry(root, options={**root.options, OPT_TARIFF: tariff})
    naive = (_now(clocks) + timedelta(hours=5)).replace(tzinfo=None, microsecond=0)
    await _set_plan(hass, site, departure=naive.isoformat(), energy=5)  # local time
    await clocks.cycles(1)
    assert keeper.plan is not None
    planned = keeper.plan.chargers[charger.entry_id]
    assert planned.departure == naive.replace(tzinfo=dt_util.get_default_time_zone())
    assert keeper.plan.prices[0] == 0.25
    assert set(keeper.plan.prices[1:]) == {None}  # unknown, planned at the dearest known
    assert planned.next_start == slot_start(_now(clocks))  # one price: at once
    assert planned.cost == pytest.approx(planned.needed_kwh * 0.25, rel=0.01)

    # A price that is not a number is no price (the last one stands in, for an hour).
    hass.states.async_set("sensor.spot", "nan", {"unit_of_measurement": "EUR/kWh"})
    await clocks.cycles(1)
    assert keeper.plan is not None
    assert keeper.plan.prices[0] == 0.25
    price = hass.states.get("sensor.main_fuse_energy_price")
    assert price is not None
    assert float(price.state) == 0.25

    # Nothing left to add: no plan, the charger charges as its mode says (not held at 0).
    hass.states.async_set("sensor.spot", "0.25", {"unit_of_measurement": "EUR/kWh"})
    await _set_plan(hass, site, energy=0)
    await clocks.cycles(1)
    assert keeper.plan is None
    assert keeper.limits == {}
    plan = hass.states.get(PLAN)
    assert plan is not None
    assert plan.state == "unknown"


async def test_daily_departures_per_day_and_a_car_that_takes_less(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = _clocks(hass, site)
    keeper = async_get_hub(hass).balancing.plans
    later = (_now(clocks) + timedelta(hours=6)).time().replace(second=0, microsecond=0)
    await _set_plan(hass, site, daily_departure=later.isoformat(), days=["mon", "tue"])
    await _set_plan(hass, site, daily_departure="05:00:00", days=["sat"], energy=4)
    stored = site.charger_entry.options[OPT_PLAN]
    assert stored["daily"] == {
        "mon": later.strftime("%H:%M"),
        "tue": later.strftime("%H:%M"),
        "sat": "05:00",
    }
    await clocks.cycles(1)
    daily = hass.states.get("time.teltocharge_4242_daily_departure")
    assert daily is not None
    assert daily.state != "unknown"

    # A car that takes 10 A of the 16 offered: the plan counts on what the engine then
    # offers it (what it draws and a margin to show it could draw more).
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=10.0, ramp_s=0.0))
    for _ in range(20):  # seen drawing less for 2 minutes: it asks for 10 + 2 A
        await clocks.cycles(1)
        if keeper._takes_less:
            break
    assert keeper._takes_less[site.charger_entry.entry_id][0] == 12
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.teltocharge_4242_target_charge", "value": 90},
        blocking=True,
    )
    await _set_plan(
        hass, site, departure=(_now(clocks) + timedelta(hours=1)).isoformat(), energy=20
    )
    await clocks.cycles(2)
    assert keeper.plan is not None
    planned = keeper.plan.chargers[site.charger_entry.entry_id]
    assert max(planned.current_a) == pytest.approx(12.0)
    assert planned.shortfall_kwh > 10.0  # 20 kWh in an hour at 12 A: no
    assert site.charger_entry.options[OPT_PLAN]["target_soc"] == 90

    # Past the departure, nothing caps the charger; the car leaves: the plan goes.
    clocks.wall += 2 * 3600
    await clocks.cycles(1)
    site.charger.unplug()
    await clocks.cycles(2)
    assert keeper.plan is None
    load = hass.states.get("sensor.main_fuse_planned_load")
    assert load is not None
    assert load.state == "unknown"


async def test_a_failing_plan_leaves_balancing_running_and_the_chargers_free(
    hass: HomeAssistant, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    clocks = await _plan_site(hass, site)
    keeper = async_get_hub(hass).balancing.plans
    await _set_plan(
        hass, site, departure=(_now(clocks) + timedelta(hours=8)).isoformat(), energy=10
    )
    await clocks.cycles(2)
    assert site.charger_entry.entry_id in keeper.limits  # the plan caps it

    def broken(_request: Any) -> Any:
        raise RuntimeError("a fault in the planner")

    cycles_before = async_get_hub(hass).balancing.cycles
    with patch("custom_components.powershare.balancing.plans.plan_charging", broken):
        await _set_plan(hass, site, energy=12)  # the goal moves: a new plan is asked for
        await clocks.cycles(4)
    assert async_get_hub(hass).balancing.cycles >= cycles_before + 4  # balancing went on
    assert keeper.plan is None
    assert keeper.limits == {}
    assert _allocated(site) >= 6  # no longer held by a plan: it charges as its mode says
    assert caplog.text.count("Charging plans stopped") == 1  # said once, not every cycle

    await clocks.cycles(2)  # the planner works again: so does the plan
    assert keeper.plan is not None


async def test_the_houses_noise_and_a_kettle_do_not_plan_again_an_oven_does(
    hass: HomeAssistant, site: Site
) -> None:
    clocks = await _plan_site(hass, site)
    keeper = async_get_hub(hass).balancing.plans
    await _set_plan(
        hass, site, departure=(_now(clocks) + timedelta(hours=8)).isoformat(), energy=10
    )
    await clocks.cycles(3)
    plan = keeper.plan
    assert plan is not None
    for house in (10.4, 9.7, 10.9, 10.2, 9.5, 10.6):  # within the 2 A that plan again
        site.live.house_a = [house, house, house]
        await clocks.cycles(1)
    assert keeper.plan is plan
    # A kettle: 10 A more for three minutes moves the quarter-hour's average less than 2 A.
    site.live.house_a = [20.0, 20.0, 20.0]
    await clocks.cycles(9)  # 20 s each
    assert keeper.plan is plan
    site.live.house_a = [10.0, 10.0, 10.0]
    await clocks.cycles(5)  # the average comes back down (the test stays in its slot)
    assert keeper.plan is plan
    # An oven: 10 A that stay. Within about five minutes the average has moved 2 A.
    site.live.house_a = [20.0, 20.0, 20.0]
    for _ in range(15):
        await clocks.cycles(1)
        if keeper.plan is not plan:
            break
    assert keeper.plan is not plan


def test_slots_are_counted_in_instants_across_a_dst_change() -> None:
    brussels = ZoneInfo("Europe/Brussels")
    start = datetime(2026, 3, 29, 0, 0, tzinfo=brussels)  # 02:00 becomes 03:00
    departure = datetime(2026, 3, 29, 7, 0, tzinfo=brussels)
    cars = [CarGoal("c", ChargingGoal(), departure, 10.0, None)]
    assert PlanKeeper._horizon(start, cars) == 24  # 6 real hours, not the 7 on the clock
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=brussels)  # 03:00 becomes 02:00
    cars = [CarGoal("c", ChargingGoal(), datetime(2026, 10, 25, 7, 0, tzinfo=brussels), 1, None)]
    assert PlanKeeper._horizon(autumn, cars) == 32


def test_a_plans_load_and_start_outside_its_slots() -> None:
    first = datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    starts = (first, first + timedelta(minutes=15))
    charger = ChargerPlan(first, 1.0, starts, (0.0, 0.005), (0.0, 0.1), 0.0, 1.0, 0.0, None)
    assert charger.next_start is None  # nothing but the planner's dust
    plan = SitePlan(starts, (0.3, 0.3), (0.0, 2.0), 0.0, {"c": charger})
    assert plan.load_at(first - timedelta(seconds=1)) is None
    assert plan.load_at(first + timedelta(minutes=20)) == 2.0
    assert plan.load_at(first + timedelta(minutes=30)) is None
