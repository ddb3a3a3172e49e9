"""Plans: every car charged by its departure at the lowest cost, all cars at once (HA-free).

The problem. Time runs in slots (15 minutes) from the plan's start. Each car hangs below a
group of the site's tree of fuses, draws the same current on its one or three phases, up to
its maximum, between its arrival and departure, and still needs some energy. Per slot, each
group leaves the cars some amps per phase (fuse - margin - the house's forecast), may cap
their power, and the site may have a peak budget for them. Each slot has a price per kWh and
maybe a solar surplus, whose kWh cost only the feed-in price given up. Planning one car at a
time, as the peers do, ignores what the cars share: two cars pick the same cheap slot, each
gets half, both miss their targets. Here all cars are planned together.

The goals, in order (`goals`): deliver as much of each car's need by its departure as the
limits allow (every target, when the limits allow them all; else the most energy in total);
then the lowest cost; then, tie-breaks: fill the cars needing least first (the fewest fall
short), use the most surplus, charge earlier.

The method. In each car's energy per slot e[t, c] every rule is linear (`layout`): a fuse
counts a car's energy over its phases, a power cap and the budget count it whole, a car's
room per slot is its maximum current, and its energy over its slots is at most its need.
Each slot's cost is convex piecewise-linear in the cars' total (the surplus first, at its
lower price), which one more variable per slot makes linear. So the plan is a linear
program, and its optimum is the exact answer; slots meet only through the cars' totals. It
is solved by a primal-dual interior-point method (Mehrotra's predictor-corrector) written on
numpy for this structure (`interior`): each step's normal equations are one small block per
slot (its limits: fuses, caps, budget, surplus) bordered by the cars' totals, solved for all
slots at once by numpy's batched solve and a Schur complement of size cars. One step costs
about a millisecond for 10 cars and 96 slots, a solve 10 to 30 steps, a plan one solve (two
when a car cannot get its need); measured in `benchmarks/plans`: about 20 ms for 10 cars
over 96 slots. The cost grows linearly with the slots and as the cube of the limits per slot.

Why not something simpler: a min-cost flow is exact only while every car is single-phase
and no power cap weighs cars by their phases (a three-phase car takes the same current on
three fuses at once, a bundle no flow network carries); a greedy filling of cheap slots is
exact only for one car; a dense simplex on numpy takes thousands of pivots on 1,000
variables. A solver library (HiGHS, via scipy) is not installable everywhere Home Assistant
runs; numpy is part of Home Assistant.

Exactness: the optimum of the linear program, to a duality gap of 1e-10 of the objective
(`interior.OPTIMAL`; 1e-6 at worst, where rounding stalls the method first). The goals are
weighed in one objective; when a car misses its target, a second program finds the most
energy the limits allow, and the weight of goal 1 is raised until the plan delivers it
(`goals`). The tie-breaks may cost at most 3.1e-4 of the energy's value at the largest
price. The interior point's last rounding (1e-12) is cut away, so every limit holds exactly.
The proof is in tests/planner: over 1,200 random sites against the same program solved
exactly by HiGHS (the cost agrees to 1e-6 of the energy's value; the tests demand 1 %).

What a plan is not: it has no minimum current. A slot's energy is a mean; where it is less
than 6 A for the whole slot would give, the real-time engine delivers it at 6 A or more for
part of the slot.
"""

from .goals import plan_charging
from .plan import CarPlan, Plan
from .request import PHASES, SLOT_S, VOLTAGE, Car, Group, Phase, PlanRequest

__all__ = [
    "PHASES",
    "SLOT_S",
    "VOLTAGE",
    "Car",
    "CarPlan",
    "Group",
    "Phase",
    "Plan",
    "PlanRequest",
    "plan_charging",
]
