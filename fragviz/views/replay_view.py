"""What the Trace replay page shows, as plain data (no Streamlit): the inputs of a replay
(a trace of pods and an empty node set, from the snapshot or uploaded openb files), the runs
(policies x seeds, one progress callback for the whole set) and their summaries: curve bands
over seeds, the final-allocation table and one run's per-node end state.

Replay itself is :func:`fragviz.placement.replay` (FRAGMENTATION.md §1d).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frag import workload_pods
from ..model import GPU_MILLI, Snapshot
from ..placement import POLICIES, ReplayResult, replay
from ..placement.policies import policy_label

DEFAULT_POLICIES = ["fgd", "bestfit", "packing"]
FIRST_SEED = 42
MAX_TUNE = 1.3                 # the curves' x axis ends at 130 % of capacity
WARN_EVENTS = 200_000          # pod events (all runs) above which the page warns
MAX_EVENTS = 1_000_000         # ... and above which it asks for the CLI instead
_NO_ROWS = ["name", "cpu_milli", "memory_mib"]      # columns of an empty node or pod frame for Snapshot.build


def policy_keys() -> list[str]:
    return list(POLICIES)


# -- inputs --------------------------------------------------------------------------------

def trace_from_snapshot(snapshot: Snapshot) -> pd.DataFrame:
    """The snapshot's workload pods as a trace: every pod, placed or pending, with the model's
    pod columns, but unplaced (the replay starts from an empty cluster). DaemonSet and static
    pods are left out: they come with the nodes, not with demand."""
    pods = workload_pods(snapshot.pods).reset_index(drop=True)
    return pods.assign(node="", devices="", phase="Pending")


def nodes_from_snapshot(snapshot: Snapshot) -> pd.DataFrame:
    """The snapshot's nodes that can take new pods (schedulable and Ready), emptied."""
    nodes = snapshot.nodes
    return nodes[nodes["schedulable"] & nodes["ready"]].reset_index(drop=True)


def read_trace(source, name: str | None = None) -> pd.DataFrame:
    """An openb pod list (path, bytes or uploaded file) as a validated trace; bad files raise
    InputError naming the file, row and field."""
    from ..sources import openb
    pods = _readable(openb.read_pods, source, name)
    snapshot = Snapshot.build(pd.DataFrame(columns=_NO_ROWS), pods, openb.TRACE_START, file=pods.attrs.get("file"))
    trace = workload_pods(snapshot.pods).reset_index(drop=True)
    trace.attrs["file"] = pods.attrs.get("file")
    return trace


def read_node_list(source, name: str | None = None) -> pd.DataFrame:
    """An openb node list (path, bytes or uploaded file) as validated, empty nodes."""
    from ..sources import openb
    nodes = _readable(openb.read_nodes, source, name)
    snapshot = Snapshot.build(nodes, pd.DataFrame(columns=_NO_ROWS), openb.TRACE_START, file=nodes.attrs.get("file"))
    frame = snapshot.nodes
    frame.attrs["file"] = nodes.attrs.get("file")
    return frame


def _readable(read, source, name: str | None) -> pd.DataFrame:
    """``read(source, name)``; gzip-compressed bytes (an uploaded ``.csv.gz``) are unpacked first,
    and a broken compressed file (or other unreadable bytes) is an InputError."""
    try:
        if isinstance(source, bytes | bytearray) and source[:2] == b"\x1f\x8b":
            source = gzip.decompress(source)
        return read(source, name)
    except (OSError, EOFError, ValueError) as exc:
        label = name or getattr(source, "name", None) or str(source)[:80]
        raise InputError(f"not a readable CSV file ({type(exc).__name__}: {exc})", file=str(label)) from exc


def check_inputs(nodes: pd.DataFrame, trace: pd.DataFrame) -> None:
    """A replay needs GPU capacity and GPU demand (the workload is tuned relative to both)."""
    if int(nodes["gpu_count"].sum()) <= 0:
        raise InputError("the node set has no GPUs (or no schedulable, Ready GPU node); a replay measures GPU "
                         "allocation", file=nodes.attrs.get("file"))
    if not (trace["gpu_count"] > 0).any():
        raise InputError("the trace has no GPU pods; a replay tunes the workload by its GPU demand",
                         file=trace.attrs.get("file"))


@dataclass(frozen=True)
class InputSummary:
    nodes: int
    gpus: int
    pods: int
    gpu_demand: float          # GPUs asked for by the trace's pods (sum of count x milli / 1000)
    demand_pct: float          # ... as % of the nodes' GPUs
    events_per_run: int        # estimated pod events of one run after tuning


def summarise_inputs(nodes: pd.DataFrame, trace: pd.DataFrame, tune: float) -> InputSummary:
    """Sizes of a replay before it runs. Events per run: tuning up appends clones of random
    pods until the GPU demand reaches ``tune`` x capacity; tuning down deletes random pods."""
    gpus = int(nodes["gpu_count"].sum())
    demand = (trace["gpu_count"] * trace["gpu_milli"].where(trace["gpu_count"] > 0, 0)).to_numpy(dtype=float)
    total, target = float(demand.sum()), tune * gpus * GPU_MILLI
    n = len(trace)
    if total <= 0 or gpus <= 0:
        events = n
    elif total < target:
        events = n + int((target - total) / demand.mean())
    else:
        events = round(n * target / total)
    return InputSummary(len(nodes), gpus, n, total / GPU_MILLI, 100 * total / (gpus * GPU_MILLI) if gpus else 0.0, events)


