"""Reading a charger from another integration's entities: states, units, and what they mean.

A value comes from an entity's state or one of its attributes (OCPP and KEBA put the phases in
attributes), converted from the entity's unit (mA, kW, ...). The limit entity and at least one
of the usage entities (phase currents, or power) must answer; when one does not, the reading
fails and the charger counts as unresponsive (`ChargerState.unresponsive`): without a watchdog
it may still be drawing its last limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfElectricCurrent,
    UnitOfPower,
)
from homeassistant.util.unit_conversion import ElectricCurrentConverter, PowerConverter

from custom_components.powershare.devices.charger import NOMINAL_VOLTAGE_V, power_lower_bound
from custom_components.powershare.devices.errors import (
    DeviceUnreachableError,
    ImplausibleValueError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant, State

    from .presets import Preset

IDLE_CURRENT_A = 1.0
"""Below this no phase counts as charging (when no status entity says)."""
MAX_PLAUSIBLE_CURRENT_A = 80.0
MIN_CHARGE_CURRENT_A = 6.0


@dataclass(frozen=True, slots=True)
class ChargerEntities:
    """The entity ids of one charger, by role (stored in the entry)."""

    limit: str | None = None
    currents: tuple[str, ...] = ()
    power: str | None = None
    status: str | None = None
    plug: str | None = None
    pause: str | None = None
    phase: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ChargerEntities:
        """Read the roles stored in an entry (missing roles are None)."""
        return cls(
            limit=data.get("limit") or None,
            currents=tuple(data.get("currents") or ()),
            power=data.get("power") or None,
            status=data.get("status") or None,
            plug=data.get("plug") or None,
            pause=data.get("pause") or None,
            phase=data.get("phase") or None,
        )

    @property
    def all(self) -> tuple[str, ...]:
        """Every entity id involved, once."""
        found = (
            self.limit,
            *self.currents,
            self.power,
            self.status,
            self.plug,
            self.pause,
            self.phase,
        )
        return tuple(dict.fromkeys(entity for entity in found if entity))

    def as_data(self) -> dict[str, Any]:
        """Return the roles as an entry stores them."""
        return {
            "limit": self.limit,
            "currents": list(self.currents),
            "power": self.power,
            "status": self.status,
            "plug": self.plug,
            "pause": self.pause,
            "phase": self.phase,
        }


@dataclass(frozen=True, slots=True)
class EntityChargerReading:
    """What the charger's entities say (a `ChargerReading`)."""

    measured_at: float
    ev_connected: bool
    charging: bool
    currents_a: tuple[float, float, float]
    amp_limit_a: int
    phase_change_possible: bool
    limit_a: float | None
    """The limit the charger holds now (None when only a service sets it and nothing reads
    it back)."""
    limit_changed_at: float | None
    allowed: bool | None
    """Whether its pause control allows charging (None without one)."""
    one_phase: bool | None
    """Whether its phase control is on one phase (None without one)."""
    power_w: float | None
    car_phases: frozenset[int] | None = None
    """All wired phases when only the power is known (`power_lower_bound`)."""
    session_energy_kwh: float | None = None
    """Not read: the charger's own integration shows its energies."""
    lifetime_energy_kwh: float | None = None


def read_entities(
    hass: HomeAssistant, preset: Preset, entities: ChargerEntities, wired_phases: int
) -> EntityChargerReading:
    """Read the charger; raise `DeviceUnreachableError` or `ImplausibleValueError`."""
    limit_state = _state(hass, entities.limit) if entities.limit else None
    limit = None if limit_state is None else _number(limit_state, None)
    currents, measured, by_power = _currents(hass, preset, entities, wired_phases)
    power_state = _state(hass, entities.power) if entities.power else None
    power = None if power_state is None else _converted(power_state, None, PowerConverter)
    drawing = max(currents) > IDLE_CURRENT_A
    connected, charging = _status(hass, preset, entities, drawing=drawing)
    phase_state = _state(hass, entities.phase) if entities.phase else None
    switch = preset.phase_switch
    one_phase = None
    if phase_state is not None and switch is not None:
        one_phase = phase_state.state == switch.one_phase
    return EntityChargerReading(
        measured_at=measured,
        ev_connected=connected,
        charging=charging,
        currents_a=currents,
        amp_limit_a=_ceiling(limit_state),
        phase_change_possible=phase_state is not None or _phase_service(preset),
        limit_a=limit,
        limit_changed_at=None if limit_state is None else limit_state.last_changed.timestamp(),
        allowed=_allowed(hass, preset, entities),
        one_phase=one_phase,
        power_w=power,
        car_phases=frozenset(range(wired_phases)) if by_power else None,
    )


