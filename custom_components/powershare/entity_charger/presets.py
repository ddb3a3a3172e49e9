"""Presets: how the entities of a charger made by another integration are found and driven.

Entities are found on the charger's device in the entity registry by their integration, their
kind and their `translation_key` (language-independent), or, for integrations without
translation keys, by the form of their unique id: never by entity id or name, which users
change. Each preset was read from the integration's public source; `checked` says which
version (the README lists them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Match:
    """How one entity is recognised: its kind, and a translation key or unique-id form."""

    kind: str
    """The entity's domain: number, sensor, binary_sensor, switch, select."""
    translation_key: str | None = None
    suffix: str | None = None
    """The unique id ends with this."""
    prefix: str | None = None
    """The unique id starts with this."""
    contains: str | None = None
    """The unique id contains this (ids built from a name the user chose, then a key)."""
    attribute: str | None = None
    """The value is this attribute of the entity's state, not the state itself."""
    unit: str | None = None
    """The attribute's unit, when it is not the entity's (KEBA: phases in A on a kW sensor)."""

    def matches(self, kind: str, translation_key: str | None, unique_id: str) -> bool:
        """Whether an entity of the device is this one."""
        if kind != self.kind:
            return False
        if self.translation_key is not None and translation_key != self.translation_key:
            return False
        if self.suffix is not None and not unique_id.endswith(self.suffix):
            return False
        if self.contains is not None and self.contains not in unique_id:
            return False
        return self.prefix is None or unique_id.startswith(self.prefix)


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A service that sets a value; `value_field` takes it, the device id goes in `device_field`."""

    service: str
    """"domain.service"."""
    value_field: str | None = None
    device_field: str | None = "device_id"
    fixed: tuple[tuple[str, object], ...] = ()
    """Fields always sent (e.g. Easee's `time_to_live` 0: the limit holds until changed)."""


@dataclass(frozen=True, slots=True)
class Status:
    """Which states of the status entity mean a car is connected, and charging."""

    connected: frozenset[str]
    charging: frozenset[str]
    attribute: str | None = None
    """The status is this attribute of the entity (KEBA), not its state."""


@dataclass(frozen=True, slots=True)
class Pause:
    """How the charger pauses and resumes: a switch, a select, or two services."""

    match: Match | None = None
    on_allows: bool = True
    """For a switch: on means charging is allowed."""
    pause_option: str | None = None
    resume_option: str | None = None
    pause_service: ServiceCall | None = None
    resume_service: ServiceCall | None = None


@dataclass(frozen=True, slots=True)
class PhaseSwitch:
    """How the charger switches between one and three phases (a switch, select or number)."""

    match: Match | None = None
    one_phase: str = "on"
    """The state (switch), option (select) or value (number) that means one phase."""
    three_phase: str = "off"
    service: ServiceCall | None = None


@dataclass(frozen=True, slots=True)
class Preset:
    """Everything Powershare needs to drive one integration's chargers."""

    key: str
    name: str
    domain: str
    checked: str
    """The version of the integration the preset was read from."""
    limit: Match | None
    """The number that sets the current limit (None: `limit_service` sets it)."""
    limit_service: ServiceCall | None = None
    limit_readback: Match | None = None
    currents: tuple[Match, ...] = ()
    power: Match | None = None
    status_entity: Match | None = None
    status: Status | None = None
    plug: Match | None = None
    pause: Pause | None = None
    phase_switch: PhaseSwitch | None = None
    zero_amps_pauses: bool = False
    """Whether a limit of 0 A stops a charge. A pause sets 0 A where it does and uses the pause
    control besides where there is one (OCPP: 0 A does not stop every charger)."""
    response_s: float = 5.0
    min_write_interval_s: float = 0.0
    notes: str = ""


OCPP = Preset(
    key="ocpp",
    name="OCPP (lbbrhzn/ocpp)",
    domain="ocpp",
    checked="0.11.0 (a37fed39)",
    limit=Match("number", suffix=".maximum_current"),
    currents=tuple(
        Match("sensor", suffix=".current_import.sensor", attribute=phase)
        for phase in ("L1", "L2", "L3")
    ),
    power=Match("sensor", suffix=".power_active_import.sensor"),
    status_entity=Match("sensor", suffix=".status_connector.sensor"),
    status=Status(
        connected=frozenset({"Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing"}),
        charging=frozenset({"Charging"}),
    ),
    pause=Pause(match=Match("switch", suffix=".charge_control"), on_allows=True),
    zero_amps_pauses=True,
    response_s=15.0,
    notes="0 A alone does not stop every charger: Powershare also turns Charge control off "
    "(which ends the transaction). Set the charger's meter interval to 10 s or less.",
)

EASEE = Preset(
    key="easee",
    name="Easee (nordicopen/easee_hass)",
    domain="easee",
    checked="0.9.74 (0a95d0dc)",
    limit=None,
    limit_service=ServiceCall(
        "easee.set_charger_dynamic_limit", "current", fixed=(("time_to_live", 0),)
    ),
    limit_readback=Match("sensor", translation_key="dynamic_charger_limit"),
    currents=tuple(
        Match("sensor", translation_key="current", attribute=f"state_inCurrentT{terminal}")
        for terminal in (3, 4, 5)
    ),
    power=Match("sensor", translation_key="power"),
    status_entity=Match("sensor", translation_key="easee_status"),
    status=Status(
        connected=frozenset(
            {
                "awaiting_start",
                "charging",
                "completed",
                "ready_to_charge",
                "awaiting_authorization",
                "de_authorizing",
                "start_charging",
                "stop_charging",
                "awaiting_load_balancing",
                "awaiting_smart_start",
                "awaiting_scheduled_start",
                "authenticating",
                "paused_due_to_equalizer",
            }
        ),
        charging=frozenset({"charging"}),
    ),
    pause=Pause(
        pause_service=ServiceCall("easee.action_command", fixed=(("action_command", "pause"),)),
        resume_service=ServiceCall("easee.action_command", fixed=(("action_command", "resume"),)),
    ),
    phase_switch=PhaseSwitch(
        service=ServiceCall("easee.set_charger_phase_mode", "phase_mode"),
        one_phase="1_phase",
        three_phase="3_phase",
    ),
    zero_amps_pauses=True,
    response_s=30.0,
    min_write_interval_s=30.0,
    notes="Cloud: increases wait 30 s. Enable the disabled-by-default Current sensor (its "
    "attributes carry the phases) and Dynamic charger limit sensor.",
)

ZAPTEC = Preset(
    key="zaptec",
    name="Zaptec (custom-components/zaptec)",
    domain="zaptec",
    checked="0.8.7 (b1a02b30)",
    limit=Match("number", translation_key="charger_max_current"),
    currents=tuple(Match("sensor", translation_key=f"current_phase{phase}") for phase in (1, 2, 3)),
    power=Match("sensor", translation_key="total_charge_power"),
    status_entity=Match("sensor", translation_key="charger_operation_mode"),
    status=Status(
        connected=frozenset({"connected_requesting", "connected_charging", "connected_finished"}),
        charging=frozenset({"connected_charging"}),
    ),
    zero_amps_pauses=True,
    response_s=60.0,
    min_write_interval_s=900.0,
    notes="Cloud, polled every 60 s while charging; Zaptec asks for at most one change of "
    "current every 15 minutes, so increases wait 15 minutes (decreases never wait).",
)

WALLBOX = Preset(
    key="wallbox",
    name="Wallbox (Home Assistant)",
    domain="wallbox",
    checked="Home Assistant 2025.4.4 (wallbox 0.8.0)",
    limit=Match("number", translation_key="maximum_charging_current"),
    power=Match("sensor", translation_key="charging_power"),
    status_entity=Match("sensor", translation_key="status_description"),
    status=Status(
        connected=frozenset(
            {
                "Charging",
                "Discharging",
                "Paused",
                "Scheduled",
                "Waiting for car demand",
                "Waiting",
                "Locked, car connected",
                "Waiting in queue by Power Sharing",
                "Waiting in queue by Power Boost",
                "Waiting MID failed",
                "Waiting MID safety margin exceeded",
                "Waiting in queue by Eco-Smart",
            }
        ),
        charging=frozenset({"Charging"}),
    ),
    pause=Pause(match=Match("switch", translation_key="pause_resume"), on_allows=True),
    response_s=35.0,
    min_write_interval_s=30.0,
    notes="Cloud, polled every 30 s; no per-phase currents (power only, over the wired "
    "phases). The limit's minimum is 6 A: pauses go through the pause switch.",
)

GO_E = Preset(
    key="goecharger_api2",
    name="go-e (marq24/ha-goecharger-api2)",
    domain="goecharger_api2",
    checked="2026.8.4 (b48a90c3)",
    limit=Match("number", translation_key="amp"),
    currents=tuple(Match("sensor", translation_key=f"nrg_{index}") for index in (4, 5, 6)),
    power=Match("sensor", translation_key="nrg_11"),
    status_entity=Match("sensor", translation_key="car"),
    status=Status(connected=frozenset({"2", "3", "4"}), charging=frozenset({"2"})),
    pause=Pause(match=Match("select", translation_key="frc"), pause_option="1", resume_option="0"),
    phase_switch=PhaseSwitch(
        match=Match("select", translation_key="psm"), one_phase="1", three_phase="2"
    ),
    notes="Enable the disabled-by-default car state sensor (car).",
)

PEBLAR = Preset(
    key="peblar",
    name="Peblar (Home Assistant)",
    domain="peblar",
    checked="Home Assistant 2025.4.4 (peblar 0.4.0)",
    limit=Match("number", translation_key="charge_current_limit"),
    currents=tuple(
        Match("sensor", translation_key=f"current_phase_{phase}") for phase in (1, 2, 3)
    ),
    power=Match("sensor", suffix="_power_total"),
    status_entity=Match("sensor", translation_key="cp_state"),
    status=Status(connected=frozenset({"suspended", "charging"}), charging=frozenset({"charging"})),
    pause=Pause(match=Match("switch", translation_key="charge"), on_allows=True),
    phase_switch=PhaseSwitch(
        match=Match("switch", translation_key="force_single_phase"),
        one_phase="on",
        three_phase="off",
    ),
    response_s=10.0,
    notes="Enable the disabled-by-default phase current sensors. With Charge off, the limit "
    "is only stored: Powershare sets it first, then turns Charge on, which applies it.",
)

ALFEN = Preset(
    key="alfen_wallbox",
    name="Alfen (leeyuentuen/alfen_wallbox)",
    domain="alfen_wallbox",
    checked="2.10.6 (bc969869)",
    limit=Match("number", suffix="_main_normal_max_current_socket_1"),
    currents=tuple(Match("sensor", suffix=f"-current_l{phase}_socket_1") for phase in (1, 2, 3)),
    power=Match("sensor", suffix="-active_power_total_socket_1"),
    status_entity=Match("sensor", suffix="-status_socket_1"),
    status=Status(
        connected=frozenset(
            {
                "Authorizing",
                "Authorized",
                "Cable connected",
                "EV Connected",
                "Preparing Charging",
                "Wait Vehicle Charging",
                "Charging Normal",
                "Charging Simplified",
                "Suspended Over-Current",
                "Suspended HF Switching",
                "Finish Wait Vehicle",
                "Finish Wait Disconnect",
                "Load Balancing Limited",
                "Load Balancing Forced Off",
                "Not Charging",
                "Solar Charging Wait",
                "Charging Non Charging",
                "Solar Charging",
                "Charge Point Ready, Waiting For Power",
                "Partial Solar Charging",
            }
        ),
        charging=frozenset(
            {"Charging Normal", "Charging Simplified", "Solar Charging", "Partial Solar Charging"}
        ),
    ),
    zero_amps_pauses=True,
    response_s=25.0,
    notes="Polled every 20 s. Turn the charger's own active load balancing off. Whether 0 A "
    "pauses is unconfirmed.",
)

OPENEVSE = Preset(
    key="openevse",
    name="OpenEVSE (firstof9/openevse)",
    domain="openevse",
    checked="3.4.0 (0694f3a1)",
    limit=Match("number", prefix="Charge Rate_"),
    currents=(Match("sensor", prefix="Charging Current_"),),
    power=Match("sensor", prefix="Current Power Usage (Calculated)_"),
    status_entity=Match("sensor", prefix="Charging Status_"),
    status=Status(connected=frozenset({"connected", "charging"}), charging=frozenset({"charging"})),
    plug=Match("binary_sensor", prefix="Vehicle Connected_"),
    pause=Pause(
        match=Match("select", contains=" Override State_"),
        pause_option="disabled",
        resume_option="auto",
    ),
    notes="Single phase: wire it as a 1-phase charger.",
)

KEBA = Preset(
    key="keba",
    name="KEBA KeContact (Home Assistant)",
    domain="keba",
    checked="Home Assistant 2025.4.4 (keba-kecontact 1.3.0)",
    limit=None,
    limit_service=ServiceCall("keba.set_current", "current", device_field=None),
    limit_readback=Match("sensor", suffix="_max_current"),
    currents=tuple(
        Match("sensor", suffix="_charging_power", attribute=f"current_i{phase}", unit="A")
        for phase in (1, 2, 3)
    ),
    power=Match("sensor", suffix="_charging_power"),
    plug=Match("binary_sensor", suffix="_plug_state"),
    pause=Pause(
        pause_service=ServiceCall("keba.disable", device_field=None),
        resume_service=ServiceCall("keba.enable", device_field=None),
    ),
    notes="KEBA is set up in YAML and has no device: pick its entities yourself (one "
    "station per Home Assistant).",
)

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (OCPP, EASEE, ZAPTEC, WALLBOX, GO_E, PEBLAR, ALFEN, OPENEVSE, KEBA)
}
"""By key (the integration's domain)."""

CUSTOM = Preset(
    key="custom",
    name="Any charger with a current number",
    domain="",
    checked="",
    limit=Match("number"),
    pause=Pause(match=Match("switch"), on_allows=True),
    phase_switch=PhaseSwitch(match=Match("switch"), one_phase="on", three_phase="off"),
    response_s=10.0,
    notes="Entities picked by hand: a number in A, current or power sensors; a switch that "
    "allows charging when on; a switch that forces one phase when on.",
)
