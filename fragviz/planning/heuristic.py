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
6. Small problems (<= 60 nodes, <= 400 pods) also get a search (``_search_small``): greedy runs
   over several orderings (GPU demand, CPU, memory) and node scorings (tightest device, best fit
   on the binding resource, CPU-sparing), an unlock sweep that pins each large waiting pod to each
   node it may use while an ejection chain moves what is in the way (within the budget), and a
   seeded random walk over orderings, pins and the set of pods to move. Deterministic (fixed
   seed and iteration counts; ``time_limit_s`` only caps it). The best plan wins: drains done,
   then GPU milli, then fewest moves.

Node targets are the usable (schedulable and ready) nodes that are not drained. GPU allocation
is counted on usable nodes only, as ``PackProblem.capacity_milli`` counts capacity.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frag import JobShape, slots
from ..model import GPU_MILLI, NodeState, format_devices, parse_devices
from ..placement import Cluster, Context, PodTable, feasible, make_policy
from ..shared import shared_data
from .bound import gpu_upper_bound
from .limits import MoveTally, movable_pods
from .problem import PackProblem, PackResult
from .validate import objective_details

KNAPSACK_PASSES = 4
REBALANCE_PASSES = 3


class _State:
    """Cluster arrays plus where every pod is (node index or -1, devices)."""

    def __init__(self, problem: PackProblem, workload: pd.DataFrame | None):
        nodes, pods = problem.nodes.reset_index(drop=True), problem.pods.reset_index(drop=True)
        self.nodes, self.pods = nodes, pods
        self.cluster = Cluster.from_nodes(nodes, workload, memory_aware=problem.memory_aware)
        self.table = PodTable.from_frame(pods)
        self.ctx = Context(self.cluster, self.table, np.random.default_rng(0))
        self.fgd = make_policy("fgd", continuous=True)
        usable = _usable(nodes)
        drain = nodes["name"].isin(list(problem.drain)).to_numpy(bool)
        self.drain = tuple(problem.drain)
        self.usable = usable
        self.target = usable & ~drain
        self.forced = np.zeros(len(pods), dtype=bool)        # movable pods placed on a drained node
        self.blocked: list[int] = []                          # forced pods that found no other node
        self.node_of = np.full(len(pods), -1, dtype=np.int64)
        self.devs: list[list[int]] = [[] for _ in range(len(pods))]
        self.tally: MoveTally | None = None                   # set once the original placement is bound

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


def _usable(nodes: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(nodes), dtype=bool)
    for col in ("schedulable", "ready"):
        if col in nodes:
            ok &= nodes[col].fillna(True).astype(bool).to_numpy()
    return ok


def greedy_order(table: PodTable, pods: np.ndarray) -> np.ndarray:
    """Largest first: GPU count, milli per GPU, CPU, descending (stable)."""
    keys = np.lexsort((-table.cpu[pods], -table.milli[pods], -table.count[pods]))
    return pods[keys]


def _original(state: _State) -> tuple[np.ndarray, list[list[int]]]:
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


def _bind_original(state: _State, where: np.ndarray, devs: list[list[int]], skip: np.ndarray | None = None) -> None:
    """Bind the placed pods where they are (explicit devices first, then the rest by best fit)."""
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


def _repack_shares(state: _State, free_pods: np.ndarray, deadline: float) -> None:
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

def _evict_one(state: _State, original: np.ndarray, moved_ok: np.ndarray, deadline: float) -> None:
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


def _evict_for(state: _State, pod: int, nodes: np.ndarray, moved_ok: np.ndarray) -> bool:
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


def _devices_on(state: _State, pod: int, node: int) -> tuple[int, list[int]]:
    c, t = state.cluster, state.table
    k, u = int(t.count[pod]), int(t.milli[pod])
    g = np.where(c.present[node], c.gpu_free[node], -1)
    fit = np.flatnonzero(g >= u)
    if u >= GPU_MILLI:
        return node, fit[:k].tolist()
    return node, [int(fit[np.argmin(g[fit])])]


# -- small problems: many greedy orderings and a search over the pods to move ------------------------

