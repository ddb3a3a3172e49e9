"""Indexes over a site's tree, computed once per configuration.

Groups and chargers get integer indexes (config order); every (group, site phase) fuse, every
group power cap and the solar budget get a limit index for the allocator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .model import PHASES, Phase, Reason, Wiring
from .network import power_amps

if TYPE_CHECKING:
    from .model import ChargerConfig, GroupConfig, SiteConfig


class LimitKind(StrEnum):
    """What an allocator limit stands for."""

    FUSE = "fuse"
    POWER = "power"
    PROFILE = "profile"
    PEAK = "peak"
    SOLAR = "solar"


_REASON_OF_KIND = {
    LimitKind.FUSE: Reason.GROUP_FUSE,
    LimitKind.POWER: Reason.GROUP_POWER,
    LimitKind.PROFILE: Reason.PROFILE_LIMIT,
    LimitKind.PEAK: Reason.PEAK_BUDGET,
    LimitKind.SOLAR: Reason.SOLAR_SURPLUS,
}


@dataclass(frozen=True, slots=True)
class LimitKey:
    """The meaning of one allocator limit: a group's fuse on a phase, its power cap, or solar."""

    kind: LimitKind
    group: int | None = None
    phase: Phase | None = None
    charger: int | None = None
    """The charger of a charging profile's limit."""


