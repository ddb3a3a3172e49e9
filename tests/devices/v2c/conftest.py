"""Fixtures of the V2C Trydan tests (the HTTP session is `tests/devices/conftest.py`'s)."""

from __future__ import annotations

import pytest

from simulators.meters.state import ManualClock


@pytest.fixture
def car_clock() -> ManualClock:
    """The emulated charger's time: the car's response delay and energy follow it."""
    return ManualClock()
