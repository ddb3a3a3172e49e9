"""Applying a `Decision`: each charger's writes, its watchdog feed, and the failsafe.

Only registers that differ from what the charger reports are written, so what the charger's own
app changed is re-asserted. Nothing is written on unload: each TeltoCharge's watchdog (register
19, on by default) then limits it to its failsafe current (register 20) once Powershare stops
talking to it.

A locked charger ("Charger locked" on) gets 0 A in every path, the failsafe of a site problem
included, and its failsafe current (register 20) is set to 0 while it is locked: the charger
stops by itself if Home Assistant stops talking to it, so the lock holds without us. Unlocking
writes the configured failsafe current back. (Register 16, "request stop", would end the
session and need a start request to resume; 0 A keeps the session and is enough.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.powershare.const import LOGGER
from custom_components.powershare.devices.errors import PowershareDeviceError
from custom_components.powershare.devices.teltocharge import PhaseSelection, settings_after
from custom_components.powershare.engine import PHASES, Phase
from custom_components.powershare.settings import (
    DEFAULT_FAILSAFE_CURRENT,
    OPT_CHARGING_LOCKED,
    OPT_FAILSAFE_CURRENT,
    setting,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from custom_components.powershare.devices.teltocharge import TeltoChargeReading
    from custom_components.powershare.engine import Decision

    from .links import ChargerLink

WATCHDOG_TIMEOUT_S = 30
"""Register 19: the charger falls back to its failsafe current after this much silence (30 s is
the charger's own default)."""
WATCHDOG_FEED_S = 10.0
"""At least one write this often: the register map does not say whether reads count as the
"valid communication" that feeds the watchdog, so a write (registers 19-20, unchanged values)
keeps it fed either way, for one request per charger every 10 s."""

_SELECTION_BY_PHASES: dict[tuple[Phase, ...], PhaseSelection] = {
    (Phase.L1,): PhaseSelection.L1,
    (Phase.L2,): PhaseSelection.L2,
    (Phase.L3,): PhaseSelection.L3,
    (Phase.L1, Phase.L2): PhaseSelection.L1_L2,
    (Phase.L1, Phase.L3): PhaseSelection.L1_L3,
    (Phase.L2, Phase.L3): PhaseSelection.L2_L3,
    PHASES: PhaseSelection.THREE_PHASE,
}


async def async_apply_decision(decision: Decision, chargers: Mapping[str, ChargerLink]) -> None:
    """Write each charger's part of `decision` (chargers it leaves out: `async_apply_failsafe`)."""
    for entry_id, charger_decision in decision.chargers.items():
        link = chargers.get(entry_id)
        reading: TeltoChargeReading | None = None if link is None else link.coordinator.data
        if link is None or reading is None:
            continue
        phases: PhaseSelection | None = None
        if reading.phase_change_possible and len(charger_decision.charger_phases) in (1, 3):
            phases = _SELECTION_BY_PHASES[tuple(sorted(charger_decision.charger_phases))]
        await _async_write(link, reading, charger_decision.target_current, phases, decision.now)


async def async_apply_failsafe(chargers: Iterable[ChargerLink], now: float) -> None:
    """Hold chargers at their failsafe current: never a stale share (no valid site)."""
    for link in chargers:
        reading: TeltoChargeReading | None = link.coordinator.data
        if reading is not None:
            await _async_write(link, reading, None, None, now)


async def _async_write(
    link: ChargerLink,
    reading: TeltoChargeReading,
    amps: int | None,
    phases: PhaseSelection | None,
    now: float,
) -> None:
    """Write what differs from what the charger reports, and feed its watchdog.

    `amps` None means the charger's failsafe current. A locked charger gets 0 either way.
    """
    driver = link.coordinator.charger.driver
    failsafe = int(setting(link.entry, OPT_FAILSAFE_CURRENT, DEFAULT_FAILSAFE_CURRENT))
    if setting(link.entry, OPT_CHARGING_LOCKED, default=False):
        amps = failsafe = 0
    amps = failsafe if amps is None else amps
    present = link.settings_now(reading)
    started = driver.clock()
    try:
        written = await driver.apply(
            present,
            amps=amps,
            phases=phases,
            watchdog_timeout_s=WATCHDOG_TIMEOUT_S,
            failsafe_current_a=failsafe,
        )
        if not written and now - link.last_write >= WATCHDOG_FEED_S:
            await driver.configure_watchdog(WATCHDOG_TIMEOUT_S, failsafe)
            written = 1
    except PowershareDeviceError as err:
        # The coordinator reports the device as unavailable; the next cycle retries (all of
        # it: what was sent before the failure is not known to have arrived).
        LOGGER.debug("Writing %s failed: %s", link.entry.title, err)
        link.sent = None
        return
    if written:
        link.last_write = now
        link.sent_at = started
        link.sent = settings_after(
            present,
            amps=amps,
            phases=phases,
            watchdog_timeout_s=WATCHDOG_TIMEOUT_S,
            failsafe_current_a=failsafe,
        )
        await link.coordinator.async_request_refresh()
