"""An exact packing plan with OR-Tools CP-SAT.

Decided pods are the pending ones and, when ``max_moves != 0`` or their node is drained, the
placed movable ones; every other placed pod is fixed and only takes capacity. For a decided
pod ``p`` and a node ``n`` it may use, ``y[p, n]`` says "p runs on n"; GPU pods also get one
boolean ``x[p, n, d]`` per usable device with ``sum_d x = gpu_count * y``. Capacities: CPU and
memory per node, GPU milli per device (minus the fixed pods). Placed pods stay placed
(exactly one node), pending pods take at most one. ``stay[p]`` is true only if p keeps its
node and device set; the other placed decided pods are moves (voluntary ones limited by
``max_moves``, see validate.py for forced moves off drained nodes).

Objective, lexicographic through weights: the most GPU milli, then the problem's rebalancing
term, then the fewest moves, then the most pending pods placed. Rebalancing terms: for
"defragment", GPU nodes that are empty or full (so the fewest partly used nodes), then devices
that are empty or full (a proxy for the fragmentation measure, which is not linear); for "shape",
the jobs of the target shape that fit (per open node the fewest of whole idle devices // GPUs,
CPU and memory slots). Limits: voluntary moves, GPU milli moved, and moves per PDB (limits.py). Symmetry: devices of a node with the same fixed load that no decided
pod holds now are interchangeable, so their loads are ordered; so are whole identical nodes
that hold no pod now.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from ..model import GPU_MILLI, format_devices, parse_gpu_spec
from .limits import pdb_of
from .problem import PackProblem, PackResult
from .validate import (gpu_demand, mem_kib, model_allowed, node_frame, objective_details, original_placement, plan_frag,
                       pod_frame)

NUM_WORKERS = 2
READ_SHARE = 0.4             # reading the answer takes at most this share of the build time (measured ~0.15)
BUILD_SHARE = 0.6            # at most this share of the time limit goes on building the model
STATUS = {cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE", cp_model.INFEASIBLE: "INFEASIBLE",
          cp_model.UNKNOWN: "UNKNOWN", cp_model.MODEL_INVALID: "MODEL_INVALID"}


def solve_cpsat(problem: PackProblem, num_workers: int = NUM_WORKERS, seed: int = 0, log: bool = False) -> PackResult:
    """Solve ``problem`` within ``problem.time_limit_s``, all of it counted: building the model
    (at most ``BUILD_SHARE`` of the limit, the clock checked pod by pod), the search, and reading
    the answer (``RESERVE_S`` kept for it). A model that cannot be built in time returns the
    problem's own placement with status UNKNOWN and a note saying so; see the module docstring."""
    start = time.perf_counter()
    limit = float(problem.time_limit_s)
    whole, problem = problem, problem.in_pool()
    try:
        build = _Build(problem, start + BUILD_SHARE * limit)
        build.model_it()
    except _OutOfTime as late:
        return unchanged(problem, start, f"no plan within the time limit of {limit:g} s: building the model alone "
                                         f"took longer ({late}). Restrict the plan to one pool, allow fewer moves, "
                                         "or use the heuristic.", whole)
    built = time.perf_counter()
    left = start + limit - built - _reserve(limit, built - start)
    if left <= 0.05:
        return unchanged(problem, start, f"no plan within the time limit of {limit:g} s: building the model left no "
                                         "time to search. Restrict the plan to one pool, allow fewer moves, or use the "
                                         "heuristic.", whole)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = left
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = log
    status = solver.solve(build.model)
    result = build.result(solver, status, time.perf_counter() - start)
    if whole is not problem:
        result.details["pool"] = whole.pool
    return result


def _reserve(limit: float, build_s: float) -> float:
    """Seconds kept from the limit for reading the answer and measuring the plan: a share of what
    building took (both grow with the model and with the machine's load)."""
    return min(0.2 + READ_SHARE * build_s, 0.25 * limit)


class _OutOfTime(Exception):
    """The model could not be built within its share of the time limit (the message says how far it got)."""


