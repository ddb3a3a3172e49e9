"""A home on 3 x 230 V without neutral, simulated: scenarios/network_3x230_without_neutral.yaml.

The physics of the simulated site puts a single-phase charger's current on both lines it is
connected to; what flows on every line must stay within its fuse.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from custom_components.powershare.engine import Network, Phase
from simulators.scenario import load_scenario, run, simulate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "network_3x230_without_neutral.yaml"


def test_the_scenario_checks_pass_and_no_line_is_overloaded() -> None:
    scenario = load_scenario(SCENARIO)
    assert scenario.config.network is Network.THREE_LINES_WITHOUT_NEUTRAL
    results = run(scenario, io.StringIO())
    assert results
    assert all(result.passed for result in results)
    records = list(simulate(scenario))
    assert sum(record.report.sustained_overload_as for record in records) == 0.0
    last = records[-1].decision.chargers
    assert last["charger_a"].site_phases == (Phase.L1, Phase.L2)
    assert last["charger_b"].site_phases == (Phase.L2, Phase.L3)


def test_the_same_home_taken_for_one_with_neutral_overloads_the_shared_line() -> None:
    # Set up as 3 x 400 V, each charger is taken to load one line, while both load L2: the
    # engine then gives more than L2 can carry. This is what the network setting prevents.
    scenario = load_scenario(SCENARIO)
    real_lines = scenario.build_site()  # the physics of the home as it is
    with_neutral = dataclasses.replace(scenario.config, network=Network.THREE_PHASE_WITH_NEUTRAL)
    mistaken = dataclasses.replace(scenario, config=with_neutral)
    records = list(simulate(mistaken, real_lines))
    assert sum(record.report.sustained_overload_as for record in records) > 0.0