SMALL_NODES, SMALL_PODS = 60, 400
SMALL_ITERATIONS = 6000
STAGNATION = 1500
RESTART = 400


class _Small:
    """A plain-Python copy of a small problem for fast repeated greedy runs. Decided pods are the
    pending ones and the movable placed ones (those on drained nodes always move; the others only
    when the search lifts them, within the budget); the other placed pods are fixed."""

    def __init__(self, state: _State, where: np.ndarray, devs: list[list[int]], movable: np.ndarray):
        t, c = state.table, state.cluster
        self.where, self.devs0 = where, devs
        self.forced = state.forced
        self.pending = [int(p) for p in np.flatnonzero(where < 0)]
        self.liftable = [int(p) for p in np.flatnonzero((where >= 0) & movable & ~state.forced)]
        n = len(c.names)
        self.cpu = [int(x) for x in c.cpu_free]
        self.mem = [float(x) for x in c.mem_free]
        self.gpu = [[int(c.gpu_free[i, d]) for d in range(int(c.gpu_count[i]))] for i in range(n)]
        self.cpu_cap = [max(int(x), 1) for x in c.cpu_cap]
        self.gpu_cap = [max(int(x) * GPU_MILLI, 1) for x in c.gpu_count]
        self.usable = state.usable
        self.p_cpu, self.p_mem = t.cpu.tolist(), t.mem.tolist()
        self.p_k, self.p_u = t.count.tolist(), t.milli.tolist()
        self.demand = (t.count * t.milli).tolist()
        self.residents: dict[int, list[int]] = {}
        for q in sorted(self.liftable, key=lambda q: self.demand[q]):
            self.residents.setdefault(int(where[q]), []).append(q)
        self.allowed: dict[int, list[int]] = {}
        decided = self.pending + self.liftable + [int(p) for p in np.flatnonzero(state.forced)]
        for p in decided:
            ok = state.target.copy()
            if self.p_k[p]:
                ok &= state.ctx.allowed(t.spec[p]) & (c.gpu_count >= self.p_k[p])
            self.allowed[p] = np.flatnonzero(ok).tolist()

    def evaluate(self, lifted: list[int], order: list[int], mode: int, pins: dict | None = None, spare: int = 0,
                 eject_pending: frozenset = frozenset()):
        """Greedy run: lift ``lifted`` (and the forced pods), place ``order`` (lifted and pending
        pods, CPU-only ones last). A pinned pod, a lifted one or a pending one in ``eject_pending``
        that fits nowhere may lift up to ``spare`` more movable pods of smaller demand
        from the node it needs (an ejection chain). Returns (key, placement, lifted) or None if a
        lifted pod is lost."""
        cpu, mem, gpu = self.cpu[:], self.mem[:], [g[:] for g in self.gpu]
        for p in lifted:
            self._add(p, int(self.where[p]), self.devs0[p], cpu, mem, gpu, 1)
        lifted = list(lifted)
        must = set(lifted)
        out: dict[int, tuple[int, list[int]]] = {}
        pins = pins or {}
        queue = list(order)
        i = 0
        while i < len(queue):
            p = queue[i]
            i += 1
            spot = self._choose(p, cpu, mem, gpu, mode, pins.get(p))
            if spot is None and self.p_k[p] and (p in must or p in pins or p in eject_pending):
                ejected = self._eject(p, cpu, mem, gpu, mode, pins.get(p), must, out, spare > 0)
                if ejected is not None:
                    q, spot = ejected
                    if q in out:                                   # a pending pod placed here before: free
                        del out[q]
                        queue.append(q)
                    else:
                        must.add(q)
                        lifted.append(q)
                        queue.insert(i, q)
                        spare -= 1
            if spot is None and p in must:
                spot = self._original_fits(p, cpu, mem, gpu)
                if spot is None:
                    if not self.forced[p]:
                        return None
                    spot = (int(self.where[p]), list(self.devs0[p]))      # a drain that cannot complete
            if spot is None:
                continue
            self._add(p, spot[0], spot[1], cpu, mem, gpu, -1)
            out[p] = spot
        alloc = sum(self.demand[p] for p, (n, _) in out.items() if self.usable[n]) \
            - sum(self.demand[p] for p in lifted if self.usable[self.where[p]])     # the gain over the problem's plan
        moves = sum(1 for p in lifted if out[p][0] != self.where[p] or sorted(out[p][1]) != sorted(self.devs0[p]))
        stuck = sum(1 for p in lifted if self.forced[p] and out[p][0] == self.where[p])
        return (-stuck, alloc, -moves), out, lifted

    def _add(self, p, n, ds, cpu, mem, gpu, sign):
        cpu[n] += sign * self.p_cpu[p]
        mem[n] += sign * self.p_mem[p]
        for d in ds:
            gpu[n][d] += sign * self.p_u[p]

    def _eject(self, p, cpu, mem, gpu, mode, pin, must, out, may_lift):
        """Take one pod of smaller demand off the node ``p`` needs so that ``p`` fits: a pending pod
        placed in this run (free; equal demand will do for a pod that must be placed), else, if
        ``may_lift``, a movable pod still where it was (a move)."""
        need = self.demand[p] + (1 if p in must else 0)
        nodes = self.allowed[p] if pin is None else [pin]
        for n in nodes:
            if self.forced[p] and n == self.where[p]:
                continue
            bumped = [(q, ds) for q, (m, ds) in out.items() if m == n and q not in must and self.demand[q] < need]
            for q, ds in sorted(bumped, key=lambda x: self.demand[x[0]]):
                self._add(q, n, ds, cpu, mem, gpu, 1)
                spot = self._choose(p, cpu, mem, gpu, mode, n)
                if spot is not None:
                    return q, spot
                self._add(q, n, ds, cpu, mem, gpu, -1)
        if not may_lift:
            return None
        for n in nodes:
            if self.forced[p] and n == self.where[p]:
                continue
            for q in self.residents.get(n, ()):
                if q in must or q == p or self.demand[q] >= self.demand[p]:
                    continue
                self._add(q, n, self.devs0[q], cpu, mem, gpu, 1)
                spot = self._choose(p, cpu, mem, gpu, mode, n)
                if spot is not None:
                    return q, spot
                self._add(q, n, self.devs0[q], cpu, mem, gpu, -1)
        return None

    def _original_fits(self, p, cpu, mem, gpu):
        n, ds = int(self.where[p]), self.devs0[p]
        if self.forced[p] or cpu[n] < self.p_cpu[p] or mem[n] < self.p_mem[p]:
            return None
        if any(gpu[n][d] < self.p_u[p] for d in ds):
            return None
        return n, list(ds)

    def _choose(self, p, cpu, mem, gpu, mode, pin=None):
        c, m, k, u = self.p_cpu[p], self.p_mem[p], self.p_k[p], self.p_u[p]
        best, spot = None, None
        for n in (self.allowed[p] if pin is None else [pin]):
            if self.forced[p] and n == self.where[p]:
                continue
            if cpu[n] < c or mem[n] < m:
                continue
            cpu_left = (cpu[n] - c) / self.cpu_cap[n]
            if k == 0:
                key = (sum(gpu[n]) / self.gpu_cap[n], cpu_left)
                ds = []
            else:
                fit = sorted((g, d) for d, g in enumerate(gpu[n]) if g >= u)
                if len(fit) < k:
                    continue
                ds = [d for _, d in fit[:k]]
                gpu_left = (sum(gpu[n]) - k * u) / self.gpu_cap[n]
                if mode == 0:                    # tightest device, then the fullest node
                    key = (sum(g for g, _ in fit[:k]) - k * u, gpu_left, cpu_left)
                elif mode == 1:                  # best fit on the binding resource
                    key = (max(gpu_left, cpu_left), min(gpu_left, cpu_left), fit[0][0])
                else:                            # keep CPU for the GPUs that are left
                    key = (fit[0][0] - u, -cpu_left + gpu_left)
            if best is None or key < best:
                best, spot = key, (n, ds)
        return spot


