"""The suite cannot hang: a hanging test fails with a traceback, and a hanging teardown ends
the run (tests/timeouts.py behind pytest-timeout). Checked on throwaway tests in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

HANGING_TESTS = """
import asyncio
import time

import pytest


def test_sleeps_forever():
    time.sleep(3600)


async def test_event_loop_waits_on_a_frozen_clock(freezer):
    # What stalled the suite: a timer on an event loop whose clock does not move.
    await asyncio.sleep(1)


def test_after_the_hangs_still_runs():
    pass
"""

HANGING_TEARDOWN = """
import time

import pytest


@pytest.fixture
def stuck_cleanup():
    yield
    time.sleep(3600)


def test_whose_teardown_hangs(stuck_cleanup):
    time.sleep(3600)


def test_never_reached():
    pass
"""


def _run(tmp_path: Path, source: str) -> tuple[subprocess.CompletedProcess[str], float]:
    test_file = tmp_path / "test_hanging.py"
    test_file.write_text(textwrap.dedent(source))
    began = time.monotonic()
    result = subprocess.run(  # noqa: S603  # our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "tests.timeouts",
            "-p",
            "no:cacheprovider",
            "-o",
            "timeout=2",
            "-o",
            "hard_timeout_extra=3",
            str(test_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, time.monotonic() - began


def test_project_sets_a_timeout_for_every_test(pytestconfig: pytest.Config) -> None:
    assert float(pytestconfig.getini("timeout")) > 0
    assert pytestconfig.getini("timeout_method") == "signal"
    assert float(pytestconfig.getini("hard_timeout_extra")) > 0


@pytest.mark.timeout(150)
def test_a_hanging_test_fails_with_a_traceback_and_the_suite_goes_on(tmp_path: Path) -> None:
    result, elapsed = _run(tmp_path, HANGING_TESTS)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 failed, 1 passed" in output, output
    assert "Timeout" in output, output
    assert "time.sleep(3600)" in output, output  # where it hung
    assert elapsed < 60, output


@pytest.mark.timeout(150)
def test_a_hanging_teardown_ends_the_run_with_every_traceback(tmp_path: Path) -> None:
    result, elapsed = _run(tmp_path, HANGING_TEARDOWN)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "test_whose_teardown_hangs still running: ending the test run" in output, output
    assert "stuck_cleanup" in output, output  # the traceback shows the hanging fixture
    assert "test_never_reached PASSED" not in output, output
    assert elapsed < 60, output
