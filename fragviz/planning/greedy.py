"""Steps 1-5 of the packing heuristic (heuristic.py): the solver's state, binding the problem's
placement, largest-first greedy placement (FGD for whole GPUs and CPU-only pods, global best fit
for shares), the per-device knapsack over shared-GPU pods and single evictions under a budget.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import GPU_MILLI, format_devices, parse_devices
from ..placement import Cluster, Context, PodTable, feasible, make_policy
from .limits import MoveTally, movable_pods
from .problem import PackProblem

KNAPSACK_PASSES = 4


class PlanState:
    """Cluster arrays plus where every pod is (node index or -1, devices)."""

    def __init__(self, problem: PackProblem, workload: pd.DataFrame | None):
        nodes, pods = problem.nodes.reset_index(drop=True), problem.pods.reset_index(drop=True)
        self.nodes, self.pods = nodes, pods
        self.cluster = Cluster.from_nodes(nodes, workload, memory_aware=problem.memory_aware)
        self.table = PodTable.from_frame(pods)
        self.ctx = Context(self.cluster, self.table, np.random.default_rng(0))
        self.fgd = make_policy("fgd", continuous=True)
        usable = usable_nodes(nodes)
        drain = nodes["name"].isin(list(problem.drain)).to_numpy(bool)
        self.drain = tuple(problem.drain)
        self.usable = usable
        self.target = usable & ~drain
        self.forced = np.zeros(len(pods), dtype=bool)        # movable pods placed on a drained node
        self.blocked: list[int] = []                          # forced pods that found no other node
        self.node_of = np.full(len(pods), -1, dtype=np.int64)
        self.devs: list[list[int]] = [[] for _ in range(len(pods))]
        self.tally: MoveTally | None = None                   # set once the original placement is bound
        self.group, self.home = problem.home_groups()       # a placed pod stays in its pool and GPU model
        self.setup_s = 0.0                                    # seconds to build this state and bind the placement

    def bind(self, pod: int, node: int, devices: list[int]) -> None:
        t = self.table
        self.cluster.bind(node, int(t.cpu[pod]), float(t.mem[pod]), int(t.milli[pod]), devices, int(t.tag[pod]))
        self.node_of[pod], self.devs[pod] = node, list(devices)
        if self.tally is not None:
            self.tally.update(pod, node, devices)

    def unbind(self, pod: int) -> None:
        t, node = self.table, int(self.node_of[pod])
        self.cluster.bind(node, -int(t.cpu[pod]), -float(t.mem[pod]), -int(t.milli[pod]), self.devs[pod], 0)
        self.node_of[pod], self.devs[pod] = -1, []
        if self.tally is not None:
            self.tally.update(pod, -1, [])

    def start_tally(self, problem: PackProblem, where: np.ndarray, devs: list[list[int]]) -> None:
        """Count moves from here on against the problem's limits (limits.py)."""
        self.tally = MoveTally(problem, where, devs, self.forced, self.table.count * self.table.milli)
        for p in np.flatnonzero(self.node_of >= 0):
            self.tally.update(int(p), int(self.node_of[p]), self.devs[p])

    def candidates(self, pod: int, exclude: int = -1) -> np.ndarray:
        nodes = feasible(self.ctx, pod)
        nodes = nodes[self.target[nodes]]
        if self.home[pod] >= 0:
            nodes = nodes[self.group[nodes] == self.home[pod]]
        return nodes[nodes != exclude] if exclude >= 0 else nodes

    def choose(self, pod: int, exclude: int = -1) -> tuple[int, list[int]]:
        """Where the greedy puts ``pod`` now: (node, devices) or (-1, [])."""
        nodes = self.candidates(pod, exclude)
        if len(nodes) == 0:
            return -1, []
        c, t = self.cluster, self.table
        k, u = int(t.count[pod]), int(t.milli[pod])
        if k == 1 and u < GPU_MILLI:                      # global best fit over devices
            g = np.where(c.present[nodes] & (c.gpu_free[nodes] >= u), c.gpu_free[nodes], GPU_MILLI + 1)
            tight = g.min(axis=1)
            row = int(np.argmin(tight))
            return int(nodes[row]), [int(np.argmin(g[row]))]
        if len(nodes) == 1:
            node = int(nodes[0])
        else:
            scores = self.fgd.scores(self.ctx, pod, nodes)
            node = int(nodes[np.argmax(scores)])
        if k == 0:
            return node, []
        idle = np.flatnonzero(c.present[node] & (c.gpu_free[node] >= GPU_MILLI))
        return node, idle[:k].tolist()

    def place(self, pod: int, exclude: int = -1) -> bool:
        node, devices = self.choose(pod, exclude)
        if node < 0:
            return False
        self.bind(pod, node, devices)
        return True

    def allocated(self) -> int:
        c = self.cluster
        return int(((c.gpu_count * GPU_MILLI - c.gpu_free.sum(axis=1)) * self.usable).sum())