def _search_small(problem: PackProblem, workload, deadline: float) -> _State | None:
    """Step 6 of the module doc: many greedy runs over orderings, node scorings and sets of pods
    to move; the best plan (no lost pod, drains done, then GPU milli, then fewest moves)."""
    state = _State(problem, workload)
    where, devs = _original(state)
    movable = _movable(state.pods)
    state.forced = _forced(state, where, movable)
    _bind_original(state, where, devs)
    devs = [list(d) for d in state.devs]
    small = _Small(state, where, devs, movable)
    forced = [int(p) for p in np.flatnonzero(state.forced)]
    budget = len(small.liftable) if problem.max_moves is None else min(problem.max_moves, len(small.liftable))
    rng = np.random.default_rng(0)
    t = state.table
    decided = np.array(small.pending + small.liftable + forced, dtype=np.int64)
    gpu_pods = decided[t.count[decided] > 0]
    cpu_pods = decided[t.count[decided] == 0]
    demand, cpu, mem = t.demand.astype(float), t.cpu.astype(float), t.mem.astype(float)
    orders = [np.lexsort((-cpu, -t.milli, -demand)), np.lexsort((-demand, -cpu)), np.lexsort((-demand, -mem)),
              np.lexsort((-cpu, -t.milli, -t.count))]

    def order_of(lifted: list[int], keys: np.ndarray, pins: dict) -> list[int]:
        chosen = set(lifted) | set(small.pending)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[keys] = np.arange(len(keys))
        first = [p for p in pins if p in chosen]
        gpu = [int(p) for p in gpu_pods if int(p) in chosen and int(p) not in pins]
        cpu_only = [int(p) for p in cpu_pods if int(p) in chosen and int(p) not in pins]
        return first + sorted(gpu, key=lambda p: rank[p]) + sorted(cpu_only, key=lambda p: rank[p])

    best = None
    starts = [forced, forced + small.liftable] if problem.max_moves is None else [forced]
    for lifted in starts:
        for keys in orders:
            for mode in (0, 1, 2):
                found = small.evaluate(lifted, order_of(lifted, keys, {}), mode)
                if found is not None and (best is None or found[0] > best[0]):
                    best = (found[0], found[1], found[2], {})
    if best is None:
        return None
    bound = gpu_upper_bound(problem)
    iterations = min(SMALL_ITERATIONS, 60 * max(len(decided), 1))
    base = int(sum(t.demand[p] for p in np.flatnonzero(where >= 0) if state.usable[where[p]]))
    for _ in range(max(budget, 1) + 1):                       # unlock sweep: pin each waiting pod to each node
        improved = _unlock_sweep(small, best, budget, gpu_pods, demand, lambda lifted, pins: order_of(lifted, orders[0], pins),
                                 deadline)
        if improved is None:
            break
        best = improved
    current, quiet = best, 0
    residents = small.residents
    for _ in range(iterations):
        if time.perf_counter() > deadline or base + best[0][1] >= bound:
            break
        if quiet > STAGNATION:
            break
        quiet += 1
        if quiet % RESTART == 0:
            current = best
        voluntary = [p for p in current[2] if not state.forced[p]]
        pins = dict(current[3])
        waiting = sorted((p for p in gpu_pods.tolist() if p not in current[1] and small.allowed[p]),
                         key=lambda p: -demand[p])
        step = rng.random()
        if waiting and step < 0.4:                              # unlock: pin a waiting pod, lift pods where it goes
            target = waiting[int(rng.integers(min(3, len(waiting))))]
            node = small.allowed[target][int(rng.integers(len(small.allowed[target])))]
            pins[target] = node
            here = [q for q in residents.get(node, []) if q not in voluntary]
            rng.shuffle(here)
            if rng.random() < 0.5:                              # else the ejection chain picks the pods to move
                room = budget - len(voluntary)
                if len(here) > room and rng.random() < 0.5:    # make room: drop earlier lifts
                    voluntary = voluntary[:max(budget - len(here), 0)]
                    room = budget - len(voluntary)
                voluntary = voluntary + here[:int(rng.integers(max(room, 0) + 1))]
        elif budget > 0 and small.liftable and step < 0.8:
            voluntary = list(voluntary)
            move = rng.random()
            if voluntary and (move < 0.3 or len(voluntary) >= budget):
                voluntary.pop(int(rng.integers(len(voluntary))))
            if len(voluntary) < budget and move > 0.1:
                q = small.liftable[int(rng.integers(len(small.liftable)))]
                if q not in voluntary:
                    voluntary.append(q)
        elif pins and rng.random() < 0.5:
            pins.pop(list(pins)[int(rng.integers(len(pins)))])
        lifted = forced + voluntary
        noise = np.exp(rng.normal(0.0, 0.25, len(demand)))
        keys = np.lexsort((-cpu * noise, -demand * noise)) if rng.random() < 0.5 else \
            np.lexsort((-(demand + 1) * noise,))
        spare = max(budget - len(voluntary), 0)
        eject = frozenset(p for p in waiting if rng.random() < 0.5)
        found = small.evaluate(lifted, order_of(lifted, keys, pins), int(rng.integers(3)), pins, spare, eject)
        if found is None:
            continue
        if found[0][:2] >= current[0][:2]:                       # walk on GPU milli; moves only rank the best
            current = (found[0], found[1], found[2], pins)
        if found[0] > best[0]:
            best, quiet = (found[0], found[1], found[2], pins), 0
    out = _State(problem, workload)
    out.forced = state.forced
    placed = best[1]
    keep = (where >= 0) & ~np.isin(np.arange(len(where)), list(placed))
    _bind_original(out, where, devs, skip=~keep)
    for p, (n, ds) in placed.items():
        out.bind(p, n, ds)
    out.blocked = [p for p in forced if placed[p][0] == where[p]]
    out.start_tally(problem, where, devs)
    return out if out.tally.within() else None                # GPU or PDB limits: the search does not see them