def _phase_service(preset: Preset) -> bool:
    return preset.phase_switch is not None and preset.phase_switch.service is not None


def _currents(
    hass: HomeAssistant, preset: Preset, entities: ChargerEntities, wired_phases: int
) -> tuple[tuple[float, float, float], float, bool]:
    """Return the phase currents, when they were reported, and whether from the power alone.

    Reported: the oldest source's time. From the power alone, the currents are a lower bound
    per phase (`power_lower_bound`).
    """
    if entities.currents:
        values: list[float] = []
        times: list[float] = []
        for index, entity_id in enumerate(entities.currents[:3]):
            state = _state(hass, entity_id)
            match = preset.currents[index] if index < len(preset.currents) else None
            attribute = None if match is None else match.attribute
            unit = None if match is None else match.unit
            values.append(_converted(state, attribute, ElectricCurrentConverter, unit))
            times.append(state.last_reported.timestamp())
        values += [0.0] * (3 - len(values))
        return (values[0], values[1], values[2]), min(times), False
    if entities.power is None:
        raise DeviceUnreachableError("neither phase currents nor power to read")
    state = _state(hass, entities.power)
    watts = _converted(state, None, PowerConverter)
    if watts / NOMINAL_VOLTAGE_V > MAX_PLAUSIBLE_CURRENT_A * wired_phases:
        raise ImplausibleValueError(f"{state.entity_id}: {watts:.0f} W is not a charger's")
    bound = power_lower_bound(watts, NOMINAL_VOLTAGE_V, wired_phases)
    return bound, state.last_reported.timestamp(), True


def _status(
    hass: HomeAssistant, preset: Preset, entities: ChargerEntities, *, drawing: bool
) -> tuple[bool, bool]:
    """Return (connected, charging): from the status entity, the plug, or the draw."""
    status = preset.status
    if entities.status and status is not None:
        state = _state(hass, entities.status)
        value = state.attributes.get(status.attribute) if status.attribute else state.state
        text = str(value)
        charging = text in status.charging
        return charging or text in status.connected, charging
    if entities.plug:
        plugged = _state(hass, entities.plug).state == STATE_ON
        return plugged, plugged and drawing
    # Nothing says whether a car is there: take one to be (the engine lowers the request of a
    # car that does not draw), and the draw to say whether it charges.
    return True, drawing


def _allowed(hass: HomeAssistant, preset: Preset, entities: ChargerEntities) -> bool | None:
    pause = preset.pause
    if not entities.pause or pause is None:
        return None
    state = hass.states.get(entities.pause)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    if pause.pause_option is not None:
        return state.state != pause.pause_option
    if state.state not in (STATE_ON, STATE_OFF):
        return None
    return (state.state == STATE_ON) == pause.on_allows


def _ceiling(state: State | None) -> int:
    """Return the number's own maximum, when it is a charger's (6-80 A); 0 when unknown."""
    if state is None:
        return 0
    try:
        top = float(state.attributes.get("max", 0))
    except (TypeError, ValueError):
        return 0
    return int(top) if MIN_CHARGE_CURRENT_A <= top <= MAX_PLAUSIBLE_CURRENT_A else 0


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise DeviceUnreachableError(f"{entity_id} is unavailable")
    return state


def _number(state: State, attribute: str | None) -> float:
    raw = state.attributes.get(attribute) if attribute else state.state
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        where = f"{state.entity_id}[{attribute}]" if attribute else state.entity_id
        raise ImplausibleValueError(f"{where} is not a number: {raw!r}") from err
    if not math.isfinite(value):
        raise ImplausibleValueError(f"{state.entity_id} is not finite")
    return value


def _converted(
    state: State, attribute: str | None, converter: Any, unit: str | None = None
) -> float:
    """Return the value in A (currents) or W (power), from the entity's unit."""
    value = _number(state, attribute)
    target = (
        UnitOfElectricCurrent.AMPERE if converter is ElectricCurrentConverter else UnitOfPower.WATT
    )
    unit = unit or state.attributes.get("unit_of_measurement") or target
    try:
        converted = float(converter.convert(value, unit, target))
    except Exception as err:  # HomeAssistantError for a unit the converter does not know
        raise ImplausibleValueError(f"{state.entity_id}: unit {unit!r} not usable") from err
    if converter is ElectricCurrentConverter and not -1 <= converted <= MAX_PLAUSIBLE_CURRENT_A:
        raise ImplausibleValueError(f"{state.entity_id}: {converted} A is not a charger's")
    return converted
