"""The oracle: the most EV energy the month allows under the same peak limit (one LP, HiGHS).

It knows the whole month: every minute of the house's load and every car's stay and need.
Variables: each car's power in each minute it is plugged in (0 to its charger's and its own
maximum, 16 A, on three phases).
Constraints: each session's energy; each quarter-hour's EV energy at most what the limit
leaves after the house (limit x 15 min - the house's energy, never below 0: a window the
house alone takes over the limit gets no EV energy); each minute, the cars' current per phase
at most fuse - margin - the house's busiest phase (its average over the minute). Relaxed: no
minimum current (a car may take 1 A, or 4 kW on three phases), no whole amps, no ramps, no
phase switching needed; an upper bound, not a controller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .cars import CHARGERS
from .house import VOLTAGE
from .loop import FUSE_A, LIMIT_W, MARGIN_A, WINDOW_MIN, Outcome, house_window_wh

EARLY_BONUS = 1e-3
"""Among the optima, each car charges as early as it can (a Wh is worth up to 0.1 % more
the earlier in its stay), so the oracle's quarter-hours read like a controller's. Every Wh
takes the same room in every constraint, so charging earlier never costs energy: the total
is the plain optimum's (checked: the same to 0.01 Wh on this month)."""

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .cars import Session
    from .house import Clock, House


def _minute_busiest_a(clock: Clock, house: House) -> NDArray[np.float64]:
    per_minute = round(60 / clock.step_s)
    minutes = clock.steps // per_minute
    amps = house.amps[: minutes * per_minute].reshape(minutes, per_minute, 3).mean(axis=1)
    return np.asarray(amps.max(axis=1), dtype=np.float64)


def run_oracle(clock: Clock, house: House, sessions: list[Session]) -> Outcome:
    """Return the oracle's month: its energy per session and per quarter-hour."""
    per_minute = round(60 / clock.step_s)
    busiest = _minute_busiest_a(clock, house)
    house_wh = house_window_wh(clock, house)
    room_wh = np.maximum(LIMIT_W * WINDOW_MIN / 60 - house_wh, 0.0)
    columns: list[tuple[int, int]] = []  # (session, minute)
    bounds: list[float] = []
    weights: list[float] = []
    charger_max = {charger.id: float(charger.max_current) for charger in CHARGERS.values()}
    for index, session in enumerate(sessions):
        first = -(-session.arrive // per_minute)
        last = min(session.leave // per_minute, len(busiest))
        for minute in range(first, last):
            columns.append((index, minute))
            bounds.append(min(session.max_a, charger_max[session.charger_id]) * 3 * VOLTAGE)
            weights.append(1.0 + EARLY_BONUS * (last - minute) / (last - first))
    watts = _solve(columns, bounds, weights, sessions, (room_wh, busiest))
    delivered = [0.0] * len(sessions)
    ev_window = np.zeros(len(room_wh))
    hungry_minutes = np.zeros(len(busiest), dtype=np.bool_)
    for (index, minute), power in zip(columns, watts, strict=True):
        delivered[index] += float(power) / 60
        ev_window[minute // WINDOW_MIN] += float(power) / 60
        if delivered[index] < sessions[index].energy_wh - 1.0:
            hungry_minutes[minute] = True
    hungry = np.asarray(
        hungry_minutes[: len(room_wh) * WINDOW_MIN].reshape(-1, WINDOW_MIN).all(axis=1),
        dtype=np.bool_,
    )
    return Outcome("oracle", delivered, house_wh + ev_window, ev_window, hungry)


def _solve(
    columns: list[tuple[int, int]],
    bounds: list[float],
    weights: list[float],
    sessions: list[Session],
    room: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> NDArray[np.float64]:
    """Return the power (W) of each column (session, minute) at the optimum.

    `room`: each quarter-hour's EV energy left under the limit (Wh), and each minute's
    busiest house phase (A).
    """
    room_wh, busiest = room
    if not columns:
        return np.zeros(0)
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    minute_row: dict[int, int] = {}
    capacities: list[float] = [session.energy_wh for session in sessions]
    window_base = len(capacities)
    capacities.extend(float(wh) for wh in room_wh)
    for column, (index, minute) in enumerate(columns):
        rows += [index, window_base + minute // WINDOW_MIN]
        cols += [column, column]
        values += [1 / 60, 1 / 60]  # W for a minute, in Wh
        if minute not in minute_row:
            minute_row[minute] = len(capacities)
            capacities.append(max(FUSE_A - MARGIN_A - float(busiest[minute]), 0.0))
        rows.append(minute_row[minute])
        cols.append(column)
        values.append(1 / (3 * VOLTAGE))  # W on three phases, in A per phase
    matrix = sparse.coo_matrix(
        (values, (rows, cols)), shape=(len(capacities), len(columns))
    ).tocsr()
    result = linprog(
        -np.array(weights) / 60,
        A_ub=matrix,
        b_ub=np.array(capacities),
        bounds=[(0.0, bound) for bound in bounds],
        method="highs",
    )
    if not result.success:  # the zero vector is always feasible
        raise RuntimeError(f"oracle LP failed: {result.message}")
    return np.asarray(result.x, dtype=np.float64)
