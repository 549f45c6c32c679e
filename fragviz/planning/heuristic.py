"""The fast packing heuristic: greedy placement, then a per-device knapsack over shared-GPU pods.

Works for any size (the 1,213-node openb cluster with ~10,800 pods in a few seconds).

1. Placed pods are bound where they are. Movable pods on drained nodes are moved first: these
   moves are forced and do not use the ``max_moves`` budget (validate.py). A drained pod that fits
   nowhere stays; the result is then "INFEASIBLE" and ``details["drain_blocked_by"]`` lists it,
   with the unmovable pods on drained nodes (as cpsat.py reports them).
2. Pending pods are placed greedily, largest first: (GPU count, milli per GPU, CPU) descending,
   so CPU-only pods come last, where GPU capacity is already taken. Whole-GPU and CPU-only pods
   go where FGD's fragmentation score is best (FRAGMENTATION.md §1c, continuous scores); a
   shared pod takes the tightest fitting device of the whole cluster (global best fit).
3. Shared pods are then re-packed device by device: for each device, from the shared pods the
   solver placed there itself (never pods placed before) and the unplaced shared pods that may use
   the node, a 0/1 knapsack picks the set with the most milli that fits the device, using the
   least CPU among equal sums and within the node's free CPU and memory. Pods it drops return to the
   pool; passes repeat while they gain.
4. With an unlimited budget (``max_moves=None``) a full repack is tried as well: every movable
   pod is lifted and all pods are placed from scratch (steps 2-3); it is kept only if it
   allocates more and every pod placed before is placed again (nothing is lost).
5. With a budget, single evictions: an unplaced GPU pod takes a node after one movable pod
   there moves to another node (one move; a pod the solver placed itself moves for free).
6. Small problems (<= 60 nodes, <= 400 pods) also get a search (``search_small``): greedy runs
   over several orderings (GPU demand, CPU, memory) and node scorings (tightest device, best fit
   on the binding resource, CPU-sparing), an unlock sweep that pins each large waiting pod to each
   node it may use while an ejection chain moves what is in the way (within the budget), and a
   seeded random walk over orderings, pins and the set of pods to move. Deterministic (fixed
   seed and iteration counts; ``time_limit_s`` only caps it). The best plan wins: drains done,
   then GPU milli, then fewest moves.

Node targets are the usable (schedulable and ready) nodes that are not drained. GPU allocation
is counted on usable nodes only, as ``PackProblem.capacity_milli`` counts capacity.

Where the steps live: 1-5 in ``greedy.py`` (with the solver's state), 6 in ``search.py``, the
"defragment" and "shape" objectives in ``rebalance.py``; this module runs them and builds the result.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..model import format_devices
from .bound import gpu_upper_bound
from .greedy import PlanState, forced_pods, moved_pods, problem_placement, solve_from
from .limits import movable_pods
from .problem import PackProblem, PackResult
from .rebalance import rebalance
from .search import SMALL_NODES, SMALL_PODS, Rank, search_small
from .validate import objective_details

FIRST_SHARE = 0.5          # of the time limit, for the first plan (placing pending pods, forced moves)
FINISH_FACTOR = 2.5        # measuring a plan takes up to about this many times what setting up the first one took


def solve_heuristic(problem: PackProblem) -> PackResult:
    """Place pending pods and, within the move limits, repack movable ones (module doc). The
    whole run keeps within ``problem.time_limit_s``: the first plan gets ``FIRST_SHARE`` of it,
    the later steps stop in time to measure the best plan so far (``_finish_reserve``)."""
    start = time.perf_counter()
    limit = float(problem.time_limit_s)
    whole, problem = problem, problem.in_pool()
    pods = problem.pods
    workload = problem.target_workload()
    state, alloc = solve_from(problem, workload, lift_movable=False, deadline=start + FIRST_SHARE * limit)
    deadline = start + limit - _finish_reserve(limit, state.setup_s)
    plans = [state]
    if problem.max_moves is None and time.perf_counter() < deadline:
        other, other_alloc = solve_from(problem, workload, lift_movable=True, deadline=deadline)
        if other_alloc > alloc:
            plans.append(other)
    best = plans[-1]
    small = len(problem.nodes) <= SMALL_NODES and len(pods) <= SMALL_PODS
    if small and time.perf_counter() < deadline and (best.blocked or best.allocated() < gpu_upper_bound(problem)):
        other = search_small(problem, workload, deadline)
        if other is not None and _rank(other) > _rank(best):
            best = other
    if problem.objective != "allocate":
        rebalance(best, problem, deadline)
    result = _result(problem, best, start, workload)
    if whole is not problem:
        result.details["pool"] = whole.pool
    if time.perf_counter() > deadline:
        result.details["time_limit_reached"] = True
    return result


def _finish_reserve(limit: float, setup_s: float) -> float:
    """Seconds kept from the limit for measuring the plan: a multiple of what setting up the first
    plan took (both grow with the cluster and the machine's load), at most half the limit."""
    return min(0.1 + FINISH_FACTOR * setup_s, 0.5 * limit)


def _rank(state: PlanState) -> Rank:
    where, devs = problem_placement(state)
    return Rank(-len(state.blocked), state.allocated(), -len(moved_pods(state, where, devs)))


def _result(problem: PackProblem, state: PlanState, start: float, workload) -> PackResult:
    pods, t = state.pods, state.table
    keys = PackProblem.key(pods).to_numpy()
    names = state.cluster.names
    where, devs = problem_placement(state)
    placed = np.flatnonzero(state.node_of >= 0)
    placement = pd.DataFrame({"pod": keys[placed], "node": [str(names[state.node_of[p]]) for p in placed],
                              "devices": [format_devices(state.devs[p]) if t.count[p] else "" for p in placed]})
    moved = moved_pods(state, where, devs)
    moves = pd.DataFrame({"pod": keys[moved] if moved else pd.Series(dtype=object),
                          "from_node": [str(names[where[p]]) for p in moved],
                          "from_devices": [format_devices(devs[p]) for p in moved],
                          "to_node": [str(names[state.node_of[p]]) for p in moved],
                          "to_devices": [format_devices(state.devs[p]) for p in moved]})
    frag = float(state.cluster.frag[state.usable].sum()) if state.cluster.frag is not None else 0.0
    unplaced = [str(k) for k in keys[state.node_of < 0]]
    forced = forced_pods(state, where, movable_pods(pods))
    stuck = forced & (state.node_of == where)                  # movable pods a drain could not move
    drained = set(state.drain)
    fixed_on_drain = ~movable_pods(pods) & (where >= 0) & np.isin(names[np.maximum(where, 0)].astype(str), list(drained))
    details = {"moves_voluntary": int(sum(1 for p in moved if not forced[p])),
               "moves_forced": int(sum(1 for p in moved if forced[p]))}
    blocked = sorted(str(k) for k in keys[stuck | fixed_on_drain])
    if blocked:
        details["drain_blocked_by"] = blocked
    status = "INFEASIBLE" if stuck.any() else "heuristic"
    if stuck.any():
        details["note"] = "movable pods on drained nodes fit nowhere else: they stay (see drain_blocked_by)"
    details.update(objective_details(problem, placement, moves))
    return PackResult(placement=placement, unplaced=unplaced, moves=moves, gpu_milli_allocated=state.allocated(),
                      capacity_milli=problem.capacity_milli, frag_gpu_milli=frag, bound_gpu_milli=gpu_upper_bound(problem),
                      solver_status=status, seconds=time.perf_counter() - start, details=details)


