"""The whole demo: `Demo` sets everything up and tears it down, `run` runs it until stopped."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Self

import aiohttp
import yaml

from simulators.demo_site import DemoSite

from .config_dir import write_config_dir
from .dashboard import RegisteredEntity, build_dashboard, wait_for_entities
from .entries import DemoEntries, create_entries, set_demo_plan
from .hass import HassClient, HassProcess, port_is_free
from .options import (
    DASHBOARD_FILE,
    DASHBOARD_URL,
    EXTRA_LOAD_NUMBER,
    EXTRA_LOAD_PHASE,
    EXTRA_LOAD_POLL_S,
    HTTP_TIMEOUT_S,
    PLAN_ENERGY_KWH,
    STATUS_PERIOD_S,
    DemoError,
    DemoOptions,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime


class Demo:
    """The running demo; `async with Demo(options) as demo:` sets everything up."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.site = DemoSite(time_scale=options.time_scale)
        self.hass = HassProcess(options.hass, options.config_dir)
        self.client: HassClient | None = None
        self.entries: DemoEntries | None = None
        self.entities: list[RegisteredEntity] = []
        self.departure: datetime | None = None
        """The TeltoCharge's planned departure (`entries.set_demo_plan`)."""
        self._session: aiohttp.ClientSession | None = None

    @property
    def token(self) -> str | None:
        """The demo user's access token (valid 30 minutes)."""
        return None if self.client is None else self.client.token

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _start(self) -> None:
        options = self.options
        if not options.hass.exists():
            raise DemoError(f"{options.hass} not found: run scripts/setup")
        if not port_is_free(options.port):
            raise DemoError(f"port {options.port} is in use: choose another with --port")
        await self.site.start()
        write_config_dir(options.config_dir, options.port)
        await self.hass.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))
        client = self.client = HassClient(self._session, options.url)
        await client.wait_ready(self.hass)
        await client.onboard("Demo", options.username, options.password)
        self.entries = await create_entries(client, self.site)
        self.entities = await wait_for_entities(client, self.entries)
        self.departure = await set_demo_plan(client, self.entries, self.site)
        dashboard = build_dashboard(self.entities, self.entries, self.site)
        (options.config_dir / DASHBOARD_FILE).write_text(yaml.safe_dump(dashboard, sort_keys=False))

    async def stop(self) -> None:
        """Stop Home Assistant first (it stops talking to the devices), then the site."""
        await self.hass.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.site.stop()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _report(demo: Demo) -> None:
    """Print the site's state every `STATUS_PERIOD_S`: the meter and what each charger draws."""
    _say(
        f"Every {STATUS_PERIOD_S:g} s: simulated time, the main fuse's meter L1/L2/L3, and per "
        "charger the current Powershare set and what its car draws on L1/L2/L3 (A)."
    )
    while True:
        _say(demo.site.status_line())
        await asyncio.sleep(STATUS_PERIOD_S)


async def follow_extra_load(demo: Demo) -> None:
    """Put the load the user sets in Home Assistant (the demo's two helpers) into the house.

    Polled every `EXTRA_LOAD_POLL_S`; applied when it changes, so that a test's own step of
    `DemoSite.extra_load_a` stands until the helpers move.
    """
    client = demo.client
    assert client is not None  # noqa: S101  # started
    applied: tuple[float, str] | None = None
    wanted: tuple[float, str] | None
    while True:
        try:
            amps = await client.request("GET", f"/api/states/input_number.{EXTRA_LOAD_NUMBER}")
            phase = await client.request("GET", f"/api/states/input_select.{EXTRA_LOAD_PHASE}")
            wanted = (float(amps["state"]), str(phase["state"]))
        except (DemoError, aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
            wanted = applied  # Home Assistant busy or stopping: keep what is there
        if wanted is not None and wanted != applied:
            load, line = wanted
            demo.site.extra_load_a = [load if f"L{i + 1}" == line else 0.0 for i in range(3)]
            applied = wanted
        await asyncio.sleep(EXTRA_LOAD_POLL_S)


def _announce(demo: Demo) -> None:
    """Say where the demo is, who logs in, and what the TeltoCharge's plan is."""
    options = demo.options
    _say(
        f"\nPowershare demo ready: {options.url}/{DASHBOARD_URL}/demo\n"
        f"  user: {options.username}   password: {options.password}\n"
        f"  simulated day runs x{options.time_scale:g}; Home Assistant log: "
        f"{options.config_dir / 'home-assistant.log'}"
    )
    if demo.departure is not None:
        _say(
            f"  charging plan: the TeltoCharge's car leaves at {demo.departure:%a %H:%M} with "
            f"{PLAN_ENERGY_KWH:g} kWh to add, charged in the cheapest hours before"
        )
    _say("  Ctrl-C stops everything.")


async def run(options: DemoOptions, ready: Callable[[Demo], Awaitable[None]] | None = None) -> None:
    """Run the demo until SIGINT/SIGTERM or `options.duration_s` after it is ready.

    `ready` (tests) is awaited once everything is set up, before the duration starts.
    """
    stop = asyncio.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal() -> None:
        stop.set()
        if not started.is_set() and task is not None:
            task.cancel()  # still setting up: abandon it (Demo cleans up what it started)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        _say(f"Starting the emulators and Home Assistant in {options.config_dir} ...")
        async with Demo(options) as demo:
            started.set()
            _announce(demo)
            # The user's extra load is followed from the start (a test's `ready` steps it).
            extra_load = loop.create_task(follow_extra_load(demo))
            try:
                if ready is not None:
                    await ready(demo)
            except BaseException:
                extra_load.cancel()
                raise
            stopped = loop.create_task(stop.wait())
            hass_exited = loop.create_task(demo.hass.wait())
            status = loop.create_task(_report(demo))
            await asyncio.wait(
                (stopped, hass_exited),
                timeout=options.duration_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopped.cancel()
            hass_exited.cancel()
            status.cancel()
            extra_load.cancel()
            if demo.hass.returncode is not None:
                raise DemoError(
                    f"Home Assistant exited ({demo.hass.returncode}):\n{demo.hass.log_tail()}"
                )
            _say("Stopping Home Assistant and the emulators ...")
    except asyncio.CancelledError:
        if task is None or not stop.is_set() or started.is_set():
            raise
        task.uncancel()
        _say("Stopped before the demo was ready.")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