def unchanged(problem: PackProblem, start: float, note: str, whole: PackProblem | None = None) -> PackResult:
    """The problem's own placement as the answer (no plan): status UNKNOWN and ``note``; the bound is
    the cheap one (all GPU demand, at most the capacity), as there is no time left for a better one."""
    pods = pod_frame(problem)
    placement = original_placement(problem)
    usable = set(node_frame(problem).query("usable")["name"].astype(str))
    demand = gpu_demand(pods)
    allocated = int(demand[pods["node"].isin(usable).to_numpy()].sum())
    moves = pd.DataFrame(columns=["pod", "from_node", "from_devices", "to_node", "to_devices"])
    details = {"note": note, "moves_voluntary": 0, "moves_forced": 0}
    if whole is not None and whole.pool is not None:
        details["pool"] = whole.pool
    details.update(objective_details(problem, placement, moves))
    return PackResult(placement=placement, unplaced=pods.loc[pods["node"] == "", "pod"].tolist(), moves=moves,
                      gpu_milli_allocated=allocated, capacity_milli=problem.capacity_milli,
                      frag_gpu_milli=plan_frag(problem, placement), bound_gpu_milli=max(min(int(demand.sum()), problem.capacity_milli), allocated),
                      solver_status="UNKNOWN", seconds=time.perf_counter() - start, details=details)


