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

from ..model import GPU_MILLI, format_devices
from .limits import pdb_of
from .problem import PackProblem, PackResult
from .validate import gpu_demand, mem_kib, model_allowed, node_frame, objective_details, plan_frag, pod_frame

NUM_WORKERS = 2
STATUS = {cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE", cp_model.INFEASIBLE: "INFEASIBLE",
          cp_model.UNKNOWN: "UNKNOWN", cp_model.MODEL_INVALID: "MODEL_INVALID"}


def solve_cpsat(problem: PackProblem, num_workers: int = NUM_WORKERS, seed: int = 0, log: bool = False) -> PackResult:
    """Solve ``problem`` within ``problem.time_limit_s``; see the module docstring."""
    start = time.perf_counter()
    build = _Build(problem)
    build.model_it()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(problem.time_limit_s)
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = log
    status = solver.solve(build.model)
    return build.result(solver, status, time.perf_counter() - start)


class _Build:
    def __init__(self, problem: PackProblem):
        self.problem = problem
        self.nodes = node_frame(problem)
        self.pods = pod_frame(problem)
        self.model = cp_model.CpModel()
        nodes, pods = self.nodes, self.pods
        self.names = nodes["name"].astype(str).tolist()
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
            n = self.row[pods.at[i, "node"]]
            self.fixed_cpu[n] += int(pods.at[i, "cpu_milli"])
            self.fixed_mem[n] += int(self.pod_mem[i])
            for d in pods.at[i, "dev"]:
                self.fixed_gpu[n, d] += int(pods.at[i, "gpu_milli"])
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.x: dict[tuple[int, int, int], cp_model.IntVar] = {}
        self.stay: dict[int, cp_model.IntVar] = {}

    # -- the model ---------------------------------------------------------------------------
    def options(self, i: int) -> dict[int, list[int]]:
        """Node -> usable devices ([] for CPU-only pods) for decided pod ``i``."""
        pods, nodes = self.pods, self.nodes
        cpu, mem = int(pods.at[i, "cpu_milli"]), int(self.pod_mem[i])
        k, milli, spec = int(pods.at[i, "gpu_count"]), int(pods.at[i, "gpu_milli"]), pods.at[i, "gpu_spec"]
        current = self.row.get(pods.at[i, "node"], -1)
        out = {}
        for n in range(len(nodes)):
            is_current = n == current and not nodes.at[n, "drained"]
            if not (nodes.at[n, "open"] or is_current):
                continue
            if cpu > self.cpu_cap[n] - self.fixed_cpu[n] or mem > self.mem_cap[n] - self.fixed_mem[n]:
                continue
            if k == 0:
                out[n] = []
                continue
            if self.count[n] < k or not (is_current or model_allowed(spec, nodes.at[n, "gpu_model"])):
                continue
            free = GPU_MILLI - self.fixed_gpu[n, :self.count[n]]
            devices = [d for d in range(int(self.count[n])) if free[d] >= milli]
            if not nodes.at[n, "open"]:          # staying on a cordoned / not-ready node: same devices only
                devices = [d for d in pods.at[i, "dev"] if d in devices]
            if len(devices) >= k:
                out[n] = devices
        return out

    def model_it(self) -> None:
        m, pods = self.model, self.pods
        cpu_terms, mem_terms = defaultdict(list), defaultdict(list)
        dev_terms = defaultdict(list)
        self.placed_terms, self.gain_terms, self.count_terms = {}, [], []
        for i in self.decided:
            i = int(i)
            k, milli = int(pods.at[i, "gpu_count"]), int(pods.at[i, "gpu_milli"])
            on = []
            for n, devices in self.options(i).items():
                y = m.new_bool_var(f"y{i}_{n}")
                self.y[i, n] = y
                on.append(y)
                cpu_terms[n].append((int(pods.at[i, "cpu_milli"]), y))
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
            was_placed = pods.at[i, "node"] != ""
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
        self._moves_and_objective()
        self._symmetry()
        self._hint()

    def _stay(self, i: int, k: int) -> None:
        n = self.row[self.pods.at[i, "node"]]
        current = list(self.pods.at[i, "dev"])
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
        m, pods = self.model, self.pods
        placed_decided = [int(i) for i in self.decided if pods.at[int(i), "node"] != ""]
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
        usable = [n for n in range(len(self.nodes)) if self.nodes.at[n, "usable"] and self.count[n] > 0]
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
        m, shape, pods = self.model, self.problem.target_shape, self.pods
        total, span = [], 0
        for n in usable:
            if not self.nodes.at[n, "open"] or not model_allowed(shape.gpu_spec, self.nodes.at[n, "gpu_model"]):
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
            cpu = sum(int(pods.at[i, "cpu_milli"]) * y for (i, node), y in self.y.items() if node == n)
            mem = sum(int(self.pod_mem[i]) * y for (i, node), y in self.y.items() if node == n)
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
            if pods.at[i, "node"]:
                busy.add(self.row[pods.at[i, "node"]])
        for i in self.decided:
            i = int(i)
            if pods.at[i, "node"]:
                held[self.row[pods.at[i, "node"]]].update(pods.at[i, "dev"])
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
            if n in busy or not nodes.at[n, "open"] or not load[n]:
                continue
            classes[(int(self.cpu_cap[n]), int(self.mem_cap[n]), int(self.count[n]), nodes.at[n, "gpu_model"])].append(n)
        for members in classes.values():
            for a, b in itertools.pairwise(members):
                m.add(sum(c * v for c, v in load[a]) >= sum(c * v for c, v in load[b]))

    def _hint(self) -> None:
        for (i, n), y in self.y.items():
            here = self.pods.at[i, "node"] != "" and self.row[self.pods.at[i, "node"]] == n
            self.model.add_hint(y, bool(here))
        for (i, n, d), x in self.x.items():
            here = self.pods.at[i, "node"] != "" and self.row[self.pods.at[i, "node"]] == n and d in self.pods.at[i, "dev"]
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
            if pods.at[i, "node"]:
                where[i] = (pods.at[i, "node"], tuple(pods.at[i, "dev"]))
        if solved:
            for i in self.decided:
                where.pop(int(i), None)
            for (i, n), y in self.y.items():
                if solver.boolean_value(y):
                    devices = tuple(d for d in range(int(self.count[n])) if (i, n, d) in self.x
                                    and solver.boolean_value(self.x[i, n, d]))
                    where[i] = (self.names[n], devices)
        order = sorted(where)
        placement = pd.DataFrame({"pod": [pods.at[i, "pod"] for i in order],
                                  "node": [where[i][0] for i in order],
                                  "devices": [format_devices(where[i][1]) for i in order]})
        rows = []
        for i in order:
            before = (pods.at[i, "node"], tuple(pods.at[i, "dev"]))
            if before[0] and before != where[i]:
                rows.append({"pod": pods.at[i, "pod"], "from_node": before[0], "from_devices": format_devices(before[1]),
                             "to_node": where[i][0], "to_devices": format_devices(where[i][1])})
        moves = pd.DataFrame(rows, columns=["pod", "from_node", "from_devices", "to_node", "to_devices"])
        usable = set(self.nodes.loc[self.nodes["usable"], "name"].astype(str))
        allocated = int(sum(int(self.demand[i]) for i in where if where[i][0] in usable))
        gain = int(sum(int(self.demand[i]) for i in where if not pods.at[i, "node"]))   # pending pods placed
        ceiling = sum(c for c, _ in self.gain_terms)                                   # every placeable one placed
        if status == cp_model.OPTIMAL or status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            gain_bound = gain
        else:
            raw = solver.best_objective_bound
            gain_bound = int(np.floor((raw + self.w_moves * self.n_placed_decided) / self.w_gpu + 1e-9)) \
                if np.isfinite(raw) else ceiling
            gain_bound = min(max(gain_bound, gain), ceiling)
        bound = allocated + gain_bound - gain
        stuck = sorted(pods.at[i, "pod"] for i in self.fixed if pods.at[i, "node"] in set(problem.drain))
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
        unplaced = [pods.at[i, "pod"] for i in range(len(pods)) if i not in where]
        details.update(objective_details(problem, placement, moves))
        return PackResult(placement=placement, unplaced=unplaced, moves=moves, gpu_milli_allocated=allocated,
                          capacity_milli=problem.capacity_milli, frag_gpu_milli=plan_frag(problem, placement),
                          bound_gpu_milli=bound, solver_status=name, seconds=seconds, details=details)
