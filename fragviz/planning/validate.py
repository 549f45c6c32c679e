"""Checking a plan against its problem, and the plan's fragmentation.

Conventions both solvers follow (and :func:`check_plan` enforces):

* A pod may only be placed on a node that is schedulable, ready and not drained, unless it
  stays where it already is (same node and devices).
* GPU pods (``gpu_count > 0``) need a node with GPUs whose model their ``gpu_spec`` ("A|B",
  "" = any) allows; CPU-only pods ignore ``gpu_spec`` (§1a of FRAGMENTATION.md).
* Movable pods on drained nodes must move; those moves are *forced*: they are listed in
  ``moves`` but do not use the ``max_moves`` / ``max_gpus_moved`` budgets, which limit the other
  (voluntary) moves; every move uses its PodDisruptionBudget's allowance (limits.py). Unmovable pods on a drained node stay (the drain cannot complete; solvers report them).
* ``gpu_milli_allocated`` counts the pods on usable (schedulable and ready) nodes, as
  ``PackProblem.capacity_milli`` counts capacity.
* Memory is compared in KiB integers (MiB x 1024, rounded) so fractional MiB cannot flip a fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frag import slots
from ..model import GPU_MILLI, NodeState, format_devices, parse_devices, parse_gpu_spec
from ..placement.nodefrag import FragModel
from .limits import MoveTally, movable_pods
from .problem import PackProblem, PackResult

KIB = 1024


# -- normalised views ----------------------------------------------------------------------

def node_frame(problem: PackProblem) -> pd.DataFrame:
    """The problem's nodes with defaults filled in, plus ``open`` (may receive new pods) and
    ``drained``."""
    nodes = problem.nodes.reset_index(drop=True).copy()
    nodes["gpu_model"] = nodes["gpu_model"].fillna("").astype(str) if "gpu_model" in nodes else ""
    for column in ("schedulable", "ready"):
        nodes[column] = nodes[column].fillna(True).astype(bool) if column in nodes else True
    nodes["drained"] = nodes["name"].astype(str).isin(set(problem.drain))
    nodes["usable"] = nodes["schedulable"] & nodes["ready"]        # what PackProblem.capacity_milli counts
    nodes["open"] = nodes["usable"] & ~nodes["drained"]
    return nodes


def pod_frame(problem: PackProblem) -> pd.DataFrame:
    """The problem's pods with defaults filled in, plus ``pod`` (namespace/name) and ``dev``
    (the current device indices as a tuple)."""
    pods = problem.pods.reset_index(drop=True).copy()
    if "namespace" not in pods:
        pods["namespace"] = "default"
    pods["pod"] = PackProblem.key(pods).to_numpy()
    pods["node"] = pods["node"].fillna("").astype(str) if "node" in pods else ""
    pods["devices"] = pods["devices"].fillna("").astype(str) if "devices" in pods else ""
    pods["gpu_spec"] = pods["gpu_spec"].fillna("").astype(str) if "gpu_spec" in pods else ""
    pods["movable"] = movable_pods(problem.pods.reset_index(drop=True))    # PDBs allowing no disruption: unmovable
    pods["gpu_milli"] = np.where(pods["gpu_count"] > 0, pods["gpu_milli"], 0)
    pods["dev"] = [tuple(parse_devices(text)) for text in pods["devices"]]
    return pods


def model_allowed(spec: str, model: str) -> bool:
    allowed = parse_gpu_spec(spec)
    return not allowed or (model != "" and model in allowed)


def mem_kib(values) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * KIB).astype(np.int64)


def gpu_demand(pods: pd.DataFrame) -> np.ndarray:
    return (pods["gpu_count"].to_numpy(np.int64) * pods["gpu_milli"].to_numpy(np.int64))


# -- fragmentation of a plan ---------------------------------------------------------------

def plan_frag(problem: PackProblem, placement: pd.DataFrame, workload: pd.DataFrame | None = None) -> float:
    """Cluster fragmentation (sum of F_n over all nodes, §1b) after ``placement`` (pod, node,
    devices), with the problem's target workload and measure (``PackProblem.target_workload``)."""
    if workload is None:
        workload = problem.target_workload()
    nodes, state = free_after(problem, placement)
    if workload is None or workload.empty or nodes.empty:
        return 0.0
    codes, models = pd.factorize(nodes["gpu_model"].to_numpy(dtype=object))
    model = FragModel(workload, models, problem.memory_aware)
    return float(model.node_frag(state.cpu_free, state.gpu_free, codes.astype(np.int64), state.mem_free).sum())


