"""The engine's `Snapshot`: every meter's latest reading, every charger lined up with it."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from custom_components.powershare.coordinator import (
    SensorMeterCoordinator,
    SensorMeterError,
    read_sensor_meter,
)
from custom_components.powershare.devices.meters.reading import MIN_PLAUSIBLE_VOLTAGE_V
from custom_components.powershare.engine import (
    ChargerState,
    MeterReading,
    Network,
    Phase,
    Snapshot,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from custom_components.powershare.devices.meters import MeterReading as MeterReadingOfDevice

    from .links import ChargerLink, MeterLink


def take_snapshot(
    hass: HomeAssistant,
    meters: Mapping[str, MeterLink],
    chargers: Mapping[str, ChargerLink],
    now: float,
    network: Network = Network.THREE_PHASE_WITH_NEUTRAL,
    voltage_meter: str | None = None,
) -> Snapshot:
    """Return what the engine needs to decide at `now` on the site's `network`.

    `voltage_meter` (the root group's meter) gives the measured voltage (`Snapshot.voltage_v`).
    """
    readings = meter_readings(hass, meters, network)
    # Line the chargers' currents up with the newest meter reading (see ChargerLink.reading_at).
    moment = max((reading.timestamp for reading in readings.values()), default=now)
    link = None if voltage_meter is None else meters.get(voltage_meter)
    return Snapshot(
        now=now,
        meters=readings,
        chargers=charger_states(chargers, moment),
        voltage_v=None if link is None else measured_voltage(link.coordinator.data),
    )


def measured_voltage(reading: MeterReadingOfDevice | None) -> float | None:
    """Return the mean of a reading's plausible phase voltages (None: it measures none)."""
    if reading is None:
        return None
    voltages = [
        phase.voltage_v
        for phase in reading.phases
        if phase.voltage_v is not None and phase.voltage_v >= MIN_PLAUSIBLE_VOLTAGE_V
    ]
    return sum(voltages) / len(voltages) if voltages else None


def meter_readings(
    hass: HomeAssistant,
    meters: Mapping[str, MeterLink],
    network: Network = Network.THREE_PHASE_WITH_NEUTRAL,
) -> dict[str, MeterReading]:
    """Return each meter's latest reading (a meter that has none yet is left out)."""
    readings: dict[str, MeterReading] = {}
    for entry_id, meter in meters.items():
        reading: MeterReadingOfDevice | None = meter.coordinator.data
        if isinstance(meter.coordinator, SensorMeterCoordinator):
            # Re-read: a sensor that reports an unchanged value fires no state change,
            # but its last_reported moves, and that is what keeps the meter fresh.
            with contextlib.suppress(SensorMeterError):
                reading = read_sensor_meter(hass, meter.coordinator.entities)
        if reading is None:
            continue
        # A single-phase meter measures L1; the phases it lacks are taken to carry nothing.
        currents = [phase.current_a for phase in reading.phases][:3]
        currents += [0.0] * (3 - len(currents))
        if network.without_neutral:
            currents = _with_unmeasured_line(reading, currents)
        readings[entry_id] = MeterReading(
            currents=(currents[0], currents[1], currents[2]),
            timestamp=reading.measured_at,
        )
    return readings


def charger_states(chargers: Mapping[str, ChargerLink], moment: float) -> dict[str, ChargerState]:
    """Return each charger's state, its currents as drawn at `moment`."""
    states: dict[str, ChargerState] = {}
    for entry_id, charger in chargers.items():
        data = charger.coordinator.data
        if data is None or not charger.answering:
            # Unreachable. With a watchdog, its draw (at most its failsafe current) shows in
            # the meter as non-EV load, which is the safe way to count it. Without, it may keep
            # drawing its last limit where no meter sees it: its maximum counts until it answers.
            watchdog = charger.coordinator.charger.capabilities.watchdog
            states[entry_id] = ChargerState(connected=False, unresponsive=not watchdog)
            continue
        if charger.coordinator.charger.overwritten:
            # Something else sets its limit and Powershare yielded: not ours to share.
            states[entry_id] = ChargerState(connected=False, unresponsive=True)
            continue
        drew = charger.reading_at(moment)
        states[entry_id] = ChargerState(
            connected=data.ev_connected,
            charging=data.charging,
            currents=(0.0, 0.0, 0.0) if drew is None else drew.currents_a,
            car_phases=None if data.car_phases is None else frozenset(map(Phase, data.car_phases)),
            max_current=data.amp_limit_a or None,
            measured_at=None if drew is None else drew.measured_at,
        )
    return states


def _with_unmeasured_line(reading: MeterReadingOfDevice, currents: list[float]) -> list[float]:
    """Return the currents with the lines a meter without neutral does not measure filled in.

    On 3 x 230 V every load's current returns on another line: a line the meter does not
    measure carries at most the sum of the measured lines' currents, and is taken to (as an
    import: never spare capacity). Unmeasured: a line the reading lacks (a single-phase
    meter), one at 0 V (a meter with two measuring elements, the Aron connection), or one with
    no voltage reported and exactly 0 A (the same meter without voltages).
    """
    phases = reading.phases

    def unmeasured(index: int) -> bool:
        if index >= len(phases):
            return True
        voltage = phases[index].voltage_v
        if voltage is None:
            return currents[index] == 0.0
        return voltage < MIN_PLAUSIBLE_VOLTAGE_V

    blind = [index for index in range(len(currents)) if unmeasured(index)]
    if not blind or len(blind) == len(currents):
        return currents
    carried = sum(abs(amps) for index, amps in enumerate(currents) if index not in blind)
    return [max(amps, carried) if index in blind else amps for index, amps in enumerate(currents)]
