"""The peak budget: windows on the clock, the energy so far, the budget, the month's peak."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.powershare.peak import (
    AIM,
    RISE_EVERY_S,
    PeakMode,
    PeakSample,
    PeakSettings,
    PeakTracker,
    window_start,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
START = datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS)
FIXED_4KW = PeakSettings(mode=PeakMode.FIXED, limit_w=4000.0)


def feed(tracker: PeakTracker, seconds: float, watts: float, *, ev: float = 0.0) -> datetime:
    """Feed one reading every 10 s for `seconds` after START at a steady `watts`."""
    moment = START
    for step in range(int(seconds // 10) + 1):
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, watts, ev))
    return moment


def test_windows_follow_the_local_clock() -> None:
    moment = datetime(2026, 3, 2, 10, 7, 30, tzinfo=BRUSSELS)
    assert window_start(moment, 900) == datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS).timestamp()
    assert window_start(moment, 3600) == datetime(2026, 3, 2, 10, tzinfo=BRUSSELS).timestamp()
    india = datetime(2026, 3, 2, 10, 7, tzinfo=ZoneInfo("Asia/Kolkata"))
    local_hour = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp()
    assert window_start(india, 3600) == local_hour
    with pytest.raises(ValueError, match="time zone"):
        window_start(datetime(2026, 3, 2, 10, 7), 900)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("settings_kwargs", "message"),
    [
        ({"window_min": 30}, "window"),
        ({"floor_w": 500.0}, "floor"),
        ({"mode": PeakMode.FIXED}, "fixed limit"),
        ({"mode": PeakMode.FIXED, "limit_w": 900.0}, "fixed limit"),
    ],
)
def test_settings_no_tariff_has_are_refused(
    settings_kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PeakSettings(**settings_kwargs)  # type: ignore[arg-type]


def test_the_budget_left_is_spread_over_the_rest_of_the_window() -> None:
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 300, 2000.0)
    budget = tracker.budget(at, 2000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(2000 * 300 / 3600)
    assert budget.average_w == pytest.approx(2000.0)
    assert budget.projected_w == pytest.approx(2000.0)
    assert budget.left_wh == pytest.approx(1000 - 2000 * 300 / 3600)
    expected = (AIM * 1000 - 2000 * 300 / 3600) * 3600 / 600
    assert budget.site_power_w == pytest.approx(expected)
    assert budget.site_power_w > 4000  # a quiet start leaves more for the rest


def test_in_the_last_minute_the_budget_may_fall_but_not_jump() -> None:
    # On track (3.92 kW so far, 98 % of 4 kW): the cars keep their current to the end.
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 870, AIM * 4000.0)
    budget = tracker.budget(at, AIM * 4000.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx(AIM * 4000.0)
    # Nothing spent: what is left, spread over a minute, not over the 30 s left.
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 870, 0.0)
    budget = tracker.budget(at, 0.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx(AIM * 1000 * 60)
    # Overspent: spread over the 30 s left, so the cut is as deep as it must be.
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 870, 4100.0)
    budget = tracker.budget(at, 4100.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx((AIM * 1000 - 4100 * 870 / 3600) * 3600 / 30)
    assert budget.site_power_w < 0


def test_the_budget_rises_at_most_once_a_minute_and_falls_at_once() -> None:
    # A quiet house (1 kW) under 4 kW: the budget spread over the rest creeps up every reading.
    tracker = PeakTracker(FIXED_4KW)
    given: list[tuple[float, float, float]] = []  # seconds, site power given, fresh spread
    for step in range(60):  # ten minutes, a reading every 10 s
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, 1000.0))
        budget = tracker.budget(moment, 1000.0)
        assert budget is not None
        spread = (AIM * 1000 - budget.energy_wh) * 3600 / (900 - 10 * step)
        given.append((10.0 * step, budget.site_power_w, spread))
    rises = [
        at
        for (at, power, _), (_, before, _) in zip(given[1:], given, strict=False)
        if power > before
    ]
    assert rises == [60.0 * minute for minute in range(1, 10)]  # once a minute, not every 10 s
    assert all(power <= spread + 1e-6 for _, power, spread in given)  # never more than allowed
    # Each rise takes all that is allowed then; in between, the power of the last rise holds.
    assert all(power == pytest.approx(spread) for at, power, spread in given if at in {0, *rises})
    assert all(
        power == before
        for (at, power, _), (_, before, _) in zip(given[1:], given, strict=False)
        if at not in rises
    )
    # The house rises (20 kW, over what is left): the budget falls, and is given at once.
    falls = 0
    for step in range(60, 75):
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, 20000.0))
        budget = tracker.budget(moment, 20000.0)
        assert budget is not None
        spread = (AIM * 1000 - budget.energy_wh) * 3600 / (900 - 10 * step)
        if spread < given[-1][1]:
            falls += 1
            assert budget.site_power_w == pytest.approx(spread)
        given.append((10.0 * step, budget.site_power_w, spread))
    assert falls >= 10
    # The next window starts afresh at its first reading.
    tracker = PeakTracker(FIXED_4KW)
    feed(tracker, 890, 1000.0)
    moment = START + timedelta(seconds=900 + RISE_EVERY_S / 2)
    tracker.observe(PeakSample(START + timedelta(seconds=900), 1000.0))
    tracker.observe(PeakSample(moment, 1000.0))
    budget = tracker.budget(moment, 1000.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx(
        (AIM * 1000 - budget.energy_wh) * 3600 / (900 - RISE_EVERY_S / 2)
    )


def test_an_export_projects_nothing_more_imported() -> None:
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 300, 2000.0)
    budget = tracker.budget(at, -3000.0)  # the sun now exports 3 kW
    assert budget is not None
    assert budget.projected_w == pytest.approx(2000.0 * 300 / 900)  # what came in, no less
    assert budget.projected_w > 0


def test_an_overspent_window_gives_the_site_nothing() -> None:
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 600, 7000.0)
    budget = tracker.budget(at, 7000.0)
    assert budget is not None
    assert budget.site_power_w < 0
    assert budget.left_wh == 0.0
    assert budget.projected_w == pytest.approx(7000.0)


def test_the_largest_source_of_energy_wins() -> None:
    tracker = PeakTracker(FIXED_4KW)
    for step, counter in enumerate((100.0, 100.2, 100.4)):  # 200 Wh per 10 s: 72 kW
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, 1000.0, import_energy_kwh=counter))
    budget = tracker.budget(START + timedelta(seconds=20), 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(400.0)
    tracker.observe(PeakSample(START + timedelta(seconds=30), 1000.0, average_demand_w=60_000.0))
    budget = tracker.budget(START + timedelta(seconds=30), 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(500.0)


def test_export_makes_no_room_for_more_import() -> None:
    # Capacity tariffs bill import: seven minutes of export leave the budget as it was.
    tracker = PeakTracker(FIXED_4KW)
    for step in range(43):
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, -3000.0, import_energy_kwh=10.0))
    budget = tracker.budget(START + timedelta(seconds=420), -3000.0)
    assert budget is not None
    assert budget.energy_wh == 0.0
    assert budget.site_power_w == pytest.approx(AIM * 1000 * 3600 / 480)


def test_a_gap_over_a_boundary_is_counted_once() -> None:
    tracker = PeakTracker(FIXED_4KW)
    tracker.observe(PeakSample(START + timedelta(seconds=850), 1000.0))
    later = START + timedelta(seconds=950)  # 100 s later, 50 s into the next window
    tracker.observe(PeakSample(later, 1000.0))
    budget = tracker.budget(later, 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(4000 * 50 / 3600)  # the unseen part, once
    closed = tracker.last_closed
    assert closed is not None
    assert not closed.whole  # its last 50 s were not seen either: counted at the limit


def test_another_window_length_starts_afresh() -> None:
    tracker = PeakTracker(PeakSettings(mode=PeakMode.MONTH_PEAK))
    feed(tracker, 300, 2000.0)
    tracker.forget_window()
    tracker.settings = PeakSettings(mode=PeakMode.MONTH_PEAK, window_min=60)
    for step in range(31, 400):
        tracker.observe(PeakSample(START + timedelta(seconds=10 * step), 2000.0))
    closed = tracker.last_closed
    assert closed is not None
    # The hour from 10:00, joined at 10:05 (2.5 kW, the floor, for the five unseen minutes):
    # its average is the hour's, not four times a quarter-hour's.
    assert closed.average_w == pytest.approx((2000 * 3290 + 2500 * 310) / 3600)
    assert not closed.whole
    assert tracker.month_peak is None


def test_a_window_joined_in_its_middle_counts_the_unseen_part_at_the_limit() -> None:
    tracker = PeakTracker(FIXED_4KW)
    late = START + timedelta(minutes=5)
    tracker.observe(PeakSample(late, 1000.0))
    budget = tracker.budget(late, 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(4000 * 300 / 3600)
    # Unless the meter's own average covers the whole window.
    tracker.observe(PeakSample(late + timedelta(seconds=10), 1000.0, average_demand_w=500.0))
    budget = tracker.budget(late + timedelta(seconds=10), 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(500 * 310 / 3600)


def test_without_readings_the_site_gets_at_most_the_limit() -> None:
    tracker = PeakTracker(FIXED_4KW)
    budget = tracker.budget(START + timedelta(minutes=5), 0.0)
    assert budget is not None
    assert budget.site_power_w <= 4000.0
    assert PeakTracker(PeakSettings()).budget(START, 0.0) is None  # mode off


def test_a_gap_counts_at_the_limit_and_keeps_the_window_out_of_the_month_peak() -> None:
    tracker = PeakTracker(FIXED_4KW)
    tracker.observe(PeakSample(START, 500.0))
    tracker.observe(PeakSample(START + timedelta(minutes=5), 500.0))
    budget = tracker.budget(START + timedelta(minutes=5), 500.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(4000 * 300 / 3600)
    tracker.observe(PeakSample(START + timedelta(minutes=15, seconds=5), 500.0))
    assert tracker.last_closed is not None
    assert tracker.month_peak is None


def test_a_closed_window_sets_the_month_peak_and_who_set_it() -> None:
    tracker = PeakTracker(PeakSettings(mode=PeakMode.MONTH_PEAK))
    assert tracker.limit_w == 2500.0  # the floor while the month has no peak
    feed(tracker, 900, 3000.0, ev=0.0)  # the last reading opens the next window
    peak = tracker.month_peak
    assert peak is not None
    assert peak.average_w == pytest.approx(3000.0)
    assert peak.by_house
    assert tracker.limit_w == pytest.approx(3000.0)
    tracker.meter_month_peak_w = 3500.0
    assert tracker.limit_w == 3500.0


def test_cars_that_set_a_peak_are_not_blamed_on_the_house() -> None:
    tracker = PeakTracker(FIXED_4KW)
    feed(tracker, 900, 4500.0, ev=3000.0)
    assert tracker.last_closed is not None
    assert not tracker.last_closed.by_house
    assert tracker.last_limit_w == 4000.0


def test_a_new_month_starts_without_a_peak() -> None:
    tracker = PeakTracker(PeakSettings(mode=PeakMode.MONTH_PEAK))
    last = datetime(2026, 3, 31, 23, 45, tzinfo=BRUSSELS)
    for step in range(91):
        tracker.observe(PeakSample(last + timedelta(seconds=10 * step), 3000.0, month_peak_w=3200))
    assert tracker.month == "2026-04"
    assert tracker.month_peak is None  # March's last window closed into March
    assert tracker.meter_month_peak_w == 3200.0  # the meter's figure of the new month


def test_the_month_peak_survives_a_restart() -> None:
    tracker = PeakTracker(PeakSettings(mode=PeakMode.MONTH_PEAK))
    feed(tracker, 900, 3000.0)
    again = PeakTracker(PeakSettings(mode=PeakMode.MONTH_PEAK))
    again.restore(tracker.as_dict())
    assert again.month_peak == tracker.month_peak
    again.observe(PeakSample(START + timedelta(minutes=20), 100.0))
    assert again.month_peak == tracker.month_peak  # same month: kept
    for broken in ({"month": 3}, {"month": "2026-03", "peak": {"average_w": "x"}}, {}):
        fresh = PeakTracker(FIXED_4KW)
        fresh.restore(broken)
        assert fresh.month_peak is None


def test_the_same_reading_twice_counts_once() -> None:
    tracker = PeakTracker(FIXED_4KW)
    tracker.observe(PeakSample(START, 1000.0))
    tracker.observe(PeakSample(START + timedelta(seconds=10), 1000.0))
    tracker.observe(PeakSample(START + timedelta(seconds=10), 9000.0))
    budget = tracker.budget(START + timedelta(seconds=10), 1000.0)
    assert budget is not None
    assert budget.energy_wh == pytest.approx(1000 * 10 / 3600)


HOUSE_STEPS = st.lists(st.floats(0.0, 3600.0), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(house=HOUSE_STEPS, hold=st.integers(1, 30), ev_max=st.floats(1400.0, 22_000.0))
def test_cars_that_follow_the_budget_keep_every_window_under_the_limit(
    house: list[float], hold: int, ev_max: float
) -> None:
    """A house never above 90 % of the limit: the window's average stays under it."""
    tracker = PeakTracker(FIXED_4KW)
    moment = START
    ev = 0.0
    for step in range(len(house) * hold * 6 + 100):
        moment = START + timedelta(seconds=10 * step)
        home = house[(step // (hold * 6)) % len(house)]
        budget = tracker.budget(moment, home + ev)
        assert budget is not None
        ev = min(max(budget.site_power_w - home, 0.0), ev_max)
        tracker.observe(PeakSample(moment, home + ev, ev))
        closed = tracker.last_closed
        if closed is not None:
            assert closed.average_w <= 4000.0 + 1e-6


def test_in_the_last_minute_the_present_import_is_kept_while_the_budget_covers_it() -> None:
    tracker = PeakTracker(FIXED_4KW)
    at = feed(tracker, 870, 3800.0)  # 62 Wh left for 30 s: 7.4 kW spread, 3.7 kW a minute
    budget = tracker.budget(at, 4500.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx(4500.0)
    budget = tracker.budget(at, 3000.0)
    assert budget is not None
    assert budget.site_power_w == pytest.approx(AIM * 4000.0)


def test_the_house_is_forecast_at_its_high_of_the_last_five_minutes() -> None:
    tracker = PeakTracker(FIXED_4KW)
    for step in range(61):  # 10 minutes: the oven for two, then 500 W
        moment = START + timedelta(seconds=10 * step)
        house = 3000.0 if step < 12 else 500.0
        tracker.observe(PeakSample(moment, house + 1000.0, 1000.0))
        budget = tracker.budget(moment, house + 1000.0)
        assert budget is not None
        expected = 3000.0 if step < 12 + 30 else 500.0  # until five minutes after it
        assert budget.house_w == pytest.approx(expected), step


def test_a_house_not_told_apart_is_not_remembered() -> None:
    # A charger not answering yet, or out of control, at a start: its 11 kW are no house.
    tracker = PeakTracker(FIXED_4KW)
    tracker.observe(PeakSample(START, 11500.0, 0.0, house_known=False))
    budget = tracker.budget(START, 11500.0)
    assert budget is not None
    assert budget.house_w is None  # nothing known yet
    for step in range(1, 4):
        moment = START + timedelta(seconds=10 * step)
        tracker.observe(PeakSample(moment, 500.0, 0.0))
        budget = tracker.budget(moment, 500.0)
        assert budget is not None
        assert budget.house_w == pytest.approx(500.0)


def test_a_house_over_the_aim_does_not_keep_the_cars_to_the_windows_end() -> None:
    # Kept to the end, a car would carry its current into the next window, which a house
    # over the aim leaves no room for: then the aim caps the last minute.
    last = START + timedelta(seconds=880)
    for ev, expected in ((700.0, 4500.0), (0.0, AIM * 4000.0)):
        tracker = PeakTracker(FIXED_4KW)
        feed(tracker, 870, 3800.0)
        tracker.observe(PeakSample(last, 4500.0, ev))
        budget = tracker.budget(last, 4500.0)
        assert budget is not None
        assert budget.site_power_w == pytest.approx(expected)


class _Unheld(PeakTracker):
    """The same tracker, giving every budget as it is worked out (no once-a-minute rise)."""

    def _give(self, window_start: float, now: float, site_power_w: float) -> float:  # noqa: ARG002
        return site_power_w


@settings(deadline=None, max_examples=60)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 20), st.floats(-5000.0, 20_000.0), st.floats(0.0, 11_000.0)),
        min_size=1,
        max_size=300,
    )
)
def test_the_budget_given_is_never_more_than_worked_out(
    steps: list[tuple[int, float, float]],
) -> None:
    """Holding a rise only ever gives less; a fall is given at once; rises a minute apart."""
    held, unheld = PeakTracker(FIXED_4KW), _Unheld(FIXED_4KW)
    moment = START + timedelta(seconds=600)  # windows end within the run
    before: tuple[float, float] | None = None  # the window's start, the power given
    last_rise: float | None = None
    for seconds, import_w, ev_w in steps:
        moment += timedelta(seconds=seconds)
        for tracker in (held, unheld):
            tracker.observe(PeakSample(moment, import_w, min(ev_w, max(import_w, 0.0))))
        given, worked_out = held.budget(moment, import_w), unheld.budget(moment, import_w)
        assert given is not None
        assert worked_out is not None
        assert given.site_power_w <= worked_out.site_power_w + 1e-9
        now = moment.timestamp()
        if before is None or before[0] != given.window_start:
            assert given.site_power_w == worked_out.site_power_w  # a new window: afresh
            last_rise = now
        elif worked_out.site_power_w < before[1]:
            assert given.site_power_w == worked_out.site_power_w  # a fall: at once
        elif given.site_power_w > before[1]:
            assert last_rise is not None
            assert now - last_rise >= RISE_EVERY_S
            last_rise = now
        before = (given.window_start, given.site_power_w)
