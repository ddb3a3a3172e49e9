"""Typed errors of the device layer.

Every driver raises only subclasses of `PowershareDeviceError`, so a caller can catch that one
class and still tell the cases apart:

- `DeviceUnreachableError`: no connection (refused, port missing, connection dropped, or still
  waiting for the reconnect backoff to expire). Retry later; the transport paces the retries.
- `DeviceTimeoutError`: connected, but the device did not answer within the request timeout.
- `UnitNotAnsweringError`: the host (or gateway) answered, but not the unit asked for: a wrong
  unit id, or a device behind a gateway that is off (also a `DeviceUnreachableError`).
- `ModbusExceptionError`: the device answered with a Modbus exception; `code` says which.
- `ImplausibleValueError`: the device answered, but a value cannot be true (NaN, out of range,
  "not available" marker). Never turn such a value into a zero that looks like spare capacity.
- `UnsupportedDeviceError`: something answered, but it is not the device the driver expects.
- `InvalidCommandError`: a command was refused before it reached the wire (also a `ValueError`).
"""

from __future__ import annotations

from enum import IntEnum


class PowershareDeviceError(Exception):
    """Base class of every error raised by a Powershare device driver or transport."""


class DeviceUnreachableError(PowershareDeviceError):
    """The device (or its bus) cannot be reached: no connection, or it was lost."""


class DeviceTimeoutError(PowershareDeviceError):
    """The device did not answer a request within its timeout."""


class UnitNotAnsweringError(DeviceUnreachableError):
    """The connection stands (or stood), but the unit asked for gave no usable answer.

    A Modbus TCP server or gateway answers for unit ids it does not serve with a gateway
    exception (0x0A, 0x0B) or a reply the client cannot decode, after which the client drops
    the connection: that is a wrong unit id, not an unreachable host.
    """


class ModbusExceptionCode(IntEnum):
    """Modbus exception codes (Modbus application protocol v1.1b3, section 7)."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    SERVER_DEVICE_BUSY = 0x06
    NEGATIVE_ACKNOWLEDGE = 0x07
    MEMORY_PARITY_ERROR = 0x08
    GATEWAY_PATH_UNAVAILABLE = 0x0A
    GATEWAY_TARGET_FAILED_TO_RESPOND = 0x0B


class ModbusExceptionError(PowershareDeviceError):
    """The device answered a request with a Modbus exception response.

    `code` is the raw exception code (an `int`; compare with `ModbusExceptionCode`),
    `function` the function code of the request that was refused.
    """

    def __init__(self, code: int, *, function: int, unit_id: int, address: int) -> None:
        self.code = code
        self.function = function
        self.unit_id = unit_id
        self.address = address
        try:
            name = ModbusExceptionCode(code).name.lower().replace("_", " ")
        except ValueError:
            name = "unknown exception"
        super().__init__(
            f"unit {unit_id} answered function {function} at address {address} "
            f"with Modbus exception {code} ({name})"
        )

    @property
    def is_illegal_function(self) -> bool:
        """Whether the device does not support the function code that was used."""
        return self.code == ModbusExceptionCode.ILLEGAL_FUNCTION


class ImplausibleValueError(PowershareDeviceError):
    """A device answered with a value that cannot be a real measurement or setting."""


class UnsupportedDeviceError(PowershareDeviceError):
    """The device answered, but it is not the kind of device the driver was asked to talk to."""


class InvalidCommandError(PowershareDeviceError, ValueError):
    """A command was refused by validation before anything was sent to the device."""