def free_after(problem: PackProblem, placement: pd.DataFrame, frames: tuple | None = None) -> tuple[pd.DataFrame, NodeState]:
    """The problem's nodes and their free resources once ``placement`` (pod, node, devices) runs
    (``frames``: the problem's node_frame and pod_frame, when the caller has them)."""
    nodes, pods = frames or (node_frame(problem), pod_frame(problem))
    count = nodes["gpu_count"].to_numpy(np.int64)
    width = max(int(count.max(initial=0)), 1)
    present = np.arange(width)[None, :] < count[:, None]
    gpu_free = np.where(present, GPU_MILLI, 0).astype(np.int64)
    cpu_free = nodes["cpu_milli"].to_numpy(np.int64).copy()
    mem_free = nodes["memory_mib"].to_numpy(np.float64).copy()
    rows = pd.Index(nodes["name"].astype(str)).get_indexer(placement["node"].astype(str))
    at = pd.Index(pods["pod"]).get_indexer(placement["pod"])
    np.subtract.at(cpu_free, rows, pods["cpu_milli"].to_numpy(np.int64)[at])
    np.subtract.at(mem_free, rows, pods["memory_mib"].to_numpy(np.float64)[at])
    milli = pods["gpu_milli"].to_numpy(np.int64)[at]
    with_gpu = np.flatnonzero(pods["gpu_count"].to_numpy(np.int64)[at] > 0)
    devices = [parse_devices(text) for text in placement["devices"].to_numpy(object)[with_gpu]]
    lengths = np.array([len(d) for d in devices], dtype=np.int64)
    flat = np.fromiter((d for ds in devices for d in ds), dtype=np.int64, count=int(lengths.sum()))
    np.subtract.at(gpu_free, (np.repeat(rows[with_gpu], lengths), flat), np.repeat(milli[with_gpu], lengths))
    state = NodeState(names=nodes["name"].astype(str).to_numpy(dtype=object), cpu_free=cpu_free, mem_free=mem_free,
                      gpu_free=gpu_free, gpu_present=present, gpu_count=count,
                      gpu_model=nodes["gpu_model"].to_numpy(dtype=object), usable=nodes["open"].to_numpy(bool))
    return nodes, state


def plan_metrics(problem: PackProblem, placement: pd.DataFrame, frames: tuple | None = None) -> dict:
    """What the rebalancing objectives count after ``placement``: partly used GPU nodes (usable
    nodes with some but not all GPU milli allocated) and, with a target shape, its jobs that fit."""
    nodes, state = free_after(problem, placement, frames)
    capacity = state.gpu_count * GPU_MILLI
    used = capacity - state.gpu_free.sum(axis=1)
    usable = nodes["usable"].to_numpy(bool)
    out = {"partly_used_nodes": int(((used > 0) & (used < capacity) & usable).sum()),
           "free_gpu_nodes": int(((used == 0) & (capacity > 0) & usable).sum())}
    if problem.target_shape is not None:
        out["target_shape_fit"] = int(slots(state, problem.target_shape).sum())
    return out


def objective_details(problem: PackProblem, placement: pd.DataFrame, moves: pd.DataFrame) -> dict:
    """The plan's objective and what it counts, before and after, plus the GPUs moved."""
    frames = node_frame(problem), pod_frame(problem)
    before = plan_metrics(problem, original_placement(problem, frames[1]), frames)
    after = plan_metrics(problem, placement, frames)
    pods = frames[1].set_index("pod")
    moved = pods.loc[list(moves["pod"]), ["gpu_count", "gpu_milli"]] if len(moves) else pods.iloc[:0]
    out = {"objective": problem.objective, "gpus_moved": round(float((moved["gpu_count"] * moved["gpu_milli"]).sum()) / GPU_MILLI, 3)}
    if problem.target_shape is not None:
        out["target_shape"] = problem.target_shape.name
    out.update(crossings(problem, moves, frames[0]))
    for name, value in after.items():
        out[f"{name}_before"], out[name] = before[name], value
    return out


def crossings(problem: PackProblem, moves: pd.DataFrame, nodes: pd.DataFrame | None = None) -> dict:
    """How many moves change pool (``moves_cross_pool``) and GPU model (``moves_cross_gpu_model``)."""
    nodes = (node_frame(problem) if nodes is None else nodes).set_index(problem.nodes["name"].astype(str).to_numpy())
    pool = nodes["pool"].fillna("").astype(str) if "pool" in nodes else pd.Series("", index=nodes.index)
    if not len(moves):
        return {"moves_cross_pool": 0, "moves_cross_gpu_model": 0}
    src, dst = moves["from_node"].astype(str), moves["to_node"].astype(str)
    return {"moves_cross_pool": int((pool.reindex(src).to_numpy() != pool.reindex(dst).to_numpy()).sum()),
            "moves_cross_gpu_model": int((nodes["gpu_model"].reindex(src).to_numpy()
                                          != nodes["gpu_model"].reindex(dst).to_numpy()).sum())}


def original_placement(problem: PackProblem, pods: pd.DataFrame | None = None) -> pd.DataFrame:
    """The problem's own placement as a plan (pod, node, devices of every placed pod)."""
    pods = pod_frame(problem) if pods is None else pods
    placed = pods[pods["node"] != ""]
    return pd.DataFrame({"pod": placed["pod"], "node": placed["node"], "devices": placed["devices"]})


# -- checking ------------------------------------------------------------------------------

def check_plan(problem: PackProblem, result: PackResult) -> list[str]:
    """Every way ``result`` breaks the rules of ``problem``; an empty list means a valid plan.

    Checks: each pod at most once and known; every placed pod still placed; unmovable pods
    unchanged; voluntary moves within ``max_moves`` and ``max_gpus_moved``, moves per PDB
    within ``disruptionsAllowed`` (limits.py); drained nodes hold no movable pod;
    new placements only on open nodes, on allowed GPU models, with the right number of
    distinct devices; CPU, memory and per-device GPU capacity on every node that gained a pod;
    ``moves``, ``unplaced`` and ``gpu_milli_allocated`` consistent with the placement.
    """
    nodes, pods = node_frame(problem), pod_frame(problem)
    out: list[str] = []
    node_row = {name: i for i, name in enumerate(nodes["name"].astype(str))}
    info = pods.set_index("pod")
    plan = result.placement
    if plan["pod"].duplicated().any():
        out.append(f"pods placed twice: {sorted(plan.loc[plan['pod'].duplicated(), 'pod'])[:5]}")
    unknown = set(plan["pod"]) - set(info.index)
    if unknown:
        out.append(f"unknown pods in placement: {sorted(unknown)[:5]}")
    missing_nodes = set(plan["node"]) - set(node_row)
    if missing_nodes:
        out.append(f"unknown nodes in placement: {sorted(missing_nodes)[:5]}")
    if unknown or missing_nodes:
        return out
    where = {pod: (node, tuple(parse_devices(dev))) for pod, node, dev in zip(plan["pod"], plan["node"], plan["devices"])}
    drained = set(problem.drain)
    group, _ = problem.home_groups()
    changed_pods, gained = [], set()
    for pod, row in info.iterrows():
        now = where.get(pod)
        before = (row["node"], row["dev"]) if row["node"] else None
        if before is not None and now is None:
            out.append(f"{pod}: was placed on {before[0]}, now unplaced")
            continue
        if now is None:
            continue
        node, devices = now
        n = node_row[node]
        k, _milli = int(row["gpu_count"]), int(row["gpu_milli"])
        if now == before:
            if node in drained and row["movable"]:
                out.append(f"{pod}: movable pod left on drained node {node}")
            continue
        changed_pods.append(pod)
        gained.add(node)
        if before is not None and not problem.allow_cross_pool and group[node_row[before[0]]] != group[n]:
            out.append(f"{pod}: moved from {before[0]} to {node}, another pool or GPU model (allow_cross_pool is off)")
        if before is not None and not row["movable"]:
            out.append(f"{pod}: unmovable pod moved from {before[0]} [{format_devices(before[1])}] "
                       f"to {node} [{format_devices(devices)}]")
        if not nodes.at[n, "open"] and not (before is not None and before[0] == node):
            out.append(f"{pod}: placed on node {node}, which is not open (unschedulable, not ready or drained)")
        if nodes.at[n, "drained"]:
            out.append(f"{pod}: placed on drained node {node}")
        if k > 0:
            if int(nodes.at[n, "gpu_count"]) == 0 or not model_allowed(row["gpu_spec"], nodes.at[n, "gpu_model"]):
                out.append(f"{pod}: GPU model '{nodes.at[n, 'gpu_model']}' of {node} not allowed by '{row['gpu_spec']}'")
            if len(devices) != k or len(set(devices)) != k or not all(0 <= d < int(nodes.at[n, "gpu_count"]) for d in devices):
                out.append(f"{pod}: devices {format_devices(devices)!r} are not {k} distinct devices of {node}")
        elif devices:
            out.append(f"{pod}: CPU-only pod given devices {format_devices(devices)!r}")
    out += _limits(problem, pods, node_row, where, drained)
    out += _capacity(nodes, info, where, gained)
    usable = set(nodes.loc[nodes["usable"], "name"].astype(str))
    out += _consistency(problem, result, info, where, changed_pods, usable)
    return out


