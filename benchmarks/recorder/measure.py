"""What the recorder wrote: samples of Home Assistant's database and process, and the table.

A state write is one row in the recorder's `states` table: Home Assistant records a row for
each `state_changed` event (a new state or new attributes), none for a write that changes
nothing. The database is read with SQLite in read-only mode while Home Assistant runs (the
recorder keeps it in WAL mode, so readers never block it), and once more after it stopped.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

DATABASE = "home-assistant_v2.db"
ENTITY_REGISTRY = Path(".storage") / "core.entity_registry"
POWERSHARE = "powershare"
TOP_ROWS = 25
"""How many entities the table lists by name (the rest are summed per integration)."""
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Sample:
    """The database and Home Assistant's process at one moment."""

    at: float
    """Unix time (the recorder's timestamps are too)."""
    database_bytes: int
    """Pages times page size (`_database_bytes`)."""
    state_rows: int
    attribute_rows: int
    cpu_s: float | None
    """CPU time of Home Assistant's process so far (None: not found)."""


def _database_bytes(connection: sqlite3.Connection) -> int:
    """Return the database's size as SQLite sees it: its pages, with those still in the WAL.

    Not the files' sizes: the write-ahead log keeps its largest size after each checkpoint,
    so the files would count pages twice, and by chance.
    """
    pages = int(connection.execute("PRAGMA page_count").fetchone()[0])
    return pages * int(connection.execute("PRAGMA page_size").fetchone()[0])


def _connect(config_dir: Path) -> sqlite3.Connection:
    uri = f"file:{config_dir / DATABASE}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=30.0)


def _count(connection: sqlite3.Connection, table: str) -> int:
    row = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # noqa: S608  # constant
    return int(row[0])


def _cpu_s(stat_path: Path) -> float | None:
    """User + system CPU time from a /proc stat file (None if gone)."""
    try:
        text = stat_path.read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count the fields after its closing ")".
    fields = text.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / _clock_ticks()


def _clock_ticks() -> int:
    import os  # noqa: PLC0415  # only where /proc exists

    return os.sysconf("SC_CLK_TCK")


def find_hass_pid(config_dir: Path) -> int | None:
    """Return the pid of the `hass` process running on `config_dir` (Linux /proc)."""
    wanted = str(config_dir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in argv and any(b"hass" in part or b"homeassistant" in part for part in argv):
            return int(entry.name)
    return None


def sample(config_dir: Path, at: float, pid: int | None) -> Sample:
    """Take a sample of the database (and of the process while it runs)."""
    with _connect(config_dir) as connection:
        states = _count(connection, "states")
        attributes = _count(connection, "state_attributes")
        size = _database_bytes(connection)
    connection.close()
    return Sample(
        at=at,
        database_bytes=size,
        state_rows=states,
        attribute_rows=attributes,
        cpu_s=None if pid is None else _cpu_s(Path(f"/proc/{pid}/stat")),
    )


TINY_MOVE = 0.05
"""A write that moves a number by this much or less (in its unit) counts as a tiny move."""


def _number(state: str | None) -> float | None:
    try:
        return None if state is None else float(state)
    except ValueError:
        return None


def writes_per_entity(config_dir: Path, start: float, end: float) -> tuple[Counter[str], int]:
    """Count the rows each entity got in `states` between `start` and `end` (Unix time).

    Also return how many of them moved a number by `TINY_MOVE` or less from the entity's row
    before (a write that only changed attributes counts as a move of 0).
    """
    with _connect(config_dir) as connection:
        rows = connection.execute(
            "SELECT states_meta.entity_id, states.state FROM states "
            "JOIN states_meta ON states.metadata_id = states_meta.metadata_id "
            "WHERE states.last_updated_ts >= ? AND states.last_updated_ts < ? "
            "ORDER BY states.last_updated_ts",
            (start, end),
        ).fetchall()
    connection.close()
    writes: Counter[str] = Counter()
    before: dict[str, float | None] = {}
    tiny = 0
    for entity_id, state in rows:
        writes[entity_id] += 1
        value, previous = _number(state), before.get(entity_id)
        if value is not None and previous is not None and abs(value - previous) <= TINY_MOVE:
            tiny += 1
        before[entity_id] = value
    return writes, tiny


def integrations(config_dir: Path) -> dict[str, str]:
    """Map each registered entity to the integration that made it (its registry platform)."""
    path = config_dir / ENTITY_REGISTRY
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {entity["entity_id"]: entity["platform"] for entity in data["data"]["entities"]}


def integration_of(entity_id: str, platforms: dict[str, str]) -> str:
    """Return an entity's integration; one without a registry entry goes by its domain."""
    return platforms.get(entity_id, entity_id.split(".", 1)[0])


@dataclass(frozen=True, slots=True)
class Run:
    """One measured run: the two samples, the writes per entity, and who made each entity."""

    first: Sample
    last: Sample
    writes: Counter[str]
    tiny: int
    """Writes that moved a number by `TINY_MOVE` or less."""
    platforms: dict[str, str]

    @property
    def minutes(self) -> float:
        """How long the measured window was."""
        return (self.last.at - self.first.at) / 60.0

    def per_minute(self, count: float) -> float:
        """`count` over the window, per minute."""
        return count / self.minutes if self.minutes > 0 else 0.0

    def by_integration(self) -> Counter[str]:
        """Return the writes per integration."""
        totals: Counter[str] = Counter()
        for entity_id, count in self.writes.items():
            totals[integration_of(entity_id, self.platforms)] += count
        return totals


def _line(label: str, total: int, per_minute: float, width: int) -> str:
    return f"  {label:<{width}} {total:>8} {per_minute:>10.1f}"


def _entity_rows(run: Run, width: int) -> Iterable[str]:
    ranked = sorted(run.writes.items(), key=lambda item: (-item[1], item[0]))
    for entity_id, count in ranked[:TOP_ROWS]:
        label = f"{entity_id} ({integration_of(entity_id, run.platforms)})"
        yield _line(label, count, run.per_minute(count), width)
    rest = ranked[TOP_ROWS:]
    if rest:
        count = sum(count for _, count in rest)
        label = f"{len(rest)} other entities"
        yield _line(label, count, run.per_minute(count), width)


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.2f} MB"


