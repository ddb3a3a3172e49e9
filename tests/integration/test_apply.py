"""Applying a decision: cuts before increases, and one charger's failure concerns it alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.powershare.balancing.apply import async_apply_decision, async_release
from custom_components.powershare.balancing.links import ChargerLink
from custom_components.powershare.const import DOMAIN
from custom_components.powershare.devices.charger import ChargeCommand
from custom_components.powershare.engine import (
    Action,
    ChargerDecision,
    Decision,
    Phase,
    Reason,
)

PHASES = (Phase.L1, Phase.L2, Phase.L3)


@dataclass
class Recorder:
    """A charger of the interface that records the commands it gets (or fails)."""

    name: str
    log: list[tuple[str, int]]
    fails: bool = False
    commands: list[ChargeCommand] = field(default_factory=list)

    async def command(self, command: ChargeCommand, now: float) -> int:  # noqa: ARG002
        self.log.append((self.name, command.amps))
        if self.fails:
            raise RuntimeError("a bug in this kind of charger")
        return 0

    async def release(self, failsafe_a: int) -> None:  # noqa: ARG002
        raise RuntimeError("cannot")


def _link(recorder: Recorder, drawing: float) -> ChargerLink:
    reading = SimpleNamespace(currents_a=(drawing, drawing, drawing))
    coordinator: Any = SimpleNamespace(data=reading, charger=recorder)
    entry = MockConfigEntry(domain=DOMAIN, title=recorder.name, entry_id=recorder.name)
    return ChargerLink(entry, coordinator)


def _decision(targets: dict[str, int]) -> Decision:
    chargers = {
        name: ChargerDecision(
            charger_id=name,
            target_current=amps,
            site_phases=PHASES,
            charger_phases=PHASES,
            action=Action.ADJUST,
            changed=True,
            reason=Reason.GROUP_FUSE,
            detail="",
            requested=16,
            share=float(amps),
        )
        for name, amps in targets.items()
    }
    return Decision(now=0.0, chargers=chargers, groups={}, stale_meters=(), surplus_w=None)


async def test_cuts_go_out_before_increases() -> None:
    log: list[tuple[str, int]] = []
    links = {
        "rising": _link(Recorder("rising", log), drawing=6.0),
        "cut": _link(Recorder("cut", log), drawing=16.0),
    }
    await async_apply_decision(_decision({"rising": 12, "cut": 10}), links)
    assert log == [("cut", 10), ("rising", 12)]


async def test_one_chargers_failure_does_not_stop_the_others() -> None:
    log: list[tuple[str, int]] = []
    links = {
        "broken": _link(Recorder("broken", log, fails=True), drawing=16.0),
        "next": _link(Recorder("next", log), drawing=16.0),
    }
    await async_apply_decision(_decision({"broken": 8, "next": 8}), links)
    assert log == [("broken", 8), ("next", 8)]
    await async_release(links["broken"])  # logged, not raised: the others are released too
