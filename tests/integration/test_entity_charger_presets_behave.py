"""Each preset's way of reading and commanding its charger, through Home Assistant's states
and services: the states as the integration writes them, the services recording what they are
called with (and changing the states as the integration would)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError

from custom_components.powershare.devices.charger import ChargeCommand
from custom_components.powershare.devices.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    ImplausibleValueError,
)
from custom_components.powershare.entity_charger import (
    CUSTOM,
    PRESETS,
    ChargerEntities,
    EntityCharger,
    EntityChargerIdentity,
)
from custom_components.powershare.entity_charger import control as control_module
from custom_components.powershare.entity_charger.presets import Match, PhaseSwitch

IDENTITY = EntityChargerIdentity("dev1", "Maker", "Model", None)


class Services:
    """Service handlers that record their calls; `effects` change states as an integration."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def register(self, name: str, effect: Any = None) -> None:
        domain, service = name.split(".")

        async def handle(call: ServiceCall) -> None:
            self.calls.append((name, dict(call.data)))
            if effect is not None:
                effect(call)

        self.hass.services.async_register(domain, service, handle)

    def entity_setter(self, value_field: str, to_state: Any = None) -> Any:
        """An effect that writes the entity's new state (number, select)."""

        def effect(call: ServiceCall) -> None:
            entity_id = call.data["entity_id"]
            old = self.hass.states.get(entity_id)
            value = call.data[value_field]
            self.hass.states.async_set(
                entity_id,
                str(to_state(value) if to_state else value),
                old.attributes if old else {},
            )

        return effect

    def switch_effect(self, state: str) -> Any:
        def effect(call: ServiceCall) -> None:
            self.hass.states.async_set(call.data["entity_id"], state)

        return effect


def _charger(
    hass: HomeAssistant, preset: Any, entities: ChargerEntities, wired: int = 3
) -> EntityCharger:
    return EntityCharger(
        hass, preset, entities, device_id="dev1", identity=IDENTITY, wired_phases=wired
    )


