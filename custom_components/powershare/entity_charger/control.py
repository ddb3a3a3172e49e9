"""`EntityCharger`: a charger driven through another integration's entities (the interface).

It writes the limit (a number, or the integration's service), pauses and resumes through the
preset's pause control (and 0 A where that pauses), and switches phases where the preset can.
Only what differs from what the entities show, or from what Powershare wrote since they last
changed, is written.

Traps it handles:
- Such a charger has no watchdog Powershare controls: if Home Assistant stops, it keeps its
  last limit. Its capabilities say so; on release it is set to its failsafe current.
- Something else may set the limit (the charger's own load balancer, a tariff app). A limit
  that changes to a value Powershare did not write lately is an overwrite: it is set back, but
  after `OVERWRITES_TO_YIELD` overwrites within `OVERWRITE_WINDOW_S` Powershare stops setting
  the charger's current for `OVERWRITE_WINDOW_S` and reports it (`overwritten`), instead of
  fighting in a loop (neither through the limit nor by resuming it); only a pause still goes
  out. Meanwhile the charger counts at its maximum, as load nobody controls.
- A rate-limited service gets only cuts (a lower current, a pause, fewer phases) before its
  interval; the limit is written before a resume, so a paused charger never restarts at its
  old limit.
- A service that hangs must not hold the cycle: each call has `CALL_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.const import SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.exceptions import HomeAssistantError

from custom_components.powershare.devices.charger import ChargerCapabilities
from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
)

from .reading import ChargerEntities, EntityChargerReading, read_entities

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from custom_components.powershare.devices.charger import ChargeCommand

    from .presets import Preset, ServiceCall

CALL_TIMEOUT_S = 10.0
OVERWRITES_TO_YIELD = 3
OVERWRITE_WINDOW_S = 600.0
ECHO_S = 10.0
"""Beyond the charger's response time, how long a value Powershare wrote may still show up
(an integration's next poll) without counting as an overwrite."""


@dataclass(frozen=True, slots=True)
class EntityChargerIdentity:
    """Who the charger is, from its device in Home Assistant."""

    unique_id: str
    manufacturer: str
    model_name: str
    firmware_version: str | None


class EntityCharger:
    """One charger of another integration, driven through its entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        preset: Preset,
        entities: ChargerEntities,
        *,
        device_id: str | None,
        identity: EntityChargerIdentity,
        wired_phases: int,
        min_current_a: int = 6,
        max_current_a: int = 32,
    ) -> None:
        self.hass = hass
        self.preset = preset
        self.entities = entities
        self.device_id = device_id
        self.identity = identity
        self.wired_phases = wired_phases
        self._capabilities = ChargerCapabilities(
            watchdog=False,
            phase_switching=preset.phase_switch is not None
            and (entities.phase is not None or preset.phase_switch.service is not None),
            pause=preset.zero_amps_pauses
            or entities.pause is not None
            or _paused_by_service(preset),
            min_current_a=min_current_a,
            max_current_a=max_current_a,
            response_s=preset.response_s,
            min_write_interval_s=preset.min_write_interval_s,
        )
        self.latest: EntityChargerReading | None = None
        self.sent_limit: int | None = None
        self.sent_at = float("-inf")
        self.sent_phases: int | None = None
        self.sent_allowed: bool | None = None
        self.sent_allowed_at = float("-inf")
        self.last_write_at = float("-inf")
        self.overwrites: deque[float] = deque(maxlen=OVERWRITES_TO_YIELD)
        self.written: deque[tuple[float, int]] = deque(maxlen=8)
        """(when, amps) of the limits Powershare wrote lately."""
        self.yielded_until = float("-inf")

    @property
    def capabilities(self) -> ChargerCapabilities:
        """No watchdog; the preset's pause, phases and timing."""
        return self._capabilities

    @property
    def overwritten(self) -> bool:
        """Whether Powershare stopped setting the limit back (something else keeps changing it)."""
        return time.time() < self.yielded_until

    def clock(self) -> float:
        """Return the time on the clock of the entities' states."""
        return time.time()

    async def identify(self) -> EntityChargerIdentity:
        """Return the device's identity (the config flow checked the entities)."""
        return self.identity

    async def read(self) -> EntityChargerReading:
        """Read the entities' states."""
        self.latest = read_entities(self.hass, self.preset, self.entities, self.wired_phases)
        self._notice_overwrite(self.latest)
        return self.latest

    def _notice_overwrite(self, reading: EntityChargerReading) -> None:
        """Count a limit changed to another value after Powershare wrote it.

        Not a value Powershare itself wrote in the charger's response time: a late echo of an
        earlier write, or a cloud entity that shows the old value until its next poll.
        """
        if self.sent_limit is None or reading.limit_a is None or reading.limit_changed_at is None:
            return
        if reading.limit_changed_at <= self.sent_at or round(reading.limit_a) == self.sent_limit:
            return
        now = time.time()
        recent = now - self.preset.response_s - ECHO_S
        if any(when >= recent and amps == round(reading.limit_a) for when, amps in self.written):
            return
        self.overwrites.append(now)
        self.sent_limit = None  # set back once (if it is not yielded)
        if (
            len(self.overwrites) == OVERWRITES_TO_YIELD
            and now - self.overwrites[0] < OVERWRITE_WINDOW_S
        ):
            self.yielded_until = now + OVERWRITE_WINDOW_S
            self.overwrites.clear()

    async def command(self, command: ChargeCommand, now: float) -> int:  # noqa: ARG002
        """Pause, resume, switch phases and set the limit where they differ; return the writes."""
        reading = self.latest
        if reading is None:
            return 0
        amps = self._capabilities.settable(command.amps)
        if self.overwritten and amps > 0:
            return 0  # yielded: counted at its maximum, not fought over; a pause still goes out
        held = self.sent_limit if self.sent_limit is not None else reading.limit_a
        fewer_phases = command.phases is not None and len(command.phases) == 1
        cut = amps == 0 or (held is not None and amps < held) or fewer_phases
        if not cut and time.time() - self.last_write_at < self._capabilities.min_write_interval_s:
            return 0  # a rate-limited service: only a cut goes out before its interval
        writes = 0
        if amps == 0:
            writes += await self._pause(reading)
            writes += await self._limit(reading, amps)
        else:
            # The limit before the resume: a paused charger must not start at its old limit.
            writes += await self._phases(reading, command.phases)
            writes += await self._limit(reading, amps)
            writes += await self._resume(reading)
        if writes:
            self.last_write_at = time.time()
        return writes

    async def release(self, failsafe_a: int) -> None:
        """Leave the charger at its failsafe current: it has no watchdog to fall back on."""
        if self.latest is None:
            return
        amps = self._capabilities.settable(failsafe_a)
        self.sent_limit = None
        self.yielded_until = float("-inf")
        if amps == 0:
            await self._pause(self.latest)
        await self._limit(self.latest, amps)

    # -- the writes -----------------------------------------------------------------------

    async def _limit(self, reading: EntityChargerReading, amps: int) -> int:
        preset = self.preset
        if amps == 0 and not preset.zero_amps_pauses:
            if self.entities.pause is not None or _paused_by_service(preset):
                return 0  # the pause control stops it; the limit keeps its last value
            amps = self._capabilities.min_current_a  # nothing stops it: as little as it takes
        if self.overwritten and amps > 0:
            return 0
        held = self.sent_limit if self.sent_at > (reading.limit_changed_at or 0.0) else None
        if held is None and reading.limit_a is not None:
            held = round(reading.limit_a)
        if held == amps:
            self.sent_limit = amps
            return 0
        # Known before the call: the integration may report the new value during it, and that
        # is Powershare's own write, not an overwrite (`_service` forgets it if the call fails).
        self.sent_at, self.sent_limit = time.time(), amps
        self.written.append((self.sent_at, amps))
        if preset.limit_service is not None:
            await self._call(preset.limit_service, amps)
        elif self.entities.limit is not None:
            await self._service(
                "number", "set_value", {"entity_id": self.entities.limit, "value": amps}
            )
        return 1

    async def _pause(self, reading: EntityChargerReading) -> int:
        return await self._allow(reading, allow=False)

    async def _resume(self, reading: EntityChargerReading) -> int:
        return await self._allow(reading, allow=True)

    async def _allow(self, reading: EntityChargerReading, *, allow: bool) -> int:
        """Pause or resume through the preset's control, unless it already is."""
        pause = self.preset.pause
        if pause is None:
            return 0
        # What was written within the charger's response time holds over what the entity
        # shows (a cloud service updates its entity late); then the entity is the authority.
        recent = time.time() - self.sent_allowed_at < self.preset.response_s
        believed = self.sent_allowed if recent or reading.allowed is None else reading.allowed
        if believed is allow:
            return 0
        service = pause.resume_service if allow else pause.pause_service
        if service is not None:
            await self._call(service, None)
        elif self.entities.pause is not None and reading.allowed is not None:
            option = pause.resume_option if allow else pause.pause_option
            await self._set_control(on_allows=pause.on_allows, option=option, allow=allow)
        else:
            return 0
        self.sent_allowed = allow
        self.sent_allowed_at = time.time()
        return 1

    async def _set_control(self, *, on_allows: bool, option: str | None, allow: bool) -> None:
        entity_id = self.entities.pause
        if option is not None:
            await self._service(
                "select", "select_option", {"entity_id": entity_id, "option": option}
            )
            return
        service = SERVICE_TURN_ON if allow == on_allows else SERVICE_TURN_OFF
        await self._service("switch", service, {"entity_id": entity_id})

    async def _phases(self, reading: EntityChargerReading, phases: tuple[int, ...] | None) -> int:
        switch = self.preset.phase_switch
        if switch is None or phases is None or len(phases) not in (1, 3):
            return 0
        one = len(phases) == 1
        if reading.one_phase is not None and reading.one_phase == one:
            return 0
        if reading.one_phase is None and self.sent_phases == len(phases):
            return 0
        value = switch.one_phase if one else switch.three_phase
        if switch.service is not None:
            await self._call(switch.service, value)
        elif self.entities.phase is not None:
            await self._set_phase_entity(value)
        else:
            return 0
        self.sent_phases = len(phases)
        return 1

    async def _set_phase_entity(self, value: str) -> None:
        entity_id = self.entities.phase
        kind = (entity_id or "").split(".", 1)[0]
        if kind == "select":
            await self._service(
                "select", "select_option", {"entity_id": entity_id, "option": value}
            )
        elif kind == "number":
            await self._service(
                "number", "set_value", {"entity_id": entity_id, "value": float(value)}
            )
        else:
            service = SERVICE_TURN_ON if value == "on" else SERVICE_TURN_OFF
            await self._service("switch", service, {"entity_id": entity_id})

    async def _call(self, call: ServiceCall, value: object) -> None:
        domain, service = call.service.split(".", 1)
        data: dict[str, Any] = dict(call.fixed)
        if call.value_field is not None:
            data[call.value_field] = value
        if call.device_field is not None and self.device_id is not None:
            data[call.device_field] = self.device_id
        await self._service(domain, service, data)

    async def _service(self, domain: str, service: str, data: dict[str, Any]) -> None:
        """Call a service; a failure or a hang becomes a device error the cycle handles."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                await self.hass.services.async_call(domain, service, data, blocking=True)
        except TimeoutError as err:
            self.sent_limit = None
            raise DeviceTimeoutError(
                f"{domain}.{service} did not answer in {CALL_TIMEOUT_S} s"
            ) from err
        except (HomeAssistantError, vol.Invalid, ValueError) as err:
            # A refused call (429, an entity gone, data its schema refuses): the device's error,
            # which the cycle handles for this charger alone.
            self.sent_limit = None
            raise DeviceUnreachableError(f"{domain}.{service} failed: {err}") from err


def _paused_by_service(preset: Preset) -> bool:
    return preset.pause is not None and preset.pause.pause_service is not None
