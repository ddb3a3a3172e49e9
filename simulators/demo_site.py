"""The demo's virtual site in real time: three chargers, a Shelly Pro 3EM, a house, solar.

A mixed site on one 25 A fuse: a Teltonika TeltoCharge (Modbus TCP), a V2C Trydan (its local
HTTP API) and a wallbox Powershare only reaches through the Home Assistant entities another
integration makes of it (`simulators.wallbox`, served to the demo's `demo_wallbox`
integration over HTTP). Everything is served on 127.0.0.1 with the real protocols: each
charger and the meter get a port of their own, as separate devices on a network would.
`LiveSite` keeps the meter at the main fuse equal to house load - solar + what every car
draws.

Time scale: the house and the sun follow a simulated day that runs `time_scale` times faster
than the wall clock (default 20: one real minute is twenty simulated minutes, a day lasts 72
real minutes). The simulated clock starts at `start_hour` (10:00 by default), so within the
first minute the heat pump cycles, the kettle boils and the oven comes on; solar rises to its
noon peak in about six real minutes. The chargers and cars run in real time (ramps of
seconds), as Powershare does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from simulators.live_site import ChargerDraw, LiveCharger, LiveSite
from simulators.meters.modbus import ModbusMeterEmulator
from simulators.meters.state import MeterState
from simulators.modbus_server import LOOPBACK, EmulatorServer, free_tcp_port
from simulators.site import ZERO, Currents, PhaseProfile, SumProfile, solar_day, switched
from simulators.teltocharge import AMPS_TO_USE, EmulatedCar, TeltoChargeEmulator
from simulators.v2c import TrydanEmulator, TrydanState
from simulators.wallbox import WallboxEmulator, WallboxState

if TYPE_CHECKING:
    from collections.abc import Callable

METER_MODEL: Final = "shelly_pro_3em_modbus"
METER_UNIT_ID: Final = 1
CHARGER_UNIT_ID: Final = 1
DAY_S: Final = 24 * 3600.0
DEFAULT_TIME_SCALE: Final = 20.0
DEFAULT_START_HOUR: Final = 10.0
SYNC_PERIOD_S: Final = 0.2


def _hours(hour: float, minute: float = 0.0) -> float:
    """Seconds since midnight of hh:mm (simulated time)."""
    return hour * 3600.0 + minute * 60.0


def _cycling(on_s: float, off_s: float, *, first: float = 0.0) -> list[tuple[float, float]]:
    """(start, end) periods of an appliance that runs `on_s`, rests `off_s`, all day long."""
    periods: list[tuple[float, float]] = []
    start = first
    while start < DAY_S:
        periods.append((start, min(start + on_s, DAY_S)))
        start += on_s + off_s
    return periods


def house_profile() -> SumProfile:
    """Return the non-EV load of the demo house over a simulated day, per site phase (A)."""
    kettle = 2000.0 / 230.0  # 2 kW on L1
    return SumProfile(
        (
            PhaseProfile.constant((1.5, 1.0, 1.2)),  # standby, fridge, lights
            # Heat pump: 2.4 kW three-phase, 15 minutes on, 15 off.
            switched((3.5, 3.5, 3.5), _cycling(_hours(0, 15), _hours(0, 15), first=_hours(0, 5))),
            switched(
                (kettle, 0.0, 0.0),
                [
                    (_hours(7), _hours(7, 5)),
                    (_hours(10, 3), _hours(10, 8)),
                    (_hours(13), _hours(13, 5)),
                    (_hours(16), _hours(16, 5)),
                    (_hours(19, 30), _hours(19, 35)),
                ],
            ),
            # Oven: 4 kW on L2 and L3.
            switched(
                (0.0, 8.7, 8.7),
                [(_hours(10, 12), _hours(10, 50)), (_hours(18), _hours(19))],
            ),
            # Washing machine heating on L3.
            switched((0.0, 0.0, 9.0), [(_hours(11), _hours(11, 25))]),
        )
    )


def solar_profile() -> PhaseProfile:
    """Return a 5.5 kW-peak three-phase solar installation's day, a cloud around noon."""
    return solar_day(
        8.0,
        _hours(6, 30),
        _hours(20, 30),
        clouds=[(_hours(12), _hours(12, 30), 0.3)],
    )


TELTOCHARGE: Final = "teltocharge"
V2C_TRYDAN: Final = "v2c"
HA_WALLBOX: Final = "ha_wallbox"
CHARGER_KINDS: Final = {
    TELTOCHARGE: "Teltonika TeltoCharge, Modbus TCP",
    V2C_TRYDAN: "V2C Trydan, HTTP",
    HA_WALLBOX: "wallbox through Home Assistant entities",
}
"""What each kind of demo charger is, as the dashboard says it."""


