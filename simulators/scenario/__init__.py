"""Scenario runner: simulate a site described in a YAML file and show what the engine decides.

    python -m simulators.scenario FILE [--json] [--every N]

(`scripts/scenario` wraps it.) The file format is documented in `docs/scenarios.md`; in short
a scenario has a `duration`, a `step`, optional `site` settings and `tunables`, a tree of
`groups` (fuse, meter, non-EV `load` and `solar` over time), `chargers`, `cars` (when they
come and go, the phases they draw on, the current they accept, the energy they want), and
optional `expect` checks (a charger's current, and optionally its reason, at a time).

Output: per printed step, one row per charger and one per group, as a table or as JSON lines;
then a summary (energy per car, overload, commands, starts/stops, checks). The exit status
is 1 when a check fails, 2 when the file is invalid.

The package: `model` (`Scenario`, `ScenarioError`), `times`, `loader` (with `fields` and
`profiles`: the YAML file into a `Scenario`), `runner` (`simulate`, `check`), `output` (table,
JSON lines, summary; `run`) and `cli` (`main`); the public names are re-exported here.
"""

from .cli import main
from .fields import parse_phase
from .loader import load_scenario, parse_scenario
from .model import Currents, Expectation, Scenario, ScenarioError
from .output import record_json, run
from .runner import CheckResult, StepRecord, check, simulate
from .times import format_clock, parse_time

__all__ = [
    "CheckResult",
    "Currents",
    "Expectation",
    "Scenario",
    "ScenarioError",
    "StepRecord",
    "check",
    "format_clock",
    "load_scenario",
    "main",
    "parse_phase",
    "parse_scenario",
    "parse_time",
    "record_json",
    "run",
    "simulate",
]
