"""A pytest plugin (loaded by tests/conftest.py): no test hangs the suite.

pytest-timeout (the `timeout` setting, or a test's own `timeout` marker) fails a test that
runs too long, with its traceback, and the suite goes on. Its alarm fires once, though: a test
whose teardown hangs as well (an event loop stalled in fixture cleanup) would still hang the
run. The watchdog here ends the whole process `hard_timeout_extra` seconds after the test's
own timeout, with every thread's traceback on stderr, so a hang costs minutes, not the run.

A thread of its own, not `faulthandler.dump_traceback_later`: pytest cancels that one whenever
a test fails (its `pytest_exception_interact`), which is exactly when a teardown may hang next.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator

_WATCHDOG = pytest.StashKey["Watchdog"]()


class Watchdog:
    """A daemon thread that ends the process when a deadline passes unmet."""

    def __init__(self, stderr_fd: int) -> None:
        self._stderr_fd = stderr_fd
        self._deadline: float | None = None
        self._what = ""
        self._changed = threading.Condition()
        threading.Thread(target=self._watch, name="test-watchdog", daemon=True).start()

    def arm(self, seconds: float, what: str) -> None:
        """End the process unless `disarm` is called within `seconds`."""
        with self._changed:
            self._deadline = time.monotonic() + seconds
            self._what = what
            self._changed.notify()

    def disarm(self) -> None:
        """Cancel the deadline."""
        with self._changed:
            self._deadline = None
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while True:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                message = f"\n\n+++ {self._what} still running: ending the test run +++\n\n"
                os.write(self._stderr_fd, message.encode())
                faulthandler.dump_traceback(file=self._stderr_fd, all_threads=True)
                os._exit(3)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the watchdog's margin."""
    parser.addini(
        "hard_timeout_extra",
        "seconds after a test's timeout before the whole run is ended (0: never)",
        default="60",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start the watchdog, writing to the real stderr (a test's own output is captured)."""
    config.stash[_WATCHDOG] = Watchdog(os.dup(sys.stderr.fileno()))


def _timeout_s(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(item.config.getini("timeout") or 0.0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Watch the test's setup, call and teardown."""
    timeout = _timeout_s(item)
    extra = float(item.config.getini("hard_timeout_extra"))
    if timeout <= 0 or extra <= 0:
        return (yield)
    watchdog = item.config.stash[_WATCHDOG]
    watchdog.arm(timeout + extra, item.nodeid)
    try:
        return (yield)
    finally:
        watchdog.disarm()