class Topology:
    """The tree of one `SiteConfig`, as flat indexes."""

    def __init__(self, config: SiteConfig) -> None:
        self.config = config
        self.groups: tuple[GroupConfig, ...] = config.groups
        self.chargers: tuple[ChargerConfig, ...] = config.chargers
        self._index_tree()
        self._index_chargers()
        self._index_limits()
        # Terms per (charger, site phases), built on first use and kept for the configuration's
        # life: the balancer asks for them for every charger in every cycle. Equal terms are
        # one shared tuple (`_interned`), so the allocator can group alike chargers by identity.
        self._terms_cache: list[dict[tuple[Phase, ...], tuple[tuple[int, float], ...]]] = [
            {} for _ in self.chargers
        ]
        self._interned: dict[tuple[tuple[int, float], ...], tuple[tuple[int, float], ...]] = {}

    def _index_tree(self) -> None:
        """Parents, children, ancestors, a bottom-up order, and which groups have no meter."""
        self.group_index = {group.id: index for index, group in enumerate(self.groups)}
        self.parent: list[int | None] = [
            None if group.parent_id is None else self.group_index[group.parent_id]
            for group in self.groups
        ]
        self.root = self.group_index[self.config.root.id]
        self.children: list[list[int]] = [[] for _ in self.groups]
        for index, parent in enumerate(self.parent):
            if parent is not None:
                self.children[parent].append(index)
        self.ancestors: list[tuple[int, ...]] = [
            self._chain(index) for index in range(len(self.groups))
        ]
        """Per group: itself, its parent, ... up to the root."""
        depth = [len(chain) - 1 for chain in self.ancestors]
        self.bottom_up: tuple[int, ...] = tuple(
            sorted(range(len(self.groups)), key=lambda index: -depth[index])
        )
        """The groups, children before their parents."""
        self.unmetered = [True] * len(self.groups)
        """Per group: no meter at it or below it (its non-EV load is taken as zero)."""
        for group, config_group in enumerate(self.groups):
            if config_group.meter_id is not None:
                for ancestor in self.ancestors[group]:
                    self.unmetered[ancestor] = False

    def _index_chargers(self) -> None:
        """Each charger's group, priority rank, phases and what it may do."""
        chargers = self.chargers
        self.charger_index = {charger.id: index for index, charger in enumerate(chargers)}
        self.charger_group = [self.group_index[charger.group_id] for charger in chargers]
        priorities = sorted({charger.priority for charger in chargers}, reverse=True)
        self.tier_count = len(priorities)
        """Priority tiers: the allocator serves rank 0 (the highest priority) first."""
        rank = {priority: index for index, priority in enumerate(priorities)}
        self.priority_rank = [rank[charger.priority] for charger in chargers]
        self.id_order = sorted(range(len(chargers)), key=lambda index: chargers[index].id)
        """The chargers in id order (the last tie-break of the keep order)."""
        self.minimum = [float(charger.min_current) for charger in chargers]
        network = self.config.network
        self.switchable = [
            charger.wiring is Wiring.THREE_PHASE
            and charger.can_switch_phases
            and not network.without_neutral
            for charger in chargers
        ]
        """Per charger: whether it may switch between one and three phases (not without a
        neutral, where one phase would be two lines the charger does not measure)."""
        self.wired_phases: tuple[tuple[Phase, ...], ...] = tuple(
            self._wired(charger) for charger in chargers
        )
        """Per charger: the site phases (lines) it is wired to (sorted)."""
        self.between_lines: tuple[bool, ...] = tuple(
            network.without_neutral and charger.wiring is Wiring.ONE_PHASE for charger in chargers
        )
        """Per charger: a single-phase charger between two lines (no neutral): its current
        flows on both (`wired_phases`)."""
        self.site_phase_of: tuple[tuple[Phase, Phase, Phase], ...] = tuple(
            (
                charger.rotation.site_phase(Phase.L1),
                charger.rotation.site_phase(Phase.L2),
                charger.rotation.site_phase(Phase.L3),
            )
            for charger in chargers
        )
        """Per charger: the site phase of its L1, L2, L3 (the rotation as a lookup table)."""
        self.charger_phase_of: tuple[tuple[Phase, Phase, Phase], ...] = tuple(
            (
                charger.rotation.charger_phase(Phase.L1),
                charger.rotation.charger_phase(Phase.L2),
                charger.rotation.charger_phase(Phase.L3),
            )
            for charger in chargers
        )
        """Per charger: the charger phase on site L1, L2, L3 (the inverse lookup table)."""

    def _index_limits(self) -> None:
        """Every allocator limit (fuses per group and phase, power caps, the solar budget)."""
        keys: list[LimitKey] = [
            LimitKey(LimitKind.FUSE, group, phase)
            for group in range(len(self.groups))
            for phase in PHASES
        ]
        self.power_limit: dict[int, int] = {}
        for group, config_group in enumerate(self.groups):
            if config_group.max_power_w is not None:
                self.power_limit[group] = len(keys)
                keys.append(LimitKey(LimitKind.POWER, group))
        self.profile_limit: dict[int, int] = {}
        """Per charger with a charging profile: its limit."""
        for index, charger in enumerate(self.chargers):
            if charger.profile_power_w is not None:
                self.profile_limit[index] = len(keys)
                keys.append(LimitKey(LimitKind.PROFILE, charger=index))
        self.peak_limit: int | None = None
        """The peak budget at the root (`SiteConfig.peak_budget`): a power cap every charger
        loads, its capacity given by each snapshot."""
        if self.config.peak_budget:
            self.peak_limit = len(keys)
            keys.append(LimitKey(LimitKind.PEAK, self.root))
        self.solar_limit = len(keys)
        keys.append(LimitKey(LimitKind.SOLAR))
        self.limit_keys: tuple[LimitKey, ...] = tuple(keys)
        self.limit_labels: tuple[str, ...] = tuple(self._label(key) for key in keys)
        """Per limit: how the user knows it ("group Garage phase L2", "solar surplus")."""
        self.limit_reasons: tuple[tuple[Reason, str], ...] = tuple(
            (_REASON_OF_KIND[key.kind], f"limited by {label}")
            for key, label in zip(keys, self.limit_labels, strict=True)
        )
        """Per limit: the reason and text of a charger whose share it stopped."""
        self._fuse_terms: list[tuple[tuple[int, ...], ...]] = [
            tuple(
                tuple(self.fuse_limit(ancestor, phase) for ancestor in self.ancestors[group])
                for phase in PHASES
            )
            for group in self.charger_group
        ]
        self._power_terms: list[tuple[int, ...]] = [
            tuple(
                self.power_limit[ancestor]
                for ancestor in self.ancestors[group]
                if ancestor in self.power_limit
            )
            + ((self.profile_limit[index],) if index in self.profile_limit else ())
            + (() if self.peak_limit is None else (self.peak_limit,))
            for index, group in enumerate(self.charger_group)
        ]

    def _chain(self, group: int) -> tuple[int, ...]:
        chain = [group]
        parent = self.parent[group]
        while parent is not None:
            chain.append(parent)
            parent = self.parent[parent]
        return tuple(chain)

    def _label(self, key: LimitKey) -> str:
        if key.kind is LimitKind.PEAK:
            return "the peak budget"
        if key.kind is LimitKind.PROFILE and key.charger is not None:
            return f"its charging profile ({self.chargers[key.charger].label})"
        if key.group is None:
            return "solar surplus"
        label = self.groups[key.group].label
        if key.phase is None:
            return f"group {label} max power"
        return f"group {label} phase {key.phase.name}"

    @staticmethod
    def fuse_limit(group: int, phase: Phase) -> int:
        """Return the limit index of a group's fuse on a site phase."""
        return group * 3 + phase

    def fuse_limits(self, charger: int, phase: Phase) -> tuple[int, ...]:
        """Return the fuse limits (own group first, root last) a charger loads on `phase`."""
        return self._fuse_terms[charger][phase]

    def power_limits(self, charger: int) -> tuple[int, ...]:
        """Return the power-cap limits of the charger's groups."""
        return self._power_terms[charger]

    def terms(self, charger: int, site_phases: tuple[Phase, ...]) -> tuple[tuple[int, float], ...]:
        """Return the allocator terms of a charger drawing on `site_phases`.

        One amp on each phase loads each ancestor's fuse on that phase by 1 A, and each power
        cap and the solar budget (both counted in amps at nominal voltage) by the power of one
        amp on those phases (`network.power_amps`: the phase count with a neutral).
        Every charger loads the solar budget, fast ones included: the surplus left for solar
        charging is what remains after them (the budget is enforced only on surplus tiers).
        """
        cache = self._terms_cache[charger]
        cached = cache.get(site_phases)
        if cached is not None:
            return cached
        count = power_amps(self.config.network, len(site_phases))
        terms = [
            (limit, 1.0) for phase in site_phases for limit in self._fuse_terms[charger][phase]
        ]
        terms.extend((limit, count) for limit in self._power_terms[charger])
        terms.append((self.solar_limit, count))
        built = tuple(terms)
        cached = self._interned.setdefault(built, built)
        cache[site_phases] = cached
        return cached

    def _wired(self, charger: ChargerConfig) -> tuple[Phase, ...]:
        if charger.wiring is Wiring.ONE_PHASE:
            if self.config.network.without_neutral:
                # Its L1 and its neutral terminal are on the rotation's first two lines.
                rotation = charger.rotation
                return tuple(sorted((rotation.site_phase(Phase.L1), rotation.site_phase(Phase.L2))))
            return (charger.rotation.site_phase(Phase.L1),)
        return PHASES
