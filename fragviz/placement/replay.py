"""Trace replay (FRAGMENTATION.md §1d): pods arrive one at a time and never leave; after every
event the arrived, allocated and fragmented GPU milli are recorded.

The submission order and node tie-break order come either from fragviz's own RNG (numpy,
per seed: shuffle, then tune the workload to ``tune`` x GPU capacity with clones) or from the
paper's order files (``replay_order/<trace>/seed<S>.{pods,nodes}.txt.gz``, read by
:func:`fragviz.sources.orders.read_replay_order`), which reproduce the published curves exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frag import typical_pods
from ..model import GPU_MILLI
from ..sources.orders import OrderFiles, order_rows, tuned_name
from .cluster import Cluster
from .curves import discrete_curves
from .engine import Context, place
from .pods import PodTable
from .policies import make_policy


@dataclass(frozen=True)
class ReplayOrder:
    """Which pods arrive in which order (names of the trace's pods; clones repeat a name)
    and the node tie-break priority (smaller wins) in the node table's order."""

    pods: list[int]              # row numbers into the trace's pod table
    names: list[str]             # event names (clones "<pod>-tuned-<i>")
    node_priority: np.ndarray


@dataclass
class ReplayResult:
    policy: str
    seed: int
    events: pd.DataFrame          # pod, arrived, allocated, frag, idle, frag_ratio, node, devices, failed
    curves: pd.DataFrame          # columns 0..130: alloc, frag, frag_ratio
    total_gpus: int
    cluster: Cluster

    @property
    def failed(self) -> list[str]:
        return self.events.loc[self.events["failed"], "pod"].tolist()

    @property
    def final_alloc_pct(self) -> float:
        return float(self.curves["alloc"].iloc[-1])

    def placement(self) -> pd.DataFrame:
        """pod, node, devices ("0-1-2", empty for CPU-only pods) of every placed pod."""
        placed = self.events[~self.events["failed"]]
        return pd.DataFrame({"pod": placed["pod"], "node": placed["node"], "devices": placed["devices"]}).reset_index(drop=True)


def own_order(trace: pd.DataFrame, nodes: pd.DataFrame, seed: int, tune: float) -> ReplayOrder:
    """fragviz's order: pods sorted by name then shuffled; tuned up with clones of uniformly
    drawn pods (stop when the next clone's per-GPU milli would pass the target, as the
    simulator does) or down by deleting random pods; nodes in a random priority order."""
    rng = np.random.default_rng(seed)
    by_name = np.argsort(trace["name"].to_numpy(dtype=str), kind="stable")
    order = list(by_name[rng.permutation(len(by_name))])
    count = trace["gpu_count"].to_numpy(np.int64)
    milli = np.where(count > 0, trace["gpu_milli"].to_numpy(np.int64), 0)
    capacity = int(nodes["gpu_count"].sum()) * GPU_MILLI
    target, total = tune * capacity, int((count * milli).sum())
    names = [str(trace["name"].iloc[i]) for i in order]
    if total < target:
        clones = 0
        while True:
            q = int(by_name[rng.integers(len(by_name))])
            if total + milli[q] > target:
                break
            order.append(q)
            names.append(tuned_name(str(trace["name"].iloc[q]), clones))
            clones += 1
            total += int(count[q] * milli[q])
    else:
        while total > target and order:
            gone = int(rng.integers(len(order)))
            total -= int(count[order[gone]] * milli[order[gone]])
            del order[gone]
            del names[gone]
    priority = np.empty(len(nodes), dtype=np.int64)
    by_node_name = np.argsort(nodes["name"].to_numpy(dtype=str), kind="stable")
    priority[by_node_name] = rng.permutation(len(nodes))
    return ReplayOrder(order, names, priority)


def paper_order(files: OrderFiles, trace: pd.DataFrame, nodes: pd.DataFrame) -> ReplayOrder:
    """The paper's exact order from its order files as read: the pods in the pods file's order
    (clones ``<pod>-tuned-<i>`` copy the named pod) and the nodes file's ranks (smaller wins)."""
    rows = order_rows(trace, files.pods, files.pods_file)
    missing = [n for n in nodes["name"] if n not in files.node_ranks]
    if missing:
        raise InputError(f"no tie-break rank for node(s) {', '.join(missing[:5])}", file=files.nodes_file)
    return ReplayOrder(rows.tolist(), list(files.pods), np.array([files.node_ranks[n] for n in nodes["name"]], dtype=np.int64))


def replay(nodes: pd.DataFrame, trace: pd.DataFrame, policy: str, seed: int = 42, tune: float = 1.3,
           order: OrderFiles | None = None, continuous: bool = False, workload: pd.DataFrame | None = None,
           progress=None) -> ReplayResult:
    """Replay ``trace`` (pods with the model's columns) onto empty ``nodes`` under ``policy``, in
    the paper's ``order`` (its order files as read) or, without one, fragviz's own seeded order.
    The target workload of the fragmentation measure defaults to the trace's typical pods."""
    arrival = paper_order(order, trace, nodes) if order is not None else own_order(trace, nodes, seed, tune)
    workload = typical_pods(trace) if workload is None else workload
    cluster = Cluster.from_nodes(nodes, workload, priority=arrival.node_priority)
    events = trace.iloc[arrival.pods].reset_index(drop=True).assign(name=arrival.names)
    pods = PodTable.from_frame(events)
    ctx = Context(cluster, pods, np.random.default_rng(seed))
    chosen = make_policy(policy, continuous=continuous)
    n = len(pods)
    arrived = np.cumsum(pods.demand).astype(np.float64)
    allocated, frag, idle = np.empty(n), np.empty(n), np.empty(n)
    node_of = np.full(n, -1, dtype=np.int64)
    devices_of = [""] * n
    capacity = float((cluster.gpu_count * GPU_MILLI).sum())
    used = 0.0
    for i in range(n):
        node, devices = place(ctx, chosen, i)
        if node >= 0:
            used += pods.demand[i]
            node_of[i] = node
            devices_of[i] = "-".join(map(str, devices))
        allocated[i] = used
        idle[i] = capacity - used
        frag[i] = cluster.frag.sum()
        if progress is not None and (i % 500 == 0 or i == n - 1):
            progress(i + 1, n)
    names = cluster.names
    table = pd.DataFrame({"pod": pods.names, "arrived": arrived, "allocated": allocated, "frag": frag, "idle": idle,
                          "node": [names[j] if j >= 0 else "" for j in node_of], "devices": devices_of,
                          "failed": node_of < 0})
    table["frag_ratio"] = np.where(idle > 0, frag / np.where(idle > 0, idle, 1), 0.0)
    total_gpus = int(cluster.gpu_count.sum())
    curves = discrete_curves(arrived, allocated, frag, idle, total_gpus)
    return ReplayResult(chosen.name, seed, table, curves, total_gpus, cluster)
