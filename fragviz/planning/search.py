"""Step 6 of the packing heuristic (heuristic.py), for small problems: greedy runs over several
orderings and node scorings, an unlock sweep with ejection chains, and a seeded random walk over
orderings, pins and the set of pods to move.
"""

from __future__ import annotations

import time
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from ..model import GPU_MILLI
from .bound import gpu_upper_bound
from .greedy import PlanState, bind_original, forced_pods, problem_placement
from .limits import movable_pods
from .problem import PackProblem

# -- small problems: many greedy orderings and a search over the pods to move ------------------------

SMALL_NODES, SMALL_PODS = 60, 400
SMALL_ITERATIONS = 6000
STAGNATION = 1500
RESTART = 400


class Scoring(IntEnum):
    """How a greedy run of the search ranks the nodes a GPU pod fits on (smallest key wins).
    CPU-only pods always take the node with the least idle GPU share, then the least CPU left."""

    TIGHTEST_DEVICE = 0       # the least milli left on the chosen devices, then the fullest node
    BINDING_RESOURCE = 1      # best fit on whichever of GPU and CPU the node has less of, as a share
    SPARE_CPU = 2             # the tightest device, then keep CPU for the GPUs that are left


class Spot(NamedTuple):
    """Where a pod goes: a node and its devices (empty for CPU-only pods)."""

    node: int
    devices: list[int]


class Rank(NamedTuple):
    """How good a plan is; larger wins, field by field."""

    minus_stuck: int          # minus the movable pods a drain leaves behind
    gpu_milli: int            # GPU milli allocated (in the search: gained over the problem's placement)
    minus_moves: int          # minus the placed pods that moved

    def placed(self) -> tuple[int, int]:
        """The rank without the moves (what the random walk climbs on)."""
        return self.minus_stuck, self.gpu_milli


class Candidate(NamedTuple):
    """A plan of the search: its rank, where each decided pod goes, the pods it lifted (forced and
    voluntary) and the pods it pinned to a node."""

    rank: Rank
    placement: dict[int, Spot]
    lifted: list[int]
    pins: dict[int, int]


class SmallProblem:
    """A plain-Python copy of a small problem for fast repeated greedy runs. Decided pods are the
    pending ones and the movable placed ones (those on drained nodes always move; the others only
    when the search lifts them, within the budget); the other placed pods are fixed."""

    def __init__(self, state: PlanState, where: np.ndarray, devs: list[list[int]], movable: np.ndarray):
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
            if state.home[p] >= 0:
                ok &= state.group == state.home[p]
            if self.p_k[p]:
                ok &= state.ctx.allowed(t.spec[p]) & (c.gpu_count >= self.p_k[p])
            self.allowed[p] = np.flatnonzero(ok).tolist()

    def evaluate(self, lifted: list[int], order: list[int], mode: Scoring, pins: dict | None = None, spare: int = 0,
                 eject_pending: frozenset = frozenset()) -> Candidate | None:
        """Greedy run: lift ``lifted`` (and the forced pods), place ``order`` (lifted and pending
        pods, CPU-only ones last). A pinned pod, a lifted one or a pending one in ``eject_pending``
        that fits nowhere may lift up to ``spare`` more movable pods of smaller demand
        from the node it needs (an ejection chain). Returns the candidate plan, or None if a lifted
        pod is lost."""
        cpu, mem, gpu = self.cpu[:], self.mem[:], [g[:] for g in self.gpu]
        for p in lifted:
            self._add(p, int(self.where[p]), self.devs0[p], cpu, mem, gpu, 1)
        lifted = list(lifted)
        must = set(lifted)
        out: dict[int, Spot] = {}
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
                    spot = Spot(int(self.where[p]), list(self.devs0[p]))  # a drain that cannot complete
            if spot is None:
                continue
            self._add(p, spot.node, spot.devices, cpu, mem, gpu, -1)
            out[p] = spot
        alloc = sum(self.demand[p] for p, spot in out.items() if self.usable[spot.node]) \
            - sum(self.demand[p] for p in lifted if self.usable[self.where[p]])     # the gain over the problem's plan
        moves = sum(1 for p in lifted
                    if out[p].node != self.where[p] or sorted(out[p].devices) != sorted(self.devs0[p]))
        stuck = sum(1 for p in lifted if self.forced[p] and out[p].node == self.where[p])
        return Candidate(Rank(-stuck, alloc, -moves), out, lifted, pins)

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
        return Spot(n, list(ds))

    def _choose(self, p, cpu, mem, gpu, mode: Scoring, pin=None) -> Spot | None:
        c, m, k, u = self.p_cpu[p], self.p_mem[p], self.p_k[p], self.p_u[p]
        tightest, binding = mode == Scoring.TIGHTEST_DEVICE, mode == Scoring.BINDING_RESOURCE
        best, node, devices = None, -1, []
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
                if tightest:
                    key = (sum(g for g, _ in fit[:k]) - k * u, gpu_left, cpu_left)
                elif binding:
                    key = (max(gpu_left, cpu_left), min(gpu_left, cpu_left), fit[0][0])
                else:                                                   # Scoring.SPARE_CPU
                    key = (fit[0][0] - u, -cpu_left + gpu_left)
            if best is None or key < best:
                best, node, devices = key, n, ds
        return None if best is None else Spot(node, devices)


