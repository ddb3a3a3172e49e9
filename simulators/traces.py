"""Golden decision traces: what the engine decides, step by step, as text.

    scripts/golden [--write] [NAME ...]    (python -m simulators.traces tests/engine/golden)

A trace is one closed loop run through the engine: the benchmark sites of
`simulators.bench_sites` (10, 37, 100 and 1,000 chargers, ample and contended fuses, two
seeds) for `BENCH_STEPS` steps of 2 s (`BENCH_STEPS_LARGE` for 1,000), and every scenario of
`scenarios/` for its whole duration. Each step is a line `@ <time>`, followed by a line for
every charger decision and every group's figures that differ from that charger's or group's
line in the step before (all of them in the first step), and a site line when the surplus or
the stale meters change: the trace fixes every decision of every step, and stays small where
little changes.

    c <charger> <amps> <site phases> <action> <changed> <reason> <requested> <share>
      <limit group> <limit phase> | <detail>
    g <group> m=<meter> n=<non-EV> a=<available> r=<requested> l=<allocated> u=<usage> <stale>
    s surplus=<W> stale=<meter ids>

Figures are rounded to 1e-4 A (1 W for the surplus): far below what a charger or a meter
resolves, and above the last bits that a different order of the same additions changes.
`tests/engine/test_golden_traces.py` replays every trace and compares. A change of behaviour
rewrites them on purpose (`--write`), in the same commit, with the reason in its message.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from custom_components.powershare.engine import Balancer

from .bench_sites import AMPLE, CONTENDED, build_site
from .scenario import load_scenario, simulate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from custom_components.powershare.engine import ChargerDecision, Decision, GroupFigures

BENCH_SIZES = (10, 37, 100, 1_000)
BENCH_SEEDS = (3, 5)
BENCH_STEPS = 600
"""Twenty minutes: solar delays, phase switches (3 and 5 min) and a turn of the rotation
(15 min) all happen."""
BENCH_STEPS_LARGE = 100
"""For 1,000 chargers (each step costs a hundred times more): past the 3 min phase-down."""
STEP_S = 2.0
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SUFFIX = ".trace.gz"


def _number(value: float) -> str:
    rounded = round(value, 4) + 0.0  # no "-0.0000"
    return f"{rounded:.4f}".rstrip("0").rstrip(".")


def _triple(values: Sequence[float] | None) -> str:
    if values is None:
        return "-"
    return ",".join(_number(value) for value in values)


def _phases(phases: Iterable[int]) -> str:
    return "".join(str(phase + 1) for phase in phases) or "-"


def charger_line(decision: ChargerDecision) -> str:
    """Return the trace line of one charger decision."""
    phase = "-" if decision.limit_phase is None else str(decision.limit_phase + 1)
    return (
        f"c {decision.charger_id} {decision.target_current} {_phases(decision.site_phases)} "
        f"{decision.action.value} {int(decision.changed)} {decision.reason.value} "
        f"{decision.requested} {_number(decision.share)} {decision.limit_group or '-'} {phase}"
        f" | {decision.detail}"
    )


def group_line(figures: GroupFigures) -> str:
    """Return the trace line of one group's figures."""
    return (
        f"g {figures.group_id} m={_triple(figures.meter)} n={_triple(figures.non_ev_load)} "
        f"a={_triple(figures.available)} r={_triple(figures.requested)} "
        f"l={_triple(figures.allocated)} u={_triple(figures.usage)} "
        f"{'stale' if figures.meter_stale else 'fresh'}"
    )


def site_line(decision: Decision) -> str:
    """Return the trace line of the site-wide facts."""
    surplus = "-" if decision.surplus_w is None else f"{round(decision.surplus_w) + 0}"
    return f"s surplus={surplus} stale={','.join(decision.stale_meters) or '-'}"