def usable_nodes(nodes: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(nodes), dtype=bool)
    for col in ("schedulable", "ready"):
        if col in nodes:
            ok &= nodes[col].fillna(True).astype(bool).to_numpy()
    return ok


def greedy_order(table: PodTable, pods: np.ndarray) -> np.ndarray:
    """Largest first: GPU count, milli per GPU, CPU, descending (stable)."""
    keys = np.lexsort((-table.cpu[pods], -table.milli[pods], -table.count[pods]))
    return pods[keys]


def problem_placement(state: PlanState) -> tuple[np.ndarray, list[list[int]]]:
    """Where each pod is in the problem: node index (-1 pending) and devices."""
    pods, nodes = state.pods, state.nodes
    node_col = pods["node"].fillna("").astype(str) if "node" in pods else pd.Series([""] * len(pods))
    index = pd.Index(nodes["name"].astype(str))
    where = np.where(node_col.to_numpy() != "", index.get_indexer(node_col), -1).astype(np.int64)
    unknown = (node_col.to_numpy() != "") & (where < 0)
    if unknown.any():
        raise InputError(f"pod '{pods['name'].iloc[int(np.flatnonzero(unknown)[0])]}' is placed on an unknown node")
    dev_col = pods["devices"] if "devices" in pods else pd.Series([""] * len(pods))
    devs = [parse_devices(d) if where[i] >= 0 else [] for i, d in enumerate(dev_col)]
    return where, devs


def bind_original(state: PlanState, where: np.ndarray, devs: list[list[int]], skip: np.ndarray | None = None) -> None:
    """Bind the placed pods where they are (explicit devices first, then the rest by best fit).
    The fragmentation of each node is measured once at the end, not after every pod."""
    c = state.cluster
    model, c.frag_model = c.frag_model, None
    try:
        _bind_original(state, where, devs, skip)
    finally:
        c.frag_model = model
        if model is not None:
            c.frag = model.node_frag(c.cpu_free, c.gpu_free, c.model_code, c.mem_free)


def _bind_original(state: PlanState, where: np.ndarray, devs: list[list[int]], skip: np.ndarray | None) -> None:
    t, c = state.table, state.cluster
    placed = np.flatnonzero(where >= 0)
    if skip is not None:
        placed = placed[~skip[placed]]
    explicit = [p for p in placed if t.count[p] == 0 or devs[p]]
    implicit = [p for p in placed if t.count[p] > 0 and not devs[p]]
    for p in explicit:
        d = devs[p] if t.count[p] else []
        if len(d) != t.count[p] or any(not 0 <= i < c.gpu_count[where[p]] for i in d):
            raise InputError(f"pod '{t.names[p]}': devices {format_devices(d)} do not fit node '{c.names[where[p]]}'")
        state.bind(int(p), int(where[p]), d)
    for p in implicit:
        node, u, k = int(where[p]), int(t.milli[p]), int(t.count[p])
        g = np.where(c.present[node], c.gpu_free[node], -1)
        fit = np.flatnonzero(g >= u)
        if len(fit) < k:
            raise InputError(f"pod '{t.names[p]}' does not fit the devices of node '{c.names[node]}'")
        state.bind(int(p), node, fit[:k].tolist() if u >= GPU_MILLI else [int(fit[np.argmin(g[fit])])])


# -- knapsack over shared pods ---------------------------------------------------------------------

def _knapsack(milli: np.ndarray, cpu: np.ndarray, cap: int, cpu_budget: float) -> list[int]:
    """0/1 knapsack: the items with the largest milli sum <= ``cap`` (fewest CPU among equal sums)
    whose CPU fits ``cpu_budget``. Returns item indices."""
    inf = np.iinfo(np.int64).max // 4
    best = np.full(cap + 1, inf, dtype=np.int64)
    best[0] = 0
    took = np.zeros((len(milli), cap + 1), dtype=bool)
    for i, (m, c) in enumerate(zip(milli.tolist(), cpu.tolist())):
        if m > cap:
            continue
        shifted = best[:cap + 1 - m] + c
        better = shifted < best[m:]
        took[i, m:] = better
        best[m:] = np.where(better, shifted, best[m:])
    reachable = np.flatnonzero(best <= cpu_budget)
    s = int(reachable.max())
    chosen = []
    for i in range(len(milli) - 1, -1, -1):
        if s > 0 and took[i, s]:
            chosen.append(i)
            s -= int(milli[i])
    return chosen[::-1]