def _unlock_sweep(small: _Small, best: tuple, budget: int, gpu_pods: np.ndarray, demand: np.ndarray, order_of,
                  deadline: float) -> tuple | None:
    """One round of pinning each of the largest waiting pods to each node it may use (the
    ejection chain moves what is in the way); the best strictly better plan, or None."""
    waiting = [p for p in gpu_pods.tolist() if p not in best[1] and small.allowed[p]]
    waiting = sorted(waiting, key=lambda p: -demand[p])
    shapes, targets = set(), []
    for p in waiting:
        shape = (small.p_k[p], small.p_u[p], small.p_cpu[p], tuple(small.allowed[p]))
        if shape not in shapes:
            shapes.add(shape)
            targets.append(p)
    found_best = None
    lifted = list(best[2])
    voluntary = [p for p in lifted if not small.forced[p]]
    spare = max(budget - len(voluntary), 0)
    for p in targets[:5]:
        for n in small.allowed[p]:
            if time.perf_counter() > deadline:
                return found_best
            pins = {**best[3], p: n}
            order = order_of(lifted, pins)
            for mode in (0, 2):
                for eject in (frozenset(), frozenset(waiting)):
                    found = small.evaluate(lifted, order, mode, pins, spare, eject)
                    if found is not None and found[0] > (found_best or best)[0]:
                        found_best = (found[0], found[1], found[2], pins)
    return found_best