@dataclass(frozen=True, slots=True)
class DemoCharger:
    """One emulated charger of the demo and the car plugged into it."""

    name: str
    kind: str
    """TELTOCHARGE, V2C_TRYDAN or HA_WALLBOX."""
    wiring: int
    rotation: str
    """How the charger's L1, L2, L3 land on the site's phases (a PhaseRotation value)."""
    max_current: int
    car_phases: int
    car_max_current: float
    serial: int = 0
    """The TeltoCharge's serial number."""
    max_supported_power: int = 1
    """The TeltoCharge's register 37: 0 = 1-phase 32 A, 1 = 3-phase 16 A, 2 = 3-phase 32 A."""
    device_id: str = ""
    """The Trydan's `ID`, the wallbox's serial."""

    @property
    def site_phases(self) -> tuple[int, int, int]:
        """The site phase index (0-based) of the charger's L1, L2, L3."""
        first, second, third = (int(self.rotation[i * 2 + 1]) - 1 for i in range(3))
        return (first, second, third)

    @property
    def kind_label(self) -> str:
        """What the charger is ("V2C Trydan, HTTP")."""
        return CHARGER_KINDS[self.kind]


DEMO_CHARGERS: Final = (
    DemoCharger(
        name="Driveway",
        kind=TELTOCHARGE,
        serial=1_000_001,
        max_supported_power=1,
        wiring=3,
        rotation="L1L2L3",
        max_current=16,
        car_phases=3,
        car_max_current=16.0,
    ),
    # A single-phase Trydan wired to site L2 (its L1 on site L2), with a 32 A car.
    DemoCharger(
        name="Garage",
        kind=V2C_TRYDAN,
        device_id="DEMOTRYDAN1",
        wiring=1,
        rotation="L2L3L1",
        max_current=32,
        car_phases=1,
        car_max_current=32.0,
    ),
    # A three-phase wallbox Powershare drives through its Home Assistant entities.
    DemoCharger(
        name="Carport",
        kind=HA_WALLBOX,
        device_id="WB-CARPORT",
        wiring=3,
        rotation="L1L2L3",
        max_current=16,
        car_phases=3,
        car_max_current=16.0,
    ),
)

type ChargerEmulator = TeltoChargeEmulator | TrydanEmulator | WallboxEmulator


@dataclass(slots=True)
class RunningCharger:
    """A demo charger as it runs: its emulator and the port it answers on."""

    spec: DemoCharger
    emulator: ChargerEmulator
    server: EmulatorServer | None = None
    """The TeltoCharge's Modbus server (the HTTP emulators serve themselves)."""
    port: int = 0

    @property
    def draw(self) -> ChargerDraw:
        """What its car draws (the site meter counts it)."""
        emulator = self.emulator
        if isinstance(emulator, TrydanEmulator):
            return emulator.charger
        if isinstance(emulator, WallboxEmulator):
            return emulator.wallbox
        return emulator

    @property
    def setpoint_a(self) -> int:
        """The current Powershare last set: register 15, `Intensity`, or the wallbox's limit."""
        emulator = self.emulator
        if isinstance(emulator, TrydanEmulator):
            return emulator.charger.intensity_a
        if isinstance(emulator, WallboxEmulator):
            return emulator.wallbox.limit_a
        return emulator.settings[AMPS_TO_USE]

    @property
    def offered_a(self) -> int:
        """The setpoint, or 0 while Powershare has it paused (Trydan, wallbox)."""
        emulator = self.emulator
        if isinstance(emulator, TrydanEmulator) and emulator.charger.paused:
            return 0
        if isinstance(emulator, WallboxEmulator) and not emulator.wallbox.allowed:
            return 0
        return self.setpoint_a

    @property
    def currents_a(self) -> tuple[float, float, float]:
        """What its car draws now on the charger's L1, L2, L3."""
        return self.draw.currents_a

    def site_currents_a(self) -> list[float]:
        """Return what its car draws now on the site's L1, L2, L3."""
        site = [0.0, 0.0, 0.0]
        for charger_phase, current in enumerate(self.currents_a):
            site[self.spec.site_phases[charger_phase]] += current
        return site

    async def start(self) -> None:
        """Serve it on a free loopback port, the car plugged in."""
        spec = self.spec
        emulator = self.emulator
        if isinstance(emulator, TeltoChargeEmulator):
            emulator.plug_in(
                EmulatedCar(phases=spec.car_phases, max_current_a=spec.car_max_current)
            )
            self.server = EmulatorServer({CHARGER_UNIT_ID: emulator})
            self.port = await _serve(self.server)
            return
        if isinstance(emulator, TrydanEmulator):
            emulator.charger.plug_in()
        await emulator.start()
        self.port = emulator.port

    async def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            await self.server.stop()
        elif not isinstance(self.emulator, TeltoChargeEmulator):
            await self.emulator.stop()


