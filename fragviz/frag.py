"""Fragmentation analytics, vectorised over nodes x target shapes x devices.

The faithful measure follows ../shared/FRAGMENTATION.md §1b (the ATC'23 FGD paper): a
target workload of "typical pods" with weights, and for every node the idle GPU milli that
each typical pod could not use, charged to seven categories. Everything here is a pure
function of a :class:`~fragviz.model.NodeState` (or a Snapshot) and a target workload.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .model import GPU_MILLI, NodeState, Snapshot, parse_gpu_spec

CATEGORIES = ("q1_lack_both", "q2_lack_gpu", "q3_satisfied", "q4_lack_cpu",
              "xl_satisfied", "xr_lack_cpu", "no_access")
FRAGMENT_CATEGORIES = tuple(c for c in CATEGORIES if c != "q3_satisfied")
# plain words for each category: its name on charts and tables, and what it means (FRAGMENTATION.md §1b)
CATEGORY_LABELS = {
    "q1_lack_both": "Too little CPU and GPU", "q2_lack_gpu": "GPU pieces too small",
    "q3_satisfied": "Usable (not a fragment)", "q4_lack_cpu": "GPU free, CPU used up",
    "xl_satisfied": "Pods that need no GPU", "xr_lack_cpu": "Pods that need no GPU, CPU used up",
    "no_access": "Wrong GPU model",
}
CATEGORY_MEANINGS = {
    "q1_lack_both": "Neither the node's free CPU nor its free GPU pieces are enough for the typical pod.",
    "q2_lack_gpu": "The typical pod's GPU share does not fit in what is left on the devices (where it fits, these "
                   "are the leftover pieces smaller than it).",
    "q3_satisfied": "The typical pod fits: this idle GPU can be used.",
    "q4_lack_cpu": "The GPUs would fit the pod, but the node's CPU is taken by other pods.",
    "xl_satisfied": "Pods that need no GPU could run here but leave the GPUs idle; by the measure's definition this "
                    "idle GPU always counts as unusable, even on an empty node.",
    "xr_lack_cpu": "Pods that need no GPU would not even fit the free CPU; the idle GPU counts as unusable.",
    "no_access": "The typical pod asks for a different GPU model than the node has.",
}
SHAPE_KEY = ["cpu_milli", "gpu_milli", "gpu_count", "gpu_spec"]


# -- target workload -------------------------------------------------------------------------

NOT_WORKLOAD_OWNERS = ("DaemonSet", "Node")


def workload_pods(pods: pd.DataFrame) -> pd.DataFrame:
    """The pods that stand for arriving work: all but DaemonSet and static (mirror) pods.

    A DaemonSet pod runs once on every node and is never scheduled by demand, so counting it
    as a "typical pod" would make the target workload mostly node agents. The openb trace has
    no owners, so there this keeps every pod (the faithful measure is unchanged).
    """
    return pods[~pods["owner_kind"].isin(NOT_WORKLOAD_OWNERS)] if "owner_kind" in pods else pods


def typical_pods(pods: pd.DataFrame, popularity: float = 0.95) -> pd.DataFrame:
    """The target workload of §1b: exact (cpu, gpu milli, gpu count, spec) buckets by count.

    Buckets are sorted by count (ties: larger key first) and the shortest prefix covering at
    least ``popularity`` of all pods is kept, its weights renormalised. Memory is not part of
    the key; each shape carries its bucket's median memory for memory-aware analytics.
    Returns columns cpu_milli, gpu_milli, gpu_count, gpu_spec, count, weight, memory_mib.
    """
    frame = pods[SHAPE_KEY + ["memory_mib"]].copy()
    frame["gpu_milli"] = np.where(frame["gpu_count"] > 0, frame["gpu_milli"].clip(1, GPU_MILLI), 0)
    frame["gpu_spec"] = frame["gpu_spec"].astype(str)
    grouped = frame.groupby(SHAPE_KEY, sort=False).agg(count=("memory_mib", "size"),
                                                        memory_mib=("memory_mib", "median")).reset_index()
    grouped = grouped.sort_values(["count"] + SHAPE_KEY, ascending=False, kind="stable").reset_index(drop=True)
    cumulative = grouped["count"].cumsum().to_numpy()
    cut = int(np.searchsorted(cumulative, popularity * len(frame) - 1e-9)) + 1
    shapes = grouped.iloc[:cut].copy()
    if shapes.empty:
        return shapes.assign(weight=pd.Series(dtype="float64"))[SHAPE_KEY + ["count", "weight", "memory_mib"]]
    total = float(len(frame))
    # the simulator's floating-point steps: share of all pods, then renormalised by the kept share
    shapes["weight"] = (shapes["count"] / total) / (float(shapes["count"].sum()) / total)
    return shapes[SHAPE_KEY + ["count", "weight", "memory_mib"]].reset_index(drop=True)


def job_mix_workload(jobs: pd.DataFrame) -> pd.DataFrame:
    """A user-chosen target workload: rows of cpu_milli, memory_mib, gpu_count, gpu_milli,
    gpu_spec (optional) and weight (any positive numbers; renormalised)."""
    shapes = jobs.copy()
    if "gpu_spec" not in shapes:
        shapes["gpu_spec"] = ""
    shapes["gpu_milli"] = np.where(shapes["gpu_count"] > 0, shapes["gpu_milli"], 0)
    weight = shapes["weight"].astype(float)
    if (weight < 0).any() or weight.sum() <= 0:
        raise ValueError("job mix weights must be non-negative and not all zero")
    shapes["weight"] = weight / weight.sum()
    shapes["count"] = shapes.get("count", 0)
    return shapes[SHAPE_KEY + ["count", "weight", "memory_mib"]].reset_index(drop=True)


# -- the measure -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FragResult:
    """Per-node idle GPU, fragment and the seven categories; cluster totals as properties."""

    nodes: pd.DataFrame  # name, idle_gpu_milli, frag_gpu_milli and one column per category

    @property
    def idle(self) -> float:
        return float(self.nodes["idle_gpu_milli"].sum())

    @property
    def amount(self) -> float:
        return float(self.nodes["frag_gpu_milli"].sum())

    @property
    def ratio(self) -> float:
        return self.amount / self.idle if self.idle else 0.0

    @property
    def categories(self) -> dict[str, float]:
        return {c: float(self.nodes[c].sum()) for c in CATEGORIES}


def empty_cluster_ratio(snapshot: Snapshot, workload: pd.DataFrame, memory_aware: bool = False) -> float:
    """The fragmentation ratio the same nodes would show with no pod placed: the baseline of the
    ratio. It is mostly the weight of the CPU-only typical pods (for them every idle GPU counts),
    plus pods that fit no node (wrong GPU model, too many GPUs)."""
    empty = replace(snapshot, pods=snapshot.pods.iloc[:0], _cache={})
    return fragmentation(empty.state(), workload, memory_aware=memory_aware).ratio


def accessible(gpu_model: np.ndarray, specs: pd.Series) -> np.ndarray:
    """(N, T) bool: may a pod with spec T_t use a node of model τ_n (§1a, accessibility)."""
    out = np.ones((len(gpu_model), len(specs)), dtype=bool)
    for t, spec in enumerate(specs):
        allowed = parse_gpu_spec(spec)
        if allowed:
            out[:, t] = np.isin(gpu_model, allowed) & (gpu_model != "")
    return out


def fragmentation(state: NodeState, workload: pd.DataFrame, memory_aware: bool = False) -> FragResult:
    """The fragmentation measure of §1b for every node, vectorised.

    ``memory_aware`` is fragviz's extension: a typical pod whose memory does not fit counts
    as lacking CPU (the faithful measure ignores memory).
    """
    g = state.gpu_free.astype(np.float64)                       # (N, D)
    present = state.gpu_present
    idle = g.sum(axis=1)                                        # R_n
    u = workload["gpu_milli"].to_numpy(np.float64)              # (T,)
    k = workload["gpu_count"].to_numpy(np.float64)
    c = workload["cpu_milli"].to_numpy(np.float64)
    weight = workload["weight"].to_numpy(np.float64)

    fits_dev = present[:, None, :] & (g[:, None, :] >= u[None, :, None])           # (N, T, D)
    fit = fits_dev.sum(axis=2) >= k[None, :]
    too_small = np.where(fits_dev, 0.0, g[:, None, :]).sum(axis=2)                # Σ g < u_t
    cpu_ok = state.cpu_free[:, None] >= c[None, :]
    if memory_aware:
        cpu_ok &= state.mem_free[:, None] >= workload["memory_mib"].to_numpy(np.float64)[None, :]
    access = accessible(state.gpu_model, workload["gpu_spec"])
    cpu_only = (u == 0)[None, :]
    R = idle[:, None]

    amounts = {name: np.zeros_like(too_small) for name in CATEGORIES}
    amounts["xl_satisfied"] = np.where(cpu_only & cpu_ok, R, 0.0)
    amounts["xr_lack_cpu"] = np.where(cpu_only & ~cpu_ok, R, 0.0)
    gpu = ~cpu_only
    amounts["no_access"] = np.where(gpu & ~access, R, 0.0)
    ok = gpu & access
    amounts["q2_lack_gpu"] = np.where(ok & fit & cpu_ok, too_small, 0.0) + np.where(ok & ~fit & cpu_ok, R, 0.0)
    amounts["q3_satisfied"] = np.where(ok & fit & cpu_ok, R - too_small, 0.0)
    amounts["q4_lack_cpu"] = np.where(ok & fit & ~cpu_ok, R, 0.0)
    amounts["q1_lack_both"] = np.where(ok & ~fit & ~cpu_ok, R, 0.0)

    per_node = {name: amounts[name] @ weight for name in CATEGORIES}
    frame = pd.DataFrame({"name": state.names, "idle_gpu_milli": idle})
    frame["frag_gpu_milli"] = sum(per_node[name] for name in FRAGMENT_CATEGORIES)
    for name in CATEGORIES:
        frame[name] = per_node[name]
    return FragResult(frame)


# -- stranded capacity -----------------------------------------------------------------------

def stranded(state: NodeState, workload: pd.DataFrame) -> pd.DataFrame:
    """Idle GPU on nodes whose free CPU or memory cannot host any typical GPU pod.

    Only GPU shapes the node is accessible to are considered; a node none of them may use is
    'wrong model', not stranded. Returns per node: stranded_gpu_milli and the reason
    ('cpu', 'memory', 'cpu+memory' or '').
    """
    gpu_shapes = workload[workload["gpu_count"] > 0]
    idle = state.gpu_free.sum(axis=1).astype(np.float64)
    reason = np.full(len(idle), "", dtype=object)
    if gpu_shapes.empty:
        return pd.DataFrame({"name": state.names, "stranded_gpu_milli": np.zeros_like(idle), "reason": reason})
    access = accessible(state.gpu_model, gpu_shapes["gpu_spec"])
    cpu_ok = state.cpu_free[:, None] >= gpu_shapes["cpu_milli"].to_numpy(np.float64)[None, :]
    mem_ok = state.mem_free[:, None] >= gpu_shapes["memory_mib"].to_numpy(np.float64)[None, :]
    hostable = (access & cpu_ok & mem_ok).any(axis=1)
    is_stranded = (idle > 0) & access.any(axis=1) & ~hostable
    cpu_short = ~(access & cpu_ok).any(axis=1)
    mem_short = ~(access & mem_ok).any(axis=1)
    reason[is_stranded & cpu_short & mem_short] = "cpu+memory"
    reason[is_stranded & cpu_short & ~mem_short] = "cpu"
    reason[is_stranded & ~cpu_short & mem_short] = "memory"
    reason[is_stranded & ~cpu_short & ~mem_short] = "cpu+memory"  # each shape lacks one or the other
    return pd.DataFrame({"name": state.names, "stranded_gpu_milli": np.where(is_stranded, idle, 0.0),
                         "reason": reason})


# -- jobs that fit now -----------------------------------------------------------------------

@dataclass(frozen=True)
class JobShape:
    """A job to count: ``gpu_count`` devices of ``gpu_milli`` each, plus CPU and memory."""

    name: str
    gpu_count: int
    gpu_milli: int
    cpu_milli: float
    memory_mib: float
    gpu_spec: str = ""


def default_job_shapes(pods: pd.DataFrame) -> list[JobShape]:
    """1, 2, 4, 8 whole GPUs and a half shared GPU, sized with the snapshot's typical CPU and
    memory per GPU (medians over its whole-GPU and shared pods; 8 cores / 64 GiB per GPU and
    4 cores / 16 GiB per share when the snapshot has none)."""
    whole = pods[(pods["gpu_count"] > 0) & (pods["gpu_milli"] >= GPU_MILLI)]
    shared = pods[(pods["gpu_count"] == 1) & (pods["gpu_milli"] < GPU_MILLI) & (pods["gpu_milli"] > 0)]
    cpu_per_gpu = float((whole["cpu_milli"] / whole["gpu_count"]).median()) if len(whole) else 8000.0
    mem_per_gpu = float((whole["memory_mib"] / whole["gpu_count"]).median()) if len(whole) else 65536.0
    cpu_share = float(shared["cpu_milli"].median()) if len(shared) else 4000.0
    mem_share = float(shared["memory_mib"].median()) if len(shared) else 16384.0
    shapes = [JobShape(f"{n}x GPU", n, GPU_MILLI, round(cpu_per_gpu * n), round(mem_per_gpu * n)) for n in (1, 2, 4, 8)]
    shapes.append(JobShape("0.5 shared GPU", 1, 500, round(cpu_share), round(mem_share)))
    return shapes


def jobs_that_fit(state: NodeState, shapes: list[JobShape]) -> pd.DataFrame:
    """How many jobs of each shape could be placed at once (each shape on its own), on
    schedulable and ready nodes. Per node this is min(CPU slots, memory slots, GPU slots);
    whole-GPU slots are idle devices // count, shared slots Σ free // milli per device."""
    rows = []
    g = state.gpu_free
    for shape in shapes:
        per_node = slots(state, shape)
        rows.append({"shape": shape.name, "gpu_count": shape.gpu_count, "gpu_milli": shape.gpu_milli,
                     "cpu_milli": shape.cpu_milli, "memory_mib": shape.memory_mib,
                     "fit": int(per_node.sum()), "nodes_with_room": int((per_node > 0).sum())})
    del g
    return pd.DataFrame(rows)


