"""The scenario runner's command line (`scripts/scenario`, `python -m simulators.scenario`)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from .loader import load_scenario
from .model import ScenarioError
from .output import run

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Command line entry point; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="scripts/scenario", description="Simulate a Powershare site from a YAML file."
    )
    parser.add_argument("file", help="scenario file (see docs/scenarios.md)")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument(
        "--every",
        type=int,
        metavar="N",
        help="print every N-th step (default: only steps where something happens)",
    )
    arguments = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    if arguments.every is not None and arguments.every < 1:
        parser.error("--every needs a positive number")
    try:
        scenario = load_scenario(arguments.file)
    except ScenarioError as error:
        sys.stderr.write(f"scenario: {error}\n")
        return 2
    results = run(scenario, stream, as_json=arguments.json, every=arguments.every)
    return 0 if all(result.passed for result in results) else 1
