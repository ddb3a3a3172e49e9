"""Reading the values of a scenario file: mappings with known keys, numbers, choices, phases.

Every problem raises `ScenarioError` naming where it is (`site.groups[0].fuse`).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from custom_components.powershare.engine import (
    PHASES,
    ChargingMode,
    Phase,
    PhasePolicy,
    PhaseRotation,
    Reason,
)
from custom_components.powershare.peak import PeakMode

from .model import Currents, ScenarioError
from .times import parse_time

if TYPE_CHECKING:
    from collections.abc import Sequence

_POWER = re.compile(r"^(\d+(?:\.\d+)?)\s*(W|kW)$")
"""A power in a scenario file: "4 kW", "2.5 kW", "3500 W"."""


class _Fields:
    """Reads one YAML mapping, rejecting unknown keys and naming where a problem is."""

    def __init__(self, value: object, where: str, known: Sequence[str]) -> None:
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: expected a mapping, got {value!r}")
        unknown = sorted(str(key) for key in value if key not in known)
        if unknown:
            raise ScenarioError(
                f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        self.data: dict[str, Any] = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def required(self, key: str) -> object:
        if key not in self.data or self.data[key] is None:
            raise ScenarioError(f"{self.where}: missing {key!r}")
        return self.data[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default) if default is not None else self.required(key)
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: expected text, got {value!r}")
        return str(value)

    def number(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default) if default is not None else self.required(key)
        return _number(value, self.at(key))

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default) if default is not None else self.required(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{self.at(key)}: expected a whole number, got {value!r}")
        return value

    def optional_integer(self, key: str) -> int | None:
        return self.integer(key) if self.has(key) else None

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: expected true or false, got {value!r}")
        return value

    def time(self, key: str, default: float | None = None) -> float:
        if default is not None and not self.has(key):
            return default
        return parse_time(self.required(key), self.at(key))

    def items(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise ScenarioError(f"{self.at(key)}: expected a list, got {value!r}")
        return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _choice[E: (PhaseRotation, ChargingMode, PhasePolicy, Reason, PeakMode)](
    kind: type[E], value: object, where: str
) -> E:
    try:
        return kind(str(value))
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise ScenarioError(f"{where}: {value!r} is not one of {options}") from None


def parse_phase(value: object, where: str) -> Phase:
    """Return the phase named "L1", "L2" or "L3"."""
    if isinstance(value, str) and value.upper() in Phase.__members__:
        return Phase[value.upper()]
    raise ScenarioError(f"{where}: {value!r} is not a phase (L1, L2 or L3)")


def _currents(value: object, where: str) -> Currents:
    """Read a number (the same on three phases) or a list of three numbers (L1, L2, L3)."""
    if isinstance(value, list):
        if len(value) != len(PHASES):
            raise ScenarioError(f"{where}: expected three currents (L1, L2, L3), got {value!r}")
        first, second, third = (_number(item, f"{where}[{i}]") for i, item in enumerate(value))
        return (first, second, third)
    amps = _number(value, where)
    return (amps, amps, amps)


def parse_power(value: object, where: str) -> float:
    """Return the watts of a power: a number (watts), "4000 W" or "2.5 kW"."""
    if isinstance(value, str):
        power = _POWER.match(value.strip())
        if power is None:
            raise ScenarioError(f"{where}: expected a power ('4 kW', '3500 W'), got {value!r}")
        return float(power.group(1)) * (1000.0 if power.group(2) == "kW" else 1.0)
    return _number(value, where)
