"""The site model: rotations, validation, tunables."""

from __future__ import annotations

import pytest

from custom_components.powershare.engine import (
    PHASES,
    ChargerConfig,
    GroupConfig,
    Phase,
    PhaseRotation,
    SiteConfig,
    Tunables,
)
from custom_components.powershare.engine.topology import LimitKind, Topology


@pytest.mark.parametrize("rotation", list(PhaseRotation))
def test_rotations_are_permutations_and_inverses(rotation: PhaseRotation) -> None:
    site = [rotation.site_phase(phase) for phase in PHASES]
    assert sorted(site) == list(PHASES)
    for phase in PHASES:
        assert rotation.charger_phase(rotation.site_phase(phase)) is phase
    assert [phase.name for phase in site] == [rotation.value[i : i + 2] for i in (0, 2, 4)]


def test_rotation_example() -> None:
    assert PhaseRotation.L2L3L1.site_phase(Phase.L1) is Phase.L2
    assert PhaseRotation.L2L3L1.charger_phase(Phase.L1) is Phase.L3


MAIN = GroupConfig(id="main", fuse=(25.0, 25.0, 25.0), meter_id="m")


@pytest.mark.parametrize(
    ("groups", "chargers", "message"),
    [
        ((MAIN, MAIN), (), "group ids must be unique"),
        ((GroupConfig(id="a", parent_id="b", fuse=(1, 1, 1)),), (), "exactly one root"),
        ((MAIN, GroupConfig(id="a", parent_id="x", fuse=(1, 1, 1))), (), "unknown parent"),
        ((GroupConfig(id="main", fuse=(25.0, 0.0, 25.0)),), (), "three positive"),
        ((GroupConfig(id="main", fuse=(25.0, 25.0)),), (), "three positive"),  # type: ignore[arg-type]
        ((GroupConfig(id="main", fuse=(1, 1, 1), max_power_w=-1.0),), (), "max power"),
        (
            (
                MAIN,
                GroupConfig(id="a", parent_id="b", fuse=(1, 1, 1)),
                GroupConfig(id="b", parent_id="a", fuse=(1, 1, 1)),
            ),
            (),
            "cycle",
        ),
        (
            (MAIN, GroupConfig(id="a", parent_id="main", fuse=(1, 1, 1), meter_id="m")),
            (),
            "one group",
        ),
        (
            (MAIN,),
            (ChargerConfig(id="c", group_id="main"), ChargerConfig(id="c", group_id="main")),
            "charger ids",
        ),
        ((MAIN,), (ChargerConfig(id="c", group_id="nowhere"),), "unknown group"),
        ((MAIN,), (ChargerConfig(id="c", group_id="main", min_current=10, max_current=8),), "min"),
        ((MAIN,), (ChargerConfig(id="c", group_id="main", max_current=40),), "max"),
    ],
)
def test_invalid_sites_are_rejected(
    groups: tuple[GroupConfig, ...], chargers: tuple[ChargerConfig, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SiteConfig(groups=groups, chargers=chargers)


def test_invalid_site_settings_and_tunables_are_rejected() -> None:
    with pytest.raises(ValueError, match="voltage"):
        SiteConfig(groups=(MAIN,), chargers=(), voltage=0.0)
    with pytest.raises(ValueError, match="solar_start_delay_s"):
        Tunables(solar_start_delay_s=-1.0)


def test_labels_and_root() -> None:
    named = GroupConfig(id="g", fuse=(1, 1, 1), name="Garage")
    assert named.label == "Garage"
    assert MAIN.label == "main"
    charger = ChargerConfig(id="c", group_id="main", name="Left")
    assert charger.label == "Left"
    assert ChargerConfig(id="c", group_id="main").label == "c"
    site = SiteConfig(
        groups=(GroupConfig(id="sub", parent_id="main", fuse=(1, 1, 1)), MAIN), chargers=()
    )
    assert site.root is MAIN


def test_topology_indexes_limits() -> None:
    groups = (
        MAIN,
        GroupConfig(id="sub", parent_id="main", fuse=(16, 16, 16), max_power_w=7000.0),
    )
    chargers = (ChargerConfig(id="c", group_id="sub"),)
    topology = Topology(SiteConfig(groups=groups, chargers=chargers))
    assert topology.ancestors[1] == (1, 0)
    assert topology.fuse_limits(0, Phase.L2) == (4, 1)
    assert topology.limit_keys[topology.power_limit[1]].kind is LimitKind.POWER
    terms = topology.terms(0, (Phase.L1,))
    assert terms == (
        (3, 1.0),
        (0, 1.0),
        (topology.power_limit[1], 1.0),
        (topology.solar_limit, 1.0),
    )


def test_topology_rotation_tables_are_inverses() -> None:
    chargers = tuple(
        ChargerConfig(id=f"c{index}", group_id="main", rotation=rotation)
        for index, rotation in enumerate(PhaseRotation)
    )
    topology = Topology(SiteConfig(groups=(MAIN,), chargers=chargers))
    for index, charger in enumerate(chargers):
        on_site = topology.site_phase_of[index]
        on_charger = topology.charger_phase_of[index]
        for phase in PHASES:
            assert on_charger[on_site[phase]] is phase
            assert on_charger[phase] is charger.rotation.charger_phase(phase)
