"""The capacity-tariff benchmark runs its two quick days and prints sane tables."""

from __future__ import annotations

import pytest

from benchmarks import capacity_tariff

LABEL = 48  # the width of the row labels, with their indent
HEADER = ["Powershare", "4", "kW", "cap", "oracle", "house", "alone"]


def _tables(text: str) -> list[dict[str, list[str]]]:
    tables = []
    for block in text.split("\n\n")[1:]:
        lines = block.splitlines()
        if len(lines) < 2 or lines[1].split() != HEADER:
            continue
        tables.append({line[:LABEL].strip(): line[LABEL:].split() for line in lines[2:]})
    return tables


def test_capacity_tariff_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert capacity_tariff.main(["--quick"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("capacity tariff")
    lines = text.splitlines()
    assert lines[1].startswith("machine: ")
    assert lines[2].startswith("python:  ")
    assert lines[-1].startswith("ran in ")
    tables = _tables(text)
    assert len(tables) == len(capacity_tariff.CASES)
    for rows in tables:
        peaks = [float(value) for value in rows["month's peak, highest quarter-hour (kW)"]]
        powershare, cap, oracle, house = peaks
        # Over the limit only where the house alone is (two March days: it never is).
        over = [int(value) for value in rows["quarter-hours over 4 kW"]]
        by_house = [int(value) for value in rows["the house alone over the limit in them"][:3]]
        assert over[:3] == by_house
        assert powershare <= 4.0 or house > 4.0
        assert oracle <= max(4.0, house) + 1e-3
        assert cap >= house
        delivered = [float(value) for value in rows["EV energy delivered (kWh)"][:3]]
        asked = float(rows["energy the cars asked (kWh)"][0])
        assert 0 < delivered[0] <= delivered[2] + 0.05
        assert delivered[1] <= delivered[2] + 0.05
        assert delivered[2] <= asked + 0.05
        share = float(rows["share of the oracle"][0])
        assert share >= 97.0
        starts = rows["charger starts per session, mean / max"]
        assert float(starts[0]) > 0
        assert starts[-2:] == ["-", "-"]  # the oracle and the house start nothing
