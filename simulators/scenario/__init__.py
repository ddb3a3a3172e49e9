"""Scenario runner: simulate a site described in a YAML file and show what the engine decides.

    python -m simulators.scenario FILE [--json] [--every N]

(`scripts/scenario` wraps it.) The file format is documented in `docs/scenarios.md`; in short
a scenario has a `duration`, a `step`, optional `site` settings and `tunables`, a tree of
`groups` (fuse, meter, non-EV `load` and `solar` over time), `chargers`, `cars` (when they
come and go, the phases they draw on, the current they accept, the energy they want), and
optional `expect` checks (a charger's current, and optionally its reason and phases, at a
time; or a peak window's average). `site.start` (a local date and time, `site.timezone`)
says when the run begins, and `site.peak` a capacity tariff's peak budget (`peak`).

Output: per printed step, one row per charger and one per group, as a table or as JSON lines;
then a summary (energy per car, overload, commands, starts/stops, checks). The exit status
is 1 when a check fails, 2 when the file is invalid.

The package: `model` (`Scenario`, `ScenarioError`), `times`, `loader` (with `fields` and
`profiles`: the YAML file into a `Scenario`), `peak` (the peak budget: reading it, the tracker
in the loop, the windows and their checks), `runner` (`simulate`, `check`), `output` (table,
JSON lines, summary; `run`) and `cli` (`main`); the public names are re-exported here.
"""

from .cli import main
from .fields import parse_phase
from .loader import load_scenario, parse_scenario
from .model import Currents, Expectation, Scenario, ScenarioError, WindowExpectation
from .output import record_json, run
from .peak import PeakWindow, WindowCheckResult, peak_windows
from .runner import CheckResult, StepRecord, check, simulate
from .times import format_clock, parse_time

__all__ = [
    "CheckResult",
    "Currents",
    "Expectation",
    "PeakWindow",
    "Scenario",
    "ScenarioError",
    "StepRecord",
    "WindowCheckResult",
    "WindowExpectation",
    "check",
    "format_clock",
    "load_scenario",
    "main",
    "parse_phase",
    "parse_scenario",
    "parse_time",
    "peak_windows",
    "record_json",
    "run",
    "simulate",
]
