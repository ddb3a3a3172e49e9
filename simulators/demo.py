"""Powershare's main job on one machine: a real Home Assistant balancing emulated chargers.

`python -m simulators.demo` (what `scripts/demo` runs), all on 127.0.0.1:

1. starts the virtual site (`simulators.demo_site`: two TeltoCharges, a Shelly Pro 3EM at the
   main fuse, a house with steps, a solar curve in compressed time, cars plugged in);
2. writes a fresh configuration directory (a minimal `configuration.yaml`, Powershare linked
   into `custom_components/`, a YAML dashboard) and starts `hass -c <dir>`;
3. onboards a demo user over HTTP, as the browser would (user, core config, analytics,
   integration steps), and takes a token;
4. creates the meter, the root group and both chargers through Powershare's real config flow
   over REST (`/api/config/config_entries/flow`);
5. generates the dashboard from the entity registry (by config entry and translation key, so
   it stays right when entity names change);
6. runs until Ctrl-C, SIGTERM or `--duration`, then stops Home Assistant and the emulators.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import aiohttp
import yaml
from homeassistant.const import REQUIRED_PYTHON_VER

from simulators.demo_site import (
    CHARGER_UNIT_ID,
    DEFAULT_TIME_SCALE,
    METER_MODEL,
    METER_UNIT_ID,
    DemoSite,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from simulators.demo_site import RunningCharger

DOMAIN: Final = "powershare"
LOOPBACK: Final = "127.0.0.1"
REPO_ROOT: Final = Path(__file__).resolve().parent.parent
INTEGRATION_DIR: Final = REPO_ROOT / "custom_components" / DOMAIN
DEFAULT_CONFIG_DIR: Final = REPO_ROOT / ".demo" / "config"
DEFAULT_PORT: Final = 8123
DEMO_USER: Final = "demo"
DEMO_PASSWORD: Final = "demo-powershare"  # noqa: S105  # the printed demo credentials
DASHBOARD_URL: Final = "powershare-demo"
DASHBOARD_FILE: Final = "powershare-dashboard.yaml"
MARKER_FILE: Final = ".powershare-demo"
"""Marks a configuration directory as the demo's own: only such a directory is wiped."""
GROUP_NAME: Final = "Main fuse"
FUSE_A: Final = 25.0
STARTUP_TIMEOUT_S: Final = 180.0
ENTITY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
HTTP_TIMEOUT_S: Final = 30.0
PHASES: Final = ("l1", "l2", "l3")
GROUP_FIGURES: Final = ("meter", "available", "requested", "allocated")
CHARGER_SENSORS: Final = ("status", "allocated_current", "balancing_reason", "power")


class DemoError(Exception):
    """The demo could not be set up (Home Assistant refused a step, or did not start)."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `scripts/demo` was asked for."""

    port: int = DEFAULT_PORT
    config_dir: Path = DEFAULT_CONFIG_DIR
    duration_s: float | None = None
    """Stop by itself after this many seconds of running (None: until Ctrl-C)."""
    time_scale: float = DEFAULT_TIME_SCALE
    username: str = DEMO_USER
    password: str = DEMO_PASSWORD
    hass: Path = field(default_factory=lambda: Path(sys.executable).parent / "hass")

    @property
    def url(self) -> str:
        """Where Home Assistant answers."""
        return f"http://{LOOPBACK}:{self.port}"


# -- the configuration directory --------------------------------------------------------------


