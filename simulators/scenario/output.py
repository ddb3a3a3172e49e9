"""What the scenario runner prints: the chosen steps as a table or JSON lines, and a summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from .peak import WindowCheckResult, describe_window, peak_windows
from .runner import CheckResult, StepRecord, check, simulate
from .times import format_clock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from custom_components.powershare.engine import Phase
    from custom_components.powershare.peak import PeakBudget
    from simulators.site import Site

    from .model import Scenario


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


def _peak_json(budget: PeakBudget | None) -> dict[str, Any] | None:
    if budget is None:
        return None
    return {
        "limit_w": round(budget.limit_w, 1),
        "window_start": budget.window_start,
        "average_w": round(budget.average_w, 1),
        "projected_w": round(budget.projected_w, 1),
        "left_wh": round(budget.left_wh, 1),
        "site_power_w": round(budget.site_power_w, 1),
    }


def record_json(record: StepRecord) -> dict[str, Any]:
    """Return one step as plain JSON data (with "peak" only when the scenario has a budget)."""
    decision = record.decision
    peak: dict[str, Any] = {}
    if record.peak is not None:
        closed = record.closed
        peak = {
            "peak": _peak_json(record.peak),
            "closed_window": None
            if closed is None
            else {
                "start": closed.start,
                "average_w": round(closed.average_w, 1),
                "by_house": closed.by_house,
            },
        }
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
        **peak,
    }


def _table_lines(record: StepRecord) -> list[str]:
    decision = record.decision
    head = f"== {format_clock(record.time)}"
    if record.events:
        head += "  (" + ", ".join(record.events) + ")"
    if decision.surplus_w is not None:
        head += f"  surplus {decision.surplus_w:.0f} W"
    if record.peak is not None:
        budget = record.peak
        head += (
            f"  peak: window average {budget.average_w / 1000:.2f} kW of "
            f"{budget.limit_w / 1000:.2f}, budget {budget.site_power_w / 1000:.2f} kW"
        )
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


def _check_json(result: CheckResult | WindowCheckResult) -> dict[str, Any]:
    if isinstance(result, WindowCheckResult):
        window = result.window
        return {
            "window_ending": format_clock(result.expectation.end),
            "average_at_most_w": result.expectation.at_most_w,
            "average_at_least_w": result.expectation.at_least_w,
            "by_house": result.expectation.by_house,
            "got_average_w": None if window is None else round(window.average_w, 1),
            "got_by_house": None if window is None else window.by_house,
            "passed": result.passed,
            "text": result.describe(),
        }
    wanted = result.expectation
    return {
        "at": format_clock(wanted.time),
        "charger": wanted.charger_id,
        "expected": wanted.current,
        "expected_reason": None if wanted.reason is None else wanted.reason.value,
        "expected_phases": wanted.phases,
        "got": result.current,
        "got_reason": None if result.reason is None else result.reason.value,
        "got_phases": result.phases,
        "passed": result.passed,
    }


def _check_text(item: dict[str, Any]) -> str:
    status = "ok  " if item["passed"] else "FAIL"
    if "text" in item:
        return f"  {status} {item['text']}\n"
    reason = f" ({item['expected_reason']})" if item["expected_reason"] else ""
    phases = ""
    if item["expected_phases"] is not None:
        reason += f" on {item['expected_phases']} phase(s)"
        phases = f" on {item['got_phases']} phase(s)"
    return (
        f"  {status} at {item['at']} {item['charger']}: expected {item['expected']} A"
        f"{reason}, got {item['got']} A ({item['got_reason']}){phases}\n"
    )


def _summary(
    site: Site, results: Sequence[CheckResult | WindowCheckResult], windows: list[str]
) -> dict[str, Any]:
    totals = site.totals
    peak = {"peak_windows": windows} if windows else {}
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
        **peak,
        "checks": [_check_json(result) for result in results],
    }


def run(
    scenario: Scenario,
    out: TextIO,
    *,
    as_json: bool = False,
    every: int | None = None,
) -> list[CheckResult | WindowCheckResult]:
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
    windows = [describe_window(window) for window in peak_windows(scenario, records)]
    summary = _summary(site, results, windows)
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
    for line in windows:
        write(f"  peak window {line}\n")
    for item in summary["checks"]:
        write(_check_text(item))
    return results
