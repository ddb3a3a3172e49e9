"""Random planning requests: small trees of groups, mixed cars, varied prices and limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custom_components.powershare.planner import PHASES, Car, Group, PlanRequest


@dataclass(frozen=True)
class Shape:
    """What a random request is made of (hypothesis draws these; `random_shape` too)."""

    groups: int = 2
    """1 to 3, in a chain (root, sub-group, sub-sub-group) or a star."""
    star: bool = False
    cars: int = 4
    slots: int = 32
    tight: bool = True
    """Fuses the cars must share (else: room for most)."""
    solar: bool = False
    peak: bool = False
    power_cap: bool = False
    negative_prices: bool = True
    arrivals: bool = True


def random_shape(rng: np.random.Generator) -> Shape:
    """Return a shape drawn from `rng`."""
    return Shape(
        groups=int(rng.integers(1, 4)),
        star=bool(rng.random() < 0.5),
        cars=int(rng.integers(1, 11)),
        slots=int(rng.choice([8, 16, 24, 48, 96])),
        tight=bool(rng.random() < 0.6),
        solar=bool(rng.random() < 0.4),
        peak=bool(rng.random() < 0.3),
        power_cap=bool(rng.random() < 0.3),
        negative_prices=bool(rng.random() < 0.5),
        arrivals=bool(rng.random() < 0.5),
    )


def random_request(shape: Shape, seed: int) -> PlanRequest:
    """Return a request of `shape`, its numbers drawn from `seed`."""
    rng = np.random.default_rng(seed)
    slots = shape.slots
    ids = [f"g{i}" for i in range(shape.groups)]
    parents: list[str | None] = [None]
    parents += [ids[0] if shape.star else ids[i - 1] for i in range(1, shape.groups)]
    fuse_scale = 16.0 if shape.tight else 80.0
    groups = []
    for i, (group_id, parent_id) in enumerate(zip(ids, parents, strict=True)):
        fuse = fuse_scale * rng.uniform(0.6, 1.6) / (1 + 0.3 * i)
        house = rng.uniform(0, 0.5 * fuse, size=(3, slots)) * (i == 0)
        house[:, rng.random(slots) < 0.05] += fuse  # now and then the house takes it all
        amps = fuse - house
        if rng.random() < 0.1:
            amps[int(rng.integers(3))] = np.inf  # a phase not limited here
        cap = None
        if shape.power_cap and rng.random() < 0.6:
            cap = rng.uniform(2, 3 * 0.23 * fuse, size=slots)
        groups.append(Group(group_id, parent_id, tuple(amps), cap))
    cars = []
    for c in range(shape.cars):
        three = rng.random() < 0.5
        phases = PHASES if three else (PHASES[int(rng.integers(3))],)
        arrival = int(rng.integers(0, max(slots // 2, 1))) if shape.arrivals else 0
        departure = int(rng.integers(arrival, slots + 1))
        max_a = float(rng.choice([6.0, 10.0, 16.0, 32.0]))
        most = max_a * 0.23 * len(phases) * 0.25 * (departure - arrival)
        need = float(rng.uniform(0, 1.2) * most) if rng.random() < 0.9 else 0.0
        cars.append(
            Car(
                f"car{c}",
                ids[int(rng.integers(shape.groups))],
                phases,
                max_a,
                need,
                departure,
                arrival,
            )
        )
    hours = np.arange(slots) / 4
    price = (
        0.2
        + 0.1 * np.sin(hours / 24 * 2 * np.pi * rng.uniform(0.5, 3))
        + rng.normal(0, 0.05, slots)
    )
    if shape.negative_prices:
        price -= rng.uniform(0, 0.25)
    solar = None
    feed_in = 0.0
    if shape.solar:
        solar = np.maximum(0.0, rng.uniform(-5, 15) * np.sin(np.pi * hours / max(hours[-1], 1)))
        feed_in = float(rng.choice([0.0, 0.05, 0.3]))
    peak = rng.uniform(1, 25, size=slots) if shape.peak else None
    return PlanRequest(groups, cars, price.round(4), solar, feed_in, peak)
