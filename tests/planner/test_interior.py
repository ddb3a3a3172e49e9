"""The interior-point method alone, on random slot programs, against HiGHS."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog  # type: ignore[import-untyped]

from custom_components.powershare.planner import interior
from custom_components.powershare.planner.interior import SlotProgram, solve


def random_program(seed: int) -> SlotProgram:
    """Return a program of the planner's form, with costs of both signs and absent variables."""
    rng = np.random.default_rng(seed)
    slots, variables, rows = (
        int(rng.integers(1, 7)),
        int(rng.integers(1, 5)),
        int(rng.integers(0, 4)),
    )
    totals = int(rng.integers(0, variables + 1))
    upper = rng.uniform(0, 3, size=(slots, variables)) * (rng.random((slots, variables)) < 0.8)
    capacity = rng.uniform(0, 4, size=(slots, rows))
    capacity[rng.random((slots, rows)) < 0.1] = np.inf
    return SlotProgram(
        cost=rng.normal(0, 1, size=(slots, variables)),
        upper=upper,
        rows=rng.uniform(0, 1, size=(rows, variables)) * (rng.random((rows, variables)) < 0.7),
        capacity=capacity,
        total=rng.uniform(0, 5, size=totals),
    )


def highs(program: SlotProgram) -> float:
    slots, variables = program.cost.shape
    a_ub, b_ub = [], []
    for t in range(slots):
        for i, row in enumerate(program.rows):
            if np.isfinite(program.capacity[t, i]):
                line = np.zeros((slots, variables))
                line[t] = row
                a_ub.append(line.ravel())
                b_ub.append(program.capacity[t, i])
    for j, total in enumerate(program.total):
        line = np.zeros((slots, variables))
        line[:, j] = 1
        a_ub.append(line.ravel())
        b_ub.append(total)
    result = linprog(
        program.cost.ravel(),
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=b_ub or None,
        bounds=list(zip(np.zeros(slots * variables), program.upper.ravel(), strict=True)),
        method="highs",
    )
    assert result.status == 0
    return float(result.fun)


@pytest.mark.parametrize("seed", range(300))
def test_random_programs_reach_the_optimum(seed: int) -> None:
    program = random_program(seed)
    solution = solve(program)
    assert solution.converged
    x = solution.x
    assert (x >= -1e-9).all()
    assert (x <= program.upper + 1e-9).all()
    assert (x[program.upper == 0] == 0).all()
    assert (x @ program.rows.T <= program.capacity + 1e-7).all()
    assert (x[:, : program.total.size].sum(axis=0) <= program.total + 1e-7).all()
    best = highs(program)
    assert float(np.sum(program.cost * x)) == pytest.approx(best, abs=1e-6 * (1 + abs(best)))


def test_when_the_steps_run_out_the_best_iterate_is_returned_unproven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = random_program(7)
    monkeypatch.setattr(interior, "MAX_STEPS", 2)
    solution = solve(program)
    assert not solution.converged
    assert solution.steps == 1
    assert solution.x.shape == program.cost.shape


def test_a_program_without_variables_is_solved_at_once() -> None:
    program = SlotProgram(
        cost=np.ones((2, 1)),
        upper=np.zeros((2, 1)),
        rows=np.ones((1, 1)),
        capacity=np.ones((2, 1)),
        total=np.ones(1),
    )
    solution = solve(program)
    assert (solution.converged, solution.steps) == (True, 0)
    assert (solution.x == 0).all()
