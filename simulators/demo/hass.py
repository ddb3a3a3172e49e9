"""Home Assistant as a process (`hass -c <dir>`) and over HTTP (REST and websocket calls)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from homeassistant.const import REQUIRED_PYTHON_VER

from .options import LOOPBACK, REPO_ROOT, STARTUP_TIMEOUT_S, STOP_TIMEOUT_S, DemoError

if TYPE_CHECKING:
    from collections.abc import Mapping


def port_is_free(port: int) -> bool:
    """Whether Home Assistant could listen on 127.0.0.1:`port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Home Assistant's own server binds: a closed demo's connections waiting out
        # TIME_WAIT do not keep the port from being used again (Ctrl-C, then a new run).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


_UNCHECKED_MAIN: Final = (
    "import sys; import homeassistant.__main__ as ha; "
    "ha.validate_python = lambda: None; sys.argv[0] = 'hass'; sys.exit(ha.main())"
)


def hass_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment for `hass`: this one, without the repository on PYTHONPATH.

    Home Assistant finds custom integrations in the namespace package `custom_components`,
    which it imports with the configuration directory on `sys.path` and then takes that
    directory off again: a `custom_components` folder elsewhere on the path (the repository's,
    which `scripts/demo` puts on PYTHONPATH) would then be the only one left, and the
    integrations linked into the configuration directory (the demo wallbox) would not be
    found.
    """
    env = dict(os.environ if environ is None else environ)
    kept = [
        entry
        for entry in env.get("PYTHONPATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != REPO_ROOT
    ]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env


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
                # Not the repository: `python -c` puts the working directory on the path.
                cwd=self.config_dir,
                env=hass_environment(),
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
        """Create the owner, the last step of onboarding left (`write_config_dir`); return a token.

        The other steps are marked done in the configuration directory: the core config step
        would set up the weather, radio and speech integrations, which offline only fail.
        """
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
        return self.token

    async def _token(self, code: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.url}/auth/token", data=form) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:  # HTTP OK
                raise DemoError(f"POST /auth/token -> {response.status}: {answer}")
        token: str = answer["access_token"]
        return token

    async def run_flow(
        self, handler: str, answers: Mapping[str, dict[str, Any]], *, options: bool = False
    ) -> dict[str, Any]:
        """Walk a config flow to its entry: `answers` maps each step id to what is submitted.

        A menu step's answer is `{"next_step_id": ...}`. A form shown again with errors, an
        abort or a step without an answer stops the demo with the reason. With `options`,
        `handler` is an entry id and its options flow is walked (the answer is the flow's end).
        """
        path = "/api/config/config_entries/" + ("options/flow" if options else "flow")
        result = await self.request("POST", path, {"handler": handler})
        seen: set[str] = set()
        while result["type"] in ("form", "menu"):
            step = result["step_id"]
            if result.get("errors"):
                raise DemoError(f"flow step {step!r} refused the answer: {result['errors']}")
            if step in seen or step not in answers:
                raise DemoError(f"flow step {step!r} not expected here: {result}")
            seen.add(step)
            result = await self.request("POST", f"{path}/{result['flow_id']}", answers[step])
        if result["type"] != "create_entry":
            raise DemoError(f"the flow ended without an entry: {result}")
        if options:
            ended: dict[str, Any] = result
            return ended
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
