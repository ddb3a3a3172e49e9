"""Benchmark: Modbus requests per cycle, and RTU bus time of one cycle for 1 meter + N chargers.

Run: .venv/bin/python benchmarks/modbus_bus.py [--cycles 20] [--chargers 1,2,4,8,16]

Two kinds of figures, kept apart on purpose:
- computed: the time the frames take on a real RS485 line at 9600 baud 8N1 (10 bits per
  character), plus the 3.5-character silence the transport keeps between frames. It leaves out
  the devices' own turnaround (not documented for the TeltoCharge), given as a separate column
  with an assumed value;
- measured: wall time of the same cycle over a socat pseudo-terminal pair against the
  emulators. A pty does not throttle to the baud rate, so this measures the software (pymodbus,
  asyncio, the emulators, the transport's frame gap), not the wire.

A cycle = one FC4 block read of the meter (76 registers, Eastron 0x00-0x4B: voltages,
currents, powers, total power, import and export energy) + one FC3 block read of registers
0-44 per charger; "with writes" adds one FC6 write (amps to use) per charger.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import time
from pathlib import Path

import pymodbus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.powershare.devices.modbus import (
    BusSettings,
    ModbusBus,
    RegisterType,
    SerialEndpoint,
    TcpEndpoint,
)
from custom_components.powershare.devices.teltocharge import (
    BLOCK_LENGTH,
    TeltoCharge,
)
from simulators.modbus_server import (
    EmulatorServer,
    RegisterUnit,
    free_tcp_port,
    open_pty_pair,
    socat_available,
)
from simulators.teltocharge import EmulatedCar, TeltoChargeEmulator

BAUDRATE = 9600
BITS_PER_CHARACTER = 10  # 8N1: start, 8 data, stop
METER_UNIT = 1
METER_REGISTERS = 0x4C
ASSUMED_TURNAROUND_S = 0.020
"""Assumed device answer latency per request, shown separately (not measured on hardware)."""
RTU_READ_REQUEST_BYTES = 8  # unit, function, address (2), count (2), CRC (2)
RTU_WRITE_SINGLE_BYTES = 8  # request and echo: unit, function, address (2), value (2), CRC (2)


def read_response_bytes(registers: int) -> int:
    """RTU answer to FC3/FC4: unit, function, byte count, 2 bytes per register, CRC (2)."""
    return 5 + 2 * registers


def frame_time(size_bytes: int) -> float:
    """Seconds a frame of `size_bytes` takes on the line."""
    return size_bytes * BITS_PER_CHARACTER / BAUDRATE


def computed_cycle(chargers: int, *, writes: bool) -> tuple[float, int]:
    """Return (seconds on the wire incl. frame gaps, requests) of one cycle."""
    gap = SerialEndpoint("/dev/null", baudrate=BAUDRATE).frame_gap
    frames = [
        frame_time(RTU_READ_REQUEST_BYTES),
        frame_time(read_response_bytes(METER_REGISTERS)),
    ]
    for _ in range(chargers):
        frames += [
            frame_time(RTU_READ_REQUEST_BYTES),
            frame_time(read_response_bytes(BLOCK_LENGTH)),
        ]
        if writes:
            frames += [frame_time(RTU_WRITE_SINGLE_BYTES)] * 2
    return sum(frames) + gap * len(frames), len(frames) // 2


def chargers_that_fit(budget_s: float, *, writes: bool, turnaround_s: float = 0.0) -> int:
    """Count the chargers whose computed cycle (with `turnaround_s` per request) fits `budget_s`."""
    count = 0
    while True:
        seconds, requests = computed_cycle(count + 1, writes=writes)
        if seconds + requests * turnaround_s > budget_s:
            return count
        count += 1


def meter_unit() -> RegisterUnit:
    """Return a meter-like unit with an FC4 map (values do not matter for timing)."""
    return RegisterUnit(input_registers=dict.fromkeys(range(METER_REGISTERS), 0))


async def measure_rtu(chargers: int, cycles: int, *, writes: bool) -> float:
    """Mean wall time of one cycle on a pty pair (seconds)."""
    emulators = {10 + i: TeltoChargeEmulator(serial=10 + i) for i in range(chargers)}
    for emulator in emulators.values():
        emulator.plug_in(EmulatedCar(ramp_s=0))
    server = EmulatorServer({METER_UNIT: meter_unit(), **emulators})
    async with open_pty_pair() as pty:
        await server.start_rtu(pty.server_port, baudrate=BAUDRATE)
        bus = ModbusBus(SerialEndpoint(pty.client_port, baudrate=BAUDRATE), BusSettings())
        drivers = [TeltoCharge(bus, unit_id) for unit_id in emulators]
        try:
            await one_cycle(bus, drivers, writes=writes, amps=6)  # warm-up: connect
            started = time.perf_counter()
            for cycle in range(cycles):
                await one_cycle(bus, drivers, writes=writes, amps=6 + cycle % 10)
            return (time.perf_counter() - started) / cycles
        finally:
            await bus.close()
            await server.stop()


async def one_cycle(bus: ModbusBus, drivers: list[TeltoCharge], *, writes: bool, amps: int) -> None:
    """Run what a balancing cycle asks of the bus."""
    await bus.read_registers(METER_UNIT, 0, METER_REGISTERS, function=RegisterType.INPUT)
    for driver in drivers:
        await driver.read()
    if writes:
        for driver in drivers:
            await driver.set_amps(amps)


async def requests_per_cycle(cycles: int, *, fc4_only: bool) -> float:
    """Measure requests per read cycle of one TeltoCharge on loopback TCP, once identified."""
    emulator = TeltoChargeEmulator()
    if fc4_only:
        emulator.serve_fc4_only()
    server = EmulatorServer({1: emulator})
    port = free_tcp_port()
    await server.start_tcp(port)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", port))
    driver = TeltoCharge(bus, 1)
    try:
        await driver.identify()
        before = bus.requests_sent.get(1, 0)
        for _ in range(cycles):
            await driver.read()
        return (bus.requests_sent[1] - before) / cycles
    finally:
        await bus.close()
        await server.stop()


def cpu_name() -> str:
    """Return the CPU model from /proc/cpuinfo, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


