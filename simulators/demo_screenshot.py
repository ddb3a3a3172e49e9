"""Take a PNG of the running demo's dashboard with headless Chromium (`scripts/demo-screenshot`).

Logs in as the demo user through Home Assistant's own login flow (as the login page does),
hands the tokens to the frontend the way it stores them (`localStorage.hassTokens`), opens the
dashboard and captures it over the Chrome DevTools protocol. 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import aiohttp

from simulators.demo import DASHBOARD_URL, DEFAULT_PORT, DEMO_PASSWORD, DEMO_USER, LOOPBACK
from simulators.modbus_server import free_tcp_port

CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
DEFAULT_SIZE: Final = "1400,1100"
"""The browser window (width,height): a height of 3000 shows the whole dashboard."""
SETTLE_S: Final = 12.0
"""How long the page gets to load the frontend and the history graph before the capture."""


async def login(session: aiohttp.ClientSession, url: str, username: str, password: str) -> Any:
    """Log in through the login flow; return the token answer (access and refresh token)."""
    client_id = f"{url}/"
    flow_request = {
        "client_id": client_id,
        "handler": ["homeassistant", None],
        "redirect_uri": f"{url}/?auth_callback=1",
    }
    async with session.post(f"{url}/auth/login_flow", json=flow_request) as response:
        flow = await response.json()
    credentials = {"username": username, "password": password, "client_id": client_id}
    async with session.post(
        f"{url}/auth/login_flow/{flow['flow_id']}", json=credentials
    ) as response:
        result = await response.json()
    if result.get("type") != "create_entry":
        raise RuntimeError(f"login refused: {result}")
    form = {"grant_type": "authorization_code", "code": result["result"], "client_id": client_id}
    async with session.post(f"{url}/auth/token", data=form) as response:
        tokens = await response.json()
    tokens["hassUrl"] = url
    tokens["clientId"] = client_id
    tokens["expires"] = int(time.time() * 1000) + int(tokens["expires_in"]) * 1000
    return tokens


class DevTools:
    """A minimal Chrome DevTools protocol client for one page."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self._next_id = 0

    async def call(self, method: str, **params: Any) -> Any:
        """Send one command and wait for its answer (events in between are skipped)."""
        self._next_id += 1
        await self.socket.send_json({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await self.socket.receive_json()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})


async def _page_socket(session: aiohttp.ClientSession, port: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"http://{LOOPBACK}:{port}/json/list") as response:
                pages = [p for p in await response.json() if p.get("type") == "page"]
                if pages:
                    address: str = pages[0]["webSocketDebuggerUrl"]
                    return address
        if time.monotonic() > deadline:
            raise RuntimeError("Chromium did not open its DevTools port")
        await asyncio.sleep(0.3)


async def screenshot(
    url: str, chromium: str, username: str, password: str, size: str = DEFAULT_SIZE
) -> bytes:
    """Capture the demo dashboard at `url` in a window of `size` ("width,height"); the PNG."""
    debug_port = free_tcp_port()
    async with aiohttp.ClientSession() as session:
        tokens = await login(session, url, username, password)
        with tempfile.TemporaryDirectory(prefix="powershare-chromium-") as profile:
            browser = await asyncio.create_subprocess_exec(
                chromium,
                *CHROMIUM_FLAGS,
                f"--window-size={size}",
                f"--user-data-dir={profile}",
                f"--remote-debugging-address={LOOPBACK}",
                f"--remote-debugging-port={debug_port}",
                "about:blank",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                address = await _page_socket(session, debug_port)
                async with session.ws_connect(address, max_msg_size=0) as socket:
                    page = DevTools(socket)
                    await page.call("Page.enable")
                    # The frontend reads its tokens from localStorage of its own origin.
                    await page.call("Page.navigate", url=f"{url}/auth/authorize")
                    await asyncio.sleep(2)
                    script = f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))})"
                    await page.call("Runtime.evaluate", expression=script)
                    await page.call("Page.navigate", url=f"{url}/{DASHBOARD_URL}/demo")
                    await asyncio.sleep(SETTLE_S)
                    shot = await page.call("Page.captureScreenshot", format="png")
                return base64.b64decode(shot["data"])
            finally:
                browser.terminate()
                await browser.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m simulators.demo_screenshot`."""
    parser = argparse.ArgumentParser(prog="simulators.demo_screenshot")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--output", type=Path, default=Path(".demo/dashboard.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--size", default=DEFAULT_SIZE, help="the window: width,height")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://{LOOPBACK}:{args.port}"
    png = asyncio.run(screenshot(url, args.chromium, DEMO_USER, DEMO_PASSWORD, args.size))
    args.output.write_bytes(png)
    sys.stdout.write(f"{args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