def build_emulator(spec: DemoCharger, clock: Callable[[], float]) -> ChargerEmulator:
    """Return the emulator of `spec`, its car not plugged in yet."""
    if spec.kind == TELTOCHARGE:
        return TeltoChargeEmulator(
            serial=spec.serial, max_supported_power=spec.max_supported_power, clock=clock
        )
    if spec.kind == V2C_TRYDAN:
        return TrydanEmulator(
            TrydanState(
                clock=clock,
                device_id=spec.device_id,
                phases=spec.car_phases,
                max_intensity_a=spec.max_current,
                car_max_current_a=spec.car_max_current,
            )
        )
    if spec.kind == HA_WALLBOX:
        return WallboxEmulator(
            WallboxState(
                clock=clock,
                serial=spec.device_id,
                phases=spec.car_phases,
                car_max_current_a=spec.car_max_current,
            )
        )
    raise ValueError(f"unknown charger kind {spec.kind!r}")


@dataclass
class DemoSite:
    """The whole virtual site; `start()` serves it, `stop()` takes it away."""

    time_scale: float = DEFAULT_TIME_SCALE
    start_hour: float = DEFAULT_START_HOUR
    clock: Callable[[], float] = time.monotonic
    meter_state: MeterState = field(default_factory=MeterState)
    house: SumProfile = field(default_factory=house_profile)
    solar: PhaseProfile = field(default_factory=solar_profile)
    extra_load_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Load added on top of the house profile (a test's step, per site phase)."""
    meter_port: int = 0
    chargers: list[RunningCharger] = field(default_factory=list)
    _meter: ModbusMeterEmulator | None = None
    _meter_server: EmulatorServer | None = None
    _live: LiveSite | None = None
    _started_at: float = 0.0
    _last_step: float = 0.0
    _task: asyncio.Task[None] | None = None

    @property
    def host(self) -> str:
        """Where every emulated device answers."""
        return LOOPBACK

    def simulated_time(self) -> float:
        """Seconds since midnight of the simulated day."""
        elapsed = (self.clock() - self._started_at) * self.time_scale
        return (self.start_hour * 3600.0 + elapsed) % DAY_S

    def simulated_clock(self) -> str:
        """Return the simulated time of day as hh:mm."""
        minutes = int(self.simulated_time() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def house_a(self) -> Currents:
        """Return the non-EV load now, per site phase, including the extra load."""
        base = self.house.at(self.simulated_time())
        extra = self.extra_load_a
        return (base[0] + extra[0], base[1] + extra[1], base[2] + extra[2])

    def solar_a(self) -> Currents:
        """Solar production now, per site phase."""
        return self.solar.at(self.simulated_time())

    async def start(self) -> None:
        """Serve the meter and the chargers on free loopback ports; plug the cars in."""
        self._started_at = self._last_step = self.clock()
        self._meter = ModbusMeterEmulator.for_model(METER_MODEL, self.meter_state)
        self._meter_server = EmulatorServer({METER_UNIT_ID: self._meter})
        self.meter_port = await _serve(self._meter_server)
        live = LiveSite(meter=self.meter_state)
        for spec in DEMO_CHARGERS:
            running = RunningCharger(spec, build_emulator(spec, self.clock))
            self.chargers.append(running)
            await running.start()
            live.chargers.append(LiveCharger(running.draw, spec.site_phases))
        self._live = live
        # The meter measures what flows when it is read, like a real one.
        self._meter.on_read = self.step
        self.step()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def step(self) -> list[float]:
        """Bring the meter up to date: house and solar now, the chargers' draw, energy."""
        live = self._live
        if live is None:
            raise RuntimeError("the site is not started")
        now = self.clock()
        self.meter_state.advance(now - self._last_step)
        self._last_step = now
        live.house_a = list(self.house_a())
        live.solar_a = list(self.solar_a())
        return live.sync()

    def status_line(self) -> str:
        """Return one line on the site now: the meter and each charger, per site phase (A)."""
        meter = "/".join(f"{phase.current_a:.1f}" for phase in self.meter_state.phases)
        parts = [f"{self.simulated_clock()} main fuse {meter} A"]
        for charger in self.chargers:
            draw = "/".join(f"{amps:.1f}" for amps in charger.site_currents_a())
            parts.append(f"{charger.spec.name} set {charger.offered_a} A, draws {draw}")
        return " | ".join(parts)

    async def _run(self) -> None:
        while True:
            self.step()
            await asyncio.sleep(SYNC_PERIOD_S)

    async def stop(self) -> None:
        """Stop the loop and every server."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for charger in self.chargers:
            await charger.stop()
        if self._meter_server is not None:
            await self._meter_server.stop()
            self._meter_server = None


async def _serve(server: EmulatorServer, attempts: int = 5) -> int:
    """Start `server` on a free loopback port (another program may take a port first)."""
    for _ in range(attempts - 1):
        port = free_tcp_port()
        try:
            await server.start_tcp(port)
        except OSError:
            continue
        return port
    port = free_tcp_port()
    await server.start_tcp(port)
    return port


__all__ = [
    "CHARGER_KINDS",
    "DEMO_CHARGERS",
    "HA_WALLBOX",
    "TELTOCHARGE",
    "V2C_TRYDAN",
    "ZERO",
    "ChargerEmulator",
    "DemoCharger",
    "DemoSite",
    "RunningCharger",
    "build_emulator",
]