def _moves(state: _State, where: np.ndarray, devs: list[list[int]]) -> int:
    t = state.table
    return sum(1 for p in np.flatnonzero(where >= 0)
               if state.node_of[p] != where[p] or (t.count[p] and sorted(state.devs[p]) != sorted(devs[p])))


# -- the solver ---------------------------------------------------------------------------------------

def _solve_from(problem: PackProblem, workload, lift_movable: bool, deadline: float) -> tuple[_State, int]:
    """One candidate plan. ``lift_movable``: every movable placed pod is re-placed from scratch
    (originally placed ones first, so that nothing is lost), else placed pods stay. A plan that
    loses a pod or breaks a move limit returns -1."""
    state = _State(problem, workload)
    t = state.table
    where, devs = _original(state)
    movable = _movable(state.pods)
    state.forced = _forced(state, where, movable)
    if lift_movable:
        lifted = (where >= 0) & movable
        _bind_original(state, where, devs, skip=lifted)
        state.start_tally(problem, where, devs)
        for p in greedy_order(t, np.flatnonzero(lifted)):
            if not state.place(int(p)):
                return state, -1                                  # would lose a pod
        free_pods = where < 0
    else:
        _bind_original(state, where, devs)
        state.start_tally(problem, where, devs)
        for p in greedy_order(t, np.flatnonzero(state.forced)):                        # forced moves: no budget
            node, d = int(state.node_of[p]), list(state.devs[p])
            if not state.tally.may_move(int(p)):                                         # its PDB allows no more
                state.blocked.append(int(p))
                continue
            state.unbind(int(p))
            if not state.place(int(p), exclude=node):
                state.bind(int(p), node, d)
                state.blocked.append(int(p))
        free_pods = where < 0
    pending = np.flatnonzero(where < 0)
    for p in greedy_order(t, pending[t.count[pending] > 0]):
        state.place(int(p))
    _repack_shares(state, free_pods, deadline)
    moved_ok = (movable & (where >= 0) & ~lift_movable) | free_pods
    _evict_one(state, where, moved_ok, deadline)
    _repack_shares(state, free_pods, deadline)
    for p in greedy_order(t, pending[t.count[pending] == 0]):   # CPU-only pods last: they take no GPU
        state.place(int(p))
    if not state.tally.within():
        return state, -1
    return state, state.allocated()