def _repack_shares(state: PlanState, free_pods: np.ndarray, deadline: float) -> None:
    """Step 3 of the module doc: per-device knapsack over shares the solver may move (``free_pods``:
    bool per pod) and the unplaced shares."""
    t, c = state.table, state.cluster
    share = (t.count == 1) & (t.milli < GPU_MILLI)
    spec_nodes = {spec: c.model_allowed(spec) for spec in set(t.spec[share].tolist())}
    for _ in range(KNAPSACK_PASSES):
        gained = 0
        pool = np.flatnonzero(share & (state.node_of < 0))
        if len(pool) == 0:
            return
        for node in np.flatnonzero(state.target & (c.gpu_count > 0)):
            if time.perf_counter() > deadline:
                return
            allowed_pool = pool[[bool(spec_nodes[s][node]) for s in t.spec[pool]]] if len(pool) else pool
            allowed_pool = allowed_pool[state.node_of[allowed_pool] < 0]
            for dev in range(int(c.gpu_count[node])):
                mine = np.flatnonzero((state.node_of == node) & share & free_pods)
                mine = np.array([p for p in mine if state.devs[p][0] == dev], dtype=np.int64)
                cap = int(c.gpu_free[node, dev] + t.milli[mine].sum())
                if cap == 0 or (len(allowed_pool) == 0 and len(mine) == 0):
                    continue
                candidates = np.concatenate([mine, _pool_sample(t, allowed_pool, cap)])
                cpu_budget = float(c.cpu_free[node] + t.cpu[mine].sum())
                chosen = candidates[_knapsack(t.milli[candidates], t.cpu[candidates], cap, cpu_budget)]
                new, old = int(t.milli[chosen].sum()), int(t.milli[mine].sum())
                if new <= old:
                    continue
                if c.mem_free[node] + t.mem[mine].sum() < t.mem[chosen].sum():
                    continue
                for p in mine:
                    state.unbind(int(p))
                for p in chosen:
                    state.bind(int(p), int(node), [dev])
                gained += new - old
                allowed_pool = np.concatenate([allowed_pool[state.node_of[allowed_pool] < 0],
                                               [p for p in mine if state.node_of[p] < 0]]).astype(np.int64)
        if gained == 0:
            return