def table(run: Run) -> str:
    """Return the plain-text report of a run."""
    width = max([50, *(len(f"{e} ({integration_of(e, run.platforms)})") for e in run.writes)])
    width = min(width, 78)
    header = f"  {'entity (integration)':<{width}} {'writes':>8} {'per min':>10}"
    lines = [f"state writes over {run.minutes:.1f} min, per entity (top {TOP_ROWS}):", header]
    lines += _entity_rows(run, width)
    lines += ["", "per integration:", header.replace("entity (integration)", "integration ")]
    for name, count in sorted(run.by_integration().items(), key=lambda item: -item[1]):
        lines.append(_line(name, count, run.per_minute(count), width))
    total = sum(run.writes.values())
    ours = run.by_integration().get(POWERSHARE, 0)
    lines.append(_line("all integrations", total, run.per_minute(total), width))
    lines.append("")
    lines.append(
        f"Powershare: {run.per_minute(ours):.1f} writes/min over "
        f"{sum(1 for e in run.writes if run.platforms.get(e) == POWERSHARE)} entities that wrote; "
        f"everything: {run.per_minute(total):.1f} writes/min"
    )
    if total:
        lines.append(
            f"writes that moved a number by {TINY_MOVE:g} or less: {run.tiny} "
            f"({run.tiny / total:.0%} of all)"
        )
    lines += _growth(run)
    return "\n".join(lines)


def _growth(run: Run) -> list[str]:
    first, last = run.first, run.last
    grown = last.database_bytes - first.database_bytes
    rows = last.state_rows - first.state_rows
    attributes = last.attribute_rows - first.attribute_rows
    per_day = MINUTES_PER_DAY / run.minutes if run.minutes > 0 else 0.0
    lines = [
        "",
        "database (SQLite pages, with those still in the write-ahead log):",
        f"  size        {_megabytes(first.database_bytes)} -> {_megabytes(last.database_bytes)}"
        f" (+{_megabytes(grown)}; about {_megabytes(round(grown * per_day))} a day)",
        f"  states rows {first.state_rows} -> {last.state_rows} (+{rows}; about "
        f"{round(rows * per_day):,} a day)",
        f"  attribute sets {first.attribute_rows} -> {last.attribute_rows} (+{attributes})",
    ]
    if first.cpu_s is not None and last.cpu_s is not None:
        seconds = last.at - first.at
        process = (last.cpu_s - first.cpu_s) / seconds * 100
        lines += ["", f"Home Assistant CPU: {process:.1f} % of one core (the whole process)"]
    return lines
