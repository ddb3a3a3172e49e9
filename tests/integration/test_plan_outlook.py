"""The house's load a plan expects: its average over about a quarter-hour, not a moment's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.powershare.balancing.outlook import HOUSE_AVERAGE_S, HouseAverage


def test_the_first_load_counts_as_it_is() -> None:
    average = HouseAverage()
    assert average.update(100.0, {"main": (10.0, 4.0, 0.0)}) == {"main": (10.0, 4.0, 0.0)}


def test_a_step_moves_the_average_by_the_share_of_its_time_constant() -> None:
    average = HouseAverage()
    average.update(0.0, {"main": (10.0, 10.0, 10.0)})
    moved = average.update(180.0, {"main": (20.0, 10.0, 0.0)})["main"]
    share = 1.0 - math.exp(-180.0 / HOUSE_AVERAGE_S)  # a kettle's three minutes: 18 %
    assert moved == pytest.approx((10.0 + 10.0 * share, 10.0, 0.0))  # a fall counts at once
    assert moved[0] - 10.0 < 2.0  # less than the 2 A that plan again
    settled = average.update(180.0 + 5 * HOUSE_AVERAGE_S, {"main": (20.0, 10.0, 0.0)})["main"]
    assert settled == pytest.approx((20.0, 10.0, 0.0), abs=0.1)  # an oven that stays
    assert average.update(181.0 + 5 * HOUSE_AVERAGE_S, {"main": (10.0, 10.0, 0.0)})["main"] == (
        10.0,
        10.0,
        0.0,
    )  # and is switched off


def test_an_unknown_load_starts_the_average_over() -> None:
    average = HouseAverage()
    average.update(0.0, {"main": (10.0, 10.0, 10.0)})
    unknown = (math.inf, math.inf, math.inf)
    assert average.update(20.0, {"main": unknown}) == {"main": unknown}
    assert average.update(40.0, {"main": (3.0, 3.0, 3.0)}) == {"main": (3.0, 3.0, 3.0)}


def test_cleared_it_takes_the_next_load_as_it_is() -> None:
    average = HouseAverage()
    average.update(0.0, {"main": (10.0, 10.0, 10.0)})
    average.clear()
    assert average.update(1.0, {"main": (2.0, 2.0, 2.0)}) == {"main": (2.0, 2.0, 2.0)}
    # a group seen for the first time counts as it is beside one averaged
    both = average.update(2.0, {"main": (4.0, 4.0, 4.0), "garage": (7.0, 7.0, 7.0)})  # rises
    assert both["garage"] == (7.0, 7.0, 7.0)
    assert 2.0 < both["main"][0] < 4.0


@given(
    loads=st.lists(
        st.tuples(
            st.floats(0.1, 600.0), st.floats(0.0, 100.0), st.floats(0.0, 100.0), st.floats(0, 100)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_average_stays_between_the_loads_seen(
    loads: list[tuple[float, float, float, float]],
) -> None:
    average = HouseAverage()
    now = 0.0
    for index, (step, *amps) in enumerate(loads):
        now += step
        averaged = average.update(now, {"main": (amps[0], amps[1], amps[2])})["main"]
        for phase in range(3):
            seen = [load[1 + phase] for load in loads[: index + 1]]
            assert min(seen) - 1e-9 <= averaged[phase] <= max(seen) + 1e-9
