"""The demo's HTTP wallbox: its state, its writes, and a car that follows them late."""

from __future__ import annotations

import aiohttp
import pytest

from simulators.meters.state import ManualClock
from simulators.wallbox import WallboxEmulator, WallboxState


async def test_the_car_follows_the_limit_and_the_switch_after_its_delay(
    socket_enabled: None,
) -> None:
    clock = ManualClock()
    wallbox = WallboxState(clock=clock, serial="WB-T", phases=3, car_max_current_a=16.0)
    async with WallboxEmulator(wallbox) as emulator, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{emulator.port}"

        async def get() -> dict[str, object]:
            async with session.get(f"{url}/state") as response:
                assert response.status == 200
                answer: dict[str, object] = await response.json()
                return answer

        async def post(path: str, value: object) -> int:
            async with session.post(f"{url}{path}", json={"value": value}) as response:
                return response.status

        assert await get() == {
            "serial": "WB-T",
            "limit": 16,
            "max_limit": 32,
            "allowed": True,
            "plugged_in": True,
            "currents": [16.0, 16.0, 16.0],
        }
        assert await post("/limit", 10) == 200
        state = await get()
        assert (state["limit"], state["currents"]) == (10, [16.0, 16.0, 16.0])  # not yet
        clock.advance(2.0)
        assert (await get())["currents"] == [10.0, 10.0, 10.0]

        assert await post("/allowed", value=False) == 200
        clock.advance(1.0)
        assert wallbox.currents_a == (10.0, 10.0, 10.0)
        clock.advance(1.0)
        assert (await get())["currents"] == [0.0, 0.0, 0.0]
        assert await post("/allowed", value=True) == 200
        clock.advance(2.0)
        assert wallbox.currents_a == (10.0, 10.0, 10.0)

        # Below 6 A a car does not charge; above its own maximum it takes what it can.
        assert await post("/limit", 5) == 200
        clock.advance(2.0)
        assert wallbox.currents_a == (0.0, 0.0, 0.0)
        assert await post("/limit", 32) == 200
        clock.advance(2.0)
        assert wallbox.currents_a == (16.0, 16.0, 16.0)

        for path, value in (
            ("/limit", 33),
            ("/limit", -1),
            ("/limit", 7.5),
            ("/limit", "8"),
            ("/limit", True),
            ("/allowed", 1),
        ):
            assert await post(path, value) == 400, (path, value)
        assert emulator.writes == [
            ("limit", 10),
            ("allowed", False),
            ("allowed", True),
            ("limit", 5),
            ("limit", 32),
        ]


def test_a_single_phase_car_draws_on_l1_only() -> None:
    clock = ManualClock()
    wallbox = WallboxState(clock=clock, phases=1, car_max_current_a=32.0, limit_a=20)
    assert wallbox.currents_a == (20.0, 0.0, 0.0)
    wallbox.plugged_in = False
    assert wallbox.currents_a == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="outside 0-32 A"):
        wallbox.set_limit(40)