def search_small(problem: PackProblem, workload, deadline: float) -> PlanState | None:
    """Step 6 of the module doc: many greedy runs over orderings, node scorings and sets of pods
    to move; the best plan (no lost pod, drains done, then GPU milli, then fewest moves)."""
    state = PlanState(problem, workload)
    where, devs = problem_placement(state)
    movable = movable_pods(state.pods)
    state.forced = forced_pods(state, where, movable)
    bind_original(state, where, devs)
    devs = [list(d) for d in state.devs]
    small = SmallProblem(state, where, devs, movable)
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
            for mode in Scoring:
                found = small.evaluate(lifted, order_of(lifted, keys, {}), mode)
                if found is not None and (best is None or found.rank > best.rank):
                    best = found
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
        if time.perf_counter() > deadline or base + best.rank.gpu_milli >= bound:
            break
        if quiet > STAGNATION:
            break
        quiet += 1
        if quiet % RESTART == 0:
            current = best
        voluntary = [p for p in current.lifted if not state.forced[p]]
        pins = dict(current.pins)
        waiting = sorted((p for p in gpu_pods.tolist() if p not in current.placement and small.allowed[p]),
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
        mode = Scoring(int(rng.integers(len(Scoring))))
        found = small.evaluate(lifted, order_of(lifted, keys, pins), mode, pins, spare, eject)
        if found is None:
            continue
        if found.rank.placed() >= current.rank.placed():        # walk on GPU milli; moves only rank the best
            current = found
        if found.rank > best.rank:
            best, quiet = found, 0
    out = PlanState(problem, workload)
    out.forced = state.forced
    placed = best.placement
    keep = (where >= 0) & ~np.isin(np.arange(len(where)), list(placed))
    bind_original(out, where, devs, skip=~keep)
    for p, (n, ds) in placed.items():
        out.bind(p, n, ds)
    out.blocked = [p for p in forced if placed[p].node == where[p]]
    out.start_tally(problem, where, devs)
    return out if out.tally.within() else None                # GPU or PDB limits: the search does not see them


def _unlock_sweep(small: SmallProblem, best: Candidate, budget: int, gpu_pods: np.ndarray, demand: np.ndarray, order_of,
                  deadline: float) -> Candidate | None:
    """One round of pinning each of the largest waiting pods to each node it may use (the
    ejection chain moves what is in the way); the best strictly better plan, or None."""
    waiting = [p for p in gpu_pods.tolist() if p not in best.placement and small.allowed[p]]
    waiting = sorted(waiting, key=lambda p: -demand[p])
    shapes, targets = set(), []
    for p in waiting:
        shape = (small.p_k[p], small.p_u[p], small.p_cpu[p], tuple(small.allowed[p]))
        if shape not in shapes:
            shapes.add(shape)
            targets.append(p)
    found_best = None
    lifted = list(best.lifted)
    voluntary = [p for p in lifted if not small.forced[p]]
    spare = max(budget - len(voluntary), 0)
    for p in targets[:5]:
        for n in small.allowed[p]:
            if time.perf_counter() > deadline:
                return found_best
            pins = {**best.pins, p: n}
            order = order_of(lifted, pins)
            for mode in (Scoring.TIGHTEST_DEVICE, Scoring.SPARE_CPU):
                for eject in (frozenset(), frozenset(waiting)):
                    found = small.evaluate(lifted, order, mode, pins, spare, eject)
                    if found is not None and found.rank > (found_best or best).rank:
                        found_best = found
    return found_best


