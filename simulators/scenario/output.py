"""What the scenario runner prints: the chosen steps as a table or JSON lines, and a summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from .runner import StepRecord, check, simulate
from .times import format_clock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from custom_components.powershare.engine import Phase
    from simulators.site import Site

    from .model import Scenario
    from .runner import CheckResult


def _phases(phases: Sequence[Phase]) -> str:
    return "".join(phase.name for phase in phases) or "-"


def _triple(values: Sequence[float] | None, digits: int = 1) -> str:
    if values is None:
        return "-"
    return "/".join(f"{value:.{digits}f}" for value in values)


def _interesting(record: StepRecord, index: int, every: int | None) -> bool:
    if every is not None:
        return index % every == 0
    return bool(
        index == 0
        or record.events
        or record.decision.commands
        or record.report.sustained_overload_as > 0
    )


def record_json(record: StepRecord) -> dict[str, Any]:
    """Return one step as plain JSON data."""
    decision = record.decision
    return {
        "time": record.time,
        "clock": format_clock(record.time),
        "events": list(record.events),
        "chargers": {
            charger_id: {
                "car": record.cars.get(charger_id),
                "current": verdict.target_current,
                "site_phases": [phase.name for phase in verdict.site_phases],
                "charger_phases": [phase.name for phase in verdict.charger_phases],
                "action": verdict.action.value,
                "changed": verdict.changed,
                "reason": verdict.reason.value,
                "detail": verdict.detail,
                "requested": verdict.requested,
                "share": round(verdict.share, 3),
                "draw": [round(value, 3) for value in record.draws[charger_id]],
            }
            for charger_id, verdict in decision.chargers.items()
        },
        "groups": {
            group_id: {
                "meter": None if figures.meter is None else [round(v, 3) for v in figures.meter],
                "non_ev_load": [round(value, 3) for value in figures.non_ev_load],
                "available": [round(value, 3) for value in figures.available],
                "requested": [round(value, 3) for value in figures.requested],
                "allocated": [round(value, 3) for value in figures.allocated],
                "usage": [round(value, 3) for value in figures.usage],
                "meter_stale": figures.meter_stale,
            }
            for group_id, figures in decision.groups.items()
        },
        "surplus_w": None if decision.surplus_w is None else round(decision.surplus_w, 1),
        "grid_w": round(record.report.grid_w, 1),
        "overload": {
            "reaction_as": round(record.report.reaction_overload_as, 3),
            "sustained_as": round(record.report.sustained_overload_as, 3),
            "fuses": [
                {"group": group, "phase": phase.name, "amps_over": round(amps, 3)}
                for group, phase, amps in record.report.overloaded
            ],
        },
    }


def _table_lines(record: StepRecord) -> list[str]:
    decision = record.decision
    head = f"== {format_clock(record.time)}"
    if record.events:
        head += "  (" + ", ".join(record.events) + ")"
    if decision.surplus_w is not None:
        head += f"  surplus {decision.surplus_w:.0f} W"
    lines = [head]
    lines.append(
        f"  {'charger':<10} {'car':<10} {'A':>3} {'phases':<7} {'draw L1/L2/L3':<15} "
        f"{'action':<7} reason"
    )
    for charger_id, verdict in decision.chargers.items():
        lines.append(
            f"  {charger_id:<10} {record.cars.get(charger_id, '-'):<10} "
            f"{verdict.target_current:>3} {_phases(verdict.site_phases):<7} "
            f"{_triple(record.draws[charger_id]):<15} {verdict.action.value:<7} "
            f"{verdict.detail or verdict.reason.value}"
        )
    for group_id, figures in decision.groups.items():
        stale = "  METER STALE" if figures.meter_stale else ""
        lines.append(
            f"  group {group_id:<10} meter {_triple(figures.meter)}  available "
            f"{_triple(figures.available)}  requested {_triple(figures.requested, 0)}  "
            f"allocated {_triple(figures.allocated, 0)}  usage {_triple(figures.usage)}{stale}"
        )
    for group, phase, amps in record.report.overloaded:
        lines.append(f"  OVERLOAD group {group} phase {phase.name}: {amps:.1f} A over the fuse")
    return lines


def _summary(site: Site, results: Sequence[CheckResult]) -> dict[str, Any]:
    totals = site.totals
    return {
        "energy_kwh": {car.spec.id: round(car.energy_wh / 1000.0, 3) for car in site.cars},
        "ev_kwh": round(totals.ev_wh / 1000.0, 3),
        "import_kwh": round(totals.import_wh / 1000.0, 3),
        "export_kwh": round(totals.export_wh / 1000.0, 3),
        "solar_kwh": round(totals.solar_wh / 1000.0, 3),
        "reaction_overload_as": round(totals.reaction_overload_as, 3),
        "sustained_overload_as": round(totals.sustained_overload_as, 3),
        "commands": totals.commands,
        "starts": dict(sorted(totals.starts.items())),
        "stops": dict(sorted(totals.stops.items())),
        "car_starts": dict(sorted(totals.draw_starts.items())),
        "checks": [
            {
                "at": format_clock(result.expectation.time),
                "charger": result.expectation.charger_id,
                "expected": result.expectation.current,
                "expected_reason": None
                if result.expectation.reason is None
                else result.expectation.reason.value,
                "got": result.current,
                "got_reason": None if result.reason is None else result.reason.value,
                "passed": result.passed,
            }
            for result in results
        ],
    }


def run(
    scenario: Scenario,
    out: TextIO,
    *,
    as_json: bool = False,
    every: int | None = None,
) -> list[CheckResult]:
    """Simulate `scenario`, write the chosen steps and a summary to `out`, return the checks."""
    site = scenario.build_site()
    records: list[StepRecord] = []
    write: Callable[[str], object] = out.write
    if not as_json:
        write(f"# {scenario.name}: {scenario.description}\n".replace(": \n", "\n"))
    for index, record in enumerate(simulate(scenario, site)):
        records.append(record)
        if not _interesting(record, index, every):
            continue
        if as_json:
            write(json.dumps(record_json(record)) + "\n")
        else:
            write("\n".join(_table_lines(record)) + "\n")
    results = check(scenario, records)
    summary = _summary(site, results)
    if as_json:
        write(json.dumps({"summary": summary}) + "\n")
        return results
    write("== summary\n")
    for key in ("energy_kwh", "starts", "stops", "car_starts"):
        write(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in summary[key].items()) + "\n")
    write(
        f"  EV {summary['ev_kwh']} kWh, import {summary['import_kwh']} kWh, export "
        f"{summary['export_kwh']} kWh, solar {summary['solar_kwh']} kWh, commands "
        f"{summary['commands']}\n"
        f"  overload: {summary['sustained_overload_as']} A.s sustained, "
        f"{summary['reaction_overload_as']} A.s within one cycle of reaction\n"
    )
    for item in summary["checks"]:
        status = "ok  " if item["passed"] else "FAIL"
        reason = f" ({item['expected_reason']})" if item["expected_reason"] else ""
        write(
            f"  {status} at {item['at']} {item['charger']}: expected {item['expected']} A"
            f"{reason}, got {item['got']} A ({item['got_reason']})\n"
        )
    return results
