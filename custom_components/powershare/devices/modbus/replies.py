"""Whether a reply answers its request: checked on every reply, whatever pymodbus checks.

pymodbus matches a reply to the one outstanding request, and before 3.10 it does not compare
the transaction id: a late reply to an earlier request (a device that answered after our
timeout, a gateway that mixes up its clients) would be taken for this one. So every reply is
compared with its request:

- its function code (an FC4 reply to an FC3 request reads the wrong table);
- on TCP, its transaction id (RTU frames carry none; the bus reopens a serial port after a
  timeout instead);
- an FC6 reply echoes the address and the value written; an FC16 reply the address and the
  number of registers.

A reply that does not match is a suspect link, not data: the bus drops the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WRITE_SINGLE: int = 6
WRITE_MULTIPLE: int = 16


@dataclass(frozen=True, slots=True)
class Request:
    """What a reply must answer."""

    function: int
    address: int
    echo: int | None = None
    """FC6: the value written; FC16: the number of registers written; None for reads."""


def mismatch(request: Request, reply: Any, transaction_id: int | None) -> str | None:
    """Return how `reply` fails to answer `request` (None: it answers it).

    `transaction_id` is the id the request went out with, None where frames carry none.
    """
    function = getattr(reply, "function_code", None)
    if function != request.function:
        return f"a function {function} reply to a function {request.function} request"
    if transaction_id is not None:
        answered = getattr(reply, "transaction_id", None)
        if answered != transaction_id:
            return f"the reply to transaction {answered} instead of {transaction_id}"
    if request.function in (WRITE_SINGLE, WRITE_MULTIPLE):
        address = getattr(reply, "address", None)
        if request.function == WRITE_SINGLE:
            echoed = (getattr(reply, "registers", None) or [None])[0]
        else:
            echoed = getattr(reply, "count", None)
        if (address, echoed) != (request.address, request.echo):
            return (
                f"an echo of {echoed} at {address} for {request.echo} written at {request.address}"
            )
    return None