class _Build:
    def __init__(self, problem: PackProblem, deadline: float = float("inf")):
        self.problem = problem
        self.deadline = deadline
        self.nodes = node_frame(problem)
        self.pods = pod_frame(problem)
        self.model = cp_model.CpModel()
        nodes, pods = self.nodes, self.pods
        self.names = nodes["name"].astype(str).tolist()
        self.c = {col: pods[col].tolist() for col in ("pod", "node", "dev", "cpu_milli", "gpu_count", "gpu_milli", "gpu_spec")}
        self.nc = {col: nodes[col].tolist() for col in ("open", "usable", "gpu_model")}      # plain lists: fast to index
        self.row = {name: i for i, name in enumerate(self.names)}
        self.count = nodes["gpu_count"].to_numpy(np.int64)
        self.cpu_cap = nodes["cpu_milli"].to_numpy(np.int64)
        self.mem_cap = mem_kib(nodes["memory_mib"])
        self.pod_mem = mem_kib(pods["memory_mib"])
        self.demand = gpu_demand(pods)
        placed = (pods["node"] != "").to_numpy()
        drained = pods["node"].isin(set(problem.drain)).to_numpy()
        movable = pods["movable"].to_numpy(bool)
        may_move = problem.max_moves is None or problem.max_moves > 0
        self.decided = np.flatnonzero(~placed | (placed & movable & (may_move | drained)))
        self.fixed = np.flatnonzero(placed & ~np.isin(np.arange(len(pods)), self.decided))
        self.forced = {int(i) for i in self.decided if placed[i] and drained[i]}
        width = max(int(self.count.max(initial=0)), 1)
        self.fixed_cpu = np.zeros(len(nodes), dtype=np.int64)
        self.fixed_mem = np.zeros(len(nodes), dtype=np.int64)
        self.fixed_gpu = np.zeros((len(nodes), width), dtype=np.int64)
        for i in self.fixed:
            n = self.row[self.c["node"][i]]
            self.fixed_cpu[n] += int(self.c["cpu_milli"][i])
            self.fixed_mem[n] += int(self.pod_mem[i])
            for d in self.c["dev"][i]:
                self.fixed_gpu[n, d] += int(self.c["gpu_milli"][i])
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.x: dict[tuple[int, int, int], cp_model.IntVar] = {}
        self.stay: dict[int, cp_model.IntVar] = {}

    # -- the model ---------------------------------------------------------------------------
    def _prepare_options(self) -> None:
        """Arrays :meth:`options` reads: what each node has left beside the fixed pods."""
        nodes = self.nodes
        self.open = nodes["open"].to_numpy(bool)
        self.drained = nodes["drained"].to_numpy(bool)
        self.models = nodes["gpu_model"].astype(str).to_numpy(object)
        self.cpu_left = self.cpu_cap - self.fixed_cpu
        self.mem_left = self.mem_cap - self.fixed_mem
        width = self.fixed_gpu.shape[1]
        self.present = np.arange(width)[None, :] < self.count[:, None]
        self.group, self.home = self.problem.home_groups()
        self._spec_ok: dict[str, np.ndarray] = {}

    def _models_allowed(self, spec: str) -> np.ndarray:
        if spec not in self._spec_ok:
            allowed = parse_gpu_spec(spec)
            self._spec_ok[spec] = np.ones(len(self.models), bool) if not allowed else \
                np.array([m != "" and m in allowed for m in self.models], dtype=bool)
        return self._spec_ok[spec]

    def options(self, i: int) -> dict[int, list[int]]:
        """Node -> usable devices ([] for CPU-only pods) for decided pod ``i``: open nodes with room
        (and, unless the problem allows crossing, of the pod's own pool and GPU model), or its own
        node, where it may stay on the same devices."""
        k, milli = int(self.c["gpu_count"][i]), int(self.c["gpu_milli"][i])
        current = self.row.get(self.c["node"][i], -1)
        here = np.zeros(len(self.open), dtype=bool)
        if current >= 0 and not self.drained[current]:
            here[current] = True
        ok = (self.open | here) & (self.cpu_left >= int(self.c["cpu_milli"][i])) & (self.mem_left >= int(self.pod_mem[i]))
        if self.home[i] >= 0:
            ok &= self.group == self.home[i]
        if k == 0:
            return {int(n): [] for n in np.flatnonzero(ok)}
        ok &= (self.count >= k) & (here | self._models_allowed(self.c["gpu_spec"][i]))
        fits = self.present & (GPU_MILLI - self.fixed_gpu >= milli)
        if current >= 0 and here[current]:
            mine = np.zeros(fits.shape[1], dtype=bool)
            mine[list(self.c["dev"][i])] = True
            if not self.open[current]:             # staying on a cordoned / not-ready node: same devices only
                fits[current] &= mine
        ok &= fits.sum(axis=1) >= k
        return {int(n): np.flatnonzero(fits[n]).tolist() for n in np.flatnonzero(ok)}

    def model_it(self) -> None:
        m = self.model
        cpu_terms, mem_terms = defaultdict(list), defaultdict(list)
        dev_terms = defaultdict(list)
        self.placed_terms, self.gain_terms, self.count_terms = {}, [], []
        self._prepare_options()
        for done, i in enumerate(self.decided):
            i = int(i)
            self._check_clock(f"pod {done + 1:,} of them")
            k, milli = int(self.c["gpu_count"][i]), int(self.c["gpu_milli"][i])
            on = []
            for n, devices in self.options(i).items():
                y = m.new_bool_var(f"y{i}_{n}")
                self.y[i, n] = y
                on.append(y)
                cpu_terms[n].append((int(self.c["cpu_milli"][i]), y))
                mem_terms[n].append((int(self.pod_mem[i]), y))
                if k:
                    xs = []
                    for d in devices:
                        x = m.new_bool_var(f"x{i}_{n}_{d}")
                        self.x[i, n, d] = x
                        xs.append(x)
                        dev_terms[n, d].append((milli, x))
                        m.add_implication(x, y)
                    m.add(sum(xs) == k * y)
            was_placed = self.c["node"][i] != ""
            if was_placed:
                m.add_exactly_one(on)        # an empty list makes the model infeasible, as it should
                self._stay(i, k)
            else:
                m.add_at_most_one(on)
                if on:
                    self.gain_terms.append((int(self.demand[i]), sum(on)))
                    self.count_terms.append(sum(on))
        for n, terms in cpu_terms.items():
            m.add(sum(c * v for c, v in terms) <= int(self.cpu_cap[n] - self.fixed_cpu[n]))
            m.add(sum(c * v for c, v in mem_terms[n]) <= int(self.mem_cap[n] - self.fixed_mem[n]))
        for (n, d), terms in dev_terms.items():
            if sum(c for c, _ in terms) > GPU_MILLI - self.fixed_gpu[n, d]:
                m.add(sum(c * v for c, v in terms) <= int(GPU_MILLI - self.fixed_gpu[n, d]))
        self.dev_terms = dev_terms
        self._check_clock("the capacity constraints")
        self._moves_and_objective()
        self._check_clock("the objective")
        self._symmetry()
        self._hint()

    def _check_clock(self, step: str) -> None:
        if time.perf_counter() > self.deadline:
            raise _OutOfTime(f"{len(self.decided):,} pods to decide on {len(self.nodes):,} nodes; it stopped at {step}")

    def _stay(self, i: int, k: int) -> None:
        n = self.row[self.c["node"][i]]
        current = list(self.c["dev"][i])
        y = self.y.get((i, n))
        if y is None or any((i, n, d) not in self.x for d in current):
            return                            # cannot stay: a forced or impossible stay
        s = self.model.new_bool_var(f"stay{i}")
        self.model.add_implication(s, y)
        xs = [self.x[i, n, d] for d in current]
        for x in xs:
            self.model.add_implication(s, x)
        self.model.add(s >= y + sum(xs) - k)  # k == len(current) for GPU pods, 0 for CPU-only pods
        self.stay[i] = s

    def _moves_and_objective(self) -> None:
        m = self.model
        placed_decided = [int(i) for i in self.decided if self.c["node"][int(i)] != ""]
        voluntary = [i for i in placed_decided if i not in self.forced]
        # moves = number of placed decided pods that do not stay
        self.n_placed_decided = len(placed_decided)
        moved = {i: 1 - self.stay[i] if i in self.stay else 1 for i in placed_decided}
        self._limit(sum(moved[i] for i in voluntary), self.problem.max_moves)
        if self.problem.max_gpus_moved is not None:
            self._limit(sum(int(self.demand[i]) * moved[i] for i in voluntary), round(self.problem.max_gpus_moved * GPU_MILLI))
        codes, allowed, _ = pdb_of(self.problem.pods.reset_index(drop=True))
        for code in range(len(allowed)):                     # every move, forced ones too, uses its PDB
            self._limit(sum(moved[i] for i in placed_decided if codes[i] == code), int(allowed[code]))
        moves = len(placed_decided) - (sum(self.stay.values()) if self.stay else 0)
        pending = len(self.count_terms)
        self.w_moves = pending + 1
        secondary, span = self._secondary()
        self.w_secondary = self.w_moves * (len(placed_decided) + 1)
        self.w_gpu = self.w_secondary * (span + 1)
        gain = sum(c * v for c, v in self.gain_terms) if self.gain_terms else 0
        count = sum(self.count_terms) if self.count_terms else 0
        m.maximize(self.w_gpu * gain + self.w_secondary * secondary - self.w_moves * moves + count)

    def _limit(self, expr, limit) -> None:
        if limit is None:
            return
        if isinstance(expr, int):
            if expr > limit:
                self.model.add_bool_or([])       # more must move than the limit allows: infeasible
            return
        self.model.add(expr <= int(limit))

    # -- rebalancing objectives (problem.py) ---------------------------------------------------
    def _device_load(self, n: int, d: int):
        return int(self.fixed_gpu[n, d]) + sum(c * v for c, v in self.dev_terms.get((n, d), []))

    def _is(self, expr, value: int, name: str):
        """A boolean that may be true only if ``expr == value`` (the objective makes it true when it can)."""
        if isinstance(expr, int):
            return int(expr == value)
        b = self.model.new_bool_var(name)
        self.model.add(expr == value).only_enforce_if(b)
        return b

    def _secondary(self) -> tuple:
        """The objective term between GPU milli and moves, and its largest value."""
        objective = self.problem.objective
        if objective == "allocate":
            return 0, 0
        usable = [n for n in range(len(self.nodes)) if self.nc["usable"][n] and self.count[n] > 0]
        if objective == "defragment":
            # whole nodes empty or full first (fewest partly used nodes), then whole devices (least fragmentation)
            devices = [(n, d) for n in usable for d in range(int(self.count[n]))]
            whole_devices = sum(self._is(self._device_load(n, d), 0, f"e{n}_{d}") + self._is(self._device_load(n, d), GPU_MILLI,
                                f"f{n}_{d}") for n, d in devices)
            loads = {n: sum(self._device_load(n, d) for d in range(int(self.count[n]))) for n in usable}
            whole_nodes = sum(self._is(loads[n], 0, f"E{n}") + self._is(loads[n], int(self.count[n]) * GPU_MILLI, f"F{n}")
                              for n in usable)
            return (len(devices) + 1) * whole_nodes + whole_devices, (len(devices) + 1) * len(usable) + len(devices)
        return self._shape_slots(usable)

    def _shape_slots(self, usable: list[int]) -> tuple:
        """Jobs of the target shape that fit: per open node the fewest of GPU, CPU and memory slots."""
        m, shape = self.model, self.problem.target_shape
        total, span = [], 0
        on_node = defaultdict(list)
        for (i, node), y in self.y.items():
            on_node[node].append((i, y))
        for n in usable:
            if not self.nc["open"][n] or not model_allowed(shape.gpu_spec, self.nc["gpu_model"][n]):
                continue
            if shape.gpu_milli >= GPU_MILLI:
                per_device = [self._is(self._device_load(n, d), 0, f"z{n}_{d}") for d in range(int(self.count[n]))]
                most = int(self.count[n]) // max(shape.gpu_count, 1)
            else:
                per_device = []
                for d in range(int(self.count[n])):
                    q = m.new_int_var(0, GPU_MILLI // shape.gpu_milli, f"q{n}_{d}")
                    m.add(q * shape.gpu_milli + self._device_load(n, d) <= GPU_MILLI)
                    per_device.append(q)
                most = int(self.count[n]) * (GPU_MILLI // shape.gpu_milli)
            s = m.new_int_var(0, most, f"slots{n}")
            m.add(max(shape.gpu_count, 1) * s <= sum(per_device))
            cpu = sum(int(self.c["cpu_milli"][i]) * y for i, y in on_node[n])
            mem = sum(int(self.pod_mem[i]) * y for i, y in on_node[n])
            if shape.cpu_milli > 0:
                m.add(round(float(shape.cpu_milli)) * s + cpu <= int(self.cpu_cap[n] - self.fixed_cpu[n]))
            if shape.memory_mib > 0:
                m.add(int(mem_kib([shape.memory_mib])[0]) * s + mem <= int(self.mem_cap[n] - self.fixed_mem[n]))
            total.append(s)
            span += most
        return (sum(total) if total else 0), span

    def _symmetry(self) -> None:
        m, pods = self.model, self.pods
        held = defaultdict(set)                # devices some decided pod holds now
        busy = set()                           # nodes some pod is on now
        for i in range(len(pods)):
            if self.c["node"][i]:
                busy.add(self.row[self.c["node"][i]])
        for i in self.decided:
            i = int(i)
            if self.c["node"][i]:
                held[self.row[self.c["node"][i]]].update(self.c["dev"][i])
        load = {}
        for n in range(len(self.nodes)):
            groups = defaultdict(list)
            for d in range(int(self.count[n])):
                if d not in held[n] and (n, d) in self.dev_terms:
                    groups[int(self.fixed_gpu[n, d])].append(d)
            for devices in groups.values():
                for a, b in itertools.pairwise(devices):
                    m.add(sum(c * v for c, v in self.dev_terms[n, a]) >= sum(c * v for c, v in self.dev_terms[n, b]))
            load[n] = [(c, v) for d in range(int(self.count[n])) for c, v in self.dev_terms.get((n, d), [])]
        classes = defaultdict(list)
        nodes = self.nodes
        for n in range(len(nodes)):
            if n in busy or not self.nc["open"][n] or not load[n]:
                continue
            classes[(int(self.cpu_cap[n]), int(self.mem_cap[n]), int(self.count[n]), self.nc["gpu_model"][n])].append(n)
        for members in classes.values():
            for a, b in itertools.pairwise(members):
                m.add(sum(c * v for c, v in load[a]) >= sum(c * v for c, v in load[b]))

    def _hint(self) -> None:
        for (i, n), y in self.y.items():
            here = self.c["node"][i] != "" and self.row[self.c["node"][i]] == n
            self.model.add_hint(y, bool(here))
        for (i, n, d), x in self.x.items():
            here = self.c["node"][i] != "" and self.row[self.c["node"][i]] == n and d in self.c["dev"][i]
            self.model.add_hint(x, bool(here))
        for s in self.stay.values():
            self.model.add_hint(s, True)

    # -- the answer --------------------------------------------------------------------------
    def result(self, solver: cp_model.CpSolver, status, seconds: float) -> PackResult:
        pods, problem = self.pods, self.problem
        name = STATUS.get(status, str(solver.status_name(status)))
        solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        where = {}
        for i in range(len(pods)):
            if self.c["node"][i]:
                where[i] = (self.c["node"][i], tuple(self.c["dev"][i]))
        if solved:
            for i in self.decided:
                where.pop(int(i), None)
            for (i, n), y in self.y.items():
                if solver.boolean_value(y):
                    devices = tuple(d for d in range(int(self.count[n])) if (i, n, d) in self.x
                                    and solver.boolean_value(self.x[i, n, d]))
                    where[i] = (self.names[n], devices)
        order = sorted(where)
        placement = pd.DataFrame({"pod": [self.c["pod"][i] for i in order],
                                  "node": [where[i][0] for i in order],
                                  "devices": [format_devices(where[i][1]) for i in order]})
        rows = []
        for i in order:
            before = (self.c["node"][i], tuple(self.c["dev"][i]))
            if before[0] and before != where[i]:
                rows.append({"pod": self.c["pod"][i], "from_node": before[0], "from_devices": format_devices(before[1]),
                             "to_node": where[i][0], "to_devices": format_devices(where[i][1])})
        moves = pd.DataFrame(rows, columns=["pod", "from_node", "from_devices", "to_node", "to_devices"])
        usable = set(self.nodes.loc[self.nodes["usable"], "name"].astype(str))
        allocated = int(sum(int(self.demand[i]) for i in where if where[i][0] in usable))
        gain = int(sum(int(self.demand[i]) for i in where if not self.c["node"][i]))   # pending pods placed
        ceiling = sum(c for c, _ in self.gain_terms)                                   # every placeable one placed
        if status == cp_model.OPTIMAL or status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            gain_bound = gain
        else:
            raw = solver.best_objective_bound
            gain_bound = int(np.floor((raw + self.w_moves * self.n_placed_decided) / self.w_gpu + 1e-9)) \
                if np.isfinite(raw) else ceiling
            gain_bound = min(max(gain_bound, gain), ceiling)
        bound = allocated + gain_bound - gain
        stuck = sorted(self.c["pod"][i] for i in self.fixed if self.c["node"][i] in set(problem.drain))
        forced = sum(1 for r in rows if r["from_node"] in set(problem.drain))
        details = {"gap_gpu_milli": bound - allocated,
                   "gap_pct": round(100.0 * (bound - allocated) / bound, 4) if bound else 0.0,
                   "moves_voluntary": len(rows) - forced, "moves_forced": forced,
                   "pods_decided": len(self.decided), "variables": len(self.y) + len(self.x) + len(self.stay),
                   "objective_value": solver.objective_value if solved else None,
                   "objective_bound": solver.best_objective_bound if solved else None,
                   "wall_time_s": round(solver.wall_time, 3), "num_workers": int(solver.parameters.num_workers)}
        if stuck:
            details["drain_blocked_by"] = stuck
        if not solved:
            details["note"] = f"no plan ({name}): the placement returned is the problem's own"
        unplaced = [self.c["pod"][i] for i in range(len(pods)) if i not in where]
        details.update(objective_details(problem, placement, moves))
        return PackResult(placement=placement, unplaced=unplaced, moves=moves, gpu_milli_allocated=allocated,
                          capacity_milli=problem.capacity_milli, frag_gpu_milli=plan_frag(problem, placement),
                          bound_gpu_milli=bound, solver_status=name, seconds=seconds, details=details)
