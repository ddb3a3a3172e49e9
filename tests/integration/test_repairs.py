"""Repair issues: raised only after a problem lasts, cleared when it is over."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.powershare.const import CONF_WIRING, DOMAIN
from custom_components.powershare.engine.model import (
    Action,
    ChargerDecision,
    Decision,
    GroupFigures,
    Phase,
    Reason,
)
from custom_components.powershare.repairs import (
    BELOW_MINIMUM_AFTER,
    IMPLAUSIBLE_AFTER,
    OUT_OF_CONTROL_AFTER,
    SILENT_METER_AFTER,
    UNREACHABLE_AFTER,
    RepairTracker,
)
from simulators.teltocharge import EmulatedCar
from tests.integration.emulated_site import Site

ZERO = (0.0, 0.0, 0.0)


def decision(
    now: float,
    *,
    reason: Reason,
    stale: bool,
    out_of_control: tuple[str, ...] = (),
    implausible: tuple[str, ...] = (),
) -> Decision:
    charger = ChargerDecision(
        charger_id="c1",
        target_current=0,
        site_phases=(Phase.L1, Phase.L2, Phase.L3),
        charger_phases=(Phase.L1, Phase.L2, Phase.L3),
        action=Action.NONE,
        changed=False,
        reason=reason,
        detail="",
        requested=16,
        share=0.0,
        limit_group="g1",
        limit_phase=Phase.L2,
    )
    figures = GroupFigures(
        group_id="g1",
        meter=None if stale else ZERO,
        non_ev_load=ZERO,
        available=ZERO,
        requested=ZERO,
        allocated=ZERO,
        usage=ZERO,
        meter_stale=stale,
    )
    return Decision(
        now=now,
        chargers={"c1": charger},
        groups={"g1": figures},
        stale_meters=(),
        surplus_w=None,
        implausible_meters=implausible,
        out_of_control=out_of_control,
    )


async def test_below_minimum_is_raised_after_it_lasts_and_cleared(hass: HomeAssistant) -> None:
    tracker = RepairTracker(hass)
    registry = ir.async_get(hass)
    titles = {"g1": "Garage"}
    tracker.decision(decision(0.0, reason=Reason.PAUSED_FOR_OTHERS, stale=False), titles)
    tracker.decision(
        decision(BELOW_MINIMUM_AFTER - 1, reason=Reason.BELOW_MIN, stale=False), titles
    )
    assert registry.async_get_issue(DOMAIN, "below_minimum_g1") is None
    tracker.decision(decision(BELOW_MINIMUM_AFTER, reason=Reason.BELOW_MIN, stale=False), titles)
    issue = registry.async_get_issue(DOMAIN, "below_minimum_g1")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Garage"}
    tracker.decision(
        decision(BELOW_MINIMUM_AFTER + 1, reason=Reason.GROUP_FUSE, stale=False), titles
    )
    assert registry.async_get_issue(DOMAIN, "below_minimum_g1") is None


async def test_silent_meter_and_unreachable_device(hass: HomeAssistant) -> None:
    tracker = RepairTracker(hass)
    registry = ir.async_get(hass)
    tracker.decision(decision(0.0, reason=Reason.FAILSAFE_METER_STALE, stale=True), {})
    tracker.decision(
        decision(SILENT_METER_AFTER, reason=Reason.FAILSAFE_METER_STALE, stale=True), {}
    )
    assert registry.async_get_issue(DOMAIN, "meter_silent_g1") is not None
    tracker.device("c1", "TeltoCharge 1", reachable=False, now=0.0)
    assert registry.async_get_issue(DOMAIN, "device_unreachable_c1") is None
    tracker.device("c1", "TeltoCharge 1", reachable=False, now=UNREACHABLE_AFTER)
    assert registry.async_get_issue(DOMAIN, "device_unreachable_c1") is not None
    tracker.clear_all()
    assert registry.async_get_issue(DOMAIN, "meter_silent_g1") is None
    assert registry.async_get_issue(DOMAIN, "device_unreachable_c1") is None


@pytest.mark.parametrize(
    ("field", "key", "after", "entry"),
    [
        ("out_of_control", "charger_out_of_control", OUT_OF_CONTROL_AFTER, "c1"),
        ("implausible", "meter_implausible", IMPLAUSIBLE_AFTER, "m1"),
    ],
)
async def test_a_lasting_charger_or_meter_problem_names_it(
    hass: HomeAssistant, field: str, key: str, after: float, entry: str
) -> None:
    tracker = RepairTracker(hass)
    registry = ir.async_get(hass)
    titles = {"c1": "Driveway", "m1": "Main meter"}
    for now in (0.0, after - 1):
        tracker.decision(
            decision(now, reason=Reason.OUT_OF_CONTROL, stale=False, **{field: (entry,)}), titles
        )  # type: ignore[arg-type]
    assert registry.async_get_issue(DOMAIN, f"{key}_{entry}") is None  # a short problem is none
    tracker.decision(
        decision(after, reason=Reason.OUT_OF_CONTROL, stale=False, **{field: (entry,)}), titles
    )  # type: ignore[arg-type]
    issue = registry.async_get_issue(DOMAIN, f"{key}_{entry}")
    assert issue is not None
    assert issue.translation_key == key
    assert issue.translation_placeholders == {"name": titles[entry]}
    tracker.decision(decision(after + 1, reason=Reason.GROUP_FUSE, stale=False), titles)
    assert registry.async_get_issue(DOMAIN, f"{key}_{entry}") is None


@pytest.mark.parametrize("meter_model", ["eastron_sdm120"])
async def test_a_single_phase_meter_above_a_three_phase_charger(
    hass: HomeAssistant, site: Site
) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    await site.cycle()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "meter_phases_group_entry_id")
    assert issue is not None
    assert issue.translation_placeholders == {
        "meter": "Main meter",
        "group": "Main fuse",
        "charger": "TeltoCharge 4242",
    }

    # On a single-phase connection the charger is wired to one phase: nothing to warn about.
    hass.config_entries.async_update_entry(
        site.charger_entry, data={**site.charger_entry.data, CONF_WIRING: 1}
    )
    await hass.async_block_till_done()
    await site.cycle()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "meter_phases_group_entry_id") is None


async def test_a_three_phase_meter_raises_no_phase_issue(hass: HomeAssistant, site: Site) -> None:
    site.charger.plug_in(EmulatedCar(phases=3, max_current_a=16.0, ramp_s=0.0))
    await site.cycle()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "meter_phases_group_entry_id") is None
