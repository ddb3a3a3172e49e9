"""A closed-loop fuzz of the engine: random sites, cars that disobey, meters that lie or go blind.

`run_case(seed)` builds a random site from the seed (a tree of 1 to 4 levels, 1 to 30 chargers,
per-phase fuses, rotations, 1- and 3-phase wiring, 1-, 2- and 3-phase cars, house-only meters
and unmetered sub-groups, `world.random_site`), then runs the engine against the physics of
`world.World` for `STEPS` cycles: house loads step up and down (solar on the root board), cars
come and go, some ignore their charger or draw more than told, some chargers draw with mode
off, meters go silent, never answer, or send NaN, infinities and impossible exports, in
some sites the chargers' readings are a step older than the meters' (cars ramp unseen), a
quarter of the sites are on 3 x 230 V without neutral (a single-phase draw returns on a
second line, which the charger does not measure), and some sites have chargers of other kinds:
slow and rate-limited (a cloud service: 15-30 s to follow, increases 30 s apart), or without
a watchdog, which stop answering and keep the last current they were told. It
returns what happened (`Outcome`): the faults exercised and every invariant broken:

- **fuse**: what really flows through a fuse, on each phase, stays within its rating, except
  for at most `detection_s` after a change (a car's 10 s to follow a cut, one reading to see
  it did not, one cycle to decide, the others' 3 s to follow, the check's 2 s granularity:
  19 s; the slowest charger's response time where it is longer), when the load nobody
  controls (the house, the misbehaving cars and the chargers that do not answer) alone exceeds it,
  or where a meter the group's figure depends on has no believable fresh reading (the failsafe
  share applies there, which the installer sizes: the README's safety section);
- **failsafe**: below a meter without a believable fresh reading, no charger gets more than the
  failsafe current;
- **command**: every command is 0 or a whole number in [min, max];
- **fair**: two identical chargers in one group with identical obedient cars, both charging
  for the same reason on the same phases, get the same share (and whole amps 1 A apart at most);
- **finite**: every non-EV figure the engine shows is a finite number;
- **starve** (`run_starvation_case`): with obedient cars and honest meters, every fast car of
  the top priority whose minimum fits alone charges within the rotation.
"""

from __future__ import annotations

from .run import STEPS, Outcome, run_case, run_starvation_case

__all__ = ["STEPS", "Outcome", "run_case", "run_starvation_case"]