async def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--chargers", default="1,2,4,8")
    args = parser.parse_args()
    counts = [int(part) for part in args.chargers.split(",")]
    # pymodbus logs every refused FC3 of the FC4-only run with a traceback; not news here.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    print(f"machine: {cpu_name()} ({os.cpu_count()} cores), Python {platform.python_version()}, ")
    print(f"pymodbus {pymodbus.__version__}, {platform.system()} {platform.release()}")
    print()
    print("requests per cycle per TeltoCharge (goal 1), loopback TCP")
    print(f"  FC3 device:      {await requests_per_cycle(args.cycles, fc4_only=False):.2f}")
    print(f"  FC4-only device: {await requests_per_cycle(args.cycles, fc4_only=True):.2f}")
    print()
    gap_ms = SerialEndpoint("/dev/null", baudrate=BAUDRATE).frame_gap * 1000
    print(
        f"RTU {BAUDRATE} baud 8N1: 1 meter ({METER_REGISTERS} registers, FC4) + N TeltoCharge "
        f"({BLOCK_LENGTH} registers, FC3); gap {gap_ms:.2f} ms between frames"
    )
    print(
        "computed = frames + gaps on the wire; +turnaround adds an assumed "
        f"{ASSUMED_TURNAROUND_S * 1000:.0f} ms per request;"
    )
    print("measured = wall time over a pty, which does NOT throttle to the baud rate")
    header = (
        f"{'N':>3} {'writes':>6} {'requests':>8} {'computed ms':>11} "
        f"{'+turnaround ms':>14} {'measured pty ms':>15}"
    )
    print(header)
    print("-" * len(header))
    for writes in (False, True):
        for count in counts:
            seconds, requests = computed_cycle(count, writes=writes)
            with_turnaround = seconds + requests * ASSUMED_TURNAROUND_S
            if socat_available():
                measured = f"{await measure_rtu(count, args.cycles, writes=writes) * 1000:15.1f}"
            else:
                measured = f"{'no socat':>15}"
            print(
                f"{count:>3} {'yes' if writes else 'no':>6} {requests:>8} {seconds * 1000:11.1f} "
                f"{with_turnaround * 1000:14.1f} {measured}"
            )
    print()
    for writes in (False, True):
        label = "reads + one write each" if writes else "reads only"
        print(
            f"chargers that fit a 1 s cycle ({label}): "
            f"{chargers_that_fit(1.0, writes=writes)} computed, "
            f"{chargers_that_fit(1.0, writes=writes, turnaround_s=ASSUMED_TURNAROUND_S)} "
            f"with {ASSUMED_TURNAROUND_S * 1000:.0f} ms turnaround"
        )


if __name__ == "__main__":
    asyncio.run(main())