def configuration_yaml(port: int) -> str:
    """Return a minimal configuration: no default_config (it pulls in network, Bluetooth)."""
    config: dict[str, Any] = {
        "homeassistant": {
            "name": "Powershare demo",
            "latitude": 52.37,
            "longitude": 4.89,
            "elevation": 0,
            "unit_system": "metric",
            "time_zone": "Europe/Amsterdam",
            "currency": "EUR",
            "country": "NL",
        },
        "http": {"server_host": LOOPBACK, "server_port": port},
        "frontend": {},
        "api": {},
        "config": {},
        "history": {},
        "recorder": {"purge_keep_days": 1},
        "lovelace": {
            "dashboards": {
                DASHBOARD_URL: {
                    "mode": "yaml",
                    "title": "Powershare",
                    "icon": "mdi:ev-station",
                    "show_in_sidebar": True,
                    "filename": DASHBOARD_FILE,
                }
            }
        },
        "logger": {
            "default": "warning",
            "logs": {f"custom_components.{DOMAIN}": "info"},
        },
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_config_dir(config_dir: Path, port: int) -> None:
    """Create a fresh configuration directory (wiping only an earlier demo's)."""
    if config_dir.exists():
        if not (config_dir / MARKER_FILE).exists() and any(config_dir.iterdir()):
            raise DemoError(
                f"{config_dir} is not empty and not a Powershare demo directory: "
                "choose another --config-dir"
            )
        shutil.rmtree(config_dir)
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / MARKER_FILE).write_text("Created by scripts/demo; wiped by its next run.\n")
    (config_dir / "configuration.yaml").write_text(configuration_yaml(port))
    (config_dir / "custom_components" / DOMAIN).symlink_to(INTEGRATION_DIR)
    placeholder = {
        "title": "Powershare",
        "views": [
            {
                "title": "Setting up",
                "cards": [{"type": "markdown", "content": "The demo is still setting up."}],
            }
        ],
    }
    (config_dir / DASHBOARD_FILE).write_text(yaml.safe_dump(placeholder, sort_keys=False))


