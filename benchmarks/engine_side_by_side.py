"""Two versions of the engine, timed side by side on the same sites in one run.

    python -m benchmarks.engine_side_by_side OLD [NEW] [--rounds 6] [--sizes 100,1000]

OLD and NEW are git revisions (NEW defaults to the working tree). Each gets a detached
worktree; every measurement is a fresh process that imports that version's engine and this
tree's simulators (the benchmark sites of `simulators.bench_sites`, whatever either version
had). The versions alternate, round after round, so a busy machine slows both alike, and the
table gives each one's median and 90th percentile per decision, wall-clock and thread CPU
time, pooled over the rounds, with NEW / OLD ratios.

The readable-core issue's guard: NEW within 10 % of OLD at 1,000 chargers contended, and
equal or faster at 100.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._machine import machine_lines

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT = Path(__file__).resolve().parent.parent
SIZINGS = ("ample", "contended")
STEP_S = 2.0
WARMUP = 20
GUARD_LARGE = 1.10
"""NEW may take at most 10 % longer than OLD at 1,000 chargers, contended."""


def _worker(sizes: Sequence[int], repeats: int) -> dict[str, dict[str, list[float]]]:
    """Time `Balancer.step` on the benchmark sites with whichever engine is importable."""
    from custom_components.powershare.engine import Balancer  # noqa: PLC0415 - the chosen one
    from simulators.bench_sites import AMPLE, CONTENDED, build_site  # noqa: PLC0415

    result: dict[str, dict[str, list[float]]] = {}
    for count in sizes:
        for sizing in (AMPLE, CONTENDED):
            site = build_site(count, sizing)
            balancer = Balancer(site.config)
            wall: list[float] = []
            cpu: list[float] = []
            for index in range(WARMUP + repeats):
                snapshot = site.snapshot()
                began_cpu = time.thread_time()
                began = time.perf_counter()
                decision = balancer.step(snapshot)
                elapsed = time.perf_counter() - began
                elapsed_cpu = time.thread_time() - began_cpu
                if index >= WARMUP:
                    wall.append(elapsed)
                    cpu.append(elapsed_cpu)
                site.apply(decision)
                site.advance(STEP_S)
            result[f"{count} {sizing.name}"] = {"wall": wall, "cpu": cpu}
    return result


def _git(*arguments: str) -> None:
    git = shutil.which("git") or "git"
    subprocess.run([git, "-C", str(ROOT), *arguments], check=True, capture_output=True)  # noqa: S603 - our own arguments


def _checkout(revision: str, folder: Path) -> Path:
    """Return a folder whose `custom_components` is the engine of `revision`."""
    if revision == "WORKTREE":
        engine_root = ROOT
    else:
        engine_root = folder / "tree"
        _git("worktree", "add", "--detach", "-f", str(engine_root), revision)
    # Only `custom_components` comes from there: a folder holding just a link to it goes first
    # on the path, and this tree's simulators second.
    shim = folder / "shim"
    shim.mkdir()
    (shim / "custom_components").symlink_to(engine_root / "custom_components")
    return shim


def _measure(shim: Path, sizes: Sequence[int], repeats: int) -> dict[str, dict[str, list[float]]]:
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(shim)!r}, {str(ROOT)!r}]\n"
        "from benchmarks.engine_side_by_side import _worker\n"
        f"print(json.dumps(_worker({list(sizes)!r}, {repeats})))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=shim
    )
    loaded: dict[str, dict[str, list[float]]] = json.loads(done.stdout)
    return loaded


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _table(pooled: dict[str, dict[str, dict[str, list[float]]]], sizes: Sequence[int]) -> int:
    """Print the table; return 1 when the guard fails."""
    print(
        f"  {'chargers':>8} {'fuses':>9}  {'old ms':>7} {'new ms':>7} {'ratio':>6}  "
        f"{'old p90':>7} {'new p90':>7} {'ratio':>6}  {'old cpu':>7} {'new cpu':>7} {'ratio':>6}"
    )
    failed = 0
    for count in sizes:
        for sizing in SIZINGS:
            key = f"{count} {sizing}"
            old, new = pooled["old"][key], pooled["new"][key]
            figures: list[float] = []
            for pick in (statistics.median, _p90):
                figures += [pick(old["wall"]) * 1e3, pick(new["wall"]) * 1e3]
            figures += [statistics.median(old["cpu"]) * 1e3, statistics.median(new["cpu"]) * 1e3]
            ratio = figures[1] / figures[0]
            verdict = ""
            if sizing == "contended" and count >= 1000:
                verdict = "guard <= 1.10: " + ("met" if ratio <= GUARD_LARGE else "MISSED")
                failed |= ratio > GUARD_LARGE
            elif count <= 100:
                verdict = "guard <= 1.00: " + ("met" if ratio <= 1.0 else "MISSED")
            print(
                f"  {count:>8} {sizing:>9}  {figures[0]:>7.3f} {figures[1]:>7.3f} {ratio:>6.3f}  "
                f"{figures[2]:>7.3f} {figures[3]:>7.3f} {figures[3] / figures[2]:>6.3f}  "
                f"{figures[4]:>7.3f} {figures[5]:>7.3f} {figures[5] / figures[4]:>6.3f}  {verdict}"
            )
    return int(failed)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both versions, alternating, and print the table."""
    parser = argparse.ArgumentParser(prog="benchmarks/engine_side_by_side.py")
    parser.add_argument("old", help="git revision of the reference engine")
    parser.add_argument("new", nargs="?", default="WORKTREE", help="revision (default: here)")
    parser.add_argument("--rounds", type=int, default=6, help="alternations (default 6)")
    parser.add_argument("--sizes", default="100,1000", help="charger counts (default 100,1000)")
    parser.add_argument("--repeats", type=int, default=50, help="timed steps per site and round")
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.sizes.split(",")]
    pooled: dict[str, dict[str, dict[str, list[float]]]] = {"old": {}, "new": {}}
    try:
        with tempfile.TemporaryDirectory() as temporary:
            shims: dict[str, Path] = {}
            for side, revision in (("old", arguments.old), ("new", arguments.new)):
                folder = Path(temporary) / side
                folder.mkdir()
                shims[side] = _checkout(revision, folder)
            for round_number in range(arguments.rounds):
                order = ("old", "new") if round_number % 2 == 0 else ("new", "old")
                for side in order:
                    measured = _measure(shims[side], sizes, arguments.repeats)
                    for key, series in measured.items():
                        into: dict[str, Any] = pooled[side].setdefault(key, {"wall": [], "cpu": []})
                        into["wall"] += series["wall"]
                        into["cpu"] += series["cpu"]
    finally:  # the worktrees' folders are gone: let git forget them
        _git("worktree", "prune")
    print(f"engine side by side: old = {arguments.old}, new = {arguments.new}")
    for line in machine_lines():
        print(line)
    print(
        f"workload: simulators.bench_sites, {arguments.rounds} alternated rounds x "
        f"{arguments.repeats} steps per site after {WARMUP} warm-up steps; ms per decision"
    )
    return _table(pooled, sizes)


if __name__ == "__main__":
    sys.exit(main())