def _pool_sample(t: PodTable, pool: np.ndarray, cap: int) -> np.ndarray:
    """For each milli value, the pool pods with the least CPU, as many as could share one device."""
    if len(pool) == 0:
        return pool
    fits = pool[t.milli[pool] <= cap]
    order = fits[np.lexsort((t.cpu[fits], t.milli[fits]))]
    milli = t.milli[order]
    rank = np.arange(len(order)) - np.searchsorted(milli, milli)     # position within its milli value
    return order[rank < cap // np.maximum(milli, 1)]


# -- evictions under a budget ------------------------------------------------------------------------

def _evict_one(state: PlanState, original: np.ndarray, moved_ok: np.ndarray, deadline: float) -> None:
    """Step 5: an unplaced GPU pod takes a node after one pod there (whose CPU, memory or devices
    it lacks) moves to another node. Each success allocates the
    waiting pod's GPU milli more (the moved pod keeps its own). One try per pod shape."""
    t, c = state.table, state.cluster
    waiting = np.flatnonzero((state.node_of < 0) & (t.count > 0) & (original < 0))
    failed: set = set()
    for pod in greedy_order(t, waiting):
        if time.perf_counter() > deadline:
            return
        if int(t.shape[pod]) in failed:
            continue
        k, u = int(t.count[pod]), int(t.milli[pod])
        gpu_fit = np.ones(len(c.names), dtype=bool)       # whole GPUs: free devices, CPU or memory
        if u < GPU_MILLI:                                  # shares: CPU or memory (devices are the knapsack's work)
            gpu_fit = (((c.gpu_free >= u) & c.present).sum(axis=1) >= k) & ((c.cpu_free < t.cpu[pod]) | (c.mem_free < t.mem[pod]))
        blocked = np.flatnonzero(state.ctx.allowed(t.spec[pod]) & state.target & (c.gpu_count >= k) & gpu_fit)
        if not _evict_for(state, int(pod), blocked, moved_ok):
            failed.add(int(t.shape[pod]))


def _evict_for(state: PlanState, pod: int, nodes: np.ndarray, moved_ok: np.ndarray) -> bool:
    t, c = state.table, state.cluster
    for node in nodes.tolist():
        residents = np.flatnonzero((state.node_of == node) & moved_ok)
        need_cpu, need_mem = t.cpu[pod] - c.cpu_free[node], t.mem[pod] - c.mem_free[node]
        residents = residents[(t.cpu[residents] >= need_cpu) & (t.mem[residents] >= need_mem)]
        k, u = int(t.count[pod]), int(t.milli[pod])
        for q in residents[np.argsort(t.demand[residents], kind="stable")].tolist():
            if not state.tally.may_move(q):              # a pod the solver placed itself moves for free
                continue
            g = np.where(c.present[node], c.gpu_free[node], -1)
            g[state.devs[q]] += int(t.milli[q])
            if k and int((g >= u).sum()) < k:                  # moving q would not free the devices
                continue
            was_devs = list(state.devs[q])
            state.unbind(q)
            if node in feasible(state.ctx, pod):
                state.bind(pod, *_devices_on(state, pod, node))
                if state.place(q, exclude=node):
                    return True
                state.unbind(pod)
            state.bind(q, node, was_devs)
    return False


def _devices_on(state: PlanState, pod: int, node: int) -> tuple[int, list[int]]:
    c, t = state.cluster, state.table
    k, u = int(t.count[pod]), int(t.milli[pod])
    g = np.where(c.present[node], c.gpu_free[node], -1)
    fit = np.flatnonzero(g >= u)
    if u >= GPU_MILLI:
        return node, fit[:k].tolist()
    return node, [int(fit[np.argmin(g[fit])])]


def moved_pods(state: PlanState, where: np.ndarray, devs: list[list[int]]) -> list[int]:
    """The pods placed in the problem (``where``, ``devs``) that the plan puts on another node or
    other devices."""
    t = state.table
    return [int(p) for p in np.flatnonzero(where >= 0)
            if state.node_of[p] != where[p] or (t.count[p] and sorted(state.devs[p]) != sorted(devs[p]))]


# -- the solver ---------------------------------------------------------------------------------------

def solve_from(problem: PackProblem, workload, lift_movable: bool, deadline: float) -> tuple[PlanState, int]:
    """One candidate plan. ``lift_movable``: every movable placed pod is re-placed from scratch
    (originally placed ones first, so that nothing is lost), else placed pods stay. A plan that
    loses a pod or breaks a move limit returns -1."""
    began = time.perf_counter()
    state = PlanState(problem, workload)
    t = state.table
    where, devs = problem_placement(state)
    movable = movable_pods(state.pods)
    state.forced = forced_pods(state, where, movable)
    if lift_movable:
        lifted = (where >= 0) & movable
        bind_original(state, where, devs, skip=lifted)
        state.start_tally(problem, where, devs)
        for p in greedy_order(t, np.flatnonzero(lifted)):
            if time.perf_counter() > deadline or not state.place(int(p)):
                return state, -1                                  # would lose a pod, or out of time
        free_pods = where < 0
    else:
        bind_original(state, where, devs)
        state.start_tally(problem, where, devs)
        for p in greedy_order(t, np.flatnonzero(state.forced)):                        # forced moves: no budget
            node, d = int(state.node_of[p]), list(state.devs[p])
            if time.perf_counter() > deadline or not state.tally.may_move(int(p)):    # out of time, or its PDB allows no more
                state.blocked.append(int(p))
                continue
            state.unbind(int(p))
            if not state.place(int(p), exclude=node):
                state.bind(int(p), node, d)
                state.blocked.append(int(p))
        free_pods = where < 0
    state.setup_s = time.perf_counter() - began
    pending = np.flatnonzero(where < 0)
    for p in greedy_order(t, pending[t.count[pending] > 0]):
        if time.perf_counter() > deadline:
            break                                                  # out of time: the rest stays pending
        state.place(int(p))
    _repack_shares(state, free_pods, deadline)
    moved_ok = (movable & (where >= 0) & ~lift_movable) | free_pods
    _evict_one(state, where, moved_ok, deadline)
    _repack_shares(state, free_pods, deadline)
    for p in greedy_order(t, pending[t.count[pending] == 0]):   # CPU-only pods last: they take no GPU
        if time.perf_counter() > deadline:
            break
        state.place(int(p))
    if not state.tally.within():
        return state, -1
    return state, state.allocated()


def forced_pods(state: PlanState, where: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """Movable pods placed on a drained node: they must move, and their moves use no budget."""
    drain = state.nodes["name"].isin(list(state.drain)).to_numpy(bool)
    return (where >= 0) & movable & drain[np.maximum(where, 0)]
