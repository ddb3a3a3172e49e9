"""Where a Modbus bus is and how it is timed: TCP and serial endpoints, and bus settings.

These are plain frozen values. The Home Assistant layer builds them from a config entry, and
`ModbusBusRegistry` compares them to tell whether two devices share one bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

_MIN_FRAME_GAP_S: Final = 0.00175
"""Modbus over serial line v1.02, 2.5.1.1: above 19200 baud use a fixed 1.75 ms gap."""
_BITS_PER_CHARACTER: Final = 11
"""Start bit, 8 data bits, parity or second stop bit, stop bit."""


@dataclass(frozen=True, slots=True)
class TcpEndpoint:
    """A Modbus TCP server (a device or an RS485 gateway)."""

    host: str
    port: int = 502

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialEndpoint:
    """A serial port carrying Modbus RTU (RS485)."""

    port: str
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __str__(self) -> str:
        return f"{self.port}@{self.baudrate}{self.parity}{self.bytesize}{self.stopbits}"

    @property
    def frame_gap(self) -> float:
        """Silent interval between two RTU frames: 3.5 character times, at least 1.75 ms."""
        return max(3.5 * _BITS_PER_CHARACTER / self.baudrate, _MIN_FRAME_GAP_S)


type Endpoint = TcpEndpoint | SerialEndpoint


@dataclass(frozen=True, slots=True)
class BusSettings:
    """Timing of one bus. The defaults suit a 1 s balancing cycle."""

    timeout: float = 1.0
    """Seconds a request may take before it fails with `DeviceTimeoutError`."""
    connect_timeout: float = 3.0
    """Seconds a connection attempt may take."""
    backoff_initial: float = 1.0
    """Seconds to wait after the first failed connection attempt."""
    backoff_max: float = 60.0
    """Cap of the exponential backoff between connection attempts."""
    frame_gap: float | None = None
    """Silence between serial frames; None = 3.5 character times at the port's baud rate."""
