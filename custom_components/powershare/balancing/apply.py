"""Applying a `Decision`: each charger's command through the charger interface, and the failsafe.

Each kind of charger writes only what differs from what it reports (`ChargerControl.command`),
so what a charger's own app changed is re-asserted; a TeltoCharge's watchdog is fed there too.

A locked charger ("Charger locked" on) gets 0 A in every path, the failsafe of a site problem
included, and its failsafe current is 0 while it is locked: a charger with a watchdog stops by
itself if Home Assistant stops talking to it, so the lock holds without us. Unlocking writes
the configured failsafe current back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custom_components.powershare.const import CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT, LOGGER
from custom_components.powershare.devices.charger import ChargeCommand
from custom_components.powershare.devices.errors import PowershareDeviceError
from custom_components.powershare.settings import (
    DEFAULT_FAILSAFE_CURRENT,
    OPT_CHARGING_LOCKED,
    OPT_FAILSAFE_CURRENT,
    setting,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from homeassistant.config_entries import ConfigEntry

    from custom_components.powershare.engine import ChargerDecision, Decision

    from .links import ChargerLink


async def async_apply_decision(decision: Decision, chargers: Mapping[str, ChargerLink]) -> None:
    """Write each charger's part of `decision` (chargers it leaves out: `async_apply_failsafe`).

    Cuts first: a charger whose service answers slowly must not hold back another's cut.
    """
    commands: list[tuple[bool, ChargerLink, ChargerDecision]] = []
    for entry_id, charger_decision in decision.chargers.items():
        link = chargers.get(entry_id)
        reading = None if link is None else link.coordinator.data
        if link is None or reading is None:
            continue
        cut = charger_decision.target_current < max(reading.currents_a)
        commands.append((not cut, link, charger_decision))
    for _, link, charger_decision in sorted(commands, key=lambda command: command[0]):
        phases = tuple(int(phase) for phase in charger_decision.charger_phases)
        await _async_command(link, charger_decision.target_current, phases, decision.now)


async def async_release(link: ChargerLink) -> None:
    """Leave a charger safe on its own: Powershare lets go of it (its entry unloads)."""
    try:
        await link.coordinator.charger.release(failsafe_current(link.entry))
    except Exception as err:  # noqa: BLE001  # every charger is released, whatever one does
        LOGGER.warning("Could not leave %s at its failsafe current: %s", link.entry.title, err)


async def async_apply_failsafe(chargers: Iterable[ChargerLink], now: float) -> None:
    """Hold chargers at their failsafe current: never a stale share (no valid site)."""
    for link in chargers:
        if link.coordinator.data is not None:
            await _async_command(link, None, None, now)


def failsafe_current(entry: ConfigEntry[Any]) -> int:
    """Return the charger's failsafe current: 0 while it is locked."""
    if setting(entry, OPT_CHARGING_LOCKED, default=False):
        return 0
    return int(setting(entry, OPT_FAILSAFE_CURRENT, DEFAULT_FAILSAFE_CURRENT))


def held_if_silent(entry: ConfigEntry[Any], decision: ChargerDecision | None) -> tuple[int, str]:
    """Return the most a charger may draw if Home Assistant stops, and why.

    With a watchdog: its failsafe current ("watchdog"). Without: the last limit it was given,
    which it keeps ("last_limit"); before any decision, the most it may be given.
    """
    if entry.runtime_data.coordinator.charger.capabilities.watchdog:
        return failsafe_current(entry), "watchdog"
    if decision is None:
        return int(setting(entry, CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)), "last_limit"
    return decision.target_current, "last_limit"


async def _async_command(
    link: ChargerLink, amps: int | None, phases: tuple[int, ...] | None, now: float
) -> None:
    """Send the command; `amps` None means the charger's failsafe current."""
    failsafe = failsafe_current(link.entry)
    if setting(link.entry, OPT_CHARGING_LOCKED, default=False):
        amps = 0
    command = ChargeCommand(
        amps=failsafe if amps is None else amps, phases=phases, failsafe_a=failsafe
    )
    try:
        written = await link.coordinator.charger.command(command, now)
    except PowershareDeviceError as err:
        # The coordinator reports the device as unavailable; the next cycle retries (all of
        # it: what was sent before the failure is not known to have arrived).
        LOGGER.debug("Writing %s failed: %s", link.entry.title, err)
        return
    except Exception:  # noqa: BLE001
        # A bug in one kind of charger must not keep the others from their commands.
        LOGGER.exception("Writing %s failed", link.entry.title)
        return
    if written:
        await link.coordinator.async_request_refresh()