def _forced(state: _State, where: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """Movable pods placed on a drained node: they must move, and their moves use no budget."""
    drain = state.nodes["name"].isin(list(state.drain)).to_numpy(bool)
    return (where >= 0) & movable & drain[np.maximum(where, 0)]


def _movable(pods: pd.DataFrame) -> np.ndarray:
    return movable_pods(pods)


def solve_heuristic(problem: PackProblem) -> PackResult:
    """Place pending pods and, within the move limits, repack movable ones (module doc)."""
    start = time.perf_counter()
    deadline = start + max(problem.time_limit_s, 1.0) * 0.9
    pods = problem.pods
    workload = problem.target_workload()
    state, alloc = _solve_from(problem, workload, lift_movable=False, deadline=deadline)
    plans = [state]
    if problem.max_moves is None and time.perf_counter() < deadline:
        other, other_alloc = _solve_from(problem, workload, lift_movable=True, deadline=deadline)
        if other_alloc > alloc:
            plans.append(other)
    best = plans[-1]
    small = len(problem.nodes) <= SMALL_NODES and len(pods) <= SMALL_PODS
    if small and time.perf_counter() < deadline and (best.blocked or best.allocated() < gpu_upper_bound(problem)):
        other = _search_small(problem, workload, deadline)
        if other is not None and _rank(other) > _rank(best):
            best = other
    if problem.objective != "allocate":
        _rebalance(best, problem, deadline)
    return _result(problem, best, start, workload)


# -- rebalancing: the "defragment" and "shape" objectives -----------------------------------------------

def _objective(state: _State, problem: PackProblem) -> tuple:
    """The rebalancing objective, larger is better: (partly used GPU nodes, fragmentation) negated,
    preceded for "shape" by the jobs of the target shape that fit."""
    c = state.cluster
    capacity = c.gpu_count * GPU_MILLI
    used = capacity - c.gpu_free.sum(axis=1)
    partly = int(((used > 0) & (used < capacity) & state.usable).sum())
    frag = float(c.frag[state.usable].sum()) if c.frag is not None else 0.0
    key = (-partly, -round(frag, 6))
    if problem.objective == "shape":
        return (int(_shape_slots(state, problem.target_shape).sum()), *key)
    return key


def _shape_slots(state: _State, shape: JobShape) -> np.ndarray:
    c = state.cluster
    view = NodeState(names=c.names, cpu_free=c.cpu_free, mem_free=c.mem_free, gpu_free=c.gpu_free, gpu_present=c.present,
                     gpu_count=c.gpu_count, gpu_model=c.model, usable=state.target)
    return slots(view, shape)


def _rebalance(state: _State, problem: PackProblem, deadline: float) -> None:
    """Moves that improve the objective, within the move limits: empty whole GPU nodes (cheapest
    first) onto nodes already in use, then consolidate shared GPUs onto partly used devices.
    A step is kept only if every pod it lifts lands again, the limits hold and the objective gains."""
    c, t = state.cluster, state.table
    movable = _movable(state.pods) | (state.tally.where < 0)     # pods the solver placed itself move for free
    capacity = c.gpu_count * GPU_MILLI
    key = _objective(state, problem)
    candidates = state.target.copy()
    if problem.objective == "shape":                            # only nodes the shape could use once emptied
        candidates &= _could_host(state, problem.target_shape)
    for _ in range(REBALANCE_PASSES):                           # a node that could not empty may, once others did
        start_key = key
        used = capacity - c.gpu_free.sum(axis=1)
        order = np.lexsort((np.bincount(np.maximum(state.node_of, 0), minlength=len(used)), used))
        for node in order.tolist():
            if time.perf_counter() > deadline:
                return
            used_now = int(capacity[node] - c.gpu_free[node].sum())
            if not candidates[node] or capacity[node] == 0 or not 0 < used_now < capacity[node]:
                continue
            here = np.flatnonzero(state.node_of == node)
            lift = here if problem.objective == "shape" else here[t.count[here] > 0]
            if not movable[here[t.count[here] > 0]].all():
                continue                                         # an unmovable GPU pod keeps the node in use
            lift = lift[movable[lift]]
            busy = capacity - c.gpu_free.sum(axis=1) > 0
            closed = ~busy & (capacity > 0)                       # do not spread onto empty GPU nodes
            closed[node] = True
            key = _try_step(state, problem, lift, closed, None, key)
        if key == start_key:
            break
    for node, dev in _partial_devices(state, movable):
        if time.perf_counter() > deadline:
            return
        lift = np.array([p for p in np.flatnonzero(state.node_of == node) if t.count[p] == 1 and state.devs[p] == [dev]
                         and t.milli[p] < GPU_MILLI], dtype=np.int64)
        if len(lift) == 0 or not movable[lift].all():
            continue
        full_free = c.present & (c.gpu_free >= GPU_MILLI)
        full_free[node, dev] = True                               # not back onto itself, nor onto an idle device
        key = _try_step(state, problem, lift, np.zeros(len(c.names), dtype=bool), full_free, key)


def _could_host(state: _State, shape: JobShape) -> np.ndarray:
    """Nodes where at least one job of ``shape`` fits when they are empty."""
    c = state.cluster
    ok = (c.cpu_cap >= shape.cpu_milli) & (c.mem_cap >= shape.memory_mib) & c.model_allowed(shape.gpu_spec)
    return ok & (c.gpu_count >= shape.gpu_count) if shape.gpu_count else ok


def _partial_devices(state: _State, movable: np.ndarray) -> list[tuple[int, int]]:
    """Devices holding only movable shares, least used first."""
    c = state.cluster
    used = np.where(c.present, GPU_MILLI - c.gpu_free, 0)
    nodes, devs = np.nonzero((used > 0) & (used < GPU_MILLI) & state.target[:, None])
    order = np.argsort(used[nodes, devs], kind="stable")
    return [(int(nodes[i]), int(devs[i])) for i in order]


def _try_step(state: _State, problem: PackProblem, lift: np.ndarray, closed_nodes: np.ndarray,
              closed_devices: np.ndarray | None, key: tuple) -> tuple:
    """Lift ``lift`` and place it again away from ``closed_nodes`` / ``closed_devices``; keep the
    step if everything lands, the limits hold and the objective beats ``key``. Returns the key."""
    if len(lift) == 0:
        return key
    c = state.cluster
    saved = [(int(p), int(state.node_of[p]), list(state.devs[p])) for p in lift]
    target, present = state.target.copy(), c.present.copy()
    for p, _, _ in saved:
        state.unbind(p)
    state.target &= ~closed_nodes
    if closed_devices is not None:
        c.present &= ~closed_devices
    placed, ok = [], True
    for p in greedy_order(state.table, lift):
        if not state.place(int(p)):
            ok = False
            break
        placed.append(int(p))
    state.target, c.present = target, present
    if ok and state.tally.within():
        new_key = _objective(state, problem)
        # "shape": every move must buy a job slot, else a small budget goes on partly used nodes
        if new_key > key and (problem.objective != "shape" or new_key[0] > key[0]):
            return new_key
    for p in placed:
        state.unbind(p)
    for p, node, devices in saved:
        state.bind(p, node, devices)
    return key


def _rank(state: _State) -> tuple:
    where, devs = _original(state)
    return -len(state.blocked), state.allocated(), -_moves(state, where, devs)


def _result(problem: PackProblem, state: _State, start: float, workload) -> PackResult:
    pods, t = state.pods, state.table
    keys = PackProblem.key(pods).to_numpy()
    names = state.cluster.names
    where, devs = _original(state)
    placed = np.flatnonzero(state.node_of >= 0)
    placement = pd.DataFrame({"pod": keys[placed], "node": [str(names[state.node_of[p]]) for p in placed],
                              "devices": [format_devices(state.devs[p]) if t.count[p] else "" for p in placed]})
    moved = [p for p in np.flatnonzero(where >= 0)
             if state.node_of[p] != where[p] or (t.count[p] and sorted(state.devs[p]) != sorted(devs[p]))]
    moves = pd.DataFrame({"pod": keys[moved] if moved else pd.Series(dtype=object),
                          "from_node": [str(names[where[p]]) for p in moved],
                          "from_devices": [format_devices(devs[p]) for p in moved],
                          "to_node": [str(names[state.node_of[p]]) for p in moved],
                          "to_devices": [format_devices(state.devs[p]) for p in moved]})
    frag = float(state.cluster.frag[state.usable].sum()) if state.cluster.frag is not None else 0.0
    unplaced = [str(k) for k in keys[state.node_of < 0]]
    forced = _forced(state, where, _movable(pods))
    stuck = forced & (state.node_of == where)                  # movable pods a drain could not move
    drained = set(state.drain)
    fixed_on_drain = ~_movable(pods) & (where >= 0) & np.isin(names[np.maximum(where, 0)].astype(str), list(drained))
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


# -- the openb 130 % problem (tests, bench) -------------------------------------------------------------

def shared_openb_dir() -> Path:
    """``$FRAGVIZ_SHARED/data/openb`` (see fragviz.shared)."""
    return shared_data("openb")


def order_pods(trace: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The pods named in a replay_order pods file: ``<pod>`` rows of ``trace`` and clones
    ``<pod>-tuned-<i>`` copying the named pod (all pending)."""
    rows = pd.Index(trace["name"].astype(str))
    base = [name.split("-tuned-")[0] for name in names]
    pos = rows.get_indexer(base)
    if (pos < 0).any():
        raise InputError(f"pod '{names[int(np.flatnonzero(pos < 0)[0])]}' of the order file is not in the trace")
    pods = trace.iloc[pos].copy()
    pods["name"] = names
    return pods.reset_index(drop=True)


def read_order_names(path) -> list[str]:
    import gzip
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def openb_tuned_problem(openb_dir=None, trace: str = "default", seed: int = 42, **options) -> PackProblem:
    """The 1,213 openb GPU nodes, empty, and the pending pods of ``replay_order/<trace>/seed<S>.pods.txt.gz``
    (the 130 % pod set of the paper's replay)."""
    from ..model import Snapshot
    from ..sources import openb
    folder = Path(openb_dir) if openb_dir is not None else shared_openb_dir()
    nodes = openb.read_nodes(folder / "openb_node_list_gpu_node.csv")
    trace_pods = openb.read_pods(folder / f"openb_pod_list_{trace}.csv")
    pods = order_pods(trace_pods, read_order_names(folder / "replay_order" / trace / f"seed{seed}.pods.txt.gz"))
    snapshot = Snapshot.build(nodes, pods, "2023-01-01T00:00Z", source="openb tuned")
    return PackProblem(snapshot.nodes, snapshot.pods, **options)
