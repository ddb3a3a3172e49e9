"""The closed-loop benchmark's table: the figures of each controller side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simulators.scenario import Scenario

    from .controllers import Outcome


def _wanted_wh(scenario: Scenario, window: tuple[float, float]) -> float:
    start, end = window
    total = 0.0
    for car in scenario.cars:
        if car.arrive < end and (car.leave is None or car.leave > start):
            total += car.energy_wh if car.energy_wh is not None else 0.0
    return total


def _per_car(counts: dict[str, int], cars: int) -> str:
    if cars == 0:
        return "-"
    values = list(counts.values())
    return f"{sum(values) / cars:.1f} / {max(values, default=0)}"


def _rows(
    outcomes: Sequence[Outcome], oracle: Outcome, scenario: Scenario, window: tuple[float, float]
) -> list[tuple[str, list[str]]]:
    oracle_wh = sum(oracle.energy_wh.values())
    cars = sum(
        1
        for car in scenario.cars
        if car.arrive < window[1] and (car.leave is None or car.leave > window[0])
    )
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str], oracle_value: str = "-") -> None:
        rows.append((label, [*values, oracle_value]))

    add("sustained fuse overload (A.s; goal 0)", [f"{o.sustained_as:.1f}" for o in outcomes])
    add("overload within one cycle of reaction (A.s)", [f"{o.reaction_as:.1f}" for o in outcomes])
    add("worst sustained overload (A over a fuse)", [f"{o.worst_over_a:.1f}" for o in outcomes])
    add(
        "EV energy delivered (kWh)",
        [f"{sum(o.energy_wh.values()) / 1000:.1f}" for o in outcomes],
        f"{oracle_wh / 1000:.1f}",
    )
    add(
        "  share of the oracle",
        [
            f"{100 * sum(o.energy_wh.values()) / oracle_wh:.1f} %" if oracle_wh else "-"
            for o in outcomes
        ],
        "100 %",
    )
    add(
        "  energy the cars wanted (kWh)",
        [f"{_wanted_wh(scenario, window) / 1000:.1f}"] * len(outcomes),
        f"{_wanted_wh(scenario, window) / 1000:.1f}",
    )
    rows += [(label, [*values, "-"]) for label, values in _solar_rows(outcomes)]
    add(
        f"charger starts per car, mean / max ({cars} cars)",
        [_per_car(o.starts, cars) for o in outcomes],
    )
    add("charger stops per car, mean / max", [_per_car(o.stops, cars) for o in outcomes])
    add("car draw starts per car, mean / max", [_per_car(o.draw_starts, cars) for o in outcomes])
    add("commands per hour", [f"{o.commands / o.hours:.1f}" for o in outcomes])
    add(
        "controller time per step (ms)",
        [
            f"{1000 * o.seconds_per_step:.3f}" if o.seconds_per_step is not None else "-"
            for o in outcomes
        ],
    )
    return rows


def _solar_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, list[str]]]:
    return [
        (
            "solar self-consumption",
            [
                f"{100 * (o.solar_wh - o.export_wh) / o.solar_wh:.1f} %" if o.solar_wh else "-"
                for o in outcomes
            ],
        ),
        ("grid import (kWh)", [f"{o.import_wh / 1000:.1f}" for o in outcomes]),
        (
            "EV grid import in solar mode (kWh)",
            [f"{o.solar_mode_import_wh / 1000:.2f}" for o in outcomes],
        ),
    ]


def _table(title: str, header: Sequence[str], rows: Sequence[tuple[str, list[str]]]) -> str:
    width = max(len(label) for label, _ in rows)
    columns = [
        max(len(header[i]), *(len(values[i]) for _, values in rows)) for i in range(len(header))
    ]
    lines = [
        title,
        f"  {'':<{width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(header, columns, strict=True)),
    ]
    lines.extend(
        f"  {label:<{width}}  "
        + "  ".join(f"{v:>{w}}" for v, w in zip(values, columns, strict=True))
        for label, values in rows
    )
    return "\n".join(lines)
