"""An upper bound on the GPU milli any plan can allocate (``PackResult.bound_gpu_milli``).

Allocation is counted on usable (schedulable and ready) nodes. What ends on node n is a subset
of E_n, the pods that could be there after any plan:

* the pods on n now (any of them may stay: unmovable ones must, a drained node's movable pods may
  fail to move);
* if n is a target (usable, not drained), every pending or movable placed pod that may use n on
  its own: its GPU model is allowed, it asks for at most G_n devices, and its CPU and memory fit
  the node's capacity.

So for every plan, node n holds at most

    b_n = min(1000 * G_n,  LP_cpu(n),  LP_mem(n))

where LP_cpu(n) is the fractional knapsack max Σ D_p x_p subject to Σ c_p x_p <= C_n, 0 <= x <= 1
over p in E_n (items by D_p / c_p descending, the last one split), a relaxation of "the pods on
n use at most C_n CPU"; LP_mem likewise with memory. Nodes are grouped by GPU model; a group
holds at most min(Σ_{n in group} b_n, Σ D_p over the pods that may use some node of the group),
and the bound is the sum over groups, capped by Σ D_p over all pods that may end on a usable
node. Every step only relaxes a constraint every plan satisfies, so it is a true upper bound.
CPU uses the placement engine's request (a zero request counts as 100 m), as the solvers do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import GPU_MILLI
from ..placement import Cluster, PodTable
from .problem import PackProblem


EXACT_SIZE = 20_000_000      # pods x usable nodes up to which every node's LP runs over its own pods (else the
                             # shared LP per node kind plus the demand of the pods already there: a looser, still true bound)


def _lp(demand: np.ndarray, weight: np.ndarray, cap: float) -> float:
    """Fractional knapsack: max Σ demand·x with Σ weight·x <= cap."""
    if len(demand) == 0:
        return 0.0
    free = weight <= 0
    total = float(demand[free].sum())
    d, w = demand[~free], weight[~free]
    order = np.argsort(-d / w, kind="stable")
    d, w = d[order], w[order]
    used = np.cumsum(w)
    whole = used <= cap
    total += float(d[whole].sum())
    k = int(whole.sum())
    if k < len(d):
        room = cap - (float(used[k - 1]) if k else 0.0)
        total += float(d[k]) * max(room, 0.0) / float(w[k])
    return total


def gpu_upper_bound(problem: PackProblem) -> int:
    """No plan allocates more GPU milli on usable nodes than this (module doc)."""
    nodes, pods = problem.nodes.reset_index(drop=True), problem.pods.reset_index(drop=True)
    if len(nodes) == 0 or len(pods) == 0:
        return 0
    cluster = Cluster.from_nodes(nodes)
    table = PodTable.from_frame(pods)
    usable = np.ones(len(nodes), dtype=bool)
    for col in ("schedulable", "ready"):
        if col in nodes:
            usable &= nodes[col].fillna(True).astype(bool).to_numpy()
    target = usable & ~nodes["name"].isin(list(problem.drain)).to_numpy(bool)
    node_col = pods["node"].fillna("").astype(str).to_numpy() if "node" in pods else np.full(len(pods), "")
    where = np.where(node_col != "", pd.Index(nodes["name"].astype(str)).get_indexer(node_col), -1)
    movable = pods["movable"].fillna(True).astype(bool).to_numpy() if "movable" in pods else np.ones(len(pods), bool)
    free = (where < 0) | movable                          # may go to any target node
    demand = table.demand.astype(np.float64)
    cpu, mem = table.cpu.astype(np.float64), table.mem.astype(np.float64)
    allowed = {spec: cluster.model_allowed(spec) for spec in set(table.spec.tolist())}
    gpu = table.count > 0

    gpu_demand_pods = demand * gpu
    order = np.argsort(where, kind="stable")
    starts = np.searchsorted(where[order], np.arange(len(nodes) + 1))
    exact = len(pods) * int(usable.sum()) <= EXACT_SIZE
    bounds = np.zeros(len(nodes))
    can_use = np.zeros((len(pods),), dtype=bool)          # may end on some usable node
    group_demand: dict = {}
    cache: dict = {}
    for n in np.flatnonzero(usable):
        here = order[starts[n]:starts[n + 1]]
        here = here[gpu[here]]
        if target[n]:
            key = (cluster.model[n], int(cluster.gpu_count[n]), int(cluster.cpu_cap[n]), float(cluster.mem_cap[n]))
            if key not in cache:
                spec_ok = np.array([allowed[s][n] for s in table.spec]) if len(table.spec) else np.zeros(0, bool)
                ok = free & (cpu <= cluster.cpu_cap[n]) & (mem <= cluster.mem_cap[n])
                ok &= ~gpu | (spec_ok & (table.count <= cluster.gpu_count[n]))
                cache[key] = ok & gpu
                group_demand[cluster.model[n]] = group_demand.get(cluster.model[n], np.zeros(len(pods), bool)) | cache[key]
            shared = cache[key]
            extra = here[~shared[here]]
        else:
            key, shared, extra = None, None, here
        mark = np.zeros(len(pods), bool) if cluster.model[n] not in group_demand else group_demand[cluster.model[n]]
        mark[extra] = True
        group_demand[cluster.model[n]] = mark
        cap = float(cluster.gpu_count[n] * GPU_MILLI)
        if shared is None:
            d = demand[extra]
            bounds[n] = min(cap, _lp(d, cpu[extra], float(cluster.cpu_cap[n])), _lp(d, mem[extra], float(cluster.mem_cap[n])),
                            float(d.sum()))
        elif exact and len(here):
            ok = shared.copy()
            ok[here] = True
            d = demand[ok]
            bounds[n] = min(cap, _lp(d, cpu[ok], float(cluster.cpu_cap[n])), _lp(d, mem[ok], float(cluster.mem_cap[n])),
                            float(d.sum()))
        else:                   # LP(A | B) <= LP(A) + demand(B): the shared LP once per node kind, plus what is here
            lp_key = ("lp", *key)
            if lp_key not in cache:
                d = demand[shared]
                cache[lp_key] = (_lp(d, cpu[shared], float(cluster.cpu_cap[n])), _lp(d, mem[shared], float(cluster.mem_cap[n])),
                                 float(d.sum()))
            more = float(demand[extra].sum())
            bounds[n] = min(cap, *(value + more for value in cache[lp_key]))
    for members in group_demand.values():
        can_use |= members
    total = 0.0
    for group, members in group_demand.items():
        in_group = usable & (cluster.model == group)
        total += min(float(bounds[in_group].sum()), float(gpu_demand_pods[members].sum()))
    return int(np.floor(min(total, float(gpu_demand_pods[can_use].sum())) + 1e-6))
