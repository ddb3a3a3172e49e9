"""Two connected pseudo-terminals made by socat: a serial line for Modbus RTU on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@dataclass(frozen=True, slots=True)
class PtyPair:
    """Two connected pseudo-terminals: what is written to one is read from the other."""

    server_port: str
    client_port: str


_PTY_LINE: Final = re.compile(rb"PTY is (\S+)")


def socat_available() -> bool:
    """Whether `socat` (Debian package socat) is installed."""
    return shutil.which("socat") is not None


@contextlib.asynccontextmanager
async def open_pty_pair() -> AsyncIterator[PtyPair]:
    """Create a pty pair with `socat -d -d pty,raw,echo=0 pty,raw,echo=0`; remove it on exit.

    The pty does not throttle to any baud rate: frames pass at memory speed.
    """
    socat = shutil.which("socat")
    if socat is None:
        raise RuntimeError("socat is not installed (Debian package socat)")
    process = await asyncio.create_subprocess_exec(
        socat,
        "-d",
        "-d",
        "pty,raw,echo=0",
        "pty,raw,echo=0",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        ports: list[str] = []
        assert process.stderr is not None  # noqa: S101  # set by stderr=PIPE
        async with asyncio.timeout(5):
            while len(ports) < 2:  # a pair
                line = await process.stderr.readline()
                if not line:
                    raise RuntimeError("socat exited before creating the pty pair")
                if match := _PTY_LINE.search(line):
                    ports.append(match.group(1).decode())
        # Keep draining socat's log so it never blocks on a full pipe.
        drain = asyncio.create_task(_drain(process.stderr))
        try:
            yield PtyPair(server_port=ports[0], client_port=ports[1])
        finally:
            drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass
