"""The packing problem both solvers take, and the result they return.

A problem is a Snapshot-like pair of frames (the model's node and pod columns): pods with a
``node`` are placed (with ``devices``), pods without one are pending. A solver places pending
pods and, within ``max_moves``, may move placed pods whose ``movable`` flag is true; it never
moves an unmovable pod and never un-places a placed one (nothing is lost). Objective: the most
GPU milli allocated, then the fewest moves, then the least fragmentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..frag import JobShape, typical_pods, workload_pods
from ..model import GPU_MILLI

OBJECTIVES = ("allocate", "defragment", "shape")


@dataclass(frozen=True)
class PackProblem:
    nodes: pd.DataFrame                 # name, cpu_milli, memory_mib, gpu_count, gpu_model, schedulable, ready, ...
    pods: pd.DataFrame                  # name, namespace, cpu_milli, memory_mib, gpu_count, gpu_milli, gpu_spec, node, devices, movable
    max_moves: int | None = 0           # placed movable pods that may change node or devices; None = no limit
    drain: tuple[str, ...] = ()         # nodes to empty: their movable pods must move (and count as moves)
    time_limit_s: float = 60.0
    max_gpus_moved: float | None = None  # GPUs of voluntarily moved pods (milli / 1000); None = no limit
    objective: str = "allocate"         # "allocate", "defragment" or "shape" (module doc)
    target_shape: JobShape | None = None  # the job shape "shape" maximises
    memory_aware: bool = False          # "defragment" with the extended (memory-aware) measure
    workload: pd.DataFrame | None = None  # target workload of the measure; None = typical pods of ``pods``
    allow_cross_pool: bool = False      # False: a placed pod moves only to a node of its own pool and GPU model
    pool: str | None = None             # only this pool's nodes (and their pods, plus pending pods) are planned

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")
        if self.objective == "shape" and self.target_shape is None:
            raise ValueError("objective 'shape' needs a target_shape")
        if self.max_moves is not None and self.max_moves < 0:
            raise ValueError("max_moves must be >= 0 (None: no limit)")
        if self.max_gpus_moved is not None and self.max_gpus_moved < 0:
            raise ValueError("max_gpus_moved must be >= 0 (None: no limit)")
        if self.pool is not None:
            pools = sorted(set(self.nodes["pool"].fillna("").astype(str))) if "pool" in self.nodes else []
            if self.pool not in pools:
                raise ValueError(f"no node in pool '{self.pool}'; pools: {', '.join(p or '(none)' for p in pools) or '(none)'}")
            outside = sorted(set(self.drain) - set(self.nodes.loc[self.nodes["pool"] == self.pool, "name"].astype(str)))
            if outside:
                raise ValueError(f"nodes to drain outside pool '{self.pool}': {', '.join(outside[:5])}")

    @property
    def capacity_milli(self) -> int:
        usable = self.nodes[self.nodes.get("schedulable", True) & self.nodes.get("ready", True)] \
            if "schedulable" in self.nodes else self.nodes
        return int(usable["gpu_count"].sum()) * GPU_MILLI

    def target_workload(self) -> pd.DataFrame | None:
        """The workload of the fragmentation measure: ``workload``, else the typical pods of the
        problem's workload pods (not DaemonSet or mirror pods); None when there are none."""
        if self.workload is not None:
            return self.workload
        if not len(self.pods):
            return None
        typical = typical_pods(workload_pods(self.pods))
        return None if typical.empty else typical

    def in_pool(self) -> PackProblem:
        """The problem restricted to ``pool``: its nodes, the pods placed on them and the pending
        pods, with the whole problem's target workload (the measure does not change). Itself
        when ``pool`` is None."""
        if self.pool is None:
            return self
        nodes = self.nodes[self.nodes["pool"].fillna("").astype(str) == self.pool]
        node = self.pods["node"].fillna("").astype(str)
        pods = self.pods[node.isin(set(nodes["name"].astype(str))) | (node == "")]
        return replace(self, nodes=nodes, pods=pods, workload=self.target_workload(), pool=None)

    def home_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Per node its group (pool and GPU model), and per pod the group it must stay in: that of
        its node, or -1 (any) for pending pods and when ``allow_cross_pool``."""
        nodes = self.nodes.reset_index(drop=True)
        pool = nodes["pool"].fillna("").astype(str) if "pool" in nodes else pd.Series("", index=nodes.index)
        model = nodes["gpu_model"].fillna("").astype(str) if "gpu_model" in nodes else pd.Series("", index=nodes.index)
        group, _ = pd.factorize(pool + "\x00" + model)
        group = group.astype(np.int64)
        node = self.pods["node"].fillna("").astype(str).to_numpy() if "node" in self.pods else np.full(len(self.pods), "")
        row = pd.Index(nodes["name"].astype(str)).get_indexer(node)
        home = np.where(row >= 0, group[np.maximum(row, 0)], -1) if len(group) else np.full(len(node), -1)
        if self.allow_cross_pool:
            home = np.full(len(node), -1)
        return group, home.astype(np.int64)

    @staticmethod
    def key(pods: pd.DataFrame) -> pd.Series:
        """The identity of a pod across plans: ``namespace/name``."""
        if "namespace" not in pods:
            return pods["name"].astype(str)
        return pods["namespace"].astype(str) + "/" + pods["name"].astype(str)


@dataclass
class PackResult:
    placement: pd.DataFrame             # pod (namespace/name), node, devices ("0-1"; "" for CPU-only) of every placed pod
    unplaced: list[str]                 # pods left pending
    moves: pd.DataFrame                 # pod, from_node, from_devices, to_node, to_devices
    gpu_milli_allocated: int
    capacity_milli: int
    frag_gpu_milli: float
    bound_gpu_milli: int                # no placement can allocate more (upper bound)
    solver_status: str                  # "heuristic", or CP-SAT's OPTIMAL / FEASIBLE / INFEASIBLE / UNKNOWN
    seconds: float
    details: dict = field(default_factory=dict)

    @property
    def gpu_alloc_pct(self) -> float:
        return 100.0 * self.gpu_milli_allocated / self.capacity_milli if self.capacity_milli else 0.0

    @property
    def bound_gpu_alloc_pct(self) -> float:
        return 100.0 * self.bound_gpu_milli / self.capacity_milli if self.capacity_milli else 0.0

    def summary(self) -> dict:
        """The numbers `fragviz pack --json` prints."""
        return {"gpu_milli_allocated": self.gpu_milli_allocated, "gpu_alloc_pct": round(self.gpu_alloc_pct, 4),
                "frag_gpu_milli": round(self.frag_gpu_milli, 2), "pods_placed": len(self.placement),
                "pods_unplaced": len(self.unplaced), "moves": len(self.moves),
                "bound_gpu_alloc_pct": round(self.bound_gpu_alloc_pct, 4), "solver_status": self.solver_status,
                "seconds": round(self.seconds, 3), **self.details}
