"""A primal-dual interior-point method for linear programs made of slots.

The program (`SlotProgram`), for slots t and variables j of a slot:

    minimise    sum over t, j of cost[t, j] x[t, j]
    subject to  rows @ x[t] <= capacity[t]                    for every slot t
                sum over t of x[t, j] <= total[j]             for the first len(total) j
                0 <= x[t, j] <= upper[t, j]                   (upper 0: x[t, j] does not exist)

Slots meet only through the totals (a car's energy). Mehrotra's predictor-corrector method
(Wright, *Primal-Dual Interior-Point Methods*, 1997, ch. 10; Nocedal & Wright, *Numerical
Optimization*, 2006, sec. 14.2) follows the central path from an interior point; each step
solves the Newton system reduced to the normal equations (A theta A^T + R/Y) dy = rhs. Here
that matrix is one small block per slot (its rows) bordered by the totals, so it is solved
by block elimination: every slot's block at once (numpy's batched solve), then the Schur
complement of the totals (a k x k system). One step costs O(T (m^3 + m^2 k + m n k) + k^3)
for T slots, m rows, n variables a slot and k totals: about a millisecond for 96 slots and
ten cars; 10 to 30 steps reach a duality gap of 1e-10 of the objective (`OPTIMAL`).

The start need not be feasible: the residuals of the constraints enter the Newton steps and
shrink with every step (an infeasible-start method); the result is feasible up to rounding,
which the caller repairs. Near the optimum the blocks grow ill-conditioned (degenerate
vertices: more limits binding in a slot than cars strictly between their bounds); growing
each diagonal entry by 1e-12 of itself keeps them solvable without moving the optimum. When
rounding stops the progress first, the best iterate is the answer (`ACCEPTABLE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

type Array = NDArray[np.float64]

FEASIBLE = 1e-9
"""The largest relative residual of the constraints (primal and dual) of an optimum."""
OPTIMAL = 1e-10
"""The largest duality gap, relative to the objective, of an optimum."""
ACCEPTABLE = 1e-6
"""The largest gap accepted when rounding stalls the method first: near the optimum a binding
limit's last slack can be noise (a 1e-13 kWh overshoot no step can undo), and the primal
steps shrink to nothing. The best iterate is then returned, optimal if its gap is at most
this (and its residuals at most `FEASIBLE`)."""
MAX_STEPS = 60
STALLED = 4
"""Steps without progress, once the best iterate is `ACCEPTABLE`, after which rounding has
won: the best iterate is returned."""
STEP_BACK = 0.995
"""How close to the boundary of the positive orthant a step may go (1 would touch it)."""
REGULARIZATION = 1e-12
"""Each diagonal entry of the normal equations grows by this much of itself."""


@dataclass(frozen=True, slots=True)
class SlotProgram:
    """A linear program of slots (see the module's docstring)."""

    cost: Array
    """(T, n)."""
    upper: Array
    """(T, n); 0 where a variable does not exist."""
    rows: Array
    """(m, n): the same rows in every slot."""
    capacity: Array
    """(T, m); +inf: never binds."""
    total: Array
    """(k,): a bound on the sum over the slots of each of the first k variables."""


@dataclass(frozen=True, slots=True)
class Solution:
    """The optimum found and how the method got there."""

    x: Array
    """(T, n)."""
    steps: int
    converged: bool
    """False: the tolerance was not reached (x is the best iterate: near-optimal, unproven)."""


@dataclass(frozen=True, slots=True)
class _Point:
    """An iterate (or a direction): x, its slacks and the duals of every inequality."""

    x: Array
    w: Array
    """upper - x."""
    r: Array
    """capacity - rows @ x."""
    s: Array
    """total - sum of x."""
    z: Array
    """Dual of x >= 0."""
    q: Array
    """Dual of x <= upper."""
    y: Array
    """Dual of the rows."""
    t: Array
    """Dual of the totals."""

    def moved(self, d: _Point, primal: float, dual: float) -> _Point:
        """Return this point moved along `d`: primal and dual step lengths apart."""
        return _Point(
            self.x + primal * d.x,
            self.w + primal * d.w,
            self.r + primal * d.r,
            self.s + primal * d.s,
            self.z + dual * d.z,
            self.q + dual * d.q,
            self.y + dual * d.y,
            self.t + dual * d.t,
        )

    def steps_to_boundary(self, d: _Point) -> tuple[float, float]:
        """Return the longest primal and dual steps in [0, 1] keeping every part >= 0."""
        primal = min(_room(self.x, d.x), _room(self.w, d.w), _room(self.r, d.r), _room(self.s, d.s))
        dual = min(_room(self.z, d.z), _room(self.q, d.q), _room(self.y, d.y), _room(self.t, d.t))
        return primal, dual


def _room(value: Array, change: Array) -> float:
    falling = change < 0
    if not falling.any():
        return 1.0
    return float(min(1.0, np.min(-value[falling] / change[falling])))


class _Problem:
    """The program made ready: costs scaled to 1, limits that cannot bind made finite."""

    def __init__(self, program: SlotProgram) -> None:
        rows, upper = program.rows, program.upper
        self.rows = rows
        self.k = program.total.size
        self.free = (upper > 0).astype(np.float64)
        """1 where a variable exists; every array below is 0 (or ignored) elsewhere."""
        self.upper = np.where(upper > 0, upper, 2.0)
        reach = (self.free * upper) @ np.maximum(rows, 0.0).T
        capacity = np.minimum(program.capacity, reach + 1.0)
        # A row without variables holds whatever its capacity; 1 keeps its slack away from 0.
        self.capacity = np.where(self.free @ (rows != 0).T > 0, capacity, 1.0)
        room = (self.free * upper)[:, : self.k].sum(axis=0)
        self.total = np.minimum(program.total, room + 1.0)
        cost = program.cost * self.free
        self.cost = cost / max(float(np.abs(cost).max(initial=0.0)), 1e-300)
        self.count = 2 * int(self.free.sum()) + self.capacity.size + self.total.size
        self.bound = 1.0 + max(
            float(self.capacity.max(initial=0.0)), float(self.total.max(initial=0.0))
        )

    def times(self, x: Array) -> tuple[Array, Array]:
        """Return A x: each slot's rows, and the totals."""
        return x @ self.rows.T, x[:, : self.k].sum(axis=0)

    def transposed_times(self, y: Array, t: Array) -> Array:
        """Return A^T (y, t), shaped like x."""
        result = y @ self.rows
        result[:, : self.k] += t
        return result

    def start(self) -> _Point:
        """Return the start: x halfway up its bounds, slacks at least 1, duals 1."""
        x = self.upper / 2
        rows, totals = self.times(x * self.free)
        return _Point(
            x=x,
            w=self.upper - x,
            r=np.maximum(self.capacity - rows, 1.0),
            s=np.maximum(self.total - totals, 1.0),
            z=np.ones_like(x),
            q=np.ones_like(x),
            y=np.ones_like(self.capacity),
            t=np.ones_like(self.total),
        )


def _regularized(matrices: Array) -> Array:
    """Return positive semi-definite `matrices` (..., m, m) made definite.

    Each diagonal entry grows by `REGULARIZATION` of itself: a relative nudge no row notices.
    """
    diagonal = np.arange(matrices.shape[-1])
    matrices[..., diagonal, diagonal] *= 1.0 + REGULARIZATION
    return matrices


class _Newton:
    """The Newton system at one iterate: factored once, solved for the predictor and corrector.

    Unknowns dy (rows, per slot) and dt (totals) of the normal equations; the rest follows.
    """

    def __init__(self, problem: _Problem, point: _Point) -> None:
        p, k, rows = point, problem.k, problem.rows
        ax_rows, ax_total = problem.times(p.x * problem.free)
        self.problem = problem
        self.point = point
        self.res_rows = problem.capacity - ax_rows - p.r
        self.res_total = problem.total - ax_total - p.s
        self.res_upper = (problem.upper - p.x - p.w) * problem.free
        self.res_dual = (
            problem.cost + problem.transposed_times(p.y, p.t) - p.z + p.q
        ) * problem.free
        self.theta = problem.free / (p.z / p.x + p.q / p.w)
        blocks = (rows[None, :, :] * self.theta[:, None, :]) @ rows.T
        diagonal = np.arange(rows.shape[0])
        blocks[:, diagonal, diagonal] += p.r / p.y
        self.blocks = _regularized(blocks)
        self.border = rows[None, :, :k] * self.theta[:, None, :k]
        self.solved_border = np.linalg.solve(self.blocks, self.border)
        schur = np.diag(self.theta[:, :k].sum(axis=0) + p.s / p.t)
        slots_rows = self.border.shape[0] * self.border.shape[1]
        schur -= self.border.reshape(slots_rows, k).T @ self.solved_border.reshape(slots_rows, k)
        self.schur = _regularized(schur)

    def gap(self) -> float:
        """Return the sum of the complementarity products (the duality gap)."""
        p = self.point
        bounds = (p.x * p.z + p.w * p.q) * self.problem.free
        return float(np.sum(p.r * p.y) + np.sum(p.s * p.t) + np.sum(bounds))

    def errors(self) -> tuple[float, float, float]:
        """Return the primal residual, the dual residual and the gap, each relative."""
        problem, p = self.problem, self.point
        primal = max(
            float(np.abs(self.res_rows).max(initial=0.0)),
            float(np.abs(self.res_total).max(initial=0.0)),
            float(np.abs(self.res_upper).max(initial=0.0)),
        )
        objective = abs(float(np.sum(problem.cost * p.x * problem.free)))
        dual = float(np.abs(self.res_dual).max(initial=0.0))
        return primal / problem.bound, dual, self.gap() / (1.0 + objective)

    def direction(self, aim_r: Array, aim_s: Array, aim_x: Array, aim_w: Array) -> _Point:
        """Return the Newton direction whose complementarity products aim at the `aim_*`."""
        problem, p, free = self.problem, self.point, self.problem.free
        g = (-self.res_dual + aim_x / p.x - (aim_w - p.q * self.res_upper) / p.w) * free
        theta_g = self.theta * g
        g_rows, g_total = problem.times(theta_g)
        in_slots = np.linalg.solve(self.blocks, (g_rows + aim_r / p.y - self.res_rows)[..., None])[
            ..., 0
        ]
        reduced = g_total + aim_s / p.t - self.res_total
        reduced -= np.sum(self.border * in_slots[..., None], axis=(0, 1))
        dt = np.linalg.solve(self.schur, reduced)
        dy = in_slots - self.solved_border @ dt
        dx = self.theta * (g - problem.transposed_times(dy, dt))
        ax_rows, ax_total = problem.times(dx)
        dw = (self.res_upper - dx) * free
        return _Point(
            x=dx,
            w=dw,
            r=self.res_rows - ax_rows,
            s=self.res_total - ax_total,
            z=(aim_x - p.z * dx) / p.x * free,
            q=(aim_w - p.q * dw) / p.w * free,
            y=dy,
            t=dt,
        )

    def step(self) -> _Point:
        """Return the next iterate: Mehrotra's predictor, then his centred corrector."""
        p, free = self.point, self.problem.free
        affine = self.direction(-p.r * p.y, -p.s * p.t, -p.x * p.z * free, -p.w * p.q * free)
        primal, dual = p.steps_to_boundary(affine)
        there = p.moved(affine, primal, dual)
        gap_there = float(
            np.sum(there.r * there.y)
            + np.sum(there.s * there.t)
            + np.sum((there.x * there.z + there.w * there.q) * free)
        )
        gap = self.gap()
        aim = (gap_there / gap) ** 3 * gap / self.problem.count
        corrected = self.direction(
            aim - p.r * p.y - affine.r * affine.y,
            aim - p.s * p.t - affine.s * affine.t,
            (aim - p.x * p.z - affine.x * affine.z) * free,
            (aim - p.w * p.q - affine.w * affine.q) * free,
        )
        primal, dual = p.steps_to_boundary(corrected)
        return p.moved(corrected, STEP_BACK * primal, STEP_BACK * dual)


def solve(program: SlotProgram) -> Solution:
    """Return an optimal x of `program`, which must have an interior (x = 0 with slack)."""
    problem = _Problem(program)
    if not problem.free.any():
        return Solution(np.zeros_like(program.cost), 0, converged=True)
    point = problem.start()
    best, best_error, best_gap, since_best = point, np.inf, np.inf, 0
    steps = 0
    for steps in range(MAX_STEPS):
        try:
            newton = _Newton(problem, point)
        except np.linalg.LinAlgError:  # pragma: no cover - regularized: a safety net
            break
        primal, dual, gap = newton.errors()
        error = max(primal / FEASIBLE, dual / FEASIBLE, gap / OPTIMAL)
        if error < best_error:
            best, best_error, since_best = point, error, 0
            best_gap = gap if max(primal, dual) <= FEASIBLE else np.inf
        elif best_gap <= ACCEPTABLE:  # far from the optimum, progress need not be steady
            since_best += 1
        if error <= 1.0:
            return Solution(point.x * problem.free, steps, converged=True)
        if since_best >= STALLED:
            break
        try:
            point = newton.step()
        except np.linalg.LinAlgError:  # pragma: no cover - regularized: a safety net
            break
    return Solution(best.x * problem.free, steps, converged=best_gap <= ACCEPTABLE)
