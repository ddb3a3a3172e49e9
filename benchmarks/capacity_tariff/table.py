"""The capacity-tariff benchmark's table: each controller's month side by side."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from .loop import LIMIT_W, WINDOW_MIN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .cars import Session
    from .house import Clock
    from .loop import Outcome

HEADER = ("Powershare", "4 kW cap", "oracle", "house alone")
NOISE_KW = 1e-5
"""A quarter-hour over the limit by less than this (10 mW) is the LP's rounding, not over."""
TOLERANCE_WH = 10.0
"""A night "binds" when the oracle leaves more than this of the cars' need unmet."""


def _kw(window_wh: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(window_wh * 60 / WINDOW_MIN / 1000.0, dtype=np.float64)


def _per_session(counts: list[int]) -> str:
    if not counts:
        return "-"
    return f"{sum(counts) / len(counts):.1f} / {max(counts)}"


def binding_nights(clock: Clock, sessions: Sequence[Session], oracle: Outcome) -> list[int]:
    """Return the nights (the day a car arrived) on which the oracle cannot meet every need."""
    asked: dict[int, float] = {}
    given: dict[int, float] = {}
    for session, delivered in zip(sessions, oracle.delivered_wh, strict=True):
        night = int(session.arrive * clock.step_s // 86400)
        asked[night] = asked.get(night, 0.0) + session.energy_wh
        given[night] = given.get(night, 0.0) + delivered
    return sorted(night for night in asked if given[night] < asked[night] - TOLERANCE_WH)


def _on_nights(
    clock: Clock, sessions: Sequence[Session], outcome: Outcome, nights: list[int]
) -> float:
    return sum(
        delivered
        for session, delivered in zip(sessions, outcome.delivered_wh, strict=True)
        if int(session.arrive * clock.step_s // 86400) in nights
    )


def rows(
    clock: Clock,
    sessions: Sequence[Session],
    outcomes: tuple[Outcome, Outcome, Outcome],
    house_wh: NDArray[np.float64],
) -> list[tuple[str, list[str]]]:
    """Return the rows of one case: Powershare, the cap, the oracle and the house alone."""
    limit_kw = LIMIT_W / 1000 + NOISE_KW
    house_kw = _kw(house_wh)
    over_house = house_kw > limit_kw
    oracle = outcomes[2]
    sites = [_kw(outcome.window_wh) for outcome in outcomes]
    result: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str], house: str = "-") -> None:
        result.append((label, [*values, house]))

    add(
        "month's peak, highest quarter-hour (kW)",
        [f"{kw.max():.2f}" for kw in sites],
        f"{house_kw.max():.2f}",
    )
    add(
        f"quarter-hours over {LIMIT_W / 1000:g} kW",
        [str(int((kw > limit_kw).sum())) for kw in sites],
        str(int(over_house.sum())),
    )
    add(
        "  the house alone over the limit in them",
        [str(int((over_house & (kw > limit_kw)).sum())) for kw in sites],
    )
    add(
        "  the highest the cars pushed over (kW)",
        [
            f"{kw[~over_house].max():.2f}" if (kw[~over_house] > limit_kw).any() else "-"
            for kw in sites
        ],
    )
    add(
        "mean quarter-hour while a car wants more (kW)",
        [
            f"{kw[outcome.hungry].mean():.2f}" if outcome.hungry.any() else "-"
            for kw, outcome in zip(sites, outcomes, strict=True)
        ],
    )
    energies = [sum(outcome.delivered_wh) for outcome in outcomes]
    add("EV energy delivered (kWh)", [f"{wh / 1000:.1f}" for wh in energies])
    add(
        "  share of the oracle",
        [f"{100 * wh / energies[2]:.1f} %" if energies[2] else "-" for wh in energies],
    )
    nights = binding_nights(clock, sessions, oracle)
    on_nights = [_on_nights(clock, sessions, outcome, nights) for outcome in outcomes]
    add(
        f"  on the {len(nights)} nights the limit binds",
        [f"{100 * wh / on_nights[2]:.1f} %" if on_nights[2] else "-" for wh in on_nights],
    )
    add(
        "  Powershare delivers (x this)",
        ["1.00", *(f"{energies[0] / wh:.2f}" if wh else "inf" for wh in energies[1:])],
    )
    asked = sum(session.energy_wh for session in sessions)
    add("energy the cars asked (kWh)", [f"{asked / 1000:.1f}"] * 3)
    add(
        f"sessions fully charged (of {len(sessions)})",
        [
            str(
                sum(
                    delivered >= session.energy_wh - TOLERANCE_WH
                    for session, delivered in zip(sessions, outcome.delivered_wh, strict=True)
                )
            )
            for outcome in outcomes
        ],
    )
    add(
        "charger starts per session, mean / max",
        [_per_session(outcome.starts) for outcome in outcomes],
    )
    add(
        "car draw starts per session, mean / max",
        [_per_session(outcome.draw_starts) for outcome in outcomes],
    )
    add(
        "controller time per step (ms)",
        [
            f"{1000 * outcome.seconds_per_step:.3f}" if outcome.seconds_per_step else "-"
            for outcome in outcomes
        ],
    )
    return result


def over_lines(clock: Clock, outcome: Outcome, house_wh: NDArray[np.float64]) -> list[str]:
    """Return one line per quarter-hour the cars pushed over the limit (the house was under)."""
    site_kw = _kw(outcome.window_wh)
    house_kw = _kw(house_wh)
    ev_kw = _kw(outcome.ev_window_wh)
    limit_kw = LIMIT_W / 1000 + NOISE_KW
    lines = []
    for window in np.nonzero((site_kw > limit_kw) & (house_kw <= limit_kw))[0]:
        start = datetime.fromtimestamp(clock.start_ts + window * WINDOW_MIN * 60, clock.zone)
        lines.append(
            f"    {start:%a %d %b %H:%M}: {site_kw[window]:.3f} kW"
            f" (house {house_kw[window]:.3f}, cars {ev_kw[window]:.3f})"
        )
    return lines


def table(title: str, table_rows: Sequence[tuple[str, list[str]]]) -> str:
    """Return the table as text: the title, the header, a line per row."""
    width = max(len(label) for label, _ in table_rows)
    columns = [
        max(len(HEADER[i]), *(len(values[i]) for _, values in table_rows))
        for i in range(len(HEADER))
    ]
    lines = [
        title,
        f"  {'':<{width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(HEADER, columns, strict=True)),
    ]
    lines.extend(
        f"  {label:<{width}}  "
        + "  ".join(f"{v:>{w}}" for v, w in zip(values, columns, strict=True))
        for label, values in table_rows
    )
    return "\n".join(lines)
