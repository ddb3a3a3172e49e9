"""The engine decides today exactly what it decided when the golden traces were recorded.

Each trace (`simulators.traces`) is replayed: the same closed loop through the engine, every
charger decision and group figure of every step compared with the stored text. A change of
behaviour rewrites the traces on purpose (`scripts/golden --write`), in the same commit, with
the reason in its message; a refactor changes none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.traces import SUFFIX, first_difference, read_trace, trace_lines, traces

GOLDEN = Path(__file__).resolve().parent / "golden"
TRACES = traces()


def test_every_trace_is_stored_and_every_stored_one_is_replayed() -> None:
    stored = {path.name.removesuffix(SUFFIX) for path in GOLDEN.glob(f"*{SUFFIX}")}
    assert stored == set(TRACES)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(TRACES))
def test_the_engine_decides_as_recorded(name: str) -> None:
    golden = read_trace(GOLDEN / f"{name}{SUFFIX}")
    now = list(trace_lines(TRACES[name]()))
    difference = first_difference(golden, now)
    assert difference is None, (
        f"{name} differs from its golden trace at {difference}\n"
        "A deliberate change of behaviour: `scripts/golden --write` and say why in the commit."
    )


def test_a_changed_decision_is_found_with_its_step() -> None:
    golden = read_trace(GOLDEN / f"scenario-seed_two_chargers_40a{SUFFIX}")
    changed = list(golden)
    index = next(i for i, line in enumerate(changed) if line.startswith("c charger_2 20 "))
    changed[index] = changed[index].replace("c charger_2 20 ", "c charger_2 21 ")
    difference = first_difference(golden, changed)
    assert difference is not None
    assert f"line {index + 1}" in difference
    assert "c charger_2 21 " in difference
    assert first_difference(golden, golden[:-1]) is not None
