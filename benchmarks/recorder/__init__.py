"""The recorder's load from the demo site: state writes per minute, per entity, and its growth.

    scripts/bench recorder [--quick] [--time-scale S]   (or: python -m benchmarks.recorder ...)

Workload: the demo (`simulators.demo`, what `scripts/demo` runs: a real Home Assistant with
the recorder on SQLite in its configuration directory, Powershare's meter, main fuse group
and three emulated chargers with cars, the simulated day at its usual pace: 20 times real
time unless `--time-scale` says otherwise) in a fresh
temporary directory on free ports. After it is ready and a warm-up (its first cycles settle,
the entities' first states are written), the database is sampled, the demo runs for
`--minutes` (10 by default; `--quick` 1 minute, for a check), the database is sampled again,
and the demo stops. The rows each entity got in the recorder's `states` table in between are
its state writes (Home Assistant records one per `state_changed` event).

Figures: writes per minute for the top entities, per integration and in all, how many of the
writes moved a number by 0.05 or less, the database's growth (size in pages and rows in
`states`, extrapolated to a day), and the CPU Home Assistant's process used over the window.
Goal (issue 14): at most 60 writes a minute for Powershare's entities.

The package: `measure` (the samples and the table); the command line is here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._machine import machine_lines
from simulators.demo import DemoOptions, run
from simulators.demo_site import DEFAULT_TIME_SCALE
from simulators.modbus_server import free_tcp_port

from .measure import Run, Sample, find_hass_pid, integrations, sample, table, writes_per_entity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simulators.demo import Demo

__all__ = ["main", "measure_demo"]

DEFAULT_MINUTES = 10.0
QUICK_MINUTES = 1.0
WARMUP_S = 30.0
QUICK_WARMUP_S = 10.0
STOP_SLACK_S = 5.0
"""The demo runs this much past the last sample, so nothing stops under it."""


@dataclass
class _Samples:
    first: Sample | None = None
    last: Sample | None = None


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


async def _measure(options: DemoOptions, minutes: float, warmup_s: float) -> Run:
    config_dir = options.config_dir
    samples = _Samples()
    window_s = minutes * 60.0
    pending: list[asyncio.Task[None]] = []

    async def last_sample(pid: int | None) -> None:
        await asyncio.sleep(window_s)
        samples.last = await asyncio.to_thread(sample, config_dir, time.time(), pid)
        _say("recorder benchmark: measured; stopping the demo")

    async def ready(_demo: Demo) -> None:
        _say(f"recorder benchmark: demo ready; warming up for {warmup_s:g} s")
        await asyncio.sleep(warmup_s)
        pid = find_hass_pid(config_dir)
        samples.first = await asyncio.to_thread(sample, config_dir, time.time(), pid)
        _say(f"recorder benchmark: measuring for {minutes:g} min (hass pid {pid})")
        pending.append(asyncio.get_running_loop().create_task(last_sample(pid)))

    # The demo prints its site every 10 s: not part of this report.
    with contextlib.redirect_stdout(io.StringIO()):
        await run(options, ready=ready)
    for task in pending:
        await task  # done: the demo ran past it
    if samples.first is None or samples.last is None:
        raise RuntimeError("the demo stopped before the measurement ended")
    # Home Assistant has stopped: every row is committed, and the registry saved.
    writes, tiny = writes_per_entity(config_dir, samples.first.at, samples.last.at)
    return Run(samples.first, samples.last, writes, tiny, integrations(config_dir))


def measure_demo(
    minutes: float, warmup_s: float, config_dir: Path, time_scale: float = DEFAULT_TIME_SCALE
) -> Run:
    """Run the demo in `config_dir` for `minutes` after `warmup_s` and measure its recorder."""
    options = DemoOptions(
        port=free_tcp_port(),
        config_dir=config_dir,
        duration_s=minutes * 60.0 + STOP_SLACK_S,
        time_scale=time_scale,
    )
    return asyncio.run(_measure(options, minutes, warmup_s))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the recorder benchmark and print its table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.recorder", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="measure 1 minute (a check)")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help=f"minutes measured (default {DEFAULT_MINUTES:g})",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="run the demo here and keep it (default: a temporary directory, removed after)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help=(
            "how many times faster than real time the house and the sun run (default"
            f" {DEFAULT_TIME_SCALE:g}, the demo's; 1: a real house's pace)"
        ),
    )
    arguments = parser.parse_args(argv)
    minutes = arguments.minutes or (QUICK_MINUTES if arguments.quick else DEFAULT_MINUTES)
    warmup_s = QUICK_WARMUP_S if arguments.quick else WARMUP_S
    print(
        f"recorder: the demo site's state writes over {minutes:g} min "
        f"(after {warmup_s:g} s of warm-up), the house and the sun at"
        f" {arguments.time_scale:g}x real time" + (" (quick)" if arguments.quick else "")
    )
    for line in machine_lines():
        print(line)
    sys.stdout.flush()
    if arguments.config_dir is not None:
        result = measure_demo(
            minutes, warmup_s, arguments.config_dir.resolve(), arguments.time_scale
        )
    else:
        with tempfile.TemporaryDirectory(prefix="powershare-recorder-") as folder:
            result = measure_demo(minutes, warmup_s, Path(folder) / "config", arguments.time_scale)
    print()
    print(table(result))
    return 0
