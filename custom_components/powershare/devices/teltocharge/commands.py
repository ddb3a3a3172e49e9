"""Commands to a TeltoCharge: checking values before they reach the wire, and planning writes.

Everything is validated before anything is written, so a bad argument raises
`InvalidCommandError` and leaves the charger as it was, never half-configured.
`plan_writes` turns the values Powershare wants into as few requests as possible: it skips
what the charger already holds and groups adjacent registers into one FC16 request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from custom_components.powershare.devices.errors import InvalidCommandError

from .registers import (
    MAX_CHARGE_CURRENT_A,
    MAX_WATCHDOG_TIMEOUT_S,
    MIN_CHARGE_CURRENT_A,
    LockMode,
    PhaseSelection,
    Register,
)

if TYPE_CHECKING:
    from enum import IntEnum

    from .reading import TeltoChargeSettings

type WriteRun = tuple[Register, list[int]]
"""Values for consecutive registers from the first one: one write request."""


def validate_amps(amps: int) -> int:
    """Return `amps` if it is 0 or 6-32; otherwise raise `InvalidCommandError`."""
    if isinstance(amps, bool) or not isinstance(amps, int):
        raise InvalidCommandError(f"amps must be a whole number, got {amps!r}")
    if amps != 0 and not MIN_CHARGE_CURRENT_A <= amps <= MAX_CHARGE_CURRENT_A:
        raise InvalidCommandError(
            f"amps must be 0 (pause) or {MIN_CHARGE_CURRENT_A}-{MAX_CHARGE_CURRENT_A}, got {amps}"
        )
    return amps


def validate_watchdog(timeout_s: int) -> int:
    """Return `timeout_s` if it is 0 (off) to 600 s; otherwise raise `InvalidCommandError`."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
        raise InvalidCommandError(f"watchdog timeout must be whole seconds, got {timeout_s!r}")
    if not 0 <= timeout_s <= MAX_WATCHDOG_TIMEOUT_S:
        raise InvalidCommandError(
            f"watchdog timeout must be 0 (off) to {MAX_WATCHDOG_TIMEOUT_S} s, got {timeout_s}"
        )
    return timeout_s


def validate_member[E: IntEnum](enum: type[E], value: E | int, what: str) -> E:
    """Return `value` as a member of `enum`; otherwise raise `InvalidCommandError`."""
    # bool is an int, but True as a phase selection or lock mode is a caller's mistake.
    if isinstance(value, bool):
        raise InvalidCommandError(f"{what} must be a {enum.__name__}, got {value!r}")
    try:
        return enum(value)
    except ValueError:
        raise InvalidCommandError(f"{what} must be a {enum.__name__}, got {value!r}") from None


def plan_writes(
    present: TeltoChargeSettings | None,
    *,
    amps: int | None = None,
    phases: PhaseSelection | None = None,
    lock_mode: LockMode | None = None,
    watchdog_timeout_s: int | None = None,
    failsafe_current_a: int | None = None,
) -> list[WriteRun]:
    """Validate the values given and return the writes that differ from `present`.

    `present` is the settings of the latest reading; None writes everything given.
    """
    wanted: dict[Register, int] = {}
    if phases is not None:
        wanted[Register.PHASE_TO_USE] = int(validate_member(PhaseSelection, phases, "phases"))
    if amps is not None:
        wanted[Register.AMPS_TO_USE] = validate_amps(amps)
    if lock_mode is not None:
        wanted[Register.LOCK_MODE] = int(validate_member(LockMode, lock_mode, "lock mode"))
    if watchdog_timeout_s is not None:
        wanted[Register.WATCHDOG_TIMEOUT] = validate_watchdog(watchdog_timeout_s)
    if failsafe_current_a is not None:
        wanted[Register.FAILSAFE_CURRENT] = validate_amps(failsafe_current_a)
    if present is not None:
        on_device = _settings_registers(present)
        wanted = {reg: value for reg, value in wanted.items() if on_device[reg] != value}
    return _runs(wanted)


def settings_after(
    present: TeltoChargeSettings,
    *,
    amps: int | None = None,
    phases: PhaseSelection | None = None,
    lock_mode: LockMode | None = None,
    watchdog_timeout_s: int | None = None,
    failsafe_current_a: int | None = None,
) -> TeltoChargeSettings:
    """Return `present` with the values an `apply` of the same arguments wrote."""
    return replace(
        present,
        amps_to_use=present.amps_to_use if amps is None else amps,
        phase_to_use=present.phase_to_use if phases is None else phases,
        lock_mode=present.lock_mode if lock_mode is None else lock_mode,
        watchdog_timeout_s=(
            present.watchdog_timeout_s if watchdog_timeout_s is None else watchdog_timeout_s
        ),
        failsafe_current_a=(
            present.failsafe_current_a if failsafe_current_a is None else failsafe_current_a
        ),
    )


def _settings_registers(settings: TeltoChargeSettings) -> dict[Register, int]:
    """Return the raw register values behind a `TeltoChargeSettings`."""
    return {
        Register.PHASE_TO_USE: int(settings.phase_to_use),
        Register.AMPS_TO_USE: settings.amps_to_use,
        Register.STOP_START_REQUEST: int(settings.stop_start_request),
        Register.AUTHORIZE_REQUEST: int(settings.authorize_request),
        Register.LOCK_MODE: int(settings.lock_mode),
        Register.WATCHDOG_TIMEOUT: settings.watchdog_timeout_s,
        Register.FAILSAFE_CURRENT: settings.failsafe_current_a,
        Register.REBOOT_REQUEST: int(settings.reboot_request),
    }


def _runs(values: dict[Register, int]) -> list[WriteRun]:
    """Group register writes into runs of adjacent addresses, lowest first."""
    runs: list[WriteRun] = []
    for register in sorted(values):
        if runs and runs[-1][0] + len(runs[-1][1]) == register:
            runs[-1][1].append(values[register])
        else:
            runs.append((register, [values[register]]))
    return runs