def port_is_free(port: int) -> bool:
    """Whether Home Assistant could listen on 127.0.0.1:`port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


# -- Home Assistant as a process ------------------------------------------------------------

_UNCHECKED_MAIN: Final = (
    "import sys; import homeassistant.__main__ as ha; "
    "ha.validate_python = lambda: None; sys.argv[0] = 'hass'; sys.exit(ha.main())"
)


class HassProcess:
    """`hass -c <dir>` in its own session, so Ctrl-C reaches the demo, which stops it."""

    def __init__(self, executable: Path, config_dir: Path) -> None:
        self.executable = executable
        self.config_dir = config_dir
        self.log_path = config_dir / "hass.out"
        self._process: asyncio.subprocess.Process | None = None

    @property
    def returncode(self) -> int | None:
        """The exit code once it has stopped."""
        return None if self._process is None else self._process.returncode

    def command(self) -> list[str]:
        """Return the command that starts Home Assistant.

        The `hass` executable, except where this Python is older than the one Home Assistant
        asks for (the newest environment, installed with --ignore-requires-python, as its
        tests run it): there its interpreter runs Home Assistant's own `main()` without the
        version check.
        """
        if sys.version_info[:3] >= REQUIRED_PYTHON_VER:
            return [str(self.executable)]
        return [str(self.executable.parent / "python"), "-c", _UNCHECKED_MAIN]

    async def start(self) -> None:
        """Start Home Assistant; its console output goes to `hass.out`."""
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.command(),
                "-c",
                str(self.config_dir),
                "--skip-pip",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait(self) -> int | None:
        """Wait until Home Assistant exits (by itself or stopped); return its exit code."""
        if self._process is None:
            return None
        return await self._process.wait()

    async def stop(self) -> int | None:
        """Ask Home Assistant to stop (SIGTERM); kill it if it takes too long."""
        process = self._process
        if process is None or process.returncode is not None:
            return self.returncode
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
        return process.returncode

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of Home Assistant's console output (for error messages)."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


# -- Home Assistant over HTTP ---------------------------------------------------------------


class HassClient:
    """The few REST and websocket calls the demo needs, as the frontend makes them."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.token: str | None = None

    @property
    def _headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    async def wait_ready(self, process: HassProcess, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        """Wait until the HTTP server answers (onboarding status needs no login)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise DemoError(
                    f"Home Assistant exited ({process.returncode}):\n{process.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self.session.get(f"{self.url}/api/onboarding") as response:
                    if response.status == 200:  # HTTP OK
                        return
            await asyncio.sleep(0.5)
        raise DemoError(f"Home Assistant did not answer within {timeout_s:.0f} s")

    async def request(self, method: str, path: str, payload: Any = None) -> Any:
        """Send a JSON request with the token; return the JSON answer."""
        async with self.session.request(
            method, f"{self.url}{path}", json=payload, headers=self._headers
        ) as response:
            body = await response.text()
            if response.status >= 400:  # HTTP client and server errors
                raise DemoError(f"{method} {path} -> {response.status}: {body}")
            return await response.json(content_type=None) if body else None

    async def onboard(self, name: str, username: str, password: str) -> str:
        """Create the owner and finish onboarding, as the browser would; return a token."""
        answer = await self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
        )
        self.token = await self._token(answer["auth_code"])
        await self.request("POST", "/api/onboarding/core_config")
        await self.request("POST", "/api/onboarding/analytics")
        await self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.url}/?auth_callback=1"},
        )
        return self.token

    async def _token(self, code: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.url}/auth/token", data=form) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:  # HTTP OK
                raise DemoError(f"POST /auth/token -> {response.status}: {answer}")
        token: str = answer["access_token"]
        return token

    async def run_flow(self, handler: str, answers: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """Walk a config flow to its entry: `answers` maps each step id to what is submitted.

        A menu step's answer is `{"next_step_id": ...}`. A form shown again with errors, an
        abort or a step without an answer stops the demo with the reason.
        """
        result = await self.request("POST", "/api/config/config_entries/flow", {"handler": handler})
        seen: set[str] = set()
        while result["type"] in ("form", "menu"):
            step = result["step_id"]
            if result.get("errors"):
                raise DemoError(f"flow step {step!r} refused the answer: {result['errors']}")
            if step in seen or step not in answers:
                raise DemoError(f"flow step {step!r} not expected here: {result}")
            seen.add(step)
            result = await self.request(
                "POST", f"/api/config/config_entries/flow/{result['flow_id']}", answers[step]
            )
        if result["type"] != "create_entry":
            raise DemoError(f"the flow ended without an entry: {result}")
        entry: dict[str, Any] = result["result"]
        return entry

    async def ws_command(self, command: str, **fields: Any) -> Any:
        """Send one websocket command (a fresh connection) and return its result."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as connection:
            await connection.receive_json()  # auth_required
            await connection.send_json({"type": "auth", "access_token": self.token})
            answer = await connection.receive_json()
            if answer.get("type") != "auth_ok":
                raise DemoError(f"websocket authentication failed: {answer}")
            await connection.send_json({"id": 1, "type": command, **fields})
            answer = await connection.receive_json()
            if not answer.get("success"):
                raise DemoError(f"websocket {command} failed: {answer}")
            return answer["result"]

    async def states(self) -> dict[str, dict[str, Any]]:
        """Every state, by entity id."""
        return {state["entity_id"]: state for state in await self.request("GET", "/api/states")}


# -- the entries, through the real config flow -------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoEntries:
    """The config entries the demo created (entry ids)."""

    meter: str
    group: str
    chargers: tuple[str, ...]


async def create_entries(client: HassClient, site: DemoSite) -> DemoEntries:
    """Add the meter, the root group and the chargers with Powershare's config flow."""
    meter = await client.run_flow(
        DOMAIN,
        {
            "user": {"next_step_id": "meter"},
            "meter": {"model": METER_MODEL},
            "tcp": {"host": site.host, "port": site.meter_port, "unit_id": METER_UNIT_ID},
        },
    )
    group = await client.run_flow(
        DOMAIN,
        {
            "user": {"next_step_id": "group"},
            "group": {
                "name": GROUP_NAME,
                "fuse": FUSE_A,
                "meter": meter["entry_id"],
                "meter_includes_chargers": True,
            },
            "group_site": {"solar_reserve_w": 0, "import_allowance_w": 0},
        },
    )
    chargers = [
        await client.run_flow(DOMAIN, _charger_answers(site.host, charger, group["entry_id"]))
        for charger in site.chargers
    ]
    return DemoEntries(
        meter=meter["entry_id"],
        group=group["entry_id"],
        chargers=tuple(charger["entry_id"] for charger in chargers),
    )


def _charger_answers(host: str, charger: RunningCharger, group: str) -> dict[str, dict[str, Any]]:
    spec = charger.spec
    return {
        "user": {"next_step_id": "charger"},
        "charger": {"next_step_id": "tcp"},
        "tcp": {"host": host, "port": charger.port, "unit_id": CHARGER_UNIT_ID},
        "charger_settings": {
            "rotation": spec.rotation,
            "wiring": str(spec.wiring),
            "min_current": 6,
            "max_current": spec.max_current,
            "group": group,
        },
    }


async def remove_onboarding_extras(client: HassClient) -> list[str]:
    """Remove the entries onboarding adds (weather, radio, TTS): offline they only fail.

    Returns the domains removed. They are created in the background when the core config step
    finishes; by the time the demo's own entries exist they are there.
    """
    removed: list[str] = []
    for entry in await client.request("GET", "/api/config/config_entries/entry"):
        if entry["source"] == "onboarding":
            await client.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
            removed.append(entry["domain"])
    return removed


# -- the dashboard, from the entity registry --------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisteredEntity:
    """What the dashboard needs of an entity registry entry."""

    entity_id: str
    config_entry_id: str
    translation_key: str | None

    @property
    def domain(self) -> str:
        """The entity's platform domain (sensor, select, ...)."""
        return self.entity_id.split(".", 1)[0]


def registered_entities(registry: Sequence[Mapping[str, Any]]) -> list[RegisteredEntity]:
    """Powershare's enabled entities from `config/entity_registry/list`."""
    return [
        RegisteredEntity(item["entity_id"], item["config_entry_id"], item.get("translation_key"))
        for item in registry
        if item.get("platform") == DOMAIN and not item.get("disabled_by")
    ]


def _find(entities: Sequence[RegisteredEntity], entry: str, key: str) -> str | None:
    return next(
        (e.entity_id for e in entities if e.config_entry_id == entry and e.translation_key == key),
        None,
    )


def _rows(
    entities: Sequence[RegisteredEntity], entry: str, keys: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for key, name in keys:
        entity_id = _find(entities, entry, key)
        if entity_id is not None:
            rows.append({"entity": entity_id, "name": name})
    return rows


def build_dashboard(
    entities: Sequence[RegisteredEntity], entries: DemoEntries, site: DemoSite
) -> dict[str, Any]:
    """Return the demo's dashboard: the main fuse per phase, the meter, each charger."""
    cards: list[dict[str, Any]] = []
    for index, phase in enumerate(PHASES, start=1):
        rows = _rows(
            entities,
            entries.group,
            [(f"{figure}_{phase}", figure.capitalize()) for figure in GROUP_FIGURES],
        )
        cards.append({"type": "entities", "title": f"{GROUP_NAME} L{index}", "entities": rows})
    history = [
        row
        for phase_index, phase in enumerate(PHASES, start=1)
        for row in _rows(
            entities,
            entries.group,
            [
                (f"meter_{phase}", f"Meter L{phase_index}"),
                (f"allocated_{phase}", f"Allocated L{phase_index}"),
            ],
        )
    ]
    cards.append(
        {"type": "history-graph", "title": "Main fuse", "hours_to_show": 0.5, "entities": history}
    )
    for running, entry in zip(site.chargers, entries.chargers, strict=True):
        rows = _rows(entities, entry, [(key, _label(key)) for key in CHARGER_SENSORS])
        rows += [
            {"entity": e.entity_id, "name": _label(e.translation_key or e.entity_id)}
            for e in entities
            if e.config_entry_id == entry and e.domain == "select"
        ]
        spec = running.spec
        title = f"{spec.name} ({spec.wiring}-phase, {spec.max_current} A)"
        cards.append({"type": "entities", "title": title, "entities": rows})
    meter_rows = _rows(
        entities,
        entries.meter,
        [("power", "Power"), *((f"current_{p}", f"Current L{i}") for i, p in enumerate(PHASES, 1))],
    )
    cards.append(
        {"type": "entities", "title": "Shelly Pro 3EM (main fuse)", "entities": meter_rows}
    )
    cards.append({"type": "markdown", "content": _about(site)})
    return {
        "title": "Powershare",
        "views": [{"title": "Powershare demo", "path": "demo", "cards": cards}],
    }


def _label(key: str) -> str:
    """Return a row name made of a translation key ("charging_mode": "Charging mode")."""
    return key.replace("_", " ").capitalize()


def _about(site: DemoSite) -> str:
    return (
        "**Powershare demo**: two emulated Teltonika TeltoCharges and a Shelly Pro 3EM at a "
        f"{FUSE_A:.0f} A main fuse, over Modbus TCP on 127.0.0.1. Driveway: a three-phase car "
        "of 16 A. Garage: a single-phase 32 A car on a charger wired to L2. The house (heat "
        "pump, kettle, oven, washing machine) and the sun follow a simulated day that runs "
        f"{site.time_scale:g} times faster than real time, from {site.start_hour:g}:00."
    )


async def wait_for_entities(client: HassClient, entries: DemoEntries) -> list[RegisteredEntity]:
    """Wait until every entry has registered its entities (groups' allocated sensors last)."""
    deadline = time.monotonic() + ENTITY_TIMEOUT_S
    while True:
        entities = registered_entities(await client.ws_command("config/entity_registry/list"))
        have = {entity.config_entry_id for entity in entities}
        if {entries.meter, entries.group, *entries.chargers} <= have:
            return entities
        if time.monotonic() > deadline:
            raise DemoError("Powershare's entities did not appear")
        await asyncio.sleep(0.5)


# -- the whole demo --------------------------------------------------------------------------


class Demo:
    """The running demo; `async with Demo(options) as demo:` sets everything up."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.site = DemoSite(time_scale=options.time_scale)
        self.hass = HassProcess(options.hass, options.config_dir)
        self.client: HassClient | None = None
        self.entries: DemoEntries | None = None
        self.entities: list[RegisteredEntity] = []
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
        await remove_onboarding_extras(client)
        self.entities = await wait_for_entities(client, self.entries)
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
            _say(
                f"\nPowershare demo ready: {options.url}/{DASHBOARD_URL}/demo\n"
                f"  user: {options.username}   password: {options.password}\n"
                f"  simulated day runs x{options.time_scale:g}; Home Assistant log: "
                f"{options.config_dir / 'home-assistant.log'}\n"
                "  Ctrl-C stops everything."
            )
            if ready is not None:
                await ready(demo)
            stopped = loop.create_task(stop.wait())
            hass_exited = loop.create_task(demo.hass.wait())
            await asyncio.wait(
                (stopped, hass_exited),
                timeout=options.duration_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopped.cancel()
            hass_exited.cancel()
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


def parse_args(argv: Sequence[str] | None = None) -> DemoOptions:
    """Read the command line of `scripts/demo`."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Home Assistant's port")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        help="configuration directory, recreated on every run (default .demo/config)",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds of running"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help="how much faster than real time the house and the sun run (default 20)",
    )
    args = parser.parse_args(argv)
    return DemoOptions(
        port=args.port,
        config_dir=args.config_dir.resolve(),
        duration_s=args.duration,
        time_scale=args.time_scale,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m simulators.demo`."""
    options = parse_args(argv)
    try:
        asyncio.run(run(options))
    except DemoError as err:
        sys.stderr.write(f"demo: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