def slots(state: NodeState, shape: JobShape) -> np.ndarray:
    """Per node: how many jobs of ``shape`` fit on its free resources (0 on unusable nodes)."""
    big = np.iinfo(np.int64).max // 4
    cpu = np.floor(state.cpu_free / shape.cpu_milli).astype(np.int64) if shape.cpu_milli > 0 else np.full(len(state.names), big)
    mem = np.floor(state.mem_free / shape.memory_mib).astype(np.int64) if shape.memory_mib > 0 else np.full(len(state.names), big)
    g = np.where(state.gpu_present, state.gpu_free, 0)
    if shape.gpu_count == 0:
        gpu = np.full(len(state.names), big)
    elif shape.gpu_milli >= GPU_MILLI:
        gpu = (g >= GPU_MILLI).sum(axis=1) // shape.gpu_count
    else:
        gpu = (g // shape.gpu_milli).sum(axis=1)
    count = np.minimum(np.minimum(cpu, mem), gpu)
    ok = state.usable.copy()
    if shape.gpu_spec:
        ok &= accessible(state.gpu_model, pd.Series([shape.gpu_spec]))[:, 0]
    return np.where(ok, count, 0)


def largest_job(state: NodeState, per_gpu: JobShape) -> int:
    """The most whole GPUs one job can get on one usable node, with ``per_gpu`` CPU and
    memory for each of them."""
    idle_devices = (np.where(state.gpu_present, state.gpu_free, 0) >= GPU_MILLI).sum(axis=1)
    cpu = state.cpu_free // per_gpu.cpu_milli if per_gpu.cpu_milli > 0 else idle_devices
    mem = state.mem_free // per_gpu.memory_mib if per_gpu.memory_mib > 0 else idle_devices
    best = np.minimum(np.minimum(idle_devices, cpu), mem)
    best = np.where(state.usable, best, 0)
    return int(best.max(initial=0))


# -- everything at once ----------------------------------------------------------------------

@dataclass(frozen=True)
class Analysis:
    """All of the foundation's analytics for one snapshot and target workload."""

    snapshot: Snapshot
    workload: pd.DataFrame
    frag: FragResult
    stranded: pd.DataFrame
    jobs: pd.DataFrame
    largest_job_gpus: int
    nodes: pd.DataFrame  # node table joined with every per-node figure

    def rollup(self, by: str) -> pd.DataFrame:
        from .rollup import rollup
        return rollup(self, by)


def analyse(snapshot: Snapshot, workload: pd.DataFrame | None = None,
            shapes: list[JobShape] | None = None, memory_aware: bool = False) -> Analysis:
    """Run every analytic of the foundation. ``workload`` defaults to the typical pods of
    the snapshot's own workload pods; ``shapes`` to :func:`default_job_shapes`."""
    state = snapshot.state()
    if workload is None:
        workload = typical_pods(workload_pods(snapshot.pods))
    shapes = shapes or default_job_shapes(snapshot.pods)
    frag = fragmentation(state, workload, memory_aware=memory_aware)
    strand = stranded(state, workload)
    jobs = jobs_that_fit(state, shapes)
    one_gpu = next((s for s in shapes if s.gpu_count == 1 and s.gpu_milli >= GPU_MILLI), shapes[0])
    per_node = snapshot.nodes[["name", "pool", "gpu_model", "gpu_count", "cpu_milli", "memory_mib",
                               "schedulable", "ready"]].copy()
    per_node["cpu_free"] = state.cpu_free
    per_node["memory_free"] = state.mem_free
    per_node["gpu_milli_total"] = state.gpu_count * GPU_MILLI
    per_node["idle_gpu_milli"] = frag.nodes["idle_gpu_milli"].to_numpy()
    per_node["allocated_gpu_milli"] = per_node["gpu_milli_total"] - per_node["idle_gpu_milli"]
    per_node["frag_gpu_milli"] = frag.nodes["frag_gpu_milli"].to_numpy()
    per_node["stranded_gpu_milli"] = strand["stranded_gpu_milli"].to_numpy()
    per_node["stranded_reason"] = strand["reason"].to_numpy()
    per_node["idle_whole_gpus"] = (np.where(state.gpu_present, state.gpu_free, 0) >= GPU_MILLI).sum(axis=1)
    return Analysis(snapshot, workload, frag, strand, jobs, largest_job(state, one_gpu), per_node)