async def test_ocpp_phases_in_attributes_and_a_pause_through_both_controls(
    hass: HomeAssistant,
) -> None:
    services = Services(hass)
    services.register("number.set_value", services.entity_setter("value", float))
    services.register("switch.turn_off", services.switch_effect("off"))
    services.register("switch.turn_on", services.switch_effect("on"))
    hass.states.async_set("number.cp1_maximum_current", "16", {"max": 32})
    hass.states.async_set(
        "sensor.cp1_current_import",
        "15.9",
        {"L1": 15.8, "L2": 16.0, "L3": 15.9, "unit_of_measurement": "A"},
    )
    hass.states.async_set("sensor.cp1_power", "11.0", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.cp1_status_connector", "Charging")
    hass.states.async_set("switch.cp1_charge_control", "on")
    entities = ChargerEntities(
        limit="number.cp1_maximum_current",
        currents=("sensor.cp1_current_import",) * 3,
        power="sensor.cp1_power",
        status="sensor.cp1_status_connector",
        pause="switch.cp1_charge_control",
    )
    charger = _charger(hass, PRESETS["ocpp"], entities)
    reading = await charger.read()
    assert reading.currents_a == (15.8, 16.0, 15.9)
    assert reading.power_w == 11000.0
    assert (reading.ev_connected, reading.charging, reading.allowed) == (True, True, True)
    assert reading.amp_limit_a == 32
    # A pause: 0 A and Charge control off (0 A alone does not stop every OCPP charger).
    assert await charger.command(ChargeCommand(amps=0, failsafe_a=6), now=0.0) == 2
    assert [name for name, _ in services.calls] == ["switch.turn_off", "number.set_value"]
    assert services.calls[1][1]["value"] == 0
    hass.states.async_set("sensor.cp1_status_connector", "SuspendedEVSE")
    await charger.read()
    assert await charger.command(ChargeCommand(amps=10, failsafe_a=6), now=1.0) == 2
    # The limit first: a resumed charger starts at the new current, not its old one.
    assert services.calls[-2:] == [
        ("number.set_value", {"entity_id": "number.cp1_maximum_current", "value": 10}),
        ("switch.turn_on", {"entity_id": "switch.cp1_charge_control"}),
    ]
    # Read back, nothing goes out again.
    await charger.read()
    assert await charger.command(ChargeCommand(amps=10, failsafe_a=6), now=2.0) == 0


async def test_easee_is_driven_through_its_services(hass: HomeAssistant) -> None:
    services = Services(hass)
    for name in (
        "easee.set_charger_dynamic_limit",
        "easee.action_command",
        "easee.set_charger_phase_mode",
    ):
        services.register(name)
    attributes = {
        "state_inCurrentT3": 10.0,
        "state_inCurrentT4": 0.2,
        "state_inCurrentT5": 0.1,
        "unit_of_measurement": "A",
    }
    hass.states.async_set("sensor.easee_current", "10", attributes)
    hass.states.async_set("sensor.easee_status", "charging")
    entities = ChargerEntities(currents=("sensor.easee_current",) * 3, status="sensor.easee_status")
    charger = _charger(hass, PRESETS["easee"], entities)
    reading = await charger.read()
    assert reading.currents_a == (10.0, 0.2, 0.1)
    assert charger.capabilities.min_write_interval_s == 30.0
    assert charger.capabilities.phase_switching
    await charger.command(ChargeCommand(amps=13, phases=(0,), failsafe_a=6), now=0.0)
    assert services.calls == [
        ("easee.set_charger_phase_mode", {"phase_mode": "1_phase", "device_id": "dev1"}),
        (
            "easee.set_charger_dynamic_limit",
            {"time_to_live": 0, "current": 13, "device_id": "dev1"},
        ),
        # Nothing reads its pause back: resumed once, then what was sent is believed.
        ("easee.action_command", {"action_command": "resume", "device_id": "dev1"}),
    ]
    services.calls.clear()
    await charger.command(ChargeCommand(amps=0, failsafe_a=6), now=1.0)  # a cut: at once
    assert services.calls == [
        ("easee.action_command", {"action_command": "pause", "device_id": "dev1"}),
        (
            "easee.set_charger_dynamic_limit",
            {"time_to_live": 0, "current": 0, "device_id": "dev1"},
        ),
    ]


async def test_go_e_pauses_and_switches_phases_through_selects(hass: HomeAssistant) -> None:
    services = Services(hass)
    services.register("number.set_value", services.entity_setter("value", float))
    services.register("select.select_option", services.entity_setter("option"))
    hass.states.async_set("number.goe_amp", "16")
    for index, amps in zip((4, 5, 6), (16.0, 16.0, 16.0), strict=True):
        hass.states.async_set(f"sensor.goe_nrg_{index}", str(amps), {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.goe_car", "2")
    hass.states.async_set("select.goe_frc", "0")
    hass.states.async_set("select.goe_psm", "2")
    entities = ChargerEntities(
        limit="number.goe_amp",
        currents=tuple(f"sensor.goe_nrg_{index}" for index in (4, 5, 6)),
        status="sensor.goe_car",
        pause="select.goe_frc",
        phase="select.goe_psm",
    )
    charger = _charger(hass, PRESETS["goecharger_api2"], entities)
    reading = await charger.read()
    assert (reading.charging, reading.allowed, reading.one_phase) == (True, True, False)
    await charger.command(ChargeCommand(amps=0, failsafe_a=6), now=0.0)
    assert services.calls == [
        ("select.select_option", {"entity_id": "select.goe_frc", "option": "1"})
    ]  # its minimum is 6 A: the limit is left, the select pauses
    await charger.read()
    await charger.command(ChargeCommand(amps=8, phases=(1,), failsafe_a=6), now=1.0)
    assert services.calls[1:] == [
        ("select.select_option", {"entity_id": "select.goe_psm", "option": "1"}),
        ("number.set_value", {"entity_id": "number.goe_amp", "value": 8}),
        ("select.select_option", {"entity_id": "select.goe_frc", "option": "0"}),
    ]


async def test_keba_without_a_device_strings_and_a_plug(hass: HomeAssistant) -> None:
    services = Services(hass)
    for name in ("keba.set_current", "keba.disable", "keba.enable"):
        services.register(name)
    hass.states.async_set(
        "sensor.keba_charging_power",
        "3.7",
        {
            "current_i1": "16.1",
            "current_i2": "0.0",
            "current_i3": "0.0",
            "unit_of_measurement": "kW",
        },
    )
    hass.states.async_set("binary_sensor.keba_plug", "on")
    entities = ChargerEntities(
        currents=("sensor.keba_charging_power",) * 3,
        power="sensor.keba_charging_power",
        plug="binary_sensor.keba_plug",
    )
    charger = EntityCharger(
        hass, PRESETS["keba"], entities, device_id=None, identity=IDENTITY, wired_phases=1
    )
    reading = await charger.read()
    # The attributes are strings in A on a sensor in kW: the phases are read as amps.
    assert reading.currents_a == (16.1, 0.0, 0.0)
    assert (reading.ev_connected, reading.charging) == (True, True)
    await charger.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0)
    assert services.calls == [("keba.set_current", {"current": 10}), ("keba.enable", {})]


async def test_power_over_the_wired_phases_when_there_are_no_currents(hass: HomeAssistant) -> None:
    hass.states.async_set("number.wallbox_max", "32")
    hass.states.async_set("sensor.wallbox_power", "7.36", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.wallbox_status", "Charging")
    entities = ChargerEntities(
        limit="number.wallbox_max", power="sensor.wallbox_power", status="sensor.wallbox_status"
    )
    reading = await _charger(hass, PRESETS["wallbox"], entities, wired=1).read()
    assert reading.currents_a == pytest.approx((32.0, 0.0, 0.0))
    assert reading.charging
    # Wired on three phases, 7.36 kW is 10.7 A on each, or 32 A on L1 alone: only what no
    # phase can be below counts (so a meter's house load is never underestimated), and the car
    # counts on all three phases.
    reading = await _charger(hass, PRESETS["wallbox"], entities, wired=3).read()
    assert reading.currents_a == pytest.approx((32.0 / 3, 0.0, 0.0))
    assert reading.car_phases == frozenset({0, 1, 2})
    hass.states.async_set("sensor.wallbox_power", "7360", {"unit_of_measurement": "kW"})
    with pytest.raises(ImplausibleValueError):  # a wrong unit: thousands of amps
        await _charger(hass, PRESETS["wallbox"], entities, wired=3).read()


@pytest.mark.parametrize(
    ("state", "attributes", "error"),
    [
        ("unavailable", {"unit_of_measurement": "A"}, DeviceUnreachableError),
        ("nan", {"unit_of_measurement": "A"}, ImplausibleValueError),
        ("garbage", {"unit_of_measurement": "A"}, ImplausibleValueError),
        ("230", {"unit_of_measurement": "V"}, ImplausibleValueError),
        ("400", {"unit_of_measurement": "A"}, ImplausibleValueError),
    ],
)
async def test_bad_readings_are_refused(
    hass: HomeAssistant, state: str, attributes: dict[str, Any], error: type[Exception]
) -> None:
    hass.states.async_set("number.limit", "16")
    hass.states.async_set("sensor.current", state, attributes)
    entities = ChargerEntities(limit="number.limit", currents=("sensor.current",))
    with pytest.raises(error):
        await _charger(hass, CUSTOM, entities, wired=1).read()


async def test_an_echo_of_its_own_write_is_no_overwrite(hass: HomeAssistant) -> None:
    services = Services(hass)
    services.register("number.set_value")  # a cloud service: the entity shows it on a poll
    hass.states.async_set("number.limit", "16")
    hass.states.async_set("sensor.current", "16", {"unit_of_measurement": "A"})
    entities = ChargerEntities(limit="number.limit", currents=("sensor.current",))
    charger = _charger(hass, CUSTOM, entities, wired=1)
    await charger.read()
    await charger.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0)
    await charger.command(ChargeCommand(amps=8, failsafe_a=6), now=1.0)
    hass.states.async_set("number.limit", "10")  # the poll shows the first write, late
    await charger.read()
    assert not charger.overwrites
    hass.states.async_set("number.limit", "25")  # something else set it
    await charger.read()
    assert len(charger.overwrites) == 1


async def test_a_failing_or_hanging_service_is_a_device_error(hass: HomeAssistant) -> None:
    hass.states.async_set("number.limit", "16")
    hass.states.async_set("sensor.current", "16", {"unit_of_measurement": "A"})
    entities = ChargerEntities(limit="number.limit", currents=("sensor.current",))
    charger = _charger(hass, CUSTOM, entities, wired=1)
    await charger.read()

    async def refuse(_call: ServiceCall) -> None:
        raise HomeAssistantError("429 Too Many Requests")

    hass.services.async_register("number", "set_value", refuse)
    with pytest.raises(DeviceUnreachableError):
        await charger.command(ChargeCommand(amps=10, failsafe_a=6), now=0.0)

    async def invalid(_call: ServiceCall) -> None:
        raise vol.Invalid("expected int for dictionary value @ data['value']")

    hass.services.async_register("number", "set_value", invalid)
    with pytest.raises(DeviceUnreachableError):
        await charger.command(ChargeCommand(amps=11, failsafe_a=6), now=0.0)

    async def hang(_call: ServiceCall) -> None:
        await asyncio.sleep(5)

    hass.services.async_register("number", "set_value", hang)
    with (
        patch.object(control_module, "CALL_TIMEOUT_S", 0.05),
        pytest.raises(DeviceTimeoutError),
    ):
        await charger.command(ChargeCommand(amps=9, failsafe_a=6), now=1.0)


async def test_what_a_charger_cannot_do_is_not_sent(hass: HomeAssistant) -> None:
    services = Services(hass)
    services.register("number.set_value", services.entity_setter("value", float))
    hass.states.async_set("number.limit", "16")
    hass.states.async_set("sensor.current", "16", {"unit_of_measurement": "A"})
    entities = ChargerEntities(limit="number.limit", currents=("sensor.current",))
    # A preset whose 0 A does not pause and without a pause control: held at its minimum.
    plain = dataclasses.replace(CUSTOM, pause=None, phase_switch=None, zero_amps_pauses=False)
    charger = _charger(hass, plain, entities, wired=1)
    assert await charger.command(ChargeCommand(amps=0, failsafe_a=6), now=0.0) == 0  # unread
    await charger.read()
    assert charger.clock() == pytest.approx(charger.latest.measured_at, abs=60.0)
    assert await charger.command(ChargeCommand(amps=0, phases=(0,), failsafe_a=6), now=0.0) == 1
    assert services.calls[-1][1]["value"] == 6
    # Yielded (something else keeps setting the limit): no current goes out, a pause would.
    charger.yielded_until = float("inf")
    assert charger.overwritten
    await charger.read()
    assert await charger.command(ChargeCommand(amps=12, failsafe_a=6), now=1.0) == 0
    # Released: the yield ends, the failsafe current is written.
    await charger.release(failsafe_a=8)
    assert services.calls[-1][1]["value"] == 8
    assert not charger.overwritten


async def test_a_release_before_any_reading_writes_nothing(hass: HomeAssistant) -> None:
    entities = ChargerEntities(limit="number.limit", currents=("sensor.current",))
    charger = _charger(hass, CUSTOM, entities, wired=1)
    await charger.release(failsafe_a=0)  # nothing read yet: nothing known to write


async def test_phase_switch_entities_of_each_kind(hass: HomeAssistant) -> None:
    services = Services(hass)
    for name in ("number.set_value", "switch.turn_on", "switch.turn_off"):
        services.register(name)
    hass.states.async_set("number.limit", "16")
    hass.states.async_set("sensor.current", "16", {"unit_of_measurement": "A"})
    for kind, one, three, expected in (
        ("number", "32", "0", ("number.set_value", {"entity_id": "number.phases", "value": 32.0})),
        ("switch", "on", "off", ("switch.turn_on", {"entity_id": "switch.phases"})),
    ):
        hass.states.async_set(f"{kind}.phases", three)
        entities = ChargerEntities(
            limit="number.limit", currents=("sensor.current",), phase=f"{kind}.phases"
        )
        preset = dataclasses.replace(
            CUSTOM,
            pause=None,
            phase_switch=PhaseSwitch(match=Match(kind), one_phase=one, three_phase=three),
        )
        charger = _charger(hass, preset, entities, wired=3)
        reading = await charger.read()
        assert reading.one_phase is False
        services.calls.clear()
        await charger.command(ChargeCommand(amps=16, phases=(0,), failsafe_a=6), now=0.0)
        assert services.calls == [expected]
        # Already on three phases when asked for three: nothing to switch.
        services.calls.clear()
        hass.states.async_set(f"{kind}.phases", three)
        await charger.read()
        charger.sent_phases = None
        await charger.command(ChargeCommand(amps=16, phases=(0, 1, 2), failsafe_a=6), now=1.0)
        assert services.calls == []