def trace_lines(decisions: Iterable[Decision]) -> Iterator[str]:
    """Return the trace of consecutive decisions (see the module docstring)."""
    last: dict[str, str] = {}
    for decision in decisions:
        yield f"@ {_number(decision.now)}"
        keyed = [(f"c {key}", charger_line(value)) for key, value in decision.chargers.items()]
        keyed += [(f"g {key}", group_line(value)) for key, value in decision.groups.items()]
        keyed.append(("s", site_line(decision)))
        for key, line in keyed:
            if last.get(key) != line:
                last[key] = line
                yield line


def bench_decisions(count: int, sizing_name: str, seed: int, steps: int) -> Iterator[Decision]:
    """Run a benchmark site's closed loop and return its decisions."""
    sizing = {AMPLE.name: AMPLE, CONTENDED.name: CONTENDED}[sizing_name]
    site = build_site(count, sizing, seed)
    balancer = Balancer(site.config)
    for _ in range(steps):
        decision = balancer.step(site.snapshot())
        yield decision
        site.apply(decision)
        site.advance(STEP_S)


def scenario_decisions(path: Path) -> Iterator[Decision]:
    """Run a scenario file and return its decisions."""
    for record in simulate(load_scenario(path)):
        yield record.decision


def traces() -> dict[str, Callable[[], Iterator[Decision]]]:
    """Return every golden trace by name, with what produces its decisions."""
    found: dict[str, Callable[[], Iterator[Decision]]] = {}
    for count in BENCH_SIZES:
        for sizing in (AMPLE.name, CONTENDED.name):
            for seed in BENCH_SEEDS:
                steps = BENCH_STEPS if count <= 100 else BENCH_STEPS_LARGE
                found[f"bench-{count}-{sizing}-seed{seed}"] = functools.partial(
                    bench_decisions, count, sizing, seed, steps
                )
    for path in sorted(SCENARIOS.glob("*.yaml")):
        found[f"scenario-{path.stem}"] = functools.partial(scenario_decisions, path)
    return found


def read_trace(path: Path) -> list[str]:
    """Return the lines of a stored trace."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return file.read().splitlines()


def write_trace(path: Path, lines: Iterable[str]) -> None:
    """Store a trace (gzip with no timestamp: the same trace gives the same bytes)."""
    text = "".join(f"{line}\n" for line in lines).encode()
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as file:
        file.write(text)


def first_difference(expected: Sequence[str], actual: Sequence[str]) -> str | None:
    """Return where two traces part, with the step they are in; None when they are equal."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            step = next(
                (line for line in reversed(expected[: index + 1]) if line.startswith("@ ")), "@ ?"
            )
            return f"line {index + 1} (step {step[2:]}):\n  golden: {want}\n  now:    {got}"
    if len(expected) != len(actual):
        return f"the golden trace has {len(expected)} lines, the engine now gives {len(actual)}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or check) every golden trace in a folder."""
    parser = argparse.ArgumentParser(prog="scripts/golden", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="where the traces are (tests/engine/golden)")
    parser.add_argument("--write", action="store_true", help="record the traces anew")
    parser.add_argument("names", nargs="*", help="only these traces (default: all)")
    arguments = parser.parse_intermixed_args(argv)  # scripts/golden puts --write after the folder
    chosen = traces()
    if arguments.names:
        chosen = {name: chosen[name] for name in arguments.names}
    status = 0
    for name, decisions in chosen.items():
        path = arguments.folder / f"{name}{SUFFIX}"
        lines = list(trace_lines(decisions()))
        if arguments.write:
            arguments.folder.mkdir(parents=True, exist_ok=True)
            write_trace(path, lines)
            sys.stdout.write(f"{name}: {len(lines)} lines written\n")
            continue
        difference = first_difference(read_trace(path), lines) if path.exists() else "missing"
        sys.stdout.write(f"{name}: {'same' if difference is None else difference}\n")
        status = status or int(difference is not None)
    return status


if __name__ == "__main__":
    sys.exit(main())