def workload_shapes(trace: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """The trace's GPU pod shapes (GPUs x milli per GPU, GPU model constraint) that ask for the
    most GPU, with their pods, median CPU and share of the trace's GPU demand."""
    gpu = trace[trace["gpu_count"] > 0]
    frame = pd.DataFrame({"count": gpu["gpu_count"].astype(int), "milli": gpu["gpu_milli"].astype(int),
                          "spec": gpu["gpu_spec"].fillna("").astype(str), "cpu": gpu["cpu_milli"] / 1000})
    frame["demand"] = frame["count"] * frame["milli"]
    shapes = frame.groupby(["count", "milli", "spec"]).agg(pods=("cpu", "size"), cpu=("cpu", "median"),
                                                            demand=("demand", "sum")).reset_index()
    shapes = shapes.sort_values(["demand", "pods"], ascending=False).head(top)
    return pd.DataFrame({"GPUs × milli": shapes["count"].astype(str) + " × " + shapes["milli"].astype(str),
                         "GPU model": shapes["spec"].replace("", "any"), "pods": shapes["pods"],
                         "CPU (cores, median)": shapes["cpu"],
                         "% of GPU demand": 100 * shapes["demand"] / frame["demand"].sum()}).reset_index(drop=True)


def node_models(nodes: pd.DataFrame) -> pd.DataFrame:
    """Nodes and GPUs per GPU model (CPU-only nodes as one row)."""
    model = nodes["gpu_model"].astype(str).where(nodes["gpu_count"] > 0, "CPU only").replace("", "GPU (model unknown)")
    table = nodes.assign(model=model).groupby("model", sort=False).agg(
        nodes=("name", "size"), GPUs=("gpu_count", "sum"), per_node=("gpu_count", _sizes))
    table = table.rename(columns={"per_node": "GPUs per node"}).reset_index().rename(columns={"model": "GPU model"})
    return table.sort_values(["GPUs", "nodes"], ascending=False).reset_index(drop=True)


def _sizes(counts: pd.Series) -> str:
    return " / ".join(map(str, sorted(set(counts), reverse=True)))


# -- runs ----------------------------------------------------------------------------------

@dataclass
class ReplaySet:
    """Every run of one click: ``results`` in (policy, seed) order, and what they were run on."""

    results: list[ReplayResult]
    policies: list[str]
    seeds: list[int]
    tune: float
    continuous: bool
    trace_label: str
    nodes_label: str
    seconds: float

    def result(self, policy: str, seed: int) -> ReplayResult:
        return next(r for r in self.results if r.policy == policy and r.seed == seed)


def seeds_from(count: int, first: int = FIRST_SEED) -> list[int]:
    return list(range(first, first + int(count)))


def run_replays(nodes: pd.DataFrame, trace: pd.DataFrame, policies: Sequence[str], seeds: Sequence[int],
                tune: float = 1.3, continuous: bool = False, progress: Callable[[float, str], None] | None = None,
                trace_label: str = "trace", nodes_label: str = "nodes") -> ReplaySet:
    """Replay ``trace`` onto ``nodes`` for every policy and seed. ``progress(fraction, text)``
    follows the whole set (fraction 0..1 over all runs)."""
    if not policies:
        raise InputError("choose at least one policy")
    if not seeds:
        raise InputError("choose at least one seed")
    check_inputs(nodes, trace)
    runs = [(p, s) for p in policies for s in seeds]
    results = []
    start = time.perf_counter()
    for done, (policy, seed) in enumerate(runs):
        text = f"{policy_label(policy)}, seed {seed} (run {done + 1} of {len(runs)})"

        def step(i: int, n: int, done: int = done, text: str = text) -> None:
            if progress is not None:
                progress((done + i / max(n, 1)) / len(runs), text)

        results.append(replay(nodes, trace, policy, seed=seed, tune=tune, continuous=continuous, progress=step))
    if progress is not None:
        progress(1.0, f"{len(runs)} runs done")
    return ReplaySet(results, list(policies), list(seeds), tune, continuous, trace_label, nodes_label,
                     time.perf_counter() - start)


# -- summaries -----------------------------------------------------------------------------

def final_alloc_pct(result: ReplayResult) -> float:
    """GPU allocation after the last pod event, % of capacity (exact, not the curve's column)."""
    allocated = float(result.events["allocated"].iloc[-1]) if len(result.events) else 0.0
    return 100 * allocated / (GPU_MILLI * result.total_gpus) if result.total_gpus else float("nan")


def final_frag_pct(result: ReplayResult) -> float:
    """Fragmented GPU milli after the last pod event, % of capacity."""
    frag = float(result.events["frag"].iloc[-1]) if len(result.events) else 0.0
    return 100 * frag / (GPU_MILLI * result.total_gpus) if result.total_gpus else float("nan")


def first_failure_pct(result: ReplayResult) -> float:
    """GPU demand arrived (% of capacity) when the first pod failed; NaN when none failed."""
    failed = result.events.loc[result.events["failed"], "arrived"]
    if failed.empty or not result.total_gpus:
        return float("nan")
    return 100 * float(failed.iloc[0]) / (GPU_MILLI * result.total_gpus)


def curve_bands(results: Sequence[ReplayResult]) -> pd.DataFrame:
    """The mean and seed band of the paper's discrete curves: per policy (label) and column
    ``arrived`` (0..130, % of GPU capacity arrived), mean / min / max over seeds of ``alloc``
    (allocated, % of capacity) and ``frag`` (fragmented, % of capacity), and ``seeds``
    (runs with a value there). NaN where every seed leaves the column blank."""
    columns = ["policy", "arrived"] + [f"{m}_{s}" for m in ("alloc", "frag") for s in ("mean", "min", "max")] + ["seeds"]
    if not results:
        return pd.DataFrame(columns=columns)
    long = pd.concat([r.curves[["alloc", "frag"]].rename_axis("arrived").reset_index().assign(policy=policy_label(r.policy))
                      for r in results], ignore_index=True)
    order = list(dict.fromkeys(policy_label(r.policy) for r in results))
    grouped = long.groupby(["policy", "arrived"], sort=False)
    bands = grouped[["alloc", "frag"]].agg(["mean", "min", "max"])
    bands.columns = [f"{m}_{s}" for m, s in bands.columns]
    bands["seeds"] = grouped["alloc"].count()
    bands = bands.reset_index()
    bands["policy"] = pd.Categorical(bands["policy"], categories=order, ordered=True)
    bands = bands.sort_values(["policy", "arrived"], kind="stable")
    bands["policy"] = bands["policy"].astype(str)
    return bands[columns].reset_index(drop=True)


def final_table(results: Sequence[ReplayResult]) -> pd.DataFrame:
    """Per policy, best first: final GPU allocation (% of capacity: mean, std over seeds, min,
    max), the GPUs that are, the GPUs placed fewer than the best policy, the fragmentation at
    the end (% of capacity), failed pods, the demand arrived at the first failure (% of
    capacity; means over seeds, NaN when no run failed) and runs."""
    rows = pd.DataFrame({"policy": [policy_label(r.policy) for r in results],
                         "alloc": [final_alloc_pct(r) for r in results],
                         "frag": [final_frag_pct(r) for r in results],
                         "failed": [int(r.events["failed"].sum()) for r in results],
                         "first": [first_failure_pct(r) for r in results],
                         "gpus": [r.total_gpus for r in results]})
    columns = ["policy", "final allocation %", "± std", "min %", "max %", "GPUs allocated", "GPUs vs best",
               "fragmented at end %", "failed pods", "first failure at % arrived", "runs"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    g = rows.groupby("policy", sort=False)
    table = pd.DataFrame({"final allocation %": g["alloc"].mean(), "± std": g["alloc"].std(ddof=0),
                          "min %": g["alloc"].min(), "max %": g["alloc"].max(),
                          "GPUs allocated": g["alloc"].mean() * g["gpus"].first() / 100,
                          "fragmented at end %": g["frag"].mean(), "failed pods": g["failed"].mean(),
                          "first failure at % arrived": g["first"].mean(), "runs": g.size()})
    table = table.sort_values("final allocation %", ascending=False, kind="stable").reset_index()
    table["GPUs vs best"] = table["GPUs allocated"] - table["GPUs allocated"].iloc[0]
    return table[columns]


def end_state(result: ReplayResult) -> pd.DataFrame:
    """Per GPU node at the end of one run: name, gpu_model, gpu_count, allocated / idle /
    fragmented milli, placed pods, and ``slot_<k>`` = milli allocated on device k (NaN where the
    node has no device k). Fullest nodes first within each GPU model (largest model first)."""
    c = result.cluster
    gpu = c.gpu_count > 0
    alloc = np.where(c.present, GPU_MILLI - c.gpu_free, np.nan)[gpu]
    pods = result.events.loc[~result.events["failed"], "node"].value_counts()
    names = c.names[gpu]
    frame = pd.DataFrame({
        "name": names, "gpu_model": pd.Series(c.model[gpu], dtype=object).replace("", "GPU"),
        "gpu_count": c.gpu_count[gpu], "allocated_milli": np.nansum(alloc, axis=1),
        "idle_milli": c.gpu_free[gpu].sum(axis=1).astype(float),
        "frag_milli": c.frag[gpu] if c.frag is not None else np.nan,
        "pods": pods.reindex(names).fillna(0).astype(int).to_numpy()})
    for k in range(alloc.shape[1]):
        frame[f"slot_{k}"] = alloc[:, k]
    size = frame.groupby("gpu_model")["gpu_count"].transform("sum")
    frame = frame.assign(_size=size).sort_values(["_size", "gpu_model", "allocated_milli", "name"],
                                                 ascending=[False, True, False, True], kind="stable")
    return frame.drop(columns="_size").reset_index(drop=True)