def _limits(problem, pods, node_row, where, drained) -> list[str]:
    """Voluntary pods and GPUs moved, and moves per PodDisruptionBudget (limits.py)."""
    placed = (pods["node"] != "").to_numpy()
    where0 = np.array([node_row.get(n, -1) if n else -1 for n in pods["node"]], dtype=np.int64)
    forced = placed & pods["movable"].to_numpy(bool) & pods["node"].isin(drained).to_numpy()
    tally = MoveTally(problem, where0, [list(d) for d in pods["dev"]], forced, gpu_demand(pods))
    for i, pod in enumerate(pods["pod"]):
        if placed[i] and pod in where:
            node, devices = where[pod]
            tally.update(i, node_row[node], list(devices))
    return tally.violations()


def _capacity(nodes, info, where, gained) -> list[str]:
    out = []
    width = max(int(nodes["gpu_count"].to_numpy(np.int64).max(initial=0)), 1)
    for node in sorted(gained):
        n = int(np.flatnonzero(nodes["name"].astype(str).to_numpy() == node)[0])
        here = [pod for pod, (name, _) in where.items() if name == node]
        cpu = int(info.loc[here, "cpu_milli"].sum())
        mem = int(mem_kib(info.loc[here, "memory_mib"]).sum())
        if cpu > int(nodes.at[n, "cpu_milli"]):
            out.append(f"{node}: CPU {cpu} m > capacity {int(nodes.at[n, 'cpu_milli'])} m")
        if mem > int(mem_kib([nodes.at[n, "memory_mib"]])[0]):
            out.append(f"{node}: memory {mem / KIB:.1f} MiB > capacity {float(nodes.at[n, 'memory_mib']):.1f} MiB")
        used = np.zeros(width, dtype=np.int64)
        for pod in here:
            for d in where[pod][1]:
                if 0 <= d < width:
                    used[d] += int(info.at[pod, "gpu_milli"])
        for d in np.flatnonzero(used > GPU_MILLI):
            out.append(f"{node}: device {d} holds {used[d]} milli > {GPU_MILLI}")
    return out


def _consistency(problem, result, info, where, changed_pods, usable) -> list[str]:
    out = []
    placed_before = {pod for pod, node in zip(info.index, info["node"]) if node}
    moved = {pod for pod in changed_pods if pod in placed_before}
    listed = set(result.moves["pod"]) if len(result.moves) else set()
    if listed != moved:
        out.append(f"moves frame lists {sorted(listed ^ moved)[:5]} wrongly ({len(listed)} listed, {len(moved)} moved)")
    unplaced = {pod for pod in info.index if pod not in where}
    if set(result.unplaced) != unplaced:
        out.append(f"unplaced list differs from the placement: {sorted(set(result.unplaced) ^ unplaced)[:5]}")
    allocated = int(sum(int(info.at[pod, "gpu_count"]) * int(info.at[pod, "gpu_milli"]) for pod in where
                        if where[pod][0] in usable))
    if allocated != result.gpu_milli_allocated:
        out.append(f"gpu_milli_allocated {result.gpu_milli_allocated} != {allocated} of the placement")
    if result.bound_gpu_milli < result.gpu_milli_allocated:
        out.append(f"bound {result.bound_gpu_milli} below the allocated {result.gpu_milli_allocated}")
    return out
